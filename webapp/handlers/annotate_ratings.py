"""Per-step ratings on the Annotate tab: the rating panel's HTML and the labels the browser sends back.

The panel shows each step with three buttons (+1 / 0 / -1, PRM800K's meaning) and its error tags;
webapp/shortcuts.js moves between steps, rates them from the keyboard and mirrors the ratings and tags
into a hidden text field as JSON ({"ratings": [...], "step_tags": [[...], ...]}). That JSON comes from
the browser, so `parse_labels` checks every part of it before the backend sees it.
"""

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.access.limits import MAX_LABELS_CHARS_PER_STEP
from backend.annotation import ERROR_TAGS, STEP_RATINGS, first_wrong
from backend.student_formats import StepText
from webapp import strings
from webapp.context import user_error

S = strings.Annotate
RATING_BUTTONS = ((1, "+1", "good"), (0, "0", "neutral"), (-1, "\u22121", "bad"))  # value, text, class


@dataclass
class StepLabels:
    ratings: list[int | None] = field(default_factory=list)
    step_tags: list[list[str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"ratings": self.ratings, "step_tags": self.step_tags})

    def stopped_at_first_error(self) -> "StepLabels":
        """PRM800K's second phase: nothing after the earliest -1 is labelled."""
        stop = first_wrong(self.ratings)
        if stop is None:
            return self
        keep = stop + 1
        return StepLabels(self.ratings[:keep], self.step_tags[:keep])


def _rating(value: Any, number: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in STEP_RATINGS:
        raise user_error(S.BAD_RATING.format(number=number, value=value))
    return value


def _tags(value: Any, number: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise user_error(S.BAD_STEP_TAGS.format(number=number))
    unknown = sorted(set(value) - set(ERROR_TAGS))
    if unknown:
        raise user_error(S.BAD_STEP_TAGS.format(number=number))
    return sorted(set(value))


def parse_labels(raw: Any, num_steps: int) -> StepLabels:
    """The ratings and per-step tags the browser sent (empty: nothing rated), checked against `num_steps`."""
    if raw in (None, "", 0):
        return StepLabels()
    # Bounded by the steps shown before json.loads sees it, which bounds its entries too (each takes at
    # least two characters); nesting deeper than Python's recursion limit is a RecursionError there.
    if not isinstance(raw, str) or len(raw) > MAX_LABELS_CHARS_PER_STEP * (num_steps + 1):
        raise user_error(S.BAD_LABELS)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as error:
        raise user_error(S.BAD_LABELS) from error
    if not isinstance(data, dict):
        raise user_error(S.BAD_LABELS)
    ratings, tags = data.get("ratings") or [], data.get("step_tags") or []
    if not isinstance(ratings, list) or not isinstance(tags, list):
        raise user_error(S.BAD_LABELS)
    if len(ratings) > num_steps or len(tags) > num_steps:
        raise user_error(S.LABELS_STEP_COUNT.format(count=num_steps))
    return StepLabels(
        ratings=[_rating(value, number) for number, value in enumerate(ratings, start=1)],
        step_tags=[_tags(value, number) for number, value in enumerate(tags, start=1)],
    )


def _buttons(number: int, rating: int | None) -> str:
    buttons = []
    for value, text, kind in RATING_BUTTONS:
        pressed = "true" if rating == value else "false"
        title = html.escape(S.RATING_TITLES[value])
        buttons.append(
            f'<button type="button" class="rate rate-{kind}" data-rating="{value}" aria-pressed="{pressed}"'
            f' title="{title}" aria-label="{title} (step {number})">{text}</button>'
        )
    return f'<div class="rate-buttons" role="group">{"".join(buttons)}</div>'


def _tag_menu(tags: Sequence[str]) -> str:
    chips = []
    for key, tag in enumerate(ERROR_TAGS, start=1):
        pressed = "true" if tag in tags else "false"
        chips.append(
            f'<button type="button" class="step-tag" data-tag="{html.escape(tag)}" aria-pressed="{pressed}">'
            f"<kbd>{key}</kbd> {html.escape(tag)}</button>"
        )
    return f'<div class="step-tags">{"".join(chips)}</div>'


def _row(index: int, step: StepText, rating: int | None, tags: Sequence[str]) -> str:
    question = f'<div class="step-q">{html.escape(step.sub_question)}</div>' if step.sub_question else ""
    rated = "" if rating is None else str(rating)
    return (
        f'<div class="step-row" data-step="{index}" data-rating="{rated}" tabindex="-1">'
        f'<span class="step-no">{index + 1}</span>'
        f'<div class="step-body">{question}<div class="step-text">{html.escape(step.text)}</div>'
        f"{_tag_menu(tags)}</div>{_buttons(index + 1, rating)}</div>"
    )


def rating_panel(steps: Sequence[StepText], labels: StepLabels, *, key: str) -> str:
    """The panel's HTML: every piece of stored text is escaped (it came from a model or a user).

    `key` names what is shown (rationale and version): the page's script starts again at step 1 when
    it changes."""
    key = html.escape(key)
    if not steps:
        note = f'<p class="empty-note">{html.escape(S.NO_STEPS)}</p>'
        return f'<div class="rating-panel" data-key="{key}" data-steps="0">{note}</div>'
    rows = []
    for index, step in enumerate(steps):
        rating = labels.ratings[index] if index < len(labels.ratings) else None
        tags = labels.step_tags[index] if index < len(labels.step_tags) else []
        rows.append(_row(index, step, rating, tags))
    head = (
        f'<div class="rating-head"><span>{html.escape(S.RATING_HELP)}</span>'
        f'<span class="first-wrong-label" aria-live="polite"></span></div>'
    )
    return f'<div class="rating-panel" data-key="{key}" data-steps="{len(steps)}">{head}{"".join(rows)}</div>'
