"""The evaluation summary's count of the calculator's work (the contamination block: test_contamination)."""

from typing import Any

from sqlmodel import Session

from backend.evaluation.summary import summarise
from db.models import EvalRun, EvalTrace
from tests.factories import make_dataset, make_problem

FIX = {"expression": "2 * 2", "claimed": "42", "computed": "4"}


def _run(
    session: Session,
    traces: list[tuple[bool, list[dict[str, Any]]]],
    categories: list[str | None] | None = None,
) -> int:
    """An evaluation run whose traces are (correct, steps) pairs, with their error categories if given."""
    dataset = make_dataset(session, name="calc")
    run = EvalRun(name="r", method="cot")
    session.add(run)
    session.commit()
    assert run.id is not None
    for index, (correct, steps) in enumerate(traces):
        problem = make_problem(session, dataset, external_id=f"q{index}")
        assert problem.id is not None
        category = categories[index] if categories else None
        session.add(
            EvalTrace(
                eval_run_id=run.id,
                problem_id=problem.id,
                correct=correct,
                steps=steps,
                error_category=category,
            )
        )
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


def test_texts_ended_as_loops_count_as_cut_off_and_on_their_own(session: Session) -> None:
    steps = [{"answer": "a"}]
    categories = ["looped", "truncated", "wrong_final", None]
    traces = [(False, steps), (False, steps), (False, steps), (True, steps)]
    summary = summarise(session, eval_run_id=_run(session, traces, categories), price_per_1k_tokens=0)
    assert (summary["truncation_rate"], summary["loop_rate"]) == (0.5, 0.25)
    assert summary["error_categories"] == {"looped": 1, "truncated": 1, "wrong_final": 1}
