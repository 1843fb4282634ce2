"""Failures tab: an evaluation run's wrong answers, breakdowns, trace vs reference, send to the queue."""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from webapp import charts, strings
from webapp.context import AppContext
from webapp.handlers.failures import FailureHandlers
from webapp.pages.refresh import on_show
from webapp.pages.widgets import action, readonly, text_table

S = strings.Failures
HIGHLIGHT = {S.DIVERGENT: "#fed7d7"}
COLUMN_WIDTHS = ["6%", "6%", "8%", "32%", "6%", "7%", "5%", "10%", "12%", "8%"]


@dataclass
class FailuresTab:
    rationale_id: gr.State  # a related rationale clicked in its table
    picked: Any  # that click's event: the app chains "open in Annotate" to it (`.success`)


def _run_view() -> dict[str, Any]:
    """The run and filters, the failures table and the breakdown charts."""
    c: dict[str, Any] = {}
    with gr.Row():
        c["run"] = gr.Dropdown(label=S.RUN, choices=[], elem_id="failures-run", scale=3)
        c["dataset"] = gr.Dropdown(
            label=S.DATASET, choices=[(strings.ANY, 0)], value=0, elem_id="failures-dataset"
        )
        c["category"] = gr.Dropdown(
            label=S.CATEGORY, choices=[""], value="", info=S.CATEGORY_HINT, elem_id="failures-category"
        )
        c["min_steps"] = gr.Number(label=S.MIN_STEPS, precision=0, minimum=0, elem_id="failures-min-steps")
        c["max_steps"] = gr.Number(label=S.MAX_STEPS, precision=0, minimum=0, elem_id="failures-max-steps")
        c["show"] = action(S.SHOW, "failures-show", "primary")
    c["summary"] = gr.Markdown(elem_id="failures-summary")
    with gr.Row():
        c["against"] = gr.Dropdown(
            label=S.AGAINST,
            choices=[(S.NO_AGAINST, 0)],
            value=0,
            info=S.AGAINST_HINT,
            elem_id="failures-against",
            scale=3,
        )
        c["lost"] = gr.Checkbox(label=S.LOST, value=False, info=S.LOST_HINT, elem_id="failures-lost")
    c["comparison"] = gr.Markdown(elem_id="failures-comparison")
    c["table"] = text_table(
        S.HEADERS,
        "failures-table",
        label=S.NOTHING_SHOWN,
        wrap=True,
        max_height=360,
        column_widths=COLUMN_WIDTHS,
    )
    with gr.Row():
        for key, title in (
            ("by_steps", S.BY_STEPS),
            ("by_dataset", S.BY_DATASET),
            ("by_category", S.BY_CATEGORY),
        ):
            c[key] = gr.Plot(charts.note(title, S.EMPTY_CHART), show_label=False)
    return c


def _detail() -> dict[str, Any]:
    """One failure: its trace beside the reference, and the rationales of the same problem."""
    c: dict[str, Any] = {}
    c["trace_id"] = gr.Number(label=S.SELECTED, precision=0, interactive=False, elem_id="failures-trace-id")
    with gr.Row():
        c["question"] = readonly(S.QUESTION, "failures-question", lines=3, scale=3)
        c["gold"] = readonly(S.GOLD, "failures-gold", scale=1)
    with gr.Row():
        c["trace"] = gr.HighlightedText(label=S.TRACE, color_map=HIGHLIGHT, elem_id="failures-trace")
        c["reference"] = gr.HighlightedText(
            label=S.REFERENCE, color_map=HIGHLIGHT, elem_id="failures-reference"
        )
    c["related"] = text_table(S.RELATED_HEADERS, "failures-related", label=S.RELATED)
    c["rationale_id"] = gr.State(None)
    with gr.Accordion(S.SEND_TITLE, open=False, elem_id="failures-send-box"):
        with gr.Row():
            c["which"] = gr.Radio(
                S.SEND_CHOICES, value="selected", label=S.SEND_WHICH, elem_id="failures-which"
            )
            c["what"] = gr.Radio(
                S.SEND_WHAT_CHOICES, value="traces", label=S.SEND_WHAT, elem_id="failures-what"
            )
        with gr.Row():
            c["queue_name"] = gr.Textbox(
                label=S.QUEUE_NAME, placeholder=S.QUEUE_PLACEHOLDER, elem_id="failures-queue-name"
            )
            c["assignee"] = gr.Dropdown(
                label=S.ASSIGNEE, choices=[(strings.ANY, 0)], value=0, elem_id="failures-assignee"
            )
            c["flag"] = gr.Checkbox(label=S.FLAG, value=True, elem_id="failures-flag")
            c["send"] = action(S.SEND, "failures-send", "primary")
        c["sent"] = gr.Markdown(elem_id="failures-sent")
    return c


def create_failures_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> FailuresTab:
    handlers = FailureHandlers(app)
    gr.Markdown(S.INTRO)
    c = {**_run_view(), **_detail()}
    filter_keys = ("run", "dataset", "min_steps", "max_steps", "category", "against", "lost")
    show_inputs = [c[k] for k in filter_keys]
    show_outputs = [c[k] for k in ("table", "summary", "by_steps", "by_dataset", "by_category", "category")]
    c["show"].click(handlers.show, show_inputs, show_outputs, api_name="failures")
    c["run"].input(handlers.show, show_inputs, show_outputs, api_visibility="private")
    c["lost"].input(handlers.refilter, show_inputs, show_outputs, api_visibility="private")
    c["against"].input(handlers.against_changed, show_inputs, show_outputs, api_visibility="private")
    pair = [c["run"], c["against"]]
    for trigger in (c["show"].click, c["run"].input, c["against"].input):
        trigger(handlers.compare, pair, c["comparison"], api_visibility="private")
    picked = c["table"].select(handlers.select, None, c["trace_id"], api_visibility="private")
    detail = [c[k] for k in ("question", "gold", "trace", "reference", "related")]
    picked.success(handlers.detail, [c["run"], c["trace_id"]], detail, api_visibility="private")
    related = c["related"].select(handlers.select_related, None, c["rationale_id"], api_visibility="private")
    send_keys = ("which", "trace_id", *filter_keys, "what", "queue_name", "assignee", "flag")
    send_inputs = [c[k] for k in send_keys]
    c["send"].click(handlers.send, send_inputs, c["sent"], api_name="send_failures")
    on_show(blocks, tab, handlers.choices, None, [c["run"], c["dataset"], c["assignee"], c["against"]])
    return FailuresTab(rationale_id=c["rationale_id"], picked=related)
