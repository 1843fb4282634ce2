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
# Page field (elem_id) -> (config, field).
PAGE_FIELDS: dict[str, tuple[type[RunConfig], str]] = {
    **{
        f"train-{elem}": (TrainConfig, name)
        for elem, name in {
            "kind": "kind",
            "base-model": "base_model",
            "epochs": "epochs",
            "max-steps": "max_steps",
            "lr": "learning_rate",
            "batch": "batch_size",
            "max-length": "max_length",
            "lora": "lora",
            "lora-r": "lora_r",
            "policy": "filter_policy",
            "skip-flagged": "skip_flagged_sub_questions",
            "device": "device",
        }.items()
    },
    "eval-method": (EvalConfig, "method"),
    **{
        f"gen-{elem}": (GenerationConfig, name)
        for elem, name in {
            "backend": "backend",
            "model": "model",
            "mode": "mode",
            "samples": "samples",
            "temperature": "temperature",
            "show-gold": "show_gold",
        }.items()
    },
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
