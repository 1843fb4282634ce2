"""Annotate tab: the queue, the editable steps, reviews, conflicts, history and bulk review."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from backend.annotation import ERROR_TAGS, QUEUE_MODES
from webapp import strings
from webapp.context import AppContext
from webapp.handlers import step_table
from webapp.handlers.annotate import AnnotateHandlers
from webapp.handlers.annotate_history import BulkHandlers, HistoryHandlers
from webapp.handlers.annotate_screen import Screen
from webapp.pages.filter_panel import FilterPanel, create_filter_panel

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
        switch.success(lambda: gr.Tabs(selected="annotate"), None, tabs, api_visibility="private")


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
    c["steps"] = gr.Dataframe(
        headers=S.STEP_HEADERS,
        datatype="str",
        interactive=True,
        wrap=True,
        label=S.STEPS,
        elem_id="annotate-steps",
        column_widths=["38%", "50%", "12%"],
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
    with gr.Row():
        c["final_answer"] = gr.Textbox(label=S.FINAL_ANSWER, elem_id="annotate-final-answer")
        c["first_wrong"] = gr.Number(
            label=S.FIRST_WRONG, value=0, precision=0, minimum=0, elem_id="annotate-first-wrong"
        )
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


def create_annotate_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> AnnotateTab:
    handlers, history = AnnotateHandlers(app), HistoryHandlers(app)
    # The open rationale and the version it was read at; a hidden JSON (not gr.State) so the API takes it too.
    current = gr.JSON(value={}, visible=False)
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                mode = gr.Dropdown(
                    [(label, key) for key, label in QUEUE_MODES.items()],
                    value="unreviewed",
                    label=S.MODE,
                    elem_id="annotate-mode",
                    scale=2,
                )
                previous = _button(S.PREVIOUS, "annotate-prev")
                following = _button(S.NEXT, "annotate-next", "primary")
                rationale_id = gr.Number(
                    label=S.OPEN_ID, precision=0, minimum=1, elem_id="annotate-open-id", min_width=100
                )
                open_button = _button(S.OPEN, "annotate-open")
            advance = gr.Checkbox(label=S.AUTO_ADVANCE, value=True, elem_id="annotate-advance")
            panel = create_filter_panel("annotate", open_=False)
            editor = _editor()
            past = _history()
            _bulk(app, panel)
        with gr.Column(scale=1, min_width=260):
            gr.Markdown(S.SHORTCUTS)
            gr.Markdown(GUIDELINES.read_text(encoding="utf-8"), elem_id="annotate-guidelines")
    parts = {**editor, **past, "current": current}
    screen = [parts[name] for name in Screen._fields]

    for button, walk, name in (
        (following, handlers.next, "queue_next"),
        (previous, handlers.previous, "queue_prev"),
    ):
        panel.on(button.click, walk, inputs=[current, mode], outputs=screen, api_name=name)
    open_button.click(handlers.open, [rationale_id], screen, api_name="open_rationale")
    edit = [current, editor["steps"], editor["final_answer"], editor["comment"]]
    editor["save"].click(handlers.save, edit, screen, api_name="save_edit")
    editor["keep_mine"].click(handlers.keep_mine, edit, screen, api_name="save_over_conflict")
    editor["load_theirs"].click(handlers.load_theirs, [current], screen, api_visibility="private")
    review_inputs = [current, editor["steps"], editor["final_answer"], editor["first_wrong"], editor["tags"],
                     editor["comment"], advance, mode]  # fmt: skip
    for name in ("accept", "reject", "flag"):
        panel.on(
            editor[name].click, getattr(handlers, name), inputs=review_inputs, outputs=screen, api_name=name
        )
    table_ops = ((editor["add"], step_table.add_step), (editor["remove"], step_table.remove_step),
                 (editor["up"], step_table.move_up), (editor["down"], step_table.move_down))  # fmt: skip
    for button, operation in table_ops:
        button.click(
            operation, [editor["steps"], editor["step_number"]], editor["steps"], api_visibility="private"
        )
    for dropdown in (past["compare_from"], past["compare_to"]):
        dropdown.input(
            history.compare,
            [current, past["compare_from"], past["compare_to"]],
            past["diff"],
            api_visibility="private",
        )
    past["revert"].click(history.revert, [current, past["revert_to"]], screen, api_name="revert")
    panel.register_choices(app, blocks, tab)
    return AnnotateTab(screen=screen, handlers=handlers)
