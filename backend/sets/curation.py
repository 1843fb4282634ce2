"""Curated sets: build from a filter and manual picks, freeze into exact revisions, read back frozen items."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, literal, or_, true, update
from sqlmodel import Session, col, func, select

from backend.access.limits import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, check_label
from backend.queries.filters import RationaleFilter
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
    final_answer: str  # "" when the rationale states none (never filled in from the gold answer)


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
    name = check_label("the set name", name.strip(), MAX_NAME_CHARS)
    description = check_label("the set description", description, MAX_DESCRIPTION_CHARS)
    if not name:
        raise ValueError("a curated set needs a name")
    taken = _same_name(session, name)
    if taken is not None:
        raise ValueError(f"a curated set named {taken!r} already exists (names ignore case)")
    curated_set = CuratedSet(
        name=name,
        description=description,
        filter=(rationale_filter.to_json() if rationale_filter else {})
        | ({"picks": list(picks)} if picks else {}),
        created_by_id=created_by_id,
    )
    _check_picks(session, picks)
    session.add(curated_set)
    session.flush()
    assert curated_set.id is not None
    _insert_items(session, curated_set.id, rationale_filter, picks)
    session.commit()
    session.refresh(curated_set)
    return curated_set


def _same_name(session: Session, name: str) -> str | None:
    """An existing set's name equal to `name` but for case: `SET1` beside `set1` reads as the same set.
    Compared in Python (casefold), since SQLite's lower() folds ASCII letters only."""
    wanted = name.casefold()
    return next((n for n in session.exec(select(CuratedSet.name)).all() if n.casefold() == wanted), None)


def _check_picks(session: Session, picks: Sequence[int]) -> None:
    found = set(session.exec(select(Rationale.id).where(col(Rationale.id).in_(list(picks)))).all())
    missing = sorted(set(picks) - found)
    if missing:
        raise ValueError(f"no rationale with id {', '.join(map(str, missing[:20]))}; nothing was changed")


def _insert_items(
    session: Session, set_id: int, rationale_filter: RationaleFilter | None, picks: Sequence[int]
) -> int:
    """One INSERT ... SELECT of the filter's matches and the picks, in id order, skipping items already
    in the set: a set of 100,000 rationales never passes through Python objects."""
    conditions = []
    if rationale_filter is not None:
        where = rationale_filter.apply(select(Rationale.id)).whereclause
        conditions.append(where if where is not None else true())
    if picks:
        conditions.append(col(Rationale.id).in_(list(picks)))
    if not conditions:
        return 0
    already = select(CuratedItem.rationale_id).where(CuratedItem.set_id == set_id)
    rows = (
        select(literal(set_id), col(Rationale.id))
        .where(or_(*conditions), col(Rationale.id).not_in(already))
        .order_by(col(Rationale.id))
    )
    before = set_size(session, set_id=set_id)
    session.exec(insert(CuratedItem).from_select(["set_id", "rationale_id"], rows))
    # Counted, not rowcount: psycopg reports -1 for an INSERT ... SELECT run through the ORM session.
    return set_size(session, set_id=set_id) - before


def _open_set(session: Session, set_id: int) -> CuratedSet:
    curated_set = get_set(session, set_id=set_id)
    if curated_set.frozen_at is not None:
        raise SetFrozen(f"set {curated_set.name!r} is frozen; create a new set to change its contents")
    return curated_set


def add_items(
    session: Session,
    *,
    set_id: int,
    rationale_filter: RationaleFilter | None = None,
    picks: Sequence[int] = (),
) -> int:
    """Add the filter's matches and the picked rationales to an unfrozen set; returns how many were new."""
    _open_set(session, set_id)
    _check_picks(session, picks)
    added = _insert_items(session, set_id, rationale_filter, picks)
    session.commit()
    return added


def remove_items(session: Session, *, set_id: int, rationale_ids: Sequence[int]) -> int:
    """Take rationales out of an unfrozen set; returns how many were in it."""
    _open_set(session, set_id)
    result = session.exec(
        delete(CuratedItem).where(
            col(CuratedItem.set_id) == set_id, col(CuratedItem.rationale_id).in_(list(rationale_ids))
        )
    )
    session.commit()
    return int(result.rowcount)


def set_size(session: Session, *, set_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(CuratedItem).where(CuratedItem.set_id == set_id)
    ).one()


def freeze(session: Session, *, set_id: int) -> CuratedSet:
    """Pin every item to its rationale's current revision (copied whole); the set never changes again.

    Set-based: one conditional UPDATE marks the set frozen (a second freeze, even a concurrent one,
    matches no row) and one UPDATE copies every item's current revision, in the same transaction."""
    curated_set = get_set(session, set_id=set_id)
    if set_size(session, set_id=set_id) == 0:
        raise ValueError(f"set {curated_set.name!r} is empty; add rationales before freezing it")
    mark = session.exec(
        update(CuratedSet)
        .where(col(CuratedSet.id) == set_id, col(CuratedSet.frozen_at).is_(None))
        .values(frozen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if mark.rowcount == 0:
        session.rollback()
        raise SetFrozen(f"set {curated_set.name!r} is already frozen")
    current = (
        select(Rationale.current_revision)
        .where(col(Rationale.id) == CuratedItem.rationale_id)
        .correlate(CuratedItem)  # to the updated row, also from inside the content subquery below
        .scalar_subquery()
    )
    content = (
        select(Revision.content)
        .where(col(Revision.rationale_id) == CuratedItem.rationale_id, col(Revision.number) == current)
        .scalar_subquery()
    )
    session.exec(
        update(CuratedItem)
        .where(col(CuratedItem.set_id) == set_id)
        .values(revision_number=current, content=content)
        .execution_options(synchronize_session=False)
    )
    unpinned = session.exec(
        select(CuratedItem.rationale_id).where(
            CuratedItem.set_id == set_id, col(CuratedItem.content).is_(None)
        )
    ).all()
    if unpinned:
        session.rollback()
        raise ValueError(
            f"rationales {sorted(unpinned)[:20]} have no stored revision; the set was not frozen"
        )
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
                # Never the gold: a rationale that states no answer must not pass a correctness filter.
                final_answer=content.get("final_answer") or "",
            )
        )
    return records
