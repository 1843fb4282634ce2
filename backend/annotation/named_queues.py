"""Named annotation queues: create one (or add to it) by name, list them with their progress.

A queue is a list of rationales put together for review, e.g. one error class of an evaluation's failures
(backend.evaluation.failures). Annotate walks it through `RationaleFilter.queue_id`; Curate freezes it
the same way, so what annotators accepted in a queue feeds the next training set.
"""

from collections.abc import Sequence

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from backend.access.limits import MAX_DESCRIPTION_CHARS, check_label
from db.models import AnnotationQueue, QueueItem, Rationale, ReviewStatus, User

MAX_QUEUE_NAME_CHARS = 80


def check_queue_name(name: str) -> str:
    """The name stripped, or ValueError: empty, too long, or with a character that disguises it."""
    name = check_label("the queue name", (name or "").strip(), MAX_QUEUE_NAME_CHARS)
    if not name:
        raise ValueError("name the queue, e.g. 'arithmetic at step 2'")
    return name


def queue_named(session: Session, *, name: str, by: User, description: str = "") -> AnnotationQueue:
    """The queue called `name` (case ignored), created when there is none; the name is checked first."""
    name = check_queue_name(name)
    found = session.exec(
        select(AnnotationQueue).where(func.lower(AnnotationQueue.name) == name.lower())
    ).first()
    if found is not None:
        return found
    queue = AnnotationQueue(
        name=name,
        description=check_label("the queue description", description, MAX_DESCRIPTION_CHARS),
        created_by_id=by.id,
    )
    session.add(queue)
    session.flush()
    return queue


def add_to_queue(session: Session, *, queue: AnnotationQueue, rationale_ids: Sequence[int], by: User) -> int:
    """Put the rationales in the queue (each once); returns how many were not in it already."""
    present = set(
        session.exec(
            select(QueueItem.rationale_id).where(
                QueueItem.queue_id == queue.id, col(QueueItem.rationale_id).in_(list(rationale_ids))
            )
        ).all()
    )
    new = [rationale_id for rationale_id in dict.fromkeys(rationale_ids) if rationale_id not in present]
    for rationale_id in new:
        assert queue.id is not None
        session.add(QueueItem(queue_id=queue.id, rationale_id=rationale_id, added_by_id=by.id))
    session.commit()
    return len(new)


def queue_rationale_ids(session: Session, *, queue_id: int) -> list[int]:
    return list(
        session.exec(
            select(QueueItem.rationale_id)
            .where(QueueItem.queue_id == queue_id)
            .order_by(col(QueueItem.rationale_id))
        ).all()
    )


def queue_choices(session: Session) -> list[tuple[str, int]]:
    """(label, id) for a dropdown, newest first: `name (3 of 12 to review)`."""
    # Still to review: unreviewed or flagged (sending failures flags them); accepted or rejected are done.
    open_ = (ReviewStatus.unreviewed, ReviewStatus.flagged)
    to_review = func.sum(case((col(Rationale.review_status).in_(open_), 1), else_=0))
    rows = session.exec(
        select(AnnotationQueue.id, AnnotationQueue.name, func.count(col(QueueItem.rationale_id)), to_review)
        .join(QueueItem, col(QueueItem.queue_id) == AnnotationQueue.id, isouter=True)
        .join(Rationale, col(Rationale.id) == QueueItem.rationale_id, isouter=True)
        .group_by(col(AnnotationQueue.id), col(AnnotationQueue.name))
        .order_by(col(AnnotationQueue.id).desc())
    ).all()
    return [
        (f"{name} ({int(left or 0)} of {total} to review)", int(qid or 0)) for qid, name, total, left in rows
    ]
