"""What the annotation page shows for one rationale, and the refusal an out-of-date save gets."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.annotation.diff import Segment, content_text, diff_summary, steps_text, word_diff
from backend.student_formats import StepText
from db.models import Problem, Rationale, Review, Revision, Step, User


@dataclass
class RationaleView:
    """One rationale as the annotator sees it; `version` goes back with the next save or review."""

    rationale: Rationale
    problem: Problem
    steps: list[StepText]
    final_answer: str | None
    version: int
    revision_number: int
    reviews: list[Review]
    step_rows: list[Step] = field(default_factory=list)  # calculator checks per step (expressions, value)
    usernames: dict[int, str] = field(default_factory=dict)  # reviewer and author names by user id


def get_rationale_view(session: Session, *, rationale_id: int) -> RationaleView:
    rationale = session.exec(
        select(Rationale).where(Rationale.id == rationale_id).execution_options(populate_existing=True)
    ).first()
    if rationale is None:
        raise LookupError(f"no rationale with id {rationale_id}")
    problem = session.get(Problem, rationale.problem_id)
    assert problem is not None  # foreign key
    step_rows = list(
        session.exec(
            select(Step)
            .where(Step.rationale_id == rationale_id)
            .order_by(col(Step.position))
            .execution_options(populate_existing=True)
        ).all()
    )
    reviews = list(
        session.exec(select(Review).where(Review.rationale_id == rationale_id).order_by(col(Review.id))).all()
    )
    user_ids = {r.reviewer_id for r in reviews} | {rationale.last_reviewer_id, rationale.assigned_to_id}
    return RationaleView(
        rationale=rationale,
        problem=problem,
        steps=[StepText(sub_question=s.sub_question, text=s.text) for s in step_rows],
        final_answer=rationale.final_answer,
        version=rationale.version,
        revision_number=rationale.current_revision,
        reviews=reviews,
        step_rows=step_rows,
        usernames=usernames(session, user_ids=user_ids),
    )


def usernames(session: Session, *, user_ids: set[int | None]) -> dict[int, str]:
    ids = [uid for uid in user_ids if uid is not None]
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(ids))).all()
    return {uid: name for uid, name in rows if uid is not None}


class StaleEdit(Exception):
    """A save or review carried an older version than the stored one; nothing was written.

    `current` is the newer state, `changes` says who changed what since the user's version, and `diff`
    is a word diff from the stored text to the text the user tried to save (empty for a review).
    """

    def __init__(self, message: str, *, current: RationaleView, changes: list[str], diff: list[Segment]):
        super().__init__(message)
        self.current = current
        self.changes = changes
        self.diff = diff


def changes_since(session: Session, *, rationale_id: int, version: int) -> list[str]:
    """One line per edit or review that raised the rationale past `version`, oldest first."""
    revisions = session.exec(
        select(Revision, User.username)
        .join(User, col(User.id) == Revision.author_id, isouter=True)
        .where(Revision.rationale_id == rationale_id, func.coalesce(Revision.version, 1) > version)
    ).all()
    reviews = session.exec(
        select(Review, User.username)
        .join(User, col(User.id) == Review.reviewer_id, isouter=True)
        .where(Review.rationale_id == rationale_id, col(Review.version) > version)
    ).all()
    events = []
    for revision, name in revisions:
        what = f"reverted to revision {revision.reverted_from}" if revision.reverted_from else "saved an edit"
        note = f" ({revision.comment})" if revision.comment else ""
        who = name or "someone"
        events.append((revision.created_at, f"{who} {what} as revision {revision.number}{note}"))
    for review, name in reviews:
        events.append((review.created_at, f"{name or 'someone'} reviewed revision {review.revision_number}: "
                                          f"{review.verdict}"))  # fmt: skip
    events.sort(key=lambda event: event[0])
    return [f"{text} at {moment:%Y-%m-%d %H:%M:%S} UTC" for moment, text in events]


def stale_edit(
    session: Session,
    *,
    rationale_id: int,
    expected_version: int,
    attempted: tuple[Sequence[StepText], str | None] | None,
) -> StaleEdit:
    """The refusal for a write made against `expected_version`; `attempted` is the content tried, if any."""
    current = get_rationale_view(session, rationale_id=rationale_id)
    changes = changes_since(session, rationale_id=rationale_id, version=expected_version)
    diff: list[Segment] = []
    lines = [
        f"Not saved: rationale {rationale_id} was changed by someone else after you opened it "
        f"(you had version {expected_version}; it is now version {current.version}).",
        *changes,
    ]
    if attempted is not None:
        theirs = steps_text(current.steps, current.final_answer)
        diff = word_diff(theirs, steps_text(*attempted))
        if theirs == steps_text(*attempted):
            lines.append("Your text is identical to the stored one.")
        else:
            lines.append(f"Your text compared with the stored one: {diff_summary(diff)}")
    lines.append("Reload to see the newer state, then apply your change again.")
    return StaleEdit("\n".join(lines), current=current, changes=changes, diff=diff)


def revision_diff(session: Session, *, rationale_id: int, before: int, after: int) -> list[Segment]:
    """Word diff between two stored revisions of one rationale (1 is the teacher's original)."""
    contents: dict[int, Mapping[str, Any]] = dict(
        session.exec(
            select(Revision.number, Revision.content).where(
                Revision.rationale_id == rationale_id, col(Revision.number).in_([before, after])
            )
        ).all()
    )
    for number in (before, after):
        if number not in contents:
            raise LookupError(f"rationale {rationale_id} has no revision {number}")
    return word_diff(content_text(contents[before]), content_text(contents[after]))
