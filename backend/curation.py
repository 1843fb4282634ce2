"""Curated sets: build from a filter and manual picks, freeze into exact revisions, read back frozen items."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from backend.filters import RationaleFilter
from backend.rationales import steps_from_content
from backend.student_formats import StepText
from db.models import CuratedItem, CuratedSet, Dataset, Problem, Rationale, Revision, utcnow


class SetFrozen(Exception):
    """A frozen set never changes."""


@dataclass(frozen=True)
class CuratedRecord:
    """One frozen item, ready for a training format or an exporter."""

    rationale_id: int
    revision_number: int
    problem_id: int
    question: str
    gold_answer: str | None
    answer_type: str
    steps: list[StepText]
    final_answer: str


def get_set(session: Session, *, set_id: int) -> CuratedSet:
    curated_set = session.get(CuratedSet, set_id)
    if curated_set is None:
        raise LookupError(f"no curated set with id {set_id}")
    return curated_set


def get_set_by_name(session: Session, *, name: str) -> CuratedSet:
    curated_set = session.exec(select(CuratedSet).where(CuratedSet.name == name)).first()
    if curated_set is None:
        raise LookupError(f"no curated set named {name!r}")
    return curated_set


def create_set(
    session: Session,
    *,
    name: str,
    rationale_filter: RationaleFilter | None = None,
    picks: Sequence[int] = (),
    description: str = "",
    created_by_id: int | None = None,
) -> CuratedSet:
    """A new (unfrozen) set holding every rationale the filter matches plus the manual picks."""
    name = name.strip()
    if not name:
        raise ValueError("a curated set needs a name")
    if session.exec(select(CuratedSet).where(CuratedSet.name == name)).first() is not None:
        raise ValueError(f"a curated set named {name!r} already exists")
    curated_set = CuratedSet(
        name=name,
        description=description,
        filter=(rationale_filter.to_json() if rationale_filter else {})
        | ({"picks": list(picks)} if picks else {}),
        created_by_id=created_by_id,
    )
    session.add(curated_set)
    session.flush()
    ids: set[int] = set(picks)
    if rationale_filter is not None:
        ids.update(session.exec(rationale_filter.apply(select(Rationale.id))).all())
    assert curated_set.id is not None
    session.add_all(CuratedItem(set_id=curated_set.id, rationale_id=rid) for rid in sorted(ids))
    session.commit()
    session.refresh(curated_set)
    return curated_set


def set_size(session: Session, *, set_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(CuratedItem).where(CuratedItem.set_id == set_id)
    ).one()


def freeze(session: Session, *, set_id: int) -> CuratedSet:
    """Pin every item to its rationale's current revision (copied whole); the set never changes again."""
    curated_set = get_set(session, set_id=set_id)
    if curated_set.frozen_at is not None:
        raise SetFrozen(f"set {curated_set.name!r} is already frozen")
    items = session.exec(select(CuratedItem).where(CuratedItem.set_id == set_id)).all()
    if not items:
        raise ValueError(f"set {curated_set.name!r} is empty; add rationales before freezing it")
    for item in items:
        rationale = session.get(Rationale, item.rationale_id)
        assert rationale is not None
        revision = session.exec(
            select(Revision).where(
                Revision.rationale_id == rationale.id, Revision.number == rationale.current_revision
            )
        ).one()
        item.revision_number, item.content = revision.number, revision.content
        session.add(item)
    curated_set.frozen_at = utcnow()
    session.add(curated_set)
    session.commit()
    session.refresh(curated_set)
    return curated_set


def frozen_records(session: Session, *, set_id: int) -> list[CuratedRecord]:
    """The exact pinned content of a frozen set, in item order."""
    curated_set = get_set(session, set_id=set_id)
    if curated_set.frozen_at is None:
        raise ValueError(f"set {curated_set.name!r} is not frozen; freeze it before training or export")
    rows = session.exec(
        select(CuratedItem, Problem, Dataset.answer_type)
        .join(Rationale, col(Rationale.id) == CuratedItem.rationale_id)
        .join(Problem, col(Problem.id) == Rationale.problem_id)
        .join(Dataset, col(Dataset.id) == Problem.dataset_id)
        .where(CuratedItem.set_id == set_id)
        .order_by(col(CuratedItem.id))
    ).all()
    records = []
    for item, problem, answer_type in rows:
        content = item.content or {}
        assert problem.id is not None and item.revision_number is not None
        records.append(
            CuratedRecord(
                rationale_id=item.rationale_id,
                revision_number=item.revision_number,
                problem_id=problem.id,
                question=problem.question,
                gold_answer=problem.gold_answer,
                answer_type=answer_type,
                steps=steps_from_content(content),
                final_answer=content.get("final_answer") or problem.gold_answer or "",
            )
        )
    return records
