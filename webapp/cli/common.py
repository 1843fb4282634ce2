"""What every subcommand shares: the database chosen by --db / SOCRATIC_DATABASE_URL."""

import json
from dataclasses import dataclass
from typing import NoReturn

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.runner import run_job_in_foreground, spawn_job
from backend.queries.filters import RationaleFilter
from db.engine import open_database
from db.models import JobStatus
from db.settings import Settings, get_settings


@dataclass
class CliState:
    database_url: str | None = None

    @property
    def settings(self) -> Settings:
        return get_settings()

    @property
    def url(self) -> str:
        return self.database_url or self.settings.resolved_database_url

    def engine(self) -> Engine:
        return open_database(self.url)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def rationale_filter_option(text: str | None) -> RationaleFilter | None:
    """The rationale filter `--filter-json` gives (None without one); a clear error for bad JSON, an
    unknown field or a wrong value type."""
    if text is None:
        return None
    try:
        return RationaleFilter.from_json(json.loads(text))
    except (ValueError, TypeError) as error:
        fail(f"--filter-json: {error}")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error (no traceback) and exit non-zero."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run_or_spawn(engine: Engine, job_id: int, *, background: bool) -> JobStatus | None:
    """Run the job here, or spawn its worker and say how to follow it."""
    if background:
        from db.settings import get_settings

        logs_dir = get_settings().resolved_runs_dir / "logs"
        url = engine.url.render_as_string(hide_password=False)
        process = spawn_job(job_id, database_url=url, logs_dir=logs_dir)
        log = logs_dir / f"job-{job_id}.log"
        where = f"started in the background (pid {process.pid})" if process else "waits for a free slot"
        typer.echo(f"job {job_id} {where}; log: {log}")
        typer.echo(f"follow it with: socratic-studio jobs show {job_id}")
        return None
    status = run_job_in_foreground(engine, job_id)
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
        typer.echo(f"job {job_id} {status}: {job.message or ''}")
        if status == JobStatus.failed:
            fail((job.error or "failed").strip().splitlines()[-1])
    return status
