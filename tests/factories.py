"""Small factory functions that build rows for tests (SQLModel-template style)."""

from typing import Any

from sqlmodel import Session

from db.models import Dataset, Problem, Rationale, RationaleSource, Step, TeacherRun, Verdict


def make_dataset(session: Session, *, name: str = "toy", source: str = "jsonl") -> Dataset:
    dataset = Dataset(name=name, source=source)
    session.add(dataset)
    session.commit()
    session.refresh(dataset)
    return dataset


def make_problem(session: Session, dataset: Dataset, *, external_id: str = "p1", **fields: Any) -> Problem:
    values: dict[str, Any] = {
        "question": "Tom has 3 boxes of 5 pens. How many pens does he have?",
        "gold_answer_raw": "15",
        "gold_answer": "15",
        "split": "test",
        "content_hash": external_id,
    }
    values.update(fields)
    assert dataset.id is not None
    problem = Problem(dataset_id=dataset.id, external_id=external_id, **values)
    session.add(problem)
    session.commit()
    session.refresh(problem)
    return problem


def make_run(session: Session, dataset: Dataset, *, name: str = "run", **fields: Any) -> TeacherRun:
    run = TeacherRun(
        name=name,
        backend=fields.pop("backend", "transformers"),
        model="tiny",
        dataset_id=dataset.id,
        **fields,
    )
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def make_rationale(
    session: Session,
    problem: Problem,
    *,
    run: TeacherRun | None = None,
    steps: list[tuple[str | None, str]] | None = None,
    final_answer: str = "15",
    verdict: Verdict = Verdict.correct,
    sample_index: int = 0,
) -> Rationale:
    steps = steps or [("How many pens are in the boxes?", "3 * 5 = 15 pens.")]
    assert problem.id is not None
    rationale = Rationale(
        problem_id=problem.id,
        dataset_id=problem.dataset_id,
        split=problem.split,
        run_id=run.id if run else None,
        source=RationaleSource.teacher if run else RationaleSource.manual,
        sample_index=sample_index,
        raw_text="\n".join(text for _, text in steps),
        final_answer=final_answer,
        verdict=verdict,
        num_steps=len(steps),
    )
    session.add(rationale)
    session.flush()
    assert rationale.id is not None
    for position, (sub_question, text) in enumerate(steps):
        session.add(Step(rationale_id=rationale.id, position=position, sub_question=sub_question, text=text))
    session.commit()
    session.refresh(rationale)
    return rationale
