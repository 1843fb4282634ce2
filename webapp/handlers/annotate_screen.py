"""What the Annotate tab shows for one rationale, as one tuple of output values (a NamedTuple).

Handlers return a `Screen`; Gradio maps its fields, in order, onto the page's output components
(webapp.pages.annotate lists them in the same order). Text from the database stays plain: it goes into
Textbox, Dataframe and HighlightedText values, and into Markdown only through `inert`.
"""

import time
from typing import Any, NamedTuple

import gradio as gr
import pandas as pd
from sqlmodel import Session

from backend import annotation
from backend.annotation.view import usernames
from db.models import Dataset
from webapp import strings
from webapp.handlers.annotate_ratings import StepLabels, rating_panel
from webapp.handlers.step_table import steps_frame
from webapp.render import inert

S = strings.Annotate


class Screen(NamedTuple):
    # {"rationale_id", "version", "opened_at"} (+ "conflict_version" after a refused save); opened_at is the
    # server's clock when the rationale was opened: a review stores the time since then.
    current: Any
    info: Any
    question: Any
    gold: Any
    gold_solution: Any
    steps: Any
    panel: Any  # the rating panel's HTML
    labels: Any  # the ratings and step tags as JSON (kept in step by the page's script)
    checks: Any
    final_answer: Any
    tags: Any
    comment: Any
    revisions: Any
    compare_from: Any
    compare_to: Any
    revert_to: Any
    diff: Any
    reviews: Any
    conflict: Any  # the conflict group's visibility
    conflict_message: Any
    conflict_theirs: Any
    conflict_diff: Any
    status: Any


def unchanged(**fields: Any) -> Screen:
    """A Screen that leaves every output as it is except `fields` (gr.skip() keeps a value)."""
    values = dict.fromkeys(Screen._fields, gr.skip())
    values.update(fields)
    return Screen(**values)


def _info(session: Session, view: annotation.RationaleView) -> str:
    rationale = view.rationale
    dataset = session.get(Dataset, rationale.dataset_id)
    assigned = ""
    if rationale.assigned_to_id is not None:
        assigned = S.ASSIGNED.format(user=inert(view.usernames.get(rationale.assigned_to_id, "?")))
    return S.INFO.format(
        id=rationale.id,
        dataset=inert(dataset.name if dataset else "?"),
        split=inert(view.problem.split),
        source=rationale.source,
        verdict=rationale.verdict,
        status=rationale.review_status,
        revision=view.revision_number,
        version=view.version,
        assigned=assigned,
    )


def _checks(view: annotation.RationaleView) -> pd.DataFrame:
    rows = []
    for step in view.step_rows:
        for check in step.expressions:
            rows.append(
                [
                    step.position + 1,
                    check.get("expression", ""),
                    check.get("claimed", ""),
                    check.get("computed", ""),
                    check.get("ok", ""),
                    step.value or "",
                ]
            )
    return pd.DataFrame(rows, columns=S.CHECK_HEADERS)


def _history(session: Session, rationale_id: int) -> tuple[pd.DataFrame, list[int]]:
    revisions = annotation.list_revisions(session, rationale_id=rationale_id)
    names = usernames(session, user_ids={r.author_id for r in revisions})
    rows = [
        [
            r.number,
            names.get(r.author_id, "") if r.author_id else "",
            f"{r.created_at:%Y-%m-%d %H:%M:%S}",
            r.comment,
            r.reverted_from or "",
        ]
        for r in revisions
    ]
    return pd.DataFrame(rows, columns=S.REVISION_HEADERS), [r.number for r in revisions]


def _ratings_text(ratings: list[int | None]) -> str:
    return " ".join("." if r is None else f"{r:+d}" if r else "0" for r in ratings)


def _step_tags_text(step_tags: list[list[str]]) -> str:
    return "; ".join(f"{n}: {', '.join(tags)}" for n, tags in enumerate(step_tags, start=1) if tags)


def _reviews(view: annotation.RationaleView) -> pd.DataFrame:
    rows = [
        [
            view.usernames.get(review.reviewer_id, "") if review.reviewer_id else "",
            str(review.verdict),
            review.revision_number,
            _ratings_text(review.step_ratings),
            "" if review.first_wrong_step is None else review.first_wrong_step + 1,
            ", ".join(review.error_tags),
            _step_tags_text(review.step_tags),
            "" if review.seconds_spent is None else f"{review.seconds_spent:.0f}",
            review.comment,
            f"{review.created_at:%Y-%m-%d %H:%M:%S}",
        ]
        for review in reversed(view.reviews)
    ]
    return pd.DataFrame(rows, columns=S.REVIEW_HEADERS)


def _labels_shown(view: annotation.RationaleView) -> StepLabels:
    """The latest review of the content on screen (anyone's) pre-fills the ratings; else nothing is rated."""
    mine = [r for r in view.reviews if r.revision_number == view.revision_number and r.step_ratings]
    if not mine:
        return StepLabels()
    latest = mine[-1]
    return StepLabels(list(latest.step_ratings), [list(tags) for tags in latest.step_tags])


def build_screen(
    session: Session, view: annotation.RationaleView, *, status: str = "", opened_at: float | None = None
) -> Screen:
    """Everything about one rationale; the diff compares the original (1) with the current revision.

    `opened_at` carries the clock over a save of the same rationale (time spent counts from opening it)."""
    rationale_id = view.rationale.id
    assert rationale_id is not None
    revisions, numbers = _history(session, rationale_id)
    first, last = numbers[0] if numbers else 1, view.revision_number
    diff = (
        annotation.revision_diff(session, rationale_id=rationale_id, before=first, after=last)
        if numbers
        else []
    )
    labels = _labels_shown(view)
    return Screen(
        current={
            "rationale_id": rationale_id,
            "version": view.version,
            "opened_at": opened_at or time.time(),
        },
        info=_info(session, view),
        question=view.problem.question,
        gold=view.problem.gold_answer_raw or view.problem.gold_answer or "",
        gold_solution=view.problem.gold_solution or "",
        steps=steps_frame(view.steps),
        panel=rating_panel(view.steps, labels, key=f"{rationale_id}@{view.version}"),
        labels=labels.to_json(),
        checks=_checks(view),
        final_answer=view.final_answer or "",
        tags=[],
        comment="",
        revisions=gr.update(value=revisions, label=S.REVISIONS if numbers else S.NO_REVISIONS),
        compare_from=gr.update(choices=numbers, value=first),
        compare_to=gr.update(choices=numbers, value=last),
        revert_to=gr.update(choices=numbers, value=None),
        diff=diff,
        reviews=gr.update(value=_reviews(view), label=S.REVIEWS if view.reviews else S.NO_REVIEWS),
        conflict=gr.update(visible=False),
        conflict_message="",
        conflict_theirs=steps_frame([]),
        conflict_diff=[],
        status=status,
    )


def conflict_screen(current: dict[str, Any], error: annotation.StaleEdit) -> Screen:
    """A refused save: the user's text stays in the editor; the newer state and the difference show below."""
    return unchanged(
        current={**current, "conflict_version": error.current.version},
        conflict=gr.update(visible=True),
        conflict_message=str(error),
        conflict_theirs=steps_frame(error.current.steps),
        conflict_diff=error.diff,
        status=inert(S.CONFLICT_TITLE),
    )
