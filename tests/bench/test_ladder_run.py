"""The ladder trains each distinct student once, and a resumed run trains only what it lacks."""

from pathlib import Path
from typing import Any

import pytest

from bench import ladder_run
from bench.ladder import PRESETS


def test_arms_that_share_a_student_train_it_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    trained: list[tuple[str, int, bool]] = []

    def fake_train(
        engine: Any, preset: Any, set_id: int, kind: str, name: str, *, skip_flagged: bool
    ) -> dict:
        trained.append((kind, set_id, skip_flagged))
        return {"checkpoint_id": len(trained), "hyperparams": {}}

    monkeypatch.setattr(ladder_run, "train", fake_train)
    monkeypatch.setattr(ladder_run, "save", lambda work, payload: None)
    payload: dict[str, Any] = {"students": {"cot": {"checkpoint_id": 99, "hyperparams": {}}}}
    sets = {"reference": 1, "clean": 2, "all": 3}
    ladder_run.train_missing(None, tmp_path, PRESETS["cpu-socratic"], payload, sets)
    # cot was there; the masked decomposer skips flags, the unfiltered one does not; one solver for both;
    # the unified model skips flags like the masked decomposer.
    assert trained == [
        ("decomposer", 3, True), ("solver", 3, False), ("decomposer", 3, False), ("unified", 3, True)
    ]  # fmt: skip
    students = payload["students"]
    assert students["socratic_unfiltered/solver"] is students["socratic_masked/solver"]
    assert students["socratic_unfiltered/decomposer"]["checkpoint_id"] == 3


def test_recipes_name_kind_set_and_masking() -> None:
    assert ladder_run.recipe("cot") == ("cot", "reference", False)
    assert ladder_run.recipe("socratic/decomposer") == ("decomposer", "clean", False)
    assert ladder_run.recipe("socratic_masked/decomposer") == ("decomposer", "all", True)
    assert ladder_run.recipe("socratic_masked/solver") == ladder_run.recipe("socratic_unfiltered/solver")


def test_a_unified_arm_is_evaluated_as_one_model_asking_and_answering() -> None:
    students = {
        "unified_masked/unified": {"checkpoint_id": 7, "hyperparams": {"generation_budget": {"max_steps": 6}}}
    }
    specs = ladder_run.arm_specs(PRESETS["cpu-socratic"], students, {"reference": 1})
    assert specs["unified_masked"] == {"method": "socratic", "decomposer": {"checkpoint_id": 7},
                                       "solver": {"checkpoint_id": 7}, "max_steps": 6}  # fmt: skip


def test_the_command_line_overrides_epochs_and_arms_and_refuses_unknown_ones() -> None:
    preset = ladder_run.overridden(PRESETS["cpu"], epochs=4, arms="cot, floor")
    assert (preset.epochs, preset.arms, preset.n_train) == (4, ("cot", "floor"), PRESETS["cpu"].n_train)
    assert ladder_run.overridden(PRESETS["cpu"], epochs=None, arms=None) == PRESETS["cpu"]
    with pytest.raises(ValueError, match="not socratic_everything"):
        ladder_run.overridden(PRESETS["cpu"], epochs=None, arms="cot,socratic_everything")
    with pytest.raises(ValueError, match="--epochs"):
        ladder_run.overridden(PRESETS["cpu"], epochs=0, arms=None)


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
