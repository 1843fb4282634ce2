"""Filters over rationales and problems, shared by Explore, curation, exports, generation and evaluation.

A filter is a small dataclass that turns into a SQL WHERE clause (never a pandas scan), and round-trips
through JSON so it can be stored with the set, run or job it produced.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select

from backend.access.limits import MAX_SEARCH_CHARS, check_length
from db.models import Problem, QueueItem, Rationale


def _checked_text(label: str, value: Any) -> Any:
    """A filter's text (search, split) comes from the browser: at most MAX_SEARCH_CHARS, no NUL."""
    return check_length(label, value, MAX_SEARCH_CHARS) if isinstance(value, str) else value


def question_contains(search: str) -> Any:
    """Questions holding `search` as typed, case-insensitively: `%` and `_` are matched literally."""
    return col(Problem.question).icontains(search, autoescape=True)


@dataclass
class RationaleFilter:
    dataset_id: int | None = None
    split: str | None = None
    run_id: int | None = None
    source: str | None = None  # reference, teacher, student, manual
    verdict: str | None = None  # correct, wrong, unparseable, unchecked, failed
    review_status: str | None = None  # unreviewed, accepted, rejected, flagged
    reviewer_id: int | None = None  # the last annotator to review it
    assigned_to_id: int | None = None
    min_steps: int | None = None
    max_steps: int | None = None
    search: str | None = None  # substring of the question
    queue_id: int | None = None  # members of a named annotation queue (backend.annotation.named_queues)
    include_duplicates: bool = True

    def __post_init__(self) -> None:
        self.search = _checked_text("the search text", self.search)
        self.split = _checked_text("the split", self.split)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "RationaleFilter":
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise ValueError(f"unknown filter fields: {sorted(unknown)}")
        return cls(**(data or {}))

    def apply(self, query: Any) -> Any:
        """Add this filter's conditions to a query that selects from Rationale."""
        conditions = [
            (self.dataset_id, col(Rationale.dataset_id) == self.dataset_id),
            (self.split, col(Rationale.split) == self.split),  # denormalised: no join to problems
            (self.run_id, col(Rationale.run_id) == self.run_id),
            (self.source, col(Rationale.source) == self.source),
            (self.verdict, col(Rationale.verdict) == self.verdict),
            (self.review_status, col(Rationale.review_status) == self.review_status),
            (self.reviewer_id, col(Rationale.last_reviewer_id) == self.reviewer_id),
            (self.assigned_to_id, col(Rationale.assigned_to_id) == self.assigned_to_id),
            (self.min_steps, col(Rationale.num_steps) >= (self.min_steps or 0)),
            (self.max_steps, col(Rationale.num_steps) <= (self.max_steps or 0)),
        ]
        for value, condition in conditions:
            if value not in (None, ""):
                query = query.where(condition)
        if not self.include_duplicates:
            query = query.where(col(Rationale.is_duplicate).is_(False))
        if self.search:
            # icontains: case-insensitive on every database (plain LIKE is case-sensitive on PostgreSQL)
            problem_ids = select(Problem.id).where(question_contains(self.search))
            query = query.where(col(Rationale.problem_id).in_(problem_ids))
        if self.queue_id is not None:
            members = select(QueueItem.rationale_id).where(QueueItem.queue_id == self.queue_id)
            query = query.where(col(Rationale.id).in_(members))
        return query


@dataclass
class ProblemFilter:
    dataset_id: int | None = None
    split: str | None = None
    ids: list[int] | None = None
    search: str | None = None
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        self.search = _checked_text("the search text", self.search)
        self.split = _checked_text("the split", self.split)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "", 0)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "ProblemFilter":
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise ValueError(f"unknown filter fields: {sorted(unknown)}")
        return cls(**(data or {}))

    def query(self) -> Select[Any]:
        """Problems in a stable order (by id), so limit/offset give the same problems every time."""
        query: Select[Any] = select(Problem).order_by(col(Problem.id))
        if self.dataset_id is not None:
            query = query.where(col(Problem.dataset_id) == self.dataset_id)
        if self.split:
            query = query.where(col(Problem.split) == self.split)
        if self.ids:
            query = query.where(col(Problem.id).in_(self.ids))
        if self.search:
            query = query.where(question_contains(self.search))
        if self.offset:
            query = query.offset(self.offset)
        if self.limit is not None:
            query = query.limit(self.limit)
        return query
