import json

import pytest

from backend.training.config import FilterPolicy, TrainConfig
from db.models import StudentKind


def test_config_round_trips_through_json_with_enums_as_strings():
    config = TrainConfig(
        set_name="s", kind="solver", lora=True, lora_target_modules=["q_proj"], filter_policy="balanced"
    )
    data = config.to_json()
    assert data["kind"] == "solver" and data["filter_policy"] == "balanced"
    json.dumps(data)  # plain JSON
    again = TrainConfig.from_json(data)
    assert (
        again == config and again.kind is StudentKind.solver and again.filter_policy is FilterPolicy.balanced
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "set_id or set_name"),
        ({"set_id": 1, "batch_size": 0}, "batch_size"),
        ({"set_id": 1, "learning_rate": 0}, "learning_rate"),
        ({"set_id": 1, "max_steps": 0}, "max_steps"),
        ({"set_id": 1, "device": "tpu"}, "device"),
        ({"set_id": 1, "kind": "teacher"}, "teacher"),
        ({"set_id": 1, "filter_policy": "best"}, "best"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**fields)


def test_unknown_fields_in_a_stored_config_are_refused():
    with pytest.raises(ValueError, match="unknown training config fields"):
        TrainConfig.from_json({"set_id": 1, "learning_rat": 1e-4})


def test_a_runs_config_is_read_back_from_its_row_beside_what_the_run_measured():
    config = TrainConfig(set_id=3, output_dir="/runs/train-7", max_steps=4)
    hyperparams = config.to_json() | {"n_examples": 12, "dropped": {}, "precision": "fp32"}
    assert TrainConfig.from_run(hyperparams) == config


def test_skip_flagged_sub_questions_round_trips():
    config = TrainConfig(set_id=1, kind="decomposer", skip_flagged_sub_questions=True)  # type: ignore[arg-type]
    assert TrainConfig.from_json(config.to_json()).skip_flagged_sub_questions is True
    assert TrainConfig(set_id=1).skip_flagged_sub_questions is False
