"""The evaluation summary's count of the calculator's work (the contamination block: test_contamination)."""

from typing import Any

from sqlmodel import Session

from backend.evaluation.summary import summarise
from db.models import EvalRun, EvalTrace
from tests.factories import make_dataset, make_problem

FIX = {"expression": "2 * 2", "claimed": "42", "computed": "4"}


def _run(session: Session, traces: list[tuple[bool, list[dict[str, Any]]]]) -> int:
    """An evaluation run whose traces are (correct, steps) pairs."""
    dataset = make_dataset(session, name="calc")
    run = EvalRun(name="r", method="cot")
    session.add(run)
    session.commit()
    assert run.id is not None
    for index, (correct, steps) in enumerate(traces):
        problem = make_problem(session, dataset, external_id=f"q{index}")
        assert problem.id is not None
        session.add(EvalTrace(eval_run_id=run.id, problem_id=problem.id, correct=correct, steps=steps))
    session.commit()
    return run.id


def test_summaries_count_the_answers_that_needed_a_correction(session: Session) -> None:
    traces = [
        (True, [{"answer": "a", "calculator": [FIX, FIX]}, {"answer": "b", "calculator": [FIX]}]),
        (True, [{"answer": "a", "calculator": []}]),
        (False, [{"answer": "a", "calculator": [FIX]}]),
        (False, [{"answer": "a"}]),  # stored before steps carried the field
    ]
    summary = summarise(session, eval_run_id=_run(session, traces), price_per_1k_tokens=0)
    assert summary["calculator_corrections"] == 4
    assert (summary["answers_corrected"], summary["correct_answers_corrected"]) == (2, 1)
