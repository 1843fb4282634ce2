"""Reviews (accept / reject / flag with per-step verdicts and error tags), bulk review, and assignment."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, func, insert, literal, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from backend.access.auth import require_role
from backend.annotation.view import stale_edit
from backend.queries.filters import RationaleFilter
from db.models import Rationale, Review, ReviewStatus, ReviewVerdict, Revision, Role, User, utcnow

ERROR_TAGS = [
    "arithmetic",
    "wrong-sub-question",
    "missing-step",
    "irrelevant-step",
    "hallucinated-fact",
    "wrong-final-answer",
    "unjustified-leap",
    "formatting",
]
STEP_RATINGS = (1, 0, -1)  # PRM800K: +1 correct and useful, 0 correct but no progress, -1 wrong
MAX_SECONDS = 30 * 60.0  # time beyond this on one rationale is an idle tab, not work
STATUS_FOR = {
    ReviewVerdict.accept: ReviewStatus.accepted,
    ReviewVerdict.reject: ReviewStatus.rejected,
    ReviewVerdict.flag: ReviewStatus.flagged,
}
BULK_CHUNK = 5_000
_REVIEW: Table = Review.__table__  # type: ignore[attr-defined]  # the core table, for typed literals  # rows per transaction: a bulk review never holds the write lock for long


def _check_verdict(verdict: str, error_tags: Sequence[str]) -> ReviewVerdict:
    try:
        parsed = ReviewVerdict(verdict)
    except ValueError:
        known = [v.value for v in ReviewVerdict]
        raise ValueError(f"verdict must be one of {known}, not {verdict!r}") from None
    unknown = sorted(set(error_tags) - set(ERROR_TAGS))
    if unknown:
        raise ValueError(f"unknown error tags {unknown}; known tags: {ERROR_TAGS}")
    return parsed


def first_wrong(ratings: Sequence[int | None]) -> int | None:
    """The 0-based position of the earliest -1 (ProcessBench's label), None when no step is wrong."""
    return list(ratings).index(-1) if -1 in ratings else None


def _check_steps(
    ratings: Sequence[int | None], step_tags: Sequence[Sequence[str]], num_steps: int
) -> tuple[list[int | None], list[list[str]]]:
    """Ratings and per-step tags, checked and padded to the stored number of steps."""
    bad = [r for r in ratings if r is not None and (isinstance(r, bool) or r not in STEP_RATINGS)]
    if bad:
        raise ValueError(f"step ratings must be 1, 0, -1 or empty, not {bad}")
    if len(ratings) > num_steps or len(step_tags) > num_steps:
        raise ValueError(f"ratings or tags were given for more than the {num_steps} stored steps")
    unknown = sorted({tag for tags in step_tags for tag in tags} - set(ERROR_TAGS))
    if unknown:
        raise ValueError(f"unknown step error tags {unknown}; known tags: {ERROR_TAGS}")
    padded = list(ratings) + [None] * (num_steps - len(ratings))
    tags = [sorted(set(t)) for t in step_tags] + [[] for _ in range(num_steps - len(step_tags))]
    return padded, tags


def _seconds(value: float | None) -> float | None:
    if value is None:
        return None
    if value < 0:
        raise ValueError(f"time spent cannot be negative ({value})")
    return round(min(float(value), MAX_SECONDS), 1)


def _seen_revision(session: Session, *, rationale_id: int, version: int) -> int:
    """The revision number that was current at `version` (history before a version never changes);
    0 for a rationale stored without any revision."""
    seen = session.exec(
        select(func.max(Revision.number)).where(
            Revision.rationale_id == rationale_id, func.coalesce(Revision.version, 1) <= version
        )
    ).one()
    return seen or 0


def _review_bump(
    rationale_id: int, expected_version: int, seen: int, status: ReviewStatus, reviewer: User
) -> Any:
    """The conditional UPDATE of a review: it matches only while the content is still revision `seen`."""
    return (
        update(Rationale)
        .where(
            col(Rationale.id) == rationale_id,
            col(Rationale.version) >= expected_version,
            col(Rationale.current_revision) == seen,
        )
        .values(
            version=col(Rationale.version) + 1,
            review_status=status,
            last_reviewer_id=reviewer.id,
            updated_at=utcnow(),
        )
        .returning(col(Rationale.version), col(Rationale.num_steps))
        .execution_options(synchronize_session=False)
    )


def review_rationale(
    session: Session,
    *,
    rationale_id: int,
    expected_version: int,
    verdict: str,
    reviewer: User,
    step_ratings: Sequence[int | None] = (),
    error_tags: Sequence[str] = (),
    step_tags: Sequence[Sequence[str]] = (),
    comment: str = "",
    seconds_spent: float | None = None,
) -> Review:
    """Record one annotator's review of the content they saw at `expected_version`.

    Several annotators may review the same content (each review is kept, the rationale's status follows
    the latest); a review is refused with StaleEdit only when the content itself changed since then.
    The first wrong step is derived from the ratings (the earliest -1), never given.
    """
    require_role(reviewer, Role.annotator)
    parsed = _check_verdict(verdict, error_tags)
    seconds = _seconds(seconds_spent)
    seen = _seen_revision(session, rationale_id=rationale_id, version=expected_version)
    bump = _review_bump(rationale_id, expected_version, seen, STATUS_FOR[parsed], reviewer)
    try:
        row = session.exec(bump).first()
        if row is None:
            session.rollback()
            if session.get(Rationale, rationale_id) is None:
                raise LookupError(f"no rationale with id {rationale_id}")
            raise stale_edit(
                session, rationale_id=rationale_id, expected_version=expected_version, attempted=None
            )
        version, num_steps = row
        ratings, tags = _check_steps(step_ratings, step_tags, num_steps)
        review = Review(
            rationale_id=rationale_id,
            revision_number=seen,
            reviewer_id=reviewer.id,
            verdict=parsed,
            step_ratings=ratings,
            first_wrong_step=first_wrong(ratings),
            error_tags=sorted(set(error_tags)),
            step_tags=tags,
            comment=comment.strip(),
            version=version,
            seconds_spent=seconds,
        )
        session.add(review)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(review)
    return review


def _chunk_ids(session: Session, rationale_filter: RationaleFilter, after_id: int) -> list[int]:
    query = rationale_filter.apply(select(Rationale.id))  # type: ignore[arg-type]
    query = query.where(col(Rationale.id) > after_id).order_by(col(Rationale.id)).limit(BULK_CHUNK)
    return [int(rid) for rid in session.exec(query).all()]


def bulk_review(session: Session, *, rationale_filter: RationaleFilter, verdict: str, reviewer: User) -> int:
    """Review every rationale the filter matches with one verdict (admins only); returns how many.

    Set-based and chunked by id: each chunk is one INSERT ... SELECT of review rows and one UPDATE, in
    its own short transaction, so annotators keep saving while a large bulk review runs.
    """
    require_role(reviewer, Role.admin)
    parsed = _check_verdict(verdict, [])
    total, after_id = 0, 0
    while ids := _chunk_ids(session, rationale_filter, after_id):
        after_id = ids[-1]
        now = utcnow()
        rows = sql_select(
            col(Rationale.id),
            col(Rationale.current_revision),
            literal(reviewer.id, type_=_REVIEW.c.reviewer_id.type),
            # Typed literals: PostgreSQL will not put a plain varchar into an enum or json column.
            literal(parsed, type_=_REVIEW.c.verdict.type),
            literal([], type_=JSON),
            literal([], type_=JSON),
            literal([], type_=JSON),
            literal(f"bulk {parsed.value}", type_=_REVIEW.c.comment.type),
            col(Rationale.version) + 1,
            literal(now, type_=_REVIEW.c.created_at.type),
        ).where(col(Rationale.id).in_(ids))
        columns = [
            "rationale_id",
            "revision_number",
            "reviewer_id",
            "verdict",
            "step_ratings",
            "error_tags",
            "step_tags",
            "comment",
            "version",
            "created_at",
        ]
        session.exec(insert(Review).from_select(columns, rows))
        session.exec(
            update(Rationale)
            .where(col(Rationale.id).in_(ids))
            .values(
                version=col(Rationale.version) + 1,
                review_status=STATUS_FOR[parsed],
                last_reviewer_id=reviewer.id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        total += len(ids)
    return total


def assign_rationales(
    session: Session, *, rationale_ids: Sequence[int], assignee: User | None, by: User
) -> int:
    """Put rationales in an annotator's "assigned to me" queue (None unassigns); admins only."""
    require_role(by, Role.admin)
    if assignee is not None:
        require_role(assignee, Role.annotator)
    result = session.exec(
        update(Rationale)
        .where(col(Rationale.id).in_(list(rationale_ids)))
        .values(assigned_to_id=assignee.id if assignee else None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)
