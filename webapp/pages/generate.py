"""Generate tab: teacher backend, model, mode, samples, temperature, template with preview; live jobs."""

import gradio as gr

from db.models import JobKind, TeacherMode
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.generate import GenerateHandlers
from webapp.pages.job_panel import create_job_panel
from webapp.pages.refresh import on_show

S = strings.Generate
BACKENDS = ["transformers", "vllm", "openai"]


def create_generate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab, timer: gr.Timer) -> None:
    """`timer` ticks while this tab is shown (the app switches it); it refreshes jobs and runs."""
    handlers = GenerateHandlers(app)
    gr.Markdown(S.INTRO)
    with gr.Row():
        backend = gr.Dropdown(label=S.BACKEND, choices=BACKENDS, value="transformers", elem_id="gen-backend")
        model = gr.Textbox(label=S.MODEL, value="default", elem_id="gen-model", scale=2)
        mode = gr.Dropdown(
            label=S.MODE, choices=[m.value for m in TeacherMode], value="cot", elem_id="gen-mode"
        )
        dataset = gr.Dropdown(label=S.DATASET, choices=[], elem_id="gen-dataset")
    with gr.Row():
        split = gr.Textbox(label=S.SPLIT, elem_id="gen-split")
        limit = gr.Number(label=S.LIMIT, value=10, precision=0, minimum=0, elem_id="gen-limit")
        samples = gr.Number(label=S.SAMPLES, value=1, precision=0, minimum=1, elem_id="gen-samples")
        temperature = gr.Slider(
            0.0, 2.0, value=0.0, step=0.05, label=S.TEMPERATURE, elem_id="gen-temperature"
        )
        show_gold = gr.Checkbox(label=S.SHOW_GOLD, value=False, elem_id="gen-show-gold")
    with gr.Row():
        name = gr.Textbox(label=S.NAME, elem_id="gen-name")
        options = gr.Textbox(label=S.OPTIONS, elem_id="gen-options", scale=2)
    with gr.Accordion(S.TEMPLATE, open=False):
        template = gr.Textbox(
            show_label=False, lines=10, max_lines=30, value=handlers.template("cot"), elem_id="gen-template"
        )
        preview = gr.Button(S.PREVIEW, elem_id="gen-preview")
        prompt = gr.Textbox(
            label=S.PREVIEW_LABEL, lines=10, max_lines=30, interactive=False, elem_id="gen-prompt"
        )
    start = gr.Button(S.START, variant="primary", elem_id="gen-start")
    message = gr.Markdown(elem_id="gen-message")
    jobs = create_job_panel(app, blocks, (JobKind.generate,), "gen", timer)
    runs = gr.Dataframe(
        headers=S.RUN_HEADERS, datatype="str", interactive=False, label=S.RUNS, elem_id="gen-runs"
    )

    mode.change(handlers.template, [mode], template, api_visibility="private")
    preview.click(
        handlers.preview, [mode, dataset, split, template, show_gold], prompt, api_name="preview_prompt"
    )
    inputs = [
        backend,
        model,
        mode,
        dataset,
        split,
        limit,
        samples,
        temperature,
        show_gold,
        template,
        name,
        options,
    ]
    start.click(handlers.start, inputs, [message, runs, jobs.job_id], api_name="start_generation")
    on_show(blocks, tab, handlers.choices, None, [dataset])
    on_show(blocks, tab, handlers.runs, None, [runs])
    timer.tick(handlers.runs, None, runs, api_visibility="private", show_progress="hidden")
