"""Explore tab: the paged, sortable, filterable rationale table, the run overview and the charts."""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.explore import ExploreHandlers, next_page, previous_page
from webapp.pages.filter_panel import create_filter_panel
from webapp.pages.refresh import on_show
from webapp.pages.widgets import action, text_table

S = strings.Explore
PAGE_SIZES = [25, 50, 100, 200]
COLUMN_WIDTHS = ["5%", "8%", "6%", "9%", "28%", "7%", "6%", "8%", "10%", "8%", "5%"]


@dataclass
class ExploreTab:
    selected: gr.State  # the clicked rationale's id
    picked: Any  # the row-click event: the app chains "open in Annotate" to it (`.success`)


def _table_view() -> dict[str, Any]:
    """Sorting and paging controls, the rationale table, and the selected row."""
    c: dict[str, Any] = {}
    with gr.Row():
        c["sort"] = gr.Dropdown(label=S.SORT, choices=S.SORTS, value="id", elem_id="explore-sort")
        c["descending"] = gr.Checkbox(label=S.DESCENDING, value=False, elem_id="explore-desc")
        c["page_size"] = gr.Dropdown(label=S.PAGE_SIZE, choices=PAGE_SIZES, value=50, elem_id="explore-size")
        c["page"] = gr.Number(label=S.PAGE, value=1, precision=0, minimum=1, elem_id="explore-page")
        c["apply"] = action(strings.Filter.APPLY, "explore-apply", "primary")
    with gr.Row():
        c["previous"] = gr.Button(S.PREVIOUS, size="sm", elem_id="explore-prev", scale=0)
        c["summary"] = gr.Markdown(elem_id="explore-summary")
        c["following"] = gr.Button(S.NEXT, size="sm", elem_id="explore-next", scale=0)
    c["table"] = text_table(
        S.HEADERS, "explore-table", label=S.TABLE, wrap=True, max_height=520, column_widths=COLUMN_WIDTHS
    )
    c["selected"] = gr.State(None)  # the clicked row's rationale id, handed to Annotate
    return c


def _overview() -> dict[str, Any]:
    """Datasets and teacher runs, and the charts."""
    c: dict[str, Any] = {}
    with gr.Accordion(S.RUNS_TITLE, open=False):
        c["runs"] = text_table(S.RUN_HEADERS, "explore-runs")
    with gr.Accordion(S.CHARTS, open=True):
        for row in (("accuracy_plot", "steps_plot"), ("review_plot", "agreement_plot")):
            with gr.Row():
                for key in row:
                    c[key] = gr.Plot(show_label=False, elem_id=f"explore-{key.replace('_', '-')}")
        with gr.Row():
            c["per_hour_plot"] = gr.Plot(show_label=False, elem_id="explore-per-hour-plot")
            c["agreement"] = text_table(S.AGREEMENT_HEADERS, "explore-agreement", label=S.AGREEMENT)
    return c


def create_explore_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> ExploreTab:
    handlers = ExploreHandlers(app)
    gr.Markdown(S.INTRO)
    panel = create_filter_panel("explore")
    c = {**_table_view(), **_overview()}
    page = c["page"]
    view_inputs = [panel.state, c["sort"], c["descending"], page, c["page_size"]]
    view_outputs = [c["table"], c["summary"], page]
    charts = [c[k] for k in ("accuracy_plot", "steps_plot", "review_plot", "agreement_plot", "per_hour_plot",
                             "agreement")]  # fmt: skip
    shown = panel.on(c["apply"].click, handlers.page, inputs=view_inputs[1:], outputs=view_outputs,
                     api_name="explore_page")  # fmt: skip
    shown.then(handlers.charts, [panel.state], charts, api_visibility="private")
    for button, turn in ((c["previous"], previous_page), (c["following"], next_page)):
        button.click(turn, page, page, queue=False, api_visibility="private").then(
            handlers.page, view_inputs, view_outputs, api_visibility="private"
        )
    for control in (c["sort"], c["descending"]):
        control.change(handlers.page, view_inputs, view_outputs, api_visibility="private")
    picked = c["table"].select(handlers.select, None, c["selected"], api_visibility="private")
    panel.register_choices(app, blocks, tab)
    blocks.load(handlers.page, view_inputs, view_outputs, api_visibility="private")
    on_show(blocks, tab, handlers.overview, None, [c["runs"]])
    # Clicking a dataset / run row filters the table to it.
    picked_run = c["runs"].select(
        handlers.pick_run, None, [panel.dataset, panel.run], api_visibility="private"
    )
    shown_run = panel.on(picked_run.success, handlers.page, inputs=view_inputs[1:], outputs=view_outputs)
    shown_run.then(handlers.charts, [panel.state], charts, api_visibility="private")
    blocks.load(handlers.charts, [panel.state], charts, show_progress="hidden", api_visibility="private")
    return ExploreTab(selected=c["selected"], picked=picked)
