"""`socratic-studio demo build` and `demo status`: the page's "Build the demo students" from a script.

`build` starts the same chain job the page starts (backend.demo.chain) and prints where it stands as it
changes, or hands it to a background worker with --background; `status` prints the newest chain's state.
"""

import threading

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.demo.chain import ChainAlreadyActive, DemoChainConfig, start_demo_chain
from backend.demo.progress import ChainProgress, latest_chain
from backend.jobs.runner import run_job_in_foreground, spawn_job
from db.models import JobStatus
from webapp.cli.common import fail, state

app = typer.Typer(help="The demo students: a decomposer and a solver built by the product's own pipeline.")
POLL_S = 2.0


def status_line(progress: ChainProgress | None) -> str:
    """One plain line: the chain, its step and that step's own progress, or its outcome."""
    if progress is None:
        minutes = round(DemoChainConfig().expected_seconds() / 60)
        return f"no demo chain has run; `socratic-studio demo build` takes about {minutes} min"
    chain = progress.chain
    minutes = round(progress.elapsed_seconds() / 60)
    line = f"demo chain {chain.id} {chain.status} after {minutes} min: {chain.message or 'starting'}"
    step = progress.step_job
    if step is not None and (step.message or step.total):
        line += f" · {step.message or f'{step.done}/{step.total}'}"
    if chain.status == JobStatus.failed and chain.error:
        line += f"\n{chain.error.strip().splitlines()[-1]}"
    return line


def _current(engine: Engine) -> str:
    with Session(engine) as session:
        return status_line(latest_chain(session))


def _watch(engine: Engine, job_id: int) -> JobStatus:
    """Run the chain on a thread; print its status whenever it changes (Ctrl-C leaves it to a worker)."""
    outcome: dict[str, JobStatus] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(status=run_job_in_foreground(engine, job_id)), daemon=True
    )
    worker.start()
    shown = ""
    while worker.is_alive():
        worker.join(timeout=POLL_S)
        line = _current(engine)
        if line != shown:
            typer.echo(line)
            shown = line
    return outcome.get("status", JobStatus.failed)


@app.command("build", epilog="Example: socratic-studio demo build --background")
def build(
    ctx: typer.Context,
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
) -> None:
    """Build the demo students, as the Step through and Train pages' button does.

    The chain writes the teacher's rationales, freezes a set, trains a decomposer and a solver on it and
    measures their held-out accuracy; each step is a job that `socratic-studio jobs` shows.
    """
    cli = state(ctx)
    engine = cli.engine()
    config = DemoChainConfig()
    with Session(engine) as session:
        try:
            job = start_demo_chain(session, config=config)
        except ChainAlreadyActive as error:
            fail(f"{error}; follow it with: socratic-studio demo status")
        except ValueError as error:
            fail(str(error))
    assert job.id is not None
    minutes = round(config.expected_seconds() / 60)
    typer.echo(f"demo chain {job.id} started; it takes about {minutes} min")
    if background:
        spawn_job(job.id, database_url=cli.url, logs_dir=cli.settings.resolved_runs_dir / "logs")
        typer.echo("running in the background; follow it with: socratic-studio demo status")
        return
    if _watch(engine, job.id) != JobStatus.succeeded:
        raise typer.Exit(1)


@app.command("status", epilog="Example: socratic-studio demo status")
def status(ctx: typer.Context) -> None:
    """Where the newest demo chain stands: its step and that step's progress, or how it ended."""
    typer.echo(_current(state(ctx).engine()))
