"""What a curated set would hold before it is created: counts by verdict, review state, dataset and steps.

The selection is the same union `curation.create_set` takes (rationales matching a filter plus manual
picks), counted with GROUP BY queries so a preview of a large table stays a handful of small queries.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_
from sqlmodel import Session, col, select

from backend.queries.filters import RationaleFilter
from db.models import CuratedItem, Dataset, Problem, Rationale


@dataclass
class SelectionPreview:
    total: int
    by_verdict: dict[str, int] = field(default_factory=dict)
    by_review_status: dict[str, int] = field(default_factory=dict)
    by_dataset: dict[str, int] = field(default_factory=dict)
    by_steps: dict[int, int] = field(default_factory=dict)
    missing_picks: list[int] = field(default_factory=list)


def selection_condition(
    rationale_filter: RationaleFilter | None, picks: Sequence[int]
) -> ColumnElement[bool]:
    """A WHERE condition on Rationale for filter-matches OR picked ids (either part may be absent)."""
    parts: list[ColumnElement[bool]] = []
    if rationale_filter is not None:
        parts.append(col(Rationale.id).in_(rationale_filter.apply(select(Rationale.id))))
    if picks:
        parts.append(col(Rationale.id).in_(list(picks)))
    return or_(*parts) if parts else false()


def _grouped(session: Session, column: Any, condition: ColumnElement[bool]) -> dict[Any, int]:
    rows = session.exec(select(column, func.count()).where(condition).group_by(column).order_by(column)).all()
    return {key: int(count) for key, count in rows}


def preview_selection(
    session: Session, *, rationale_filter: RationaleFilter | None, picks: Sequence[int] = ()
) -> SelectionPreview:
    condition = selection_condition(rationale_filter, picks)
    total = int(session.exec(select(func.count()).select_from(Rationale).where(condition)).one())
    found = (
        set(session.exec(select(Rationale.id).where(col(Rationale.id).in_(list(picks)))).all())
        if picks
        else set()
    )
    by_dataset_id = _grouped(session, Rationale.dataset_id, condition)
    names = dict(
        session.exec(select(Dataset.id, Dataset.name).where(col(Dataset.id).in_(list(by_dataset_id)))).all()
    )
    return SelectionPreview(
        total=total,
        by_verdict={str(k): v for k, v in _grouped(session, Rationale.verdict, condition).items()},
        by_review_status={
            str(k): v for k, v in _grouped(session, Rationale.review_status, condition).items()
        },
        by_dataset={names.get(k, str(k)): v for k, v in by_dataset_id.items()},
        by_steps=_grouped(session, Rationale.num_steps, condition),
        missing_picks=sorted(set(picks) - found),
    )


def sample_rows(
    session: Session, *, rationale_filter: RationaleFilter | None, picks: Sequence[int] = (), limit: int = 20
) -> list[dict[str, Any]]:
    """The first few selected rationales with their question, for a glance at what the set holds."""
    rows = session.exec(
        select(Rationale, Problem.question)
        .join(Problem, col(Problem.id) == Rationale.problem_id)
        .where(selection_condition(rationale_filter, picks))
        .order_by(col(Rationale.id))
        .limit(limit)
    ).all()
    return [
        {
            "id": rationale.id,
            "question": question,
            "final_answer": rationale.final_answer or "",
            "verdict": str(rationale.verdict),
            "review": str(rationale.review_status),
            "steps": rationale.num_steps,
        }
        for rationale, question in rows
    ]


def set_rationale_ids(session: Session, *, set_id: int) -> list[int]:
    """The rationales a curated set holds, in item order (what its preview shows)."""
    query = select(CuratedItem.rationale_id).where(CuratedItem.set_id == set_id).order_by(col(CuratedItem.id))
    return [int(rationale_id) for rationale_id in session.exec(query).all()]
