"""The ladder trains each distinct student once, and a resumed run trains only what it lacks."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from bench import ladder, ladder_run
from bench.ladder_presets import PRESETS, TRAINED_BY


def test_arms_that_share_a_student_train_it_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    trained: list[tuple[str, int]] = []

    def fake_train(engine: Any, preset: Any, set_id: int, key: str, name: str) -> dict:
        trained.append((key, set_id))
        return {"checkpoint_id": len(trained), "hyperparams": {}}

    monkeypatch.setattr(ladder_run, "train", fake_train)
    monkeypatch.setattr(ladder_run, "save", lambda work, payload: None)
    monkeypatch.setattr(ladder_run, "usable", lambda engine, student: True)
    payload: dict[str, Any] = {"students": {}, "sets": {"reference": 1, "clean": 2, "all": 3}}
    preset = PRESETS["cpu-socratic"]
    for arm in ("socratic_masked", "socratic_unfiltered", "unified_masked"):
        ladder_run.train_arm(None, tmp_path, preset, payload, arm, 0)
    # one solver for both pairs; the unified model skips flags like the masked decomposer
    assert trained == [("socratic_masked/decomposer", 3), ("socratic_masked/solver", 3),
                       ("socratic_unfiltered/decomposer", 3), ("unified_masked/unified", 3)]  # fmt: skip
    students = payload["students"]
    assert students["socratic_unfiltered/solver"] is students["socratic_masked/solver"]


def test_a_student_whose_checkpoint_is_gone_is_trained_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ladder_run, "train", lambda *args: {"checkpoint_id": 2, "hyperparams": {}})
    monkeypatch.setattr(ladder_run, "save", lambda work, payload: None)
    monkeypatch.setattr(ladder_run, "usable", lambda engine, student: student["checkpoint_id"] != 1)
    payload: dict[str, Any] = {"students": {"cot": {"checkpoint_id": 1}}, "sets": {"reference": 1}}
    ladder_run.train_arm(None, tmp_path, PRESETS["cpu"], payload, "cot", 0)  # a fresh device machine
    assert payload["students"]["cot"]["checkpoint_id"] == 2


def test_recipes_name_kind_set_masking_and_seed() -> None:
    assert ladder_run.recipe("cot") == ("cot", "reference", False, 0)
    assert ladder_run.recipe("socratic/decomposer") == ("decomposer", "clean", False, 0)
    assert ladder_run.recipe("socratic_masked/decomposer@1") == ("decomposer", "all", True, 1)
    assert ladder_run.recipe("socratic_masked/solver") == ladder_run.recipe("socratic_unfiltered/solver")
    assert ladder_run.student_key("cot", "cot", 1) == "cot@1"


def test_arms_are_evaluated_as_their_students_and_the_floor_through_the_chat_template() -> None:
    students = {
        "unified_masked/unified": {"checkpoint_id": 7, "hyperparams": {"generation_budget": {"max_steps": 6}}}
    }
    preset = PRESETS["cpu-socratic"]
    spec = ladder_run.arm_spec(preset, "unified_masked", 0, students, {"reference": 1})
    assert spec == {"method": "socratic", "decomposer": {"checkpoint_id": 7},
                    "solver": {"checkpoint_id": 7}, "max_steps": 6}  # fmt: skip
    floor = ladder_run.arm_spec(preset, "floor", 0, students, {"reference": 1})
    assert floor["solver"]["options"] == {"chat": True} and floor["few_shot"] == 5


def test_every_arm_says_what_trained_it() -> None:
    assert TRAINED_BY["cot"] == TRAINED_BY["answer_only"] == "supervised on reference solutions"
    assert "distilled from a teacher" in TRAINED_BY["socratic_masked"]
    assert all(arm in TRAINED_BY for preset in PRESETS.values() for arm in preset.arms)


def test_the_command_line_overrides_epochs_arms_seeds_and_problems_and_refuses_unknown_ones() -> None:
    preset = ladder.overridden(PRESETS["cpu"], epochs=4, arms="cot, floor", seeds="0,3")
    assert (preset.epochs, preset.arms, preset.seeds) == (4, ("cot", "floor"), (0, 3))
    more = ladder.overridden(PRESETS["gsm8k-cpu"], epochs=None, arms=None, train_problems=1500)
    assert (more.n_train, more.pool) == (1500, 1500)
    fewer = ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, train_problems=10)
    assert (fewer.n_train, fewer.pool) == (10, PRESETS["cpu"].pool)  # drawn from the same pool
    for wrong in (0, 7474):
        with pytest.raises(ValueError, match="--train-problems"):
            ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, train_problems=wrong)
    assert ladder.overridden(PRESETS["cpu"], epochs=None, arms=None) == PRESETS["cpu"]
    with pytest.raises(ValueError, match="not socratic_everything"):
        ladder.overridden(PRESETS["cpu"], epochs=None, arms="cot,socratic_everything")
    with pytest.raises(ValueError, match="--epochs"):
        ladder.overridden(PRESETS["cpu"], epochs=0, arms=None)
    with pytest.raises(ValueError, match="--seeds"):
        ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, seeds="0,-1")
    judged = ladder.overridden(
        PRESETS["gsm8k-cpu"], epochs=None, arms=None, symbolic=200, floor_sets="gsm_symbolic_unseen, svamp"
    )
    assert (judged.n_eval_symbolic, judged.floor_sets) == (200, ("gsm_symbolic_unseen", "svamp"))
    assert ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, compile_mode="auto").compile == "auto"
    with pytest.raises(ValueError, match="--compile takes off, on or auto"):
        ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, compile_mode="max-autotune")
    with pytest.raises(ValueError, match="--symbolic"):
        ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, symbolic=-1)
    with pytest.raises(ValueError, match="not gsm8k_train"):
        ladder.overridden(PRESETS["cpu"], epochs=None, arms=None, floor_sets="svamp,gsm8k_train")


def test_a_retrained_run_keeps_its_data_and_floor_and_drops_every_student() -> None:
    payload = {
        "commit": "abc",
        "splits": {"train": [1, 2]},
        "sets": {"reference": 1},
        "students": {"cot": {"checkpoint_id": 4}},
        "results": [{"arm": "floor", "dataset": "d"}, {"arm": "cot", "dataset": "d"}],
    }
    kept = ladder_run.without_students(payload)
    assert kept["students"] == {} and kept["results"] == [{"arm": "floor", "dataset": "d"}]
    assert (kept["splits"], kept["sets"]) == (payload["splits"], payload["sets"])
    assert kept["retrained_from"] == "abc"
    assert payload["students"] == {"cot": {"checkpoint_id": 4}}  # the caller's payload is left as it was


def test_a_clean_subset_is_read_off_its_parents_outputs() -> None:
    row = {"arm": "cot", "dataset": "gsm8k_test", "calculator": True, "seed": 0, "trained_by": "x",
           "tokens_per_problem": 9, "per_problem": {"1": True, "2": False, "3": True}}  # fmt: skip
    clean = ladder_run.subset_row(row, "gsm8k_test_clean", [2, 3])
    assert (clean["n_correct"], clean["n_problems"], clean["subset_of"]) == (1, 2, "gsm8k_test")


def test_a_run_resumed_with_a_socratic_arm_runs_the_teacher_it_lacks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[int]] = []

    def fake_teacher(engine: Any, preset: Any, train_ids: list[int]) -> dict[str, Any]:
        calls.append(train_ids)
        return {"all": [7, 8], "clean": [7], "issue_counts": {}, "seconds": 1.0}

    monkeypatch.setattr(ladder_run, "teacher_sub_questions", fake_teacher)
    monkeypatch.setattr(ladder_run, "frozen_set", lambda session, name, ids: 100 + len(ids))
    monkeypatch.setattr(ladder_run, "save", lambda work, payload: None)
    # A first run trained answer-only and CoT only: its data stage wrote no teacher sets.
    payload: dict[str, Any] = {"splits": {"train": [1, 2]}, "sets": {"reference": 1}, "arm_training": {}}
    cot_only = ladder.overridden(PRESETS["gsm8k-cpu"], epochs=None, arms="answer_only,cot")
    assert ladder_run.teacher_sets_missing(cot_only, payload) == set()
    with_pair = ladder.overridden(PRESETS["gsm8k-cpu"], epochs=None, arms="cot,socratic_masked")
    assert ladder_run.teacher_sets_missing(with_pair, payload) == {"all"}
    engine = create_engine("sqlite://")
    ladder_run.prepare_data(engine, tmp_path, with_pair, payload)
    assert calls == [[1, 2]] and payload["sets"] == {"reference": 1, "all": 102}
    assert payload["splits"] == {"train": [1, 2]}  # the problems are not imported again
    ladder_run.prepare_data(engine, tmp_path, with_pair, payload)  # resumed again: nothing left to do
    assert len(calls) == 1 and ladder_run.teacher_sets_missing(with_pair, payload) == set()
