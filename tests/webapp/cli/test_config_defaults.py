"""One set of defaults per run: the CLI's options and the page's fields show the config's own defaults."""

from enum import Enum
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
import typer
from sqlalchemy.engine import Engine
from typer.core import TyperGroup

from backend.evaluation.config import EvalConfig
from backend.run_config import RunConfig
from backend.teacher.config import GenerationConfig
from backend.training.config import TrainConfig
from tests.webapp.conftest import make_settings
from webapp.app import build_app
from webapp.cli.generate import GENERATE_OWN_FIELDS
from webapp.cli.main import app as cli_app
from webapp.cli.students import EVAL_OWN_FIELDS, TRAIN_OWN_FIELDS

# Command -> its config and the fields it sets from options of its own (a name resolved to an id, a file).
COMMANDS: dict[str, tuple[type[RunConfig], tuple[str, ...]]] = {
    "train": (TrainConfig, TRAIN_OWN_FIELDS),
    "eval": (EvalConfig, EVAL_OWN_FIELDS),
    "generate": (GenerationConfig, GENERATE_OWN_FIELDS),
}
# Page field (elem_id) -> the config field it shows. The pages' `limit` (10 problems, a quick first try)
# is the page's own: the configs leave it unset (every problem).
PAGE_FIELDS: dict[str, tuple[type[RunConfig], str]] = {
    "train-kind": (TrainConfig, "kind"),
    "train-base-model": (TrainConfig, "base_model"),
    "train-epochs": (TrainConfig, "epochs"),
    "train-max-steps": (TrainConfig, "max_steps"),
    "train-lr": (TrainConfig, "learning_rate"),
    "train-batch": (TrainConfig, "batch_size"),
    "train-max-length": (TrainConfig, "max_length"),
    "train-lora": (TrainConfig, "lora"),
    "train-lora-r": (TrainConfig, "lora_r"),
    "train-policy": (TrainConfig, "filter_policy"),
    "train-skip-flagged": (TrainConfig, "skip_flagged_sub_questions"),
    "train-device": (TrainConfig, "device"),
    "train-compile": (TrainConfig, "compile"),
    "eval-method": (EvalConfig, "method"),
    "gen-backend": (GenerationConfig, "backend"),
    "gen-model": (GenerationConfig, "model"),
    "gen-mode": (GenerationConfig, "mode"),
    "gen-samples": (GenerationConfig, "samples"),
    "gen-temperature": (GenerationConfig, "temperature"),
    "gen-show-gold": (GenerationConfig, "show_gold"),
}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _cli_defaults(command: str) -> dict[str, Any]:
    group = typer.main.get_command(cli_app)
    assert isinstance(group, TyperGroup)
    return {param.name: _plain(param.default) for param in group.commands[command].params if param.name}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_cli_option_of_a_config_field_has_the_configs_default(command: str) -> None:
    (config, own), options = COMMANDS[command], _cli_defaults(command)
    shared = [name for name in config.model_fields if name not in own]
    assert set(shared) <= set(options)  # every other field is an option
    assert {name: options[name] for name in shared} == {name: _plain(config.default(name)) for name in shared}


def test_the_training_defaults_are_the_measured_recipe() -> None:
    """The `cpu` ladder's recipe (docs/benchmarks.md): 3 epochs, peak 2e-4, 10% warmup, batch 8."""
    assert (
        _cli_defaults("train").items()
        >= {"epochs": 3.0, "learning_rate": 2e-4, "warmup": 0.1, "batch_size": 8}.items()
    )


def test_the_old_short_option_names_still_work() -> None:
    group = typer.main.get_command(cli_app)
    assert isinstance(group, TyperGroup)
    flags = {flag for param in group.commands["train"].params for flag in getattr(param, "opts", [])}
    assert {"--lr", "--learning-rate", "--merge", "--merge-lora", "--set", "--kind"} <= flags


def test_every_page_field_of_a_config_field_has_the_configs_default(engine: Engine, tmp_path: Path) -> None:
    blocks = build_app(engine, make_settings(tmp_path / "home", auth=False))
    shown = {
        block.elem_id: block.value
        for block in blocks.blocks.values()
        if isinstance(block, gr.components.Component) and block.elem_id in PAGE_FIELDS
    }
    assert sorted(shown) == sorted(PAGE_FIELDS)
    expected = {elem: _plain(config.default(name)) for elem, (config, name) in PAGE_FIELDS.items()}
    assert shown == expected
