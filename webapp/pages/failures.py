"""Failures tab: an evaluation run's wrong answers, breakdowns, trace vs reference, send to the queue."""

from dataclasses import dataclass

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.failures import FailureHandlers
from webapp.pages.refresh import on_show

S = strings.Failures
HIGHLIGHT = {S.DIVERGENT: "#fed7d7"}


@dataclass
class FailuresTab:
    rationale_id: gr.Number  # a related rationale picked in the table
    open_button: gr.Button  # "Open in Annotate" (wired by the app)


def create_failures_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> FailuresTab:
    handlers = FailureHandlers(app)
    gr.Markdown(S.INTRO)
    with gr.Row():
        run = gr.Dropdown(label=S.RUN, choices=[], elem_id="failures-run", scale=3)
        dataset = gr.Dropdown(
            label=S.DATASET, choices=[(strings.ANY, 0)], value=0, elem_id="failures-dataset"
        )
        category = gr.Dropdown(label=S.CATEGORY, choices=[""], value="", elem_id="failures-category")
        min_steps = gr.Number(label=S.MIN_STEPS, precision=0, minimum=0, elem_id="failures-min-steps")
        max_steps = gr.Number(label=S.MAX_STEPS, precision=0, minimum=0, elem_id="failures-max-steps")
        show = gr.Button(S.SHOW, variant="primary", elem_id="failures-show", elem_classes="action")
    summary = gr.Markdown(elem_id="failures-summary")
    table = gr.Dataframe(
        headers=S.HEADERS,
        datatype="str",
        interactive=False,
        wrap=True,
        max_height=360,
        elem_id="failures-table",
        column_widths=["6%", "6%", "8%", "36%", "7%", "8%", "6%", "10%", "13%"],
    )
    with gr.Row():
        by_steps = gr.Plot(show_label=False)
        by_dataset = gr.Plot(show_label=False)
        by_category = gr.Plot(show_label=False)
    trace_id = gr.Number(label=S.SELECTED, precision=0, interactive=False, elem_id="failures-trace-id")
    with gr.Row():
        question = gr.Textbox(
            label=S.QUESTION, lines=3, interactive=False, scale=3, elem_id="failures-question"
        )
        gold = gr.Textbox(label=S.GOLD, interactive=False, scale=1, elem_id="failures-gold")
    with gr.Row():
        trace = gr.HighlightedText(label=S.TRACE, color_map=HIGHLIGHT, elem_id="failures-trace")
        reference = gr.HighlightedText(label=S.REFERENCE, color_map=HIGHLIGHT, elem_id="failures-reference")
    related = gr.Dataframe(
        headers=S.RELATED_HEADERS,
        datatype="str",
        interactive=False,
        label=S.RELATED,
        elem_id="failures-related",
    )
    with gr.Row():
        rationale_id = gr.Number(
            label=S.RATIONALE, precision=0, interactive=False, elem_id="failures-rationale-id"
        )
        open_button = gr.Button(S.OPEN, elem_id="failures-open", elem_classes="action")
    with gr.Accordion(S.SEND_TITLE, open=False, elem_id="failures-send-box"):
        with gr.Row():
            which = gr.Radio(S.SEND_CHOICES, value="selected", label=S.SEND_WHICH, elem_id="failures-which")
            assignee = gr.Dropdown(
                label=S.ASSIGNEE, choices=[(strings.ANY, 0)], value=0, elem_id="failures-assignee"
            )
            flag = gr.Checkbox(label=S.FLAG, value=True, elem_id="failures-flag")
            send = gr.Button(S.SEND, variant="primary", elem_id="failures-send", elem_classes="action")
        sent = gr.Markdown(elem_id="failures-sent")

    show_inputs = [run, dataset, min_steps, max_steps, category]
    show_outputs = [table, summary, by_steps, by_dataset, by_category, category]
    show.click(handlers.show, show_inputs, show_outputs, api_name="failures")
    run.input(handlers.show, show_inputs, show_outputs, api_visibility="private")
    picked = table.select(handlers.select, None, trace_id, api_visibility="private")
    picked.success(
        handlers.detail,
        [run, trace_id],
        [question, gold, trace, reference, related],
        api_visibility="private",
    )
    related.select(handlers.select_related, None, rationale_id, api_visibility="private")
    send.click(handlers.send, [which, trace_id, table, assignee, flag], sent, api_name="send_failures")
    on_show(blocks, tab, handlers.choices, None, [run, dataset, assignee])
    return FailuresTab(rationale_id=rationale_id, open_button=open_button)
