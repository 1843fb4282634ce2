"""The failure loop's scripted reviewer, and the loop end to end on a tiny ladder."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.student_formats import StepText
from bench.failure_loop import compare_class, control_traces, mended_steps
from tests.bench.conftest import run_bench

GOLD = [{"text": "3 * 5 = <<3*5=15>>15 pens."}, {"text": "15 - 5 = <<15-5=10>>10 pens."}]


def test_the_reviewer_keeps_the_steps_before_the_departure_and_writes_the_reference_after() -> None:
    student = [StepText(None, "3 * 5 = 15 pens."), StepText(None, "15 + 5 = 20 pens."), StepText(None, "x")]
    assert [s.text for s in mended_steps(student, GOLD, 1)] == ["3 * 5 = 15 pens.", GOLD[1]["text"]]
    assert [s.text for s in mended_steps(student, GOLD, 0)] == [GOLD[0]["text"], GOLD[1]["text"]]
    assert [s.text for s in mended_steps(student, GOLD, None)] == [GOLD[0]["text"], GOLD[1]["text"]]
    assert [s.text for s in mended_steps(student[:1], GOLD, 5)] == ["3 * 5 = 15 pens.", GOLD[1]["text"]]


def test_the_class_is_compared_on_the_same_problems_only() -> None:
    before = {"1": "truncated", "2": "truncated", "3": None, "4": "wrong_final"}
    after = {"1": None, "2": "truncated", "3": None, "5": "truncated"}  # 4 and 5 are not in both
    row = compare_class(before, after, ("truncated",))
    assert row["n_problems"] == 3
    assert row["before"]["in_class"] == 2 and row["after"]["in_class"] == 1
    assert row["class_test"]["left_class"] == 1 and row["class_test"]["entered_class"] == 0
    assert row["before"]["correct"] == 1 and row["after"]["correct"] == 2


def test_a_union_of_classes_counts_a_problem_in_any_of_them_once() -> None:
    before = {"1": "truncated", "2": "looped", "3": "wrong_final", "4": None}
    after = {"1": "looped", "2": "wrong_final", "3": "truncated", "4": None}
    row = compare_class(before, after, ("truncated", "looped"))
    assert row["category"] == "truncated+looped"
    assert row["before"]["in_class"] == 2 and row["after"]["in_class"] == 2
    # 1 stays in the class (truncated -> looped), 2 leaves it, 3 enters it
    assert row["class_test"]["left_class"] == 1 and row["class_test"]["entered_class"] == 1


def test_the_control_draws_as_many_failures_from_outside_the_class_with_its_seed(
    engine: Engine, session: Session
) -> None:
    from db.models import EvalRun, EvalTrace
    from tests.factories import make_dataset, make_problem

    dataset = make_dataset(session)
    run = EvalRun(name="loop-probe", method="cot", n_problems=12)
    session.add(run)
    session.commit()
    classes = ["truncated", "looped", "wrong_first_step", "wrong_final", None, "arithmetic"] * 2
    for index, category in enumerate(classes):
        problem = make_problem(session, dataset, external_id=f"p{index}")
        session.add(EvalTrace(eval_run_id=run.id or 0, problem_id=problem.id or 0, correct=category is None,
                              error_category=category, steps=[], num_steps=0))  # fmt: skip
    session.commit()
    category_of = {t.id: t.error_category for t in session.exec(select(EvalTrace)).all()}
    cut_off = ("truncated", "looped")
    drawn = control_traces(engine, run.id or 0, cut_off, 3, seed=1)
    assert len(drawn) == 3 and drawn == sorted(drawn)
    assert all(category_of[t] not in (*cut_off, None) for t in drawn)  # failures, outside the class
    assert control_traces(engine, run.id or 0, cut_off, 3, seed=1) == drawn
    assert len({tuple(control_traces(engine, run.id or 0, cut_off, 3, seed=s)) for s in range(10)}) > 1
    assert len(control_traces(engine, run.id or 0, cut_off, 50, seed=1)) == 6  # all there are


@pytest.mark.slow
def test_the_loop_runs_on_a_tiny_ladders_second_seed_and_leaves_the_ladder_untouched(
    tmp_path: Path, tiny_cot_ladder: Path, shared_datasets: Path
) -> None:
    ladder, work = tiny_cot_ladder, tmp_path / "loop"
    before = (ladder / "ladder.db").stat().st_mtime
    command = ["bench/failure_loop.py", "--ladder", str(ladder), "--work", str(work), "--probe", "6",
               "--category", "most", "--seed", "1"]  # fmt: skip
    run_bench(command, shared_datasets)
    result = json.loads((work / "failure_loop.json").read_text())
    assert result["probe"] == 6 and result["sent"] == 6 - result["probe_correct"] >= 1
    assert result["accepted"] == result["sent"]  # every mended failure is accepted
    held = result["held_out"]
    assert held["n_problems"] == 4 and {"in_class", "in_class_ci", "correct"} <= set(held["after"])
    # the control arm added to the finished loop: the loop is not redone
    done = run_bench([*command, "--control"], shared_datasets)
    again = json.loads((work / "failure_loop.json").read_text())
    assert again["held_out"] == held and "loop-probe:" not in done.stderr + done.stdout
    control = again["control"]  # as many failures outside the class as it sent, or none to draw
    assert control["sent"] == min(result["accepted"], 6 - result["probe_correct"] - result["sent"])
    if control["sent"]:
        assert control["accepted"] == control["sent"]
        assert control["loop_against_control"]["n_problems"] == 4
    assert (ladder / "ladder.db").stat().st_mtime == before  # the ladder's database is only copied
