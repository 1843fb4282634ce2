"""Generate tab: teacher backend, model, mode, samples, temperature, template with preview; live jobs."""

from typing import Any

import gradio as gr

from backend.teacher.config import GenerationConfig
from db.models import JobKind, TeacherMode
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.generate import GenerateHandlers
from webapp.pages.job_panel import create_job_panel
from webapp.pages.refresh import on_show
from webapp.pages.widgets import readonly, text_table

S = strings.Generate
G = GenerationConfig.default  # the page's defaults are the config's
BACKENDS = ["auto", "transformers", "vllm", "openai"]  # auto: the fastest installed (backend.teacher.choice)
MODES = [mode.value for mode in TeacherMode]
# The settings in the order GenerateHandlers.start takes them.
START_FIELDS = [
    "backend",
    "model",
    "mode",
    "dataset",
    "split",
    "limit",
    "samples",
    "temperature",
    "show_gold",
    "template",
    "name",
    "options",
]


def _settings(handlers: GenerateHandlers) -> dict[str, Any]:
    """The run's settings, in the order GenerateHandlers.start takes them, and the prompt preview."""
    c: dict[str, Any] = {}
    with gr.Row():
        c["backend"] = gr.Dropdown(
            label=S.BACKEND, choices=BACKENDS, value=G("backend"), elem_id="gen-backend"
        )
        c["model"] = gr.Dropdown(
            label=S.MODEL, choices=[(S.DEFAULT_MODEL, "default")], value=G("model"), allow_custom_value=True,
            elem_id="gen-model", scale=2,
        )  # fmt: skip
        c["mode"] = gr.Dropdown(label=S.MODE, choices=MODES, value=G("mode"), elem_id="gen-mode")
        # Custom values allowed: the server checks the name (and API callers never see the page's list).
        c["dataset"] = gr.Dropdown(
            label=S.DATASET, choices=[], allow_custom_value=True, elem_id="gen-dataset"
        )
    with gr.Row():
        c["split"] = gr.Textbox(label=S.SPLIT, elem_id="gen-split")
        c["limit"] = gr.Number(label=S.LIMIT, value=10, precision=0, minimum=0, elem_id="gen-limit")
        c["samples"] = gr.Number(
            label=S.SAMPLES, value=G("samples"), precision=0, minimum=1, elem_id="gen-samples"
        )
        c["temperature"] = gr.Slider(
            0.0, 2.0, value=G("temperature"), step=0.05, label=S.TEMPERATURE, elem_id="gen-temperature"
        )
        c["show_gold"] = gr.Checkbox(label=S.SHOW_GOLD, value=G("show_gold"), elem_id="gen-show-gold")
    with gr.Row():
        c["name"] = gr.Textbox(label=S.NAME, elem_id="gen-name")
        c["options"] = gr.Textbox(label=S.OPTIONS, elem_id="gen-options", scale=2)
    with gr.Accordion(S.TEMPLATE, open=False):
        template = handlers.template(G("mode"))
        c["template"] = gr.Textbox(show_label=False, lines=10, max_lines=30, value=template,
                                   elem_id="gen-template")  # fmt: skip
        c["preview"] = gr.Button(S.PREVIEW, elem_id="gen-preview")
        c["prompt"] = readonly(S.PREVIEW_LABEL, "gen-prompt", lines=10, max_lines=30)
    return c


def create_generate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab, timer: gr.Timer) -> None:
    """`timer` ticks while this tab is shown (the app switches it); it refreshes jobs and runs."""
    handlers = GenerateHandlers(app)
    gr.Markdown(S.INTRO)
    c = _settings(handlers)
    start = gr.Button(S.START, variant="primary", elem_id="gen-start")
    message = gr.Markdown(elem_id="gen-message")
    jobs = create_job_panel(app, blocks, (JobKind.generate,), "gen", timer)
    runs = text_table(S.RUN_HEADERS, "gen-runs", label=S.RUNS)
    c["mode"].change(handlers.template, [c["mode"]], c["template"], api_visibility="private")
    preview_inputs = [c[k] for k in ("mode", "dataset", "split", "template", "show_gold")]
    c["preview"].click(handlers.preview, preview_inputs, c["prompt"], api_name="preview_prompt")
    start_inputs = [c[k] for k in START_FIELDS]
    start.click(handlers.start, start_inputs, [message, runs, jobs.job_id], api_name="start_generation")
    on_show(blocks, tab, handlers.choices, None, [c["dataset"]])
    on_show(blocks, tab, handlers.models, None, [c["model"]])
    on_show(blocks, tab, handlers.runs, None, [runs])
    timer.tick(handlers.runs, None, runs, api_visibility="private", show_progress="hidden")
