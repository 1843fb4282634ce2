"""Two evaluations compared problem by problem: on the problems both answered, on a chosen part of them
(a ladder's split: seen templates, unseen templates), and on the clean subset."""

import pytest
from sqlmodel import Session, select

from backend.evaluation.paired import clean_problems, compare, compare_with_clean, describe, find_eval_run
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


def _flag(session: Session, run_id: int, seen: dict[int, bool | None]) -> None:
    for trace in session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == run_id)).all():
        trace.seen_in_training = seen.get(trace.problem_id)
        session.add(trace)
    session.commit()


def test_the_clean_subset_is_what_every_run_checked_and_none_found_in_training(session: Session) -> None:
    first, second, third = (p.id or 0 for p in make_problems(session))
    before = _evaluation(session, "before", {first: False, second: True, third: False})
    after = _evaluation(session, "after", {first: True, second: True, third: True})
    assert clean_problems(session, [before, after]) is None  # nobody checked: no clean subset claimed
    assert compare_with_clean(session, before, after)["clean"] is None

    _flag(session, before, {first: False, second: True, third: False})
    _flag(session, after, {first: False, second: False, third: None})  # the third unchecked here
    assert clean_problems(session, [before, after]) == {first}
    result = compare_with_clean(session, before, after)
    assert (result["n"], result["wins"]) == (3, 2)
    assert (result["clean"]["n"], result["clean"]["before"], result["clean"]["after"]) == (1, 0, 1)
    assert "On the 1 of 3 problems no student had seen in training: before 0.0% (0/1" in describe(result)


def test_an_evaluation_is_found_by_id_or_by_its_newest_name_and_anything_else_is_refused(
    session: Session,
) -> None:
    (first, *_) = (p.id or 0 for p in make_problems(session))
    older = _evaluation(session, "student-eval", {first: True})
    newer = _evaluation(session, "student-eval", {first: False})
    assert find_eval_run(session, "student-eval").id == newer
    assert find_eval_run(session, f" {older} ").id == older
    for hostile in ("nope", "999999", "'; drop table evalrun; --", "../x"):
        with pytest.raises(LookupError, match="no evaluation run"):
            find_eval_run(session, hostile)
