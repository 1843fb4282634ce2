"""Explore tab: the paged, sortable, filterable rationale table, the run overview and the charts."""

from dataclasses import dataclass

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.explore import ExploreHandlers, next_page, previous_page
from webapp.pages.filter_panel import create_filter_panel
from webapp.pages.refresh import on_show

S = strings.Explore


@dataclass
class ExploreTab:
    selected: gr.Number  # the clicked rationale's id
    open_button: gr.Button  # "Open in Annotate" (wired by the app once the Annotate tab exists)


def create_explore_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> ExploreTab:
    handlers = ExploreHandlers(app)
    gr.Markdown(S.INTRO)
    panel = create_filter_panel("explore")
    with gr.Row():
        sort = gr.Dropdown(label=S.SORT, choices=S.SORTS, value="id", elem_id="explore-sort")
        descending = gr.Checkbox(label=S.DESCENDING, value=False, elem_id="explore-desc")
        page_size = gr.Dropdown(
            label=S.PAGE_SIZE, choices=[25, 50, 100, 200], value=50, elem_id="explore-size"
        )
        page = gr.Number(label=S.PAGE, value=1, precision=0, minimum=1, elem_id="explore-page")
        apply = gr.Button(
            strings.Filter.APPLY, variant="primary", elem_id="explore-apply", elem_classes="action"
        )
    with gr.Row():
        previous = gr.Button(S.PREVIOUS, size="sm", elem_id="explore-prev", scale=0)
        summary = gr.Markdown(elem_id="explore-summary")
        following = gr.Button(S.NEXT, size="sm", elem_id="explore-next", scale=0)
    table = gr.Dataframe(
        headers=S.HEADERS,
        datatype="str",
        interactive=False,
        wrap=True,
        max_height=520,
        elem_id="explore-table",
        column_widths=["5%", "8%", "6%", "9%", "28%", "7%", "6%", "8%", "10%", "8%", "5%"],
    )
    with gr.Row():
        selected = gr.Number(label=S.SELECTED, precision=0, interactive=False, elem_id="explore-selected")
        open_button = gr.Button(S.OPEN, elem_id="explore-open", elem_classes="action")
    with gr.Accordion(S.RUNS_TITLE, open=False):
        runs = gr.Dataframe(headers=S.RUN_HEADERS, datatype="str", interactive=False, elem_id="explore-runs")
    with gr.Accordion(S.CHARTS, open=True):
        with gr.Row():
            accuracy_plot = gr.Plot(show_label=False)
            steps_plot = gr.Plot(show_label=False)
        with gr.Row():
            review_plot = gr.Plot(show_label=False)
            agreement_plot = gr.Plot(show_label=False)
        agreement = gr.Dataframe(headers=S.AGREEMENT_HEADERS, datatype="str", interactive=False)

    view_inputs = [sort, descending, page, page_size]
    view_outputs = [table, summary, page]
    chart_outputs = [accuracy_plot, steps_plot, review_plot, agreement_plot, agreement]
    shown = panel.on(
        apply.click, handlers.page, inputs=view_inputs, outputs=view_outputs, api_name="explore_page"
    )
    shown.then(handlers.charts, [panel.state], chart_outputs, api_visibility="private")
    for button, turn in ((previous, previous_page), (following, next_page)):
        step = button.click(turn, page, page, queue=False, api_visibility="private")
        step.then(handlers.page, [panel.state, *view_inputs], view_outputs, api_visibility="private")
    sort.change(handlers.page, [panel.state, *view_inputs], view_outputs, api_visibility="private")
    descending.change(handlers.page, [panel.state, *view_inputs], view_outputs, api_visibility="private")
    table.select(handlers.select, None, selected, api_visibility="private")
    panel.register_choices(app, blocks, tab)
    blocks.load(handlers.page, [panel.state, *view_inputs], view_outputs, api_visibility="private")
    on_show(blocks, tab, handlers.overview, None, [runs])
    blocks.load(
        handlers.charts, [panel.state], chart_outputs, api_visibility="private", show_progress="hidden"
    )
    return ExploreTab(selected=selected, open_button=open_button)
