"""The Train tab's "Improve a student by rounds" panel (webapp.handlers.rounds)."""

import gradio as gr

from backend.rounds.config import KEEP_POLICIES, RoundConfig
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.rounds import RoundHandlers
from webapp.pages.refresh import on_show

S = strings.Round
R = RoundConfig.default  # the page's defaults are the config's


def create_round_panel(app: AppContext, blocks: gr.Blocks, tab: gr.Tab, timer: gr.Timer) -> None:
    handlers = RoundHandlers(app)
    with gr.Accordion(S.TITLE, open=False, elem_id="round"):
        gr.Markdown(S.INTRO)
        with gr.Row():
            student = gr.Dropdown(label=S.STUDENT, choices=[], elem_id="round-student")
            samples = gr.Number(
                label=S.SAMPLES, value=R("samples"), precision=0, minimum=1, elem_id="round-k"
            )
            questions = gr.Number(
                label=S.QUESTIONS, value=0, precision=0, minimum=0, elem_id="round-questions"
            )
            temperature = gr.Number(label=S.TEMPERATURE, value=R("temperature"), elem_id="round-temperature")
            keep = gr.Dropdown(
                label=S.KEEP,
                choices=[p.value for p in KEEP_POLICIES],
                value=R("keep").value,
                elem_id="round-keep",
            )
            rationalize = gr.Checkbox(
                label=S.RATIONALIZE, value=R("rationalize"), elem_id="round-rationalize"
            )
            distinct = gr.Checkbox(label=S.DISTINCT, value=R("distinct"), elem_id="round-distinct")
        with gr.Row():
            dataset = gr.Dropdown(label=S.DATASET, choices=[], elem_id="round-dataset")
            split = gr.Textbox(label=S.SPLIT, elem_id="round-split")
            limit = gr.Number(label=S.LIMIT, value=0, precision=0, minimum=0, elem_id="round-limit")
            epochs = gr.Number(label=S.EPOCHS, value=R("epochs"), minimum=0, elem_id="round-epochs")
            start = gr.Button(S.START, variant="primary", elem_id="round-start", elem_classes="action")
        message = gr.Markdown(elem_id="round-message")
        rounds = gr.Dataframe(
            headers=S.HEADERS, datatype="str", interactive=False, label=S.ROUNDS, elem_id="round-runs"
        )
    inputs = [
        *(student, samples, questions, temperature, rationalize, distinct, keep),
        *(dataset, split, limit, epochs),
    ]
    start.click(handlers.start, inputs, [message, rounds], api_name="start_round")
    on_show(blocks, tab, handlers.choices, None, [student, dataset])
    on_show(blocks, tab, handlers.rounds, None, [rounds])
    timer.tick(handlers.rounds, None, rounds, api_visibility="private", show_progress="hidden")
