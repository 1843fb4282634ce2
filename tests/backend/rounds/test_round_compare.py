"""A round's paired comparison: both students on the problems both answered, or on a chosen part of them
(a ladder's split: seen templates, unseen templates)."""

from sqlmodel import Session

from backend.rounds.chain import compare
from db.models import EvalRun, EvalTrace
from tests.backend.training.frozen_set import make_problems


def _evaluation(session: Session, name: str, graded: dict[int, bool]) -> int:
    run = EvalRun(name=name, method="cot")
    session.add(run)
    session.commit()
    assert run.id is not None
    session.add_all(EvalTrace(eval_run_id=run.id, problem_id=p, correct=ok) for p, ok in graded.items())
    session.commit()
    return run.id


def test_compare_counts_only_the_chosen_problems_both_students_answered(session: Session) -> None:
    first, second, third = (p.id or 0 for p in make_problems(session))
    before = _evaluation(session, "before", {first: False, second: True, third: False})
    after = _evaluation(session, "after", {first: True, second: True})  # the third never evaluated

    whole = compare(session, before, after)
    assert (whole["n"], whole["before"], whole["after"], whole["wins"], whole["losses"]) == (2, 1, 2, 1, 0)
    part = compare(session, before, after, problems=[second, third, 10**9])
    assert (part["n"], part["before"], part["after"], part["wins"], part["losses"]) == (1, 1, 1, 0, 0)
    assert part["p_value"] == 1.0 and part["after_ci"][0] > 0
    assert compare(session, before, after, problems=[])["n"] == 0
