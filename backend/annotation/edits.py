"""Edits with optimistic locking: a save replaces the steps and adds a full revision, in one transaction."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from backend.access.auth import require_role
from backend.annotation.view import RationaleView, get_rationale_view, stale_edit
from backend.rationales import build_steps, revision_content, steps_from_content
from backend.student_formats import StepText
from db.models import Rationale, Revision, Role, Step, User, utcnow

MAX_FINAL_ANSWER = 500  # the column's length
MAX_STEPS = 200


def clean_steps(steps: Sequence[StepText]) -> list[StepText]:
    """Strip the steps and drop wholly empty ones; a sub-question without its answer is an error."""
    cleaned = []
    for number, step in enumerate(steps, start=1):
        text, sub_question = step.text.strip(), (step.sub_question or "").strip() or None
        if not text and sub_question:
            raise ValueError(f"step {number} has a sub-question but no answer text")
        if text:
            cleaned.append(StepText(sub_question=sub_question, text=text))
    if not cleaned:
        raise ValueError("a rationale needs at least one step with text")
    if len(cleaned) > MAX_STEPS:
        raise ValueError(f"a rationale may have at most {MAX_STEPS} steps, not {len(cleaned)}")
    return cleaned


def clean_final_answer(final_answer: str | None) -> str | None:
    answer = (final_answer or "").strip() or None
    if answer is not None and len(answer) > MAX_FINAL_ANSWER:
        raise ValueError(f"the final answer has {len(answer)} characters; at most {MAX_FINAL_ANSWER} fit")
    return answer


def _content_bump(rationale_id: int, expected_version: int, num_steps: int, final_answer: str | None) -> Any:
    """The conditional UPDATE of a save: it matches only while the row is still at `expected_version`."""
    return (
        update(Rationale)
        .where(col(Rationale.id) == rationale_id, col(Rationale.version) == expected_version)
        .values(
            version=col(Rationale.version) + 1,
            current_revision=col(Rationale.current_revision) + 1,
            num_steps=num_steps,
            final_answer=final_answer,
            updated_at=utcnow(),
        )
        .returning(col(Rationale.version), col(Rationale.current_revision))
        .execution_options(synchronize_session=False)
    )


def write_content(
    session: Session,
    *,
    rationale_id: int,
    expected_version: int,
    steps: list[StepText],
    final_answer: str | None,
    author: User,
    comment: str,
    reverted_from: int | None = None,
) -> RationaleView:
    """The one write path for content. The conditional UPDATE comes first, so on SQLite the transaction
    takes the write lock at once (no read-then-upgrade deadlock) and on PostgreSQL the row lock serialises
    concurrent saves: exactly one save per version wins, the others match no row and are refused."""
    bump = _content_bump(rationale_id, expected_version, len(steps), final_answer)
    try:
        row = session.exec(bump).first()
        if row is None:
            session.rollback()
            raise _refusal(session, rationale_id, expected_version, (steps, final_answer))
        version, number = row
        session.exec(delete(Step).where(col(Step.rationale_id) == rationale_id))
        session.add_all(build_steps(rationale_id, steps))
        session.add(
            Revision(
                rationale_id=rationale_id,
                number=number,
                author_id=author.id,
                content=revision_content(steps, final_answer),
                comment=comment.strip(),
                reverted_from=reverted_from,
                version=version,
            )
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return get_rationale_view(session, rationale_id=rationale_id)


def _refusal(
    session: Session,
    rationale_id: int,
    expected_version: int,
    attempted: tuple[Sequence[StepText], str | None] | None,
) -> Exception:
    if session.get(Rationale, rationale_id) is None:
        return LookupError(f"no rationale with id {rationale_id}")
    return stale_edit(
        session, rationale_id=rationale_id, expected_version=expected_version, attempted=attempted
    )


def save_edit(
    session: Session,
    *,
    rationale_id: int,
    expected_version: int,
    steps: Sequence[StepText],
    final_answer: str | None,
    author: User,
    comment: str = "",
) -> RationaleView:
    """Replace the rationale's steps and final answer, recording a new revision by `author`.

    Raises StaleEdit when the rationale changed since `expected_version` (nothing is written),
    PermissionDenied for a viewer, ValueError for empty or oversized content.
    """
    require_role(author, Role.annotator)
    return write_content(
        session,
        rationale_id=rationale_id,
        expected_version=expected_version,
        steps=clean_steps(steps),
        final_answer=clean_final_answer(final_answer),
        author=author,
        comment=comment,
    )


def list_revisions(session: Session, *, rationale_id: int) -> list[Revision]:
    return list(
        session.exec(
            select(Revision).where(Revision.rationale_id == rationale_id).order_by(col(Revision.number))
        ).all()
    )


def get_revision(session: Session, *, rationale_id: int, number: int) -> Revision:
    revision = session.exec(
        select(Revision).where(Revision.rationale_id == rationale_id, Revision.number == number)
    ).first()
    if revision is None:
        raise LookupError(f"rationale {rationale_id} has no revision {number}")
    return revision


def revert(
    session: Session, *, rationale_id: int, to_number: int, expected_version: int, author: User
) -> RationaleView:
    """Restore an older revision's content as a new revision (history only ever grows)."""
    require_role(author, Role.annotator)
    old = get_revision(session, rationale_id=rationale_id, number=to_number)
    return write_content(
        session,
        rationale_id=rationale_id,
        expected_version=expected_version,
        steps=steps_from_content(old.content),
        final_answer=old.content.get("final_answer"),
        author=author,
        comment=f"revert to revision {to_number}",
        reverted_from=to_number,
    )
