"""Curate tab: filters and manual picks, preview counts and charts, create, freeze, export."""

from typing import Any

import gradio as gr

from webapp import charts, strings
from webapp.context import AppContext
from webapp.handlers.curate import EXPORT_FORMATS, KIND_CHOICES, CurateHandlers
from webapp.pages.filter_panel import create_filter_panel
from webapp.pages.refresh import on_show
from webapp.pages.widgets import action, text_table

S = strings.Curate


def _selection() -> dict[str, Any]:
    """Manual picks, the preview (counts, charts, first rows), and the new set's name."""
    c: dict[str, Any] = {}
    with gr.Row():
        c["picks"] = gr.Textbox(label=S.PICKS, elem_id="curate-picks", scale=3)
        c["use_filter"] = gr.Checkbox(label=S.USE_FILTER, value=True, elem_id="curate-use-filter", scale=1)
        c["preview"] = action(S.PREVIEW, "curate-preview")
    c["summary"] = gr.Markdown(elem_id="curate-summary")
    with gr.Row():
        for key, label in (("verdict_plot", S.CHART_VERDICT), ("dataset_plot", S.CHART_DATASET),
                           ("steps_plot", S.CHART_STEPS)):  # fmt: skip
            c[key] = gr.Plot(charts.note(label, S.NO_SAMPLE), label=label)
    c["sample"] = text_table(S.SAMPLE_HEADERS, "curate-sample", label=S.NO_SAMPLE, wrap=True, max_height=300)
    with gr.Row():
        c["name"] = gr.Textbox(label=S.NAME, elem_id="curate-name")
        c["description"] = gr.Textbox(label=S.DESCRIPTION, elem_id="curate-description")
        c["create"] = action(S.CREATE, "curate-create", "primary")
    c["status"] = gr.Markdown(elem_id="curate-status")
    return c


def _sets() -> dict[str, Any]:
    """Existing sets, freezing one, and exporting a frozen one."""
    c: dict[str, Any] = {}
    gr.Markdown(f"### {S.SETS}")
    c["sets_table"] = text_table(S.SET_HEADERS, "curate-sets", max_height=260)
    with gr.Row():
        c["set_pick"] = gr.Dropdown(label=S.SET, choices=[], elem_id="curate-set")
        c["freeze"] = action(S.FREEZE, "curate-freeze", "primary")
        c["refresh"] = action(strings.REFRESH, "curate-refresh")
    gr.Markdown(f"### {S.EXPORT_TITLE}")
    with gr.Row():
        c["source"] = gr.Radio(
            S.EXPORT_FROM_CHOICES, value="set", label=S.EXPORT_FROM, elem_id="curate-export-from"
        )
        c["export_set"] = gr.Dropdown(label=S.SET, choices=[], elem_id="curate-export-set")
        c["kind"] = gr.Dropdown(label=S.KIND, choices=KIND_CHOICES, value="cot", elem_id="curate-kind")
        c["fmt"] = gr.Dropdown(
            label=S.FORMAT,
            choices=EXPORT_FORMATS,
            value=EXPORT_FORMATS[0],
            info=S.FORMAT_HELP,
            elem_id="curate-format",
        )
        c["out_path"] = gr.Textbox(label=S.OUT, value="set.jsonl", elem_id="curate-out")
        c["export"] = action(S.EXPORT, "curate-export")
    c["export_file"] = gr.File(label=S.EXPORT, interactive=False, elem_id="curate-export-file", visible=False)
    return c


def create_curate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
    handlers = CurateHandlers(app)
    gr.Markdown(S.INTRO)
    panel = create_filter_panel("curate")
    c = {**_selection(), **_sets()}
    preview_outputs = [c[k] for k in ("summary", "verdict_plot", "dataset_plot", "steps_plot", "sample")]
    panel.on(
        c["preview"].click, handlers.preview, inputs=[c["picks"], c["use_filter"]], outputs=preview_outputs
    )
    set_outputs = [c["sets_table"], c["set_pick"], c["export_set"]]
    create_inputs = [c[k] for k in ("picks", "use_filter", "name", "description")]
    panel.on(c["create"].click, handlers.create, inputs=create_inputs, outputs=[c["status"], *set_outputs],
             api_name="create_set")  # fmt: skip
    c["freeze"].click(handlers.freeze, [c["set_pick"]], [c["status"], *set_outputs], api_name="freeze_set")
    c["refresh"].click(handlers.sets, None, set_outputs, api_visibility="private")
    export_inputs = [c[k] for k in ("export_set", "kind", "fmt", "out_path", "source")]
    panel.on(c["export"].click, handlers.export, inputs=export_inputs,
             outputs=[c["status"], c["export_file"]], api_name="export_set")  # fmt: skip
    # Clicking a set shows what it holds and picks it for freezing and export.
    c["sets_table"].select(handlers.open_set, None, [*preview_outputs, c["set_pick"], c["export_set"]],
                           api_visibility="private")  # fmt: skip
    panel.register_choices(app, blocks, tab)
    on_show(blocks, tab, handlers.sets, None, set_outputs)
