"""`socratic-studio prepare-model` and `socratic-studio generate`: the teacher from the command line."""

from pathlib import Path

import typer

from webapp.cli.common import fail


def prepare_model(
    cache_dir: Path | None = typer.Option(
        None, help="Model cache folder (default: SOCRATIC_MODEL_CACHE or ~/.socratic-studio/models)."
    ),
) -> None:
    """Convert the embedded SmolLM2 teacher to a safetensors folder, once.

    Example: socratic-studio prepare-model
    """
    from backend.teacher.default_model import prepare_default_model

    try:
        folder = prepare_default_model(cache_dir)
    except FileNotFoundError as error:
        fail(str(error))
    typer.echo(f"default teacher ready: {folder}")


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the root `socratic-studio` app."""
    app.command("prepare-model")(prepare_model)
