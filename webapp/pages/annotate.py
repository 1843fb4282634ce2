"""Annotate tab: the queue, the editable steps, reviews, conflicts, history and bulk review."""

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from backend.annotation import ERROR_TAGS, QUEUE_MODES
from db.models import Role
from webapp import strings
from webapp.context import AppContext
from webapp.handlers import step_table
from webapp.handlers.annotate import AnnotateHandlers
from webapp.handlers.annotate_history import BulkHandlers, HistoryHandlers
from webapp.handlers.annotate_screen import Screen
from webapp.pages.filter_panel import FilterPanel, create_filter_panel
from webapp.roles import needs

S = strings.Annotate
GUIDELINES = Path(__file__).resolve().parents[1] / "guidelines.md"
DIFF_COLORS = {"+": "#c6f6d5", "-": "#fed7d7"}


@dataclass
class AnnotateTab:
    screen: list[Any]  # output components in Screen field order
    handlers: AnnotateHandlers

    def open_from(self, trigger: Callable[..., Any], rationale_id: Any, tabs: gr.Tabs) -> None:
        """Wire another tab's button to show rationale `rationale_id` here (and switch to this tab)."""
        switch = trigger(self.handlers.open, [rationale_id], self.screen, api_visibility="private")
        switch.success(
            needs(Role.viewer)(lambda: gr.Tabs(selected="annotate")), None, tabs, api_visibility="private"
        )


def _button(label: str, elem_id: str, variant: str = "secondary") -> gr.Button:
    return gr.Button(label, elem_id=elem_id, variant=variant, elem_classes="action")  # type: ignore[arg-type]


def _editor() -> dict[str, Any]:
    """The rationale being annotated: problem, steps with their tools, answer and review fields."""
    c: dict[str, Any] = {}
    c["info"] = gr.Markdown(elem_id="annotate-info")
    c["question"] = gr.Textbox(label=S.QUESTION, lines=3, interactive=False, elem_id="annotate-question")
    with gr.Row():
        c["gold"] = gr.Textbox(label=S.GOLD, interactive=False, elem_id="annotate-gold", scale=1)
        c["gold_solution"] = gr.Textbox(
            label=S.GOLD_SOLUTION, lines=2, max_lines=8, interactive=False, scale=3
        )
    c.update(_rating())
    with gr.Accordion(S.EDIT_STEPS, open=False, elem_id="annotate-edit-steps"):
        c["steps"] = gr.Dataframe(
            headers=S.STEP_HEADERS,
            datatype="str",
            interactive=True,
            wrap=True,
            label=S.STEPS,
            elem_id="annotate-steps",
            column_widths=["40%", "60%"],
            max_height=420,
        )
        with gr.Row():
            c["step_number"] = gr.Number(
                label=S.STEP_NUMBER, value=1, precision=0, minimum=0, scale=0, min_width=90
            )
            c["add"] = gr.Button(S.ADD_STEP, size="sm", elem_id="annotate-add-step")
            c["remove"] = gr.Button(S.REMOVE_STEP, size="sm", elem_id="annotate-remove-step")
            c["up"] = gr.Button(S.MOVE_UP, size="sm", elem_id="annotate-move-up")
            c["down"] = gr.Button(S.MOVE_DOWN, size="sm", elem_id="annotate-move-down")
    with gr.Accordion(S.CHECKS, open=False):
        c["checks"] = gr.Dataframe(headers=S.CHECK_HEADERS, datatype="str", interactive=False)
    c["final_answer"] = gr.Textbox(label=S.FINAL_ANSWER, elem_id="annotate-final-answer")
    c.update(_review_fields())
    return c


def _rating() -> dict[str, Any]:
    """The rating panel (steps with +1 / 0 / -1 buttons, driven by shortcuts.js) and its hidden labels."""
    c: dict[str, Any] = {}
    gr.Markdown(f"**{S.RATINGS}**")
    # No js_on_load: gr.HTML's default would send a click event to the server on every click in the panel.
    nothing_open = f'<p class="empty-note">{html.escape(S.NOTHING_OPEN_PANEL)}</p>'
    c["panel"] = gr.HTML(nothing_open, elem_id="annotate-rating", js_on_load=None)
    # The ratings and step tags as JSON; the page's script writes it, the review buttons send it.
    c["labels"] = gr.Textbox(value="", visible="hidden", elem_id="annotate-labels")
    c["stop_at_error"] = gr.Checkbox(label=S.STOP_AT_ERROR, value=False, elem_id="annotate-stop-at-error")
    return c


def _review_fields() -> dict[str, Any]:
    """Error tags, comment, the save and review buttons, and the conflict panel of a refused save."""
    c: dict[str, Any] = {}
    c["tags"] = gr.CheckboxGroup(label=S.TAGS, choices=ERROR_TAGS, elem_id="annotate-tags")
    c["comment"] = gr.Textbox(label=S.COMMENT, elem_id="annotate-comment")
    with gr.Row():
        c["save"] = _button(S.SAVE, "annotate-save")
        c["accept"] = _button(S.ACCEPT, "annotate-accept", "primary")
        c["reject"] = _button(S.REJECT, "annotate-reject", "stop")
        c["flag"] = _button(S.FLAG, "annotate-flag")
    c["status"] = gr.Markdown(elem_id="annotate-status")
    with gr.Group(visible=False, elem_id="annotate-conflict") as c["conflict"]:
        gr.Markdown(f"**{S.CONFLICT_TITLE}**")
        c["conflict_message"] = gr.Textbox(
            show_label=False, lines=4, interactive=False, elem_id="annotate-conflict-text"
        )
        c["conflict_theirs"] = gr.Dataframe(
            headers=S.STEP_HEADERS, datatype="str", interactive=False, label=S.CONFLICT_THEIRS
        )
        c["conflict_diff"] = gr.HighlightedText(
            label=S.CONFLICT_DIFF, color_map=DIFF_COLORS, combine_adjacent=True
        )
        with gr.Row():
            c["keep_mine"] = _button(S.KEEP_MINE, "annotate-keep-mine", "primary")
            c["load_theirs"] = _button(S.LOAD_THEIRS, "annotate-load-theirs")
    return c


def _history() -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Accordion(S.HISTORY, open=False, elem_id="annotate-history"):
        c["revisions"] = gr.Dataframe(headers=S.REVISION_HEADERS, datatype="str", interactive=False)
        with gr.Row():
            c["compare_from"] = gr.Dropdown(
                label=S.COMPARE_FROM, choices=[], allow_custom_value=True, elem_id="annotate-compare-from"
            )
            c["compare_to"] = gr.Dropdown(
                label=S.COMPARE_TO, choices=[], allow_custom_value=True, elem_id="annotate-compare-to"
            )
            c["revert_to"] = gr.Dropdown(
                label=S.REVERT_TO, choices=[], allow_custom_value=True, elem_id="annotate-revert-to"
            )
            c["revert"] = _button(S.REVERT, "annotate-revert")
        c["diff"] = gr.HighlightedText(
            label=S.DIFF, color_map=DIFF_COLORS, combine_adjacent=True, elem_id="annotate-diff"
        )
        c["reviews"] = gr.Dataframe(
            headers=S.REVIEW_HEADERS, datatype="str", interactive=False, label=S.REVIEWS
        )
    return c


def _bulk(app: AppContext, panel: FilterPanel) -> None:
    handlers = BulkHandlers(app)
    with gr.Accordion(S.BULK, open=False, elem_id="annotate-bulk"):
        gr.Markdown(S.BULK_HELP)
        with gr.Row():
            verdict = gr.Radio(
                ["accept", "reject", "flag"],
                value="accept",
                label=S.BULK_VERDICT,
                elem_id="annotate-bulk-verdict",
            )
            ask = _button(S.BULK_PREVIEW, "annotate-bulk-preview")
        pending = gr.State(None)
        message = gr.Markdown(elem_id="annotate-bulk-message")
        with gr.Row(visible=False) as confirm_row:
            confirm = _button(S.BULK_CONFIRM, "annotate-bulk-confirm", "stop")
            cancel = _button(S.BULK_CANCEL, "annotate-bulk-cancel")
    outputs = [pending, message, confirm_row]
    panel.on(ask.click, handlers.preview, inputs=[verdict], outputs=outputs, api_name="bulk_preview")
    confirm.click(handlers.confirm, [pending], outputs, api_name="bulk_review")
    cancel.click(handlers.cancel, None, outputs, api_visibility="private")


def _queue() -> dict[str, Any]:
    """Queue mode, previous / next, and opening a rationale by id."""
    c: dict[str, Any] = {}
    with gr.Row():
        modes = [(label, key) for key, label in QUEUE_MODES.items()]
        c["mode"] = gr.Dropdown(modes, value="unreviewed", label=S.MODE, elem_id="annotate-mode", scale=2)
        c["previous"] = _button(S.PREVIOUS, "annotate-prev")
        c["following"] = _button(S.NEXT, "annotate-next", "primary")
        c["rationale_id"] = gr.Number(
            label=S.OPEN_ID, precision=0, minimum=1, elem_id="annotate-open-id", min_width=100
        )
        c["open"] = _button(S.OPEN, "annotate-open")
    c["advance"] = gr.Checkbox(label=S.AUTO_ADVANCE, value=True, elem_id="annotate-advance")
    return c


def _wire_tools(c: dict[str, Any], history: HistoryHandlers, screen: list[Any]) -> None:
    """Step table edits, revision diffs and revert."""
    table_ops = ((c["add"], step_table.add_step), (c["remove"], step_table.remove_step),
                 (c["up"], step_table.move_up), (c["down"], step_table.move_down))  # fmt: skip
    for button, operation in table_ops:
        button.click(operation, [c["steps"], c["step_number"]], c["steps"], api_visibility="private")
    compare_inputs = [c["current"], c["compare_from"], c["compare_to"]]
    for dropdown in (c["compare_from"], c["compare_to"]):
        dropdown.input(history.compare, compare_inputs, c["diff"], api_visibility="private")
    c["revert"].click(history.revert, [c["current"], c["revert_to"]], screen, api_name="revert")
    # Clicking a revision compares it with the "compare" revision and offers it for revert.
    c["revisions"].select(history.pick_revision, [c["current"], c["compare_from"]],
                          [c["compare_to"], c["revert_to"], c["diff"]], api_visibility="private")  # fmt: skip


def create_annotate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> AnnotateTab:
    handlers = AnnotateHandlers(app)
    # The open rationale and the version it was read at; a hidden JSON (not gr.State) so the API takes it too.
    current = gr.JSON(value={}, visible=False)
    with gr.Row():
        with gr.Column(scale=3):
            queue = _queue()
            panel = create_filter_panel("annotate", open_=False)
            c = {**queue, **_editor(), **_history(), "current": current}
            _bulk(app, panel)
        with gr.Column(scale=1, min_width=260):
            gr.Markdown(S.SHORTCUTS, elem_id="annotate-keys")
            gr.Markdown(GUIDELINES.read_text(encoding="utf-8"), elem_id="annotate-guidelines")
    screen = [c[name] for name in Screen._fields]
    for button, walk, name in ((c["following"], handlers.next, "queue_next"),
                               (c["previous"], handlers.previous, "queue_prev")):  # fmt: skip
        panel.on(button.click, walk, inputs=[current, c["mode"]], outputs=screen, api_name=name)
    c["open"].click(handlers.open, [c["rationale_id"]], screen, api_name="open_rationale")
    edit = [current, c["steps"], c["final_answer"], c["comment"]]
    c["save"].click(handlers.save, edit, screen, api_name="save_edit")
    c["keep_mine"].click(handlers.keep_mine, edit, screen, api_name="save_over_conflict")
    c["load_theirs"].click(handlers.load_theirs, [current], screen, api_visibility="private")
    fields = ("steps", "final_answer", "labels", "tags", "comment", "advance", "mode", "stop_at_error")
    review = [current, *(c[k] for k in fields)]
    for name in ("accept", "reject", "flag"):
        panel.on(c[name].click, getattr(handlers, name), inputs=review, outputs=screen, api_name=name)
    _wire_tools(c, HistoryHandlers(app), screen)
    panel.register_choices(app, blocks, tab)
    return AnnotateTab(screen=screen, handlers=handlers)
