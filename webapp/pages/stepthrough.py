"""Step-through tab: a problem, a decomposer and a solver; next step (streamed), edit, reveal, present,
save, export."""

from typing import Any

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.stepthrough import StepThroughHandlers
from webapp.pages.demo import demo_button
from webapp.pages.refresh import on_show

S = strings.StepThrough


def _model_picker(label: str, elem_id: str) -> gr.Dropdown:
    return gr.Dropdown(label=label, choices=[], allow_custom_value=True, info=S.MODEL_HINT, elem_id=elem_id)


def _setup(app: AppContext, blocks: gr.Blocks) -> dict[str, Any]:
    """What to step through and with which models."""
    c: dict[str, Any] = {}
    with gr.Column(visible=False, elem_id="step-empty") as c["empty"]:
        gr.Markdown(S.EMPTY)
        c["demo_ready"] = demo_button(app, blocks, "step")
    with gr.Row():
        c["dataset"] = gr.Dropdown(label=S.DATASET, choices=[], elem_id="step-dataset", scale=1)
        c["problem"] = gr.Dropdown(label=S.PROBLEM, choices=[], elem_id="step-problem", scale=3)
    c["typed"] = gr.Textbox(label=S.TYPED, lines=2, elem_id="step-typed")
    with gr.Row():
        c["decomposer"] = _model_picker(S.DECOMPOSER, "step-decomposer")
        c["solver"] = _model_picker(S.SOLVER, "step-solver")
        c["reveal_mode"] = gr.Checkbox(label=S.REVEAL, value=False, elem_id="step-reveal-mode")
        c["presenting"] = gr.Checkbox(label=S.PRESENT, value=False, elem_id="step-present")
        c["start"] = gr.Button(S.START, variant="primary", elem_id="step-start", elem_classes="action")
    return c


def _session_view() -> dict[str, Any]:
    """The problem, the step buttons, and the trace beside the teacher's rationale and the reference."""
    c: dict[str, Any] = {"state": gr.JSON(value={}, visible=False), "revealed": gr.State(0)}
    c["question"] = gr.Textbox(label=S.QUESTION, lines=2, interactive=False, elem_id="step-question")
    buttons = [
        ("next_step", S.NEXT, "step-next"),
        ("reveal", S.REVEAL_NEXT, "step-reveal"),
        ("save", S.SAVE, "step-save"),
        ("export_md", S.EXPORT_MD, "step-export-md"),
        ("export_html", S.EXPORT_HTML, "step-export-html"),
    ]
    with gr.Row():
        for key, label, elem_id in buttons:
            c[key] = gr.Button(
                label, variant="primary" if key == "next_step" else "secondary", elem_id=elem_id
            )
    c["status"] = gr.Markdown(elem_id="step-status")
    c["live"] = gr.HTML(elem_id="step-live")
    c["presenter"] = gr.HTML(visible=False, elem_id="step-presenter")
    with gr.Row() as c["working"]:
        with gr.Column(scale=1):
            c["trace"] = gr.Dataframe(
                headers=S.TRACE_HEADERS,
                datatype="str",
                interactive=True,
                wrap=True,
                label=S.TRACE,
                elem_id="step-trace",
                column_widths=["35%", "35%", "30%"],
            )
            with gr.Row():
                c["final"] = gr.Textbox(label=S.FINAL, interactive=False, elem_id="step-final")
                c["gold"] = gr.Textbox(label=S.GOLD, interactive=False, elem_id="step-gold")
        with gr.Column(scale=1):
            for key, label in (("teacher", S.TEACHER), ("reference", S.REFERENCE)):
                c[key] = gr.Dataframe(
                    headers=["sub_question", "text"],
                    datatype="str",
                    interactive=False,
                    wrap=True,
                    label=label,
                    elem_id=f"step-{key}",
                    column_widths=["45%", "55%"],
                )
    c["exported"] = gr.File(label=S.EXPORT_FILE, interactive=False, visible=False, elem_id="step-export-file")
    return c


def create_stepthrough_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
    handlers = StepThroughHandlers(app)
    gr.Markdown(S.INTRO)
    c = {**_setup(app, blocks), **_session_view()}
    state, trace = c["state"], c["trace"]
    c["dataset"].change(handlers.problems, [c["dataset"]], c["problem"], api_visibility="private")
    started = [state, c["question"], trace, c["teacher"], c["reference"], c["gold"], c["status"],
               c["revealed"], c["presenter"]]  # fmt: skip
    c["start"].click(handlers.start, [c["problem"], c["typed"], c["decomposer"], c["solver"]], started,
                     api_name="stepthrough_start")  # fmt: skip
    c["next_step"].click(
        handlers.next_step,
        [state, trace, c["reveal_mode"], c["revealed"]],
        [state, trace, c["final"], c["status"], c["live"], c["presenter"]],
        api_name="stepthrough_next",
        # Many users may click at once: the model worker queues them in order and says how many are ahead.
        concurrency_limit=16,
        show_progress="hidden",  # the status line and the streamed text show the progress
    )
    c["reveal"].click(handlers.reveal, [state, c["revealed"], c["reveal_mode"]],
                      [trace, c["revealed"], c["presenter"]], api_visibility="private")  # fmt: skip
    c["presenting"].change(handlers.present, c["presenting"], [c["presenter"], c["working"]],
                           api_visibility="private")  # fmt: skip
    c["save"].click(handlers.save, [state, trace], c["status"], api_name="stepthrough_save")
    c["export_md"].click(handlers.export_markdown, [state, trace], c["exported"], api_visibility="private")
    c["export_html"].click(handlers.export_html, [state, trace], c["exported"], api_visibility="private")
    choice_outputs = [c["dataset"], c["decomposer"], c["solver"], c["empty"]]
    choice_inputs = [c["decomposer"], c["solver"], c["dataset"]]
    on_show(blocks, tab, handlers.choices, choice_inputs, choice_outputs)
    # A demo chain that just finished: its pair appears in the pickers (and is chosen) without a reload.
    c["demo_ready"].change(handlers.choices, choice_inputs, choice_outputs,
                           api_visibility="private", show_progress="hidden")  # fmt: skip
