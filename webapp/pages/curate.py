"""Curate tab: filters and manual picks, preview counts and charts, create, freeze, export."""

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.curate import EXPORT_FORMATS, KIND_CHOICES, CurateHandlers
from webapp.pages.filter_panel import create_filter_panel
from webapp.pages.refresh import on_show

S = strings.Curate


def create_curate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
    handlers = CurateHandlers(app)
    gr.Markdown(S.INTRO)
    panel = create_filter_panel("curate")
    with gr.Row():
        picks = gr.Textbox(label=S.PICKS, elem_id="curate-picks", scale=3)
        use_filter = gr.Checkbox(label=S.USE_FILTER, value=True, elem_id="curate-use-filter", scale=1)
        preview = gr.Button(S.PREVIEW, elem_id="curate-preview", elem_classes="action")
    summary = gr.Markdown(elem_id="curate-summary")
    with gr.Row():
        verdict_plot = gr.Plot(label=S.CHART_VERDICT)
        dataset_plot = gr.Plot(label=S.CHART_DATASET)
        steps_plot = gr.Plot(label=S.CHART_STEPS)
    sample = gr.Dataframe(
        headers=S.SAMPLE_HEADERS, datatype="str", interactive=False, label=S.SAMPLE, wrap=True, max_height=300
    )
    with gr.Row():
        name = gr.Textbox(label=S.NAME, elem_id="curate-name")
        description = gr.Textbox(label=S.DESCRIPTION, elem_id="curate-description")
        create = gr.Button(S.CREATE, variant="primary", elem_id="curate-create", elem_classes="action")
    status = gr.Markdown(elem_id="curate-status")
    gr.Markdown(f"### {S.SETS}")
    sets_table = gr.Dataframe(
        headers=S.SET_HEADERS, datatype="str", interactive=False, elem_id="curate-sets", max_height=260
    )
    with gr.Row():
        set_pick = gr.Dropdown(label=S.SET, choices=[], elem_id="curate-set")
        freeze = gr.Button(S.FREEZE, variant="primary", elem_id="curate-freeze", elem_classes="action")
        refresh = gr.Button(strings.REFRESH, elem_id="curate-refresh", elem_classes="action")
    gr.Markdown(f"### {S.EXPORT_TITLE}")
    with gr.Row():
        export_set = gr.Dropdown(label=S.SET, choices=[], elem_id="curate-export-set")
        kind = gr.Dropdown(label=S.KIND, choices=KIND_CHOICES, value="cot", elem_id="curate-kind")
        fmt = gr.Dropdown(
            label=S.FORMAT, choices=EXPORT_FORMATS, value=EXPORT_FORMATS[0], elem_id="curate-format"
        )
        out_path = gr.Textbox(label=S.OUT, value="set.jsonl", elem_id="curate-out")
        export = gr.Button(S.EXPORT, elem_id="curate-export", elem_classes="action")
    export_file = gr.File(label=S.EXPORT, interactive=False, elem_id="curate-export-file", visible=False)

    preview_outputs = [summary, verdict_plot, dataset_plot, steps_plot, sample]
    panel.on(preview.click, handlers.preview, inputs=[picks, use_filter], outputs=preview_outputs)
    set_outputs = [sets_table, set_pick, export_set]
    panel.on(
        create.click,
        handlers.create,
        inputs=[picks, use_filter, name, description],
        outputs=[status, *set_outputs],
        api_name="create_set",
    )
    freeze.click(handlers.freeze, [set_pick], [status, *set_outputs], api_name="freeze_set")
    refresh.click(handlers.sets, None, set_outputs, api_visibility="private")
    export.click(
        handlers.export, [export_set, kind, fmt, out_path], [status, export_file], api_name="export_set"
    )
    panel.register_choices(app, blocks, tab)
    on_show(blocks, tab, handlers.sets, None, set_outputs)
