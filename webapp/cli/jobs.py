"""`socratic-studio jobs`: list, inspect, cancel and resume long-running jobs."""

import typer
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.runner import run_job_in_foreground
from db.models import JobKind
from webapp.cli.common import fail, state

app = typer.Typer(help="Watch and control generation, training and evaluation jobs.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: JobKind | None = typer.Option(None, help="generate, train, evaluate or import"),
    active: bool = typer.Option(False, help="only queued and running jobs"),
) -> None:
    """List recent jobs. Example: socratic-studio jobs list --active"""
    with Session(state(ctx).engine()) as session:
        jobs = store.list_jobs(session, kind=kind, active_only=active)
        store.fail_orphans_among(session, jobs)
        for job in jobs:
            progress = f"{job.done}/{job.total}" if job.total else "-"
            typer.echo(f"{job.id:>5}  {job.kind:<9} {job.status:<10} {progress:>11}  {job.message[:60]}")


@app.command("show")
def show(ctx: typer.Context, job_id: int) -> None:
    """Show one job with its parameters and error. Example: socratic-studio jobs show 3"""
    with Session(state(ctx).engine()) as session:
        try:
            job = store.get_job(session, job_id=job_id)
        except LookupError as error:
            fail(str(error))
        store.fail_orphans_among(session, [job])
        for name in ("id", "kind", "status", "done", "total", "message", "params", "log_path", "error"):
            typer.echo(f"{name:>9}: {getattr(job, name)}")


@app.command("cancel")
def cancel(ctx: typer.Context, job_id: int) -> None:
    """Ask a job to stop at its next boundary. Example: socratic-studio jobs cancel 3"""
    with Session(state(ctx).engine()) as session:
        try:
            job = store.request_cancel(session, job_id=job_id)
        except LookupError as error:
            fail(str(error))
        typer.echo(f"job {job.id}: cancel requested ({job.status})")


@app.command("resume")
def resume(ctx: typer.Context, job_id: int) -> None:
    """Run a failed or cancelled job again; what it already stored is skipped.

    Example: socratic-studio jobs resume 3
    """
    engine = state(ctx).engine()
    with Session(engine) as session:
        try:
            store.reset_for_resume(session, job_id=job_id)
        except (LookupError, ValueError) as error:
            fail(str(error))
    status = run_job_in_foreground(engine, job_id)
    typer.echo(f"job {job_id} ended: {status}")
    if status == "failed":
        raise typer.Exit(1)
