"""Writing parsed problems (and their reference rationales) in one transaction with bulk inserts.

Rows go in with SQLAlchemy core `insert()` executemany over plain dicts, in chunks, and ids are looked
up afterwards with one query per table: ORM objects one by one (a flush per rationale) are about an order
of magnitude slower at 100,000 problems (bench/import_bench.py measures both).
"""

import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from backend.checks.answers import grade
from backend.importers.core import (
    DatasetSpec,
    ImportFailure,
    ImportReport,
    ParsedProblem,
    ProgressFn,
    paused_gc,
)
from backend.progress_bar import ThrottledBar, progress_bar
from db.models import (
    Dataset,
    Problem,
    Rationale,
    RationaleSource,
    ReviewStatus,
    Revision,
    Step,
    TeacherMode,
    TeacherRun,
    Verdict,
    utcnow,
)

CHUNK = 5_000  # rows per executemany: big enough to be fast, small enough to show progress


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk_insert(session: Session, model: Any, rows: Sequence[dict[str, Any]], bar: ThrottledBar) -> None:
    for chunk in _chunks(rows):
        session.execute(insert(_table(model)), list(chunk))
        bar.update(len(chunk))


def check_duplicates(problems: Sequence[ParsedProblem], file: str) -> None:
    """Two rows with one (split, id) would make the second silently vanish: refuse the file instead."""
    seen: dict[tuple[str, str], int] = {}
    for problem in problems:
        key = (problem.split, problem.external_id)
        if key in seen:
            raise ImportFailure(
                file, problem.line, "id", f"duplicate id {key[1]!r} (first on line {seen[key]})"
            )
        seen[key] = problem.line


def _dataset(session: Session, spec: DatasetSpec, file: str) -> Dataset:
    dataset = session.exec(select(Dataset).where(Dataset.name == spec.name)).first()
    if dataset is None:
        dataset = Dataset(
            name=spec.name, source=spec.source, answer_type=spec.answer_type, description=spec.description
        )
        session.add(dataset)
        session.flush()
    elif (dataset.source, dataset.answer_type) != (spec.source, spec.answer_type):
        raise ImportFailure(
            file,
            None,
            None,
            f"dataset {spec.name!r} already holds {dataset.source} data ({dataset.answer_type} answers); "
            "import under another name",
        )
    return dataset


def _reference_run(session: Session, dataset: Dataset, mode: TeacherMode) -> TeacherRun:
    """The per-dataset pseudo teacher run that owns the dataset's own solutions."""
    run = session.exec(
        select(TeacherRun).where(TeacherRun.dataset_id == dataset.id, TeacherRun.backend == "reference")
    ).first()
    if run is None:
        run = TeacherRun(
            name=f"{dataset.name} reference", backend="reference", model=dataset.source, mode=mode
        )
        run.dataset_id = dataset.id
        session.add(run)
        session.flush()
    return run


def _problem_row(dataset_id: int, problem: ParsedProblem, now: Any) -> dict[str, Any]:
    return {
        "dataset_id": dataset_id,
        "split": problem.split,
        "external_id": problem.external_id,
        "question": problem.question,
        "gold_answer_raw": problem.gold_answer_raw,
        "gold_answer": problem.gold_answer,
        "gold_solution": problem.gold_solution,
        "gold_steps": problem.steps,
        "num_gold_steps": len(problem.steps),
        "meta": problem.meta,
        "content_hash": problem.content_hash,
        "created_at": now,
    }


def _rationale_row(
    problem_id: int, dataset_id: int, run_id: int, problem: ParsedProblem, answer_type: str
) -> dict[str, Any]:
    now = utcnow()
    # Both answers are already normalised; grading again only matters when they differ.
    same = problem.solution_answer is not None and problem.solution_answer == problem.gold_answer
    verdict = Verdict.correct if same else grade(problem.solution_answer, problem.gold_answer, answer_type)
    return {
        "problem_id": problem_id,
        "dataset_id": dataset_id,
        "split": problem.split,  # denormalised from the problem (Explore filters by it without a join)
        "run_id": run_id,
        "source": RationaleSource.reference,
        "sample_index": 0,
        "raw_text": problem.gold_solution or "",
        "final_answer": problem.solution_answer,
        "verdict": verdict,
        "logprob": None,
        "tokens_out": 0,
        "is_duplicate": False,
        "error": None,
        "num_steps": len(problem.steps),
        "review_status": ReviewStatus.unreviewed,
        "version": 1,
        "current_revision": 1,
        "created_at": now,
        "updated_at": now,
    }


def _child_rows(rationale_id: int, problem: ParsedProblem) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Step rows and revision 1 of a reference rationale (what rationales.add_rationale would write)."""
    steps = [
        {"rationale_id": rationale_id, "position": position, "value_correct": None} | step
        for position, step in enumerate(problem.steps)
    ]
    content = {
        "steps": [{"sub_question": step["sub_question"], "text": step["text"]} for step in problem.steps],
        "final_answer": problem.solution_answer,
    }
    revision = {
        "rationale_id": rationale_id,
        "number": 1,
        "author_id": None,
        "content": content,
        "comment": "original",
        "reverted_from": None,
        "version": 1,
        "created_at": utcnow(),
    }
    return steps, revision


def _ids_by_key(session: Session, dataset_id: int) -> dict[tuple[str, str], int]:
    rows = session.exec(
        select(Problem.split, Problem.external_id, Problem.id).where(Problem.dataset_id == dataset_id)
    ).all()
    return {
        (split, external_id): problem_id for split, external_id, problem_id in rows if problem_id is not None
    }


def _write_references(
    session: Session,
    dataset: Dataset,
    new: Sequence[ParsedProblem],
    ids: dict[tuple[str, str], int],
    bar: ThrottledBar,
) -> None:
    with_steps = [problem for problem in new if problem.steps]
    if not with_steps:
        return
    socratic = all(step["sub_question"] for step in with_steps[0].steps)
    run = _reference_run(session, dataset, TeacherMode.socratic if socratic else TeacherMode.cot)
    assert dataset.id is not None and run.id is not None
    rows = [
        _rationale_row(ids[(p.split, p.external_id)], dataset.id, run.id, p, dataset.answer_type)
        for p in with_steps
    ]
    _bulk_insert(session, Rationale, rows, bar)
    rationale_ids = session.exec(
        select(Rationale.problem_id, Rationale.id).where(Rationale.run_id == run.id)
    ).all()
    by_problem = {
        problem_id: rationale_id for problem_id, rationale_id in rationale_ids if rationale_id is not None
    }
    steps: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    for problem in with_steps:
        problem_steps, revision = _child_rows(by_problem[ids[(problem.split, problem.external_id)]], problem)
        steps.extend(problem_steps)
        revisions.append(revision)
    _bulk_insert(session, Step, steps, bar)
    _bulk_insert(session, Revision, revisions, bar)


def _stored_hashes(session: Session, dataset_id: int) -> dict[tuple[str, str], str]:
    rows = session.exec(
        select(Problem.split, Problem.external_id, Problem.content_hash).where(
            Problem.dataset_id == dataset_id
        )
    ).all()
    return {(split, external_id): content_hash for split, external_id, content_hash in rows}


def write_problems(
    session: Session,
    spec: DatasetSpec,
    problems: Sequence[ParsedProblem],
    *,
    file: str,
    started: float,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Store the new problems (and reference rationales) in ONE transaction; report what already existed."""
    if on_progress:
        # Reported before the write transaction opens: on SQLite a progress write from another
        # connection would wait for this transaction (one writer at a time) and time out.
        on_progress(len(problems), len(problems), f"read {len(problems):,} rows; writing")
    with paused_gc():
        check_duplicates(problems, file)
        return _write(
            session,
            spec,
            problems,
            file=file,
            started=started,
            show_progress=show_progress,
        )


def _write(
    session: Session,
    spec: DatasetSpec,
    problems: Sequence[ParsedProblem],
    *,
    file: str,
    started: float,
    show_progress: bool,
) -> ImportReport:
    try:
        dataset = _dataset(session, spec, file)
        assert dataset.id is not None
        stored = _stored_hashes(session, dataset.id)
        new = [p for p in problems if (p.split, p.external_id) not in stored]
        changed = [
            p.external_id
            for p in problems
            if stored.get((p.split, p.external_id), p.content_hash) != p.content_hash
        ]
        total = len(new) + sum(2 + len(p.steps) for p in new if p.steps)
        with progress_bar(
            total=total, desc=f"writing {spec.name}", unit="row", disable=not show_progress
        ) as bar:
            now = utcnow()
            _bulk_insert(session, Problem, [_problem_row(dataset.id, p, now) for p in new], bar)
            _write_references(session, dataset, new, _ids_by_key(session, dataset.id), bar)
        session.commit()
    except ImportFailure:
        session.rollback()
        raise
    except SQLAlchemyError as error:
        session.rollback()
        # Typically a concurrent import of the same rows, a read-only database or a full disk.
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise ImportFailure(
            file, None, None, f"the database refused the import, nothing was stored: {detail}"
        ) from None
    return ImportReport(
        dataset=spec.name,
        dataset_id=dataset.id,
        added=len(new),
        unchanged=len(problems) - len(new) - len(changed),
        changed=len(changed),
        seconds=time.perf_counter() - started,
        changed_ids=changed,
    )
