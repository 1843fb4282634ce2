"""`socratic-studio round`: one training round from the command line (backend.rounds.chain), the same job
the Train page's "Round" starts."""

from typing import Any

import typer
from sqlmodel import Session

from backend.rounds.chain import start_round
from backend.rounds.config import RoundConfig
from webapp.cli.common import fail, run_or_spawn, state
from webapp.cli.config_options import config_command

ROUND_EXAMPLE = (
    "socratic-studio round --student gsm8k-cot-2 --samples 4 --temperature 0.7 --rationalize "
    "--eval-dataset gsm8k --eval-split test"
)


@config_command(RoundConfig)
def round_command(
    ctx: typer.Context,
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
    **fields: Any,
) -> None:
    """A round: the student samples its set's questions k times, the correct samples join the set, the
    next student trains on it, and both are evaluated and compared with an exact McNemar test."""
    engine = state(ctx).engine()
    try:
        config = RoundConfig(**fields)
        with Session(engine) as session:
            job = start_round(session, config=config)
    except (ValueError, LookupError) as error:
        fail(str(error))
    assert job.id is not None
    typer.echo(f"round {job.id} started: each step is a job that `socratic-studio jobs list` shows")
    run_or_spawn(engine, job.id, background=background)


def register(app: typer.Typer) -> None:
    app.command("round", epilog=f"Example: {ROUND_EXAMPLE}")(round_command)
