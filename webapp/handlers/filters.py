"""The rationale filter form: its values become a RationaleFilter (as JSON held in the page's gr.State)."""

from typing import Any

import gradio as gr

from backend.annotation import named_queues
from backend.queries import catalog
from backend.queries.filters import RationaleFilter
from db.models import ReviewStatus, Role, Verdict
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.roles import needs

ANY_ID = 0  # dropdown value meaning "no condition" for id choices (ids start at 1)
ANY_TEXT = ""  # the same for text choices


def id_choices(choices: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(strings.ANY, ANY_ID), *choices]


def text_choices(values: list[str]) -> list[tuple[str, str]]:
    return [(strings.ANY, ANY_TEXT), *((value, value) for value in values)]


VERDICT_CHOICES = text_choices([v.value for v in Verdict])
REVIEW_CHOICES = text_choices([s.value for s in ReviewStatus])
SOURCE_CHOICES = text_choices(["reference", "teacher", "student", "manual"])


def _id(value: Any) -> int | None:
    return int(value) if value not in (None, "", ANY_ID) else None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _steps(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


@needs(Role.viewer)
def filter_json(
    dataset_id: Any,
    split: Any,
    run_id: Any,
    source: Any,
    verdict: Any,
    review_status: Any,
    reviewer_id: Any,
    min_steps: Any,
    max_steps: Any,
    search: Any,
    queue_id: Any = ANY_ID,
) -> dict[str, Any]:
    """The form's values as a RationaleFilter's JSON; a clear gr.Error for an impossible range."""
    # gr.Number shows 0 for "empty", so 0 means no bound for both ends.
    low, high = _steps(min_steps) or None, _steps(max_steps) or None
    if low is not None and high is not None and low > high:
        raise user_error(strings.Filter.BAD_STEPS.format(low=low, high=high))
    try:  # the search text is checked by the filter (its length, no NUL)
        rationale_filter = RationaleFilter(
            dataset_id=_id(dataset_id),
            split=_text(split),
            run_id=_id(run_id),
            source=_text(source),
            verdict=_text(verdict),
            review_status=_text(review_status),
            reviewer_id=_id(reviewer_id),
            min_steps=low,
            max_steps=high,
            search=_text(search),
            queue_id=_id(queue_id),
        )
    except ValueError as error:
        raise user_error(str(error)) from error
    return rationale_filter.to_json()


def to_filter(data: dict[str, Any] | None) -> RationaleFilter:
    try:
        return RationaleFilter.from_json(data or {})
    except (TypeError, ValueError) as error:
        raise user_error(str(error)) from error


class FilterHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def choices(self) -> tuple[dict[str, Any], ...]:
        """Fresh dropdown choices (datasets, splits, runs, users, queues) for a filter form, on page load."""
        with self.app.session() as session:
            datasets = id_choices(catalog.dataset_choices(session))
            splits = text_choices(catalog.split_choices(session))
            runs = id_choices(catalog.teacher_run_choices(session))
            users = id_choices(catalog.user_choices(session))
            queues = id_choices(named_queues.queue_choices(session))
        return (
            gr.update(choices=datasets),
            gr.update(choices=splits),
            gr.update(choices=runs),
            gr.update(choices=users),
            gr.update(choices=queues),
        )
