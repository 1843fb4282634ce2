"""Step-through tab: a problem, a decomposer and a solver; next step, edit, reveal, save, export."""

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.stepthrough import StepThroughHandlers
from webapp.pages.refresh import on_show

S = strings.StepThrough


def create_stepthrough_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
    handlers = StepThroughHandlers(app)
    gr.Markdown(S.INTRO)
    with gr.Row():
        dataset = gr.Dropdown(label=S.DATASET, choices=[], elem_id="step-dataset", scale=1)
        problem = gr.Dropdown(label=S.PROBLEM, choices=[], elem_id="step-problem", scale=3)
    typed = gr.Textbox(label=S.TYPED, lines=2, elem_id="step-typed")
    with gr.Row():
        decomposer = gr.Dropdown(
            label=S.DECOMPOSER,
            choices=[],
            allow_custom_value=True,
            info=S.MODEL_HINT,
            elem_id="step-decomposer",
        )
        solver = gr.Dropdown(
            label=S.SOLVER, choices=[], allow_custom_value=True, info=S.MODEL_HINT, elem_id="step-solver"
        )
        reveal_mode = gr.Checkbox(label=S.REVEAL, value=False, elem_id="step-reveal-mode")
        start = gr.Button(S.START, variant="primary", elem_id="step-start", elem_classes="action")
    state = gr.JSON(value={}, visible=False)
    revealed = gr.State(0)
    question = gr.Textbox(label=S.QUESTION, lines=2, interactive=False, elem_id="step-question")
    with gr.Row():
        next_step = gr.Button(S.NEXT, variant="primary", elem_id="step-next")
        reveal = gr.Button(S.REVEAL_NEXT, elem_id="step-reveal")
        save = gr.Button(S.SAVE, elem_id="step-save")
        export_md = gr.Button(S.EXPORT_MD, elem_id="step-export-md")
        export_html = gr.Button(S.EXPORT_HTML, elem_id="step-export-html")
    status = gr.Markdown(elem_id="step-status")
    with gr.Row():
        with gr.Column(scale=1):
            trace = gr.Dataframe(
                headers=S.TRACE_HEADERS,
                datatype="str",
                interactive=True,
                wrap=True,
                label=S.TRACE,
                elem_id="step-trace",
                column_widths=["50%", "50%"],
            )
            with gr.Row():
                final = gr.Textbox(label=S.FINAL, interactive=False, elem_id="step-final")
                gold = gr.Textbox(label=S.GOLD, interactive=False, elem_id="step-gold")
        with gr.Column(scale=1):
            teacher, reference = (
                gr.Dataframe(
                    headers=["sub_question", "text"],
                    datatype="str",
                    interactive=False,
                    wrap=True,
                    label=label,
                    elem_id=elem_id,
                    column_widths=["45%", "55%"],
                )
                for label, elem_id in ((S.TEACHER, "step-teacher"), (S.REFERENCE, "step-reference"))
            )
    exported = gr.File(label=S.EXPORT_FILE, interactive=False, visible=False, elem_id="step-export-file")

    dataset.change(handlers.problems, [dataset], problem, api_visibility="private")
    start.click(
        handlers.start,
        [problem, typed, decomposer, solver],
        [state, question, trace, teacher, reference, gold, status, revealed],
        api_name="stepthrough_start",
    )
    next_step.click(
        handlers.next_step,
        [state, trace, reveal_mode, revealed],
        [state, trace, final, status],
        api_name="stepthrough_next",
        concurrency_limit=1,  # one model call at a time: inference takes every CPU core
    )
    reveal.click(handlers.reveal, [state, revealed, reveal_mode], [trace, revealed], api_visibility="private")
    save.click(handlers.save, [state, trace], status, api_name="stepthrough_save")
    export_md.click(handlers.export_markdown, [state, trace], exported, api_visibility="private")
    export_html.click(handlers.export_html, [state, trace], exported, api_visibility="private")
    on_show(blocks, tab, handlers.choices, None, [dataset, decomposer, solver])
