"""The annotation queue: the next or previous rationale by id, as one index-backed query (no OFFSET)."""

from typing import cast

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend.queries.filters import RationaleFilter
from db.models import Rationale, ReviewStatus, User

QUEUE_MODES = {
    "unreviewed": "Unreviewed first, by id",
    "assigned": "Assigned to me",
    "filter": "Everything the filter matches",
}


def _queue_query(
    user: User, rationale_filter: RationaleFilter | None, mode: str
) -> SelectOfScalar[int | None]:
    if mode not in QUEUE_MODES:
        raise ValueError(f"queue mode must be one of {sorted(QUEUE_MODES)}, not {mode!r}")
    query: SelectOfScalar[int | None] = select(col(Rationale.id))
    if rationale_filter is not None:
        # apply() only adds WHERE clauses, so the query stays a scalar select of ids.
        query = cast(SelectOfScalar[int | None], rationale_filter.apply(query))
    if mode == "unreviewed":
        query = query.where(col(Rationale.review_status) == ReviewStatus.unreviewed)
    elif mode == "assigned":
        query = query.where(col(Rationale.assigned_to_id) == user.id)
    return query


def next_in_queue(
    session: Session,
    *,
    user: User,
    rationale_filter: RationaleFilter | None,
    after_id: int | None = None,
    mode: str = "unreviewed",
) -> int | None:
    """The id of the queue's first rationale after `after_id` (the start when None); None at the end."""
    query = _queue_query(user, rationale_filter, mode)
    if after_id is not None:
        query = query.where(col(Rationale.id) > after_id)
    return session.exec(query.order_by(col(Rationale.id)).limit(1)).first()


def previous_in_queue(
    session: Session,
    *,
    user: User,
    rationale_filter: RationaleFilter | None,
    before_id: int | None = None,
    mode: str = "unreviewed",
) -> int | None:
    """The id of the queue's last rationale before `before_id` (the very last when None)."""
    query = _queue_query(user, rationale_filter, mode)
    if before_id is not None:
        query = query.where(col(Rationale.id) < before_id)
    return session.exec(query.order_by(col(Rationale.id).desc()).limit(1)).first()
