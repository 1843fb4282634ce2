"""A job that runs other jobs in turn (the demo chain, a training round): each step is a job row of its
own that can be watched and cancelled, started in its own worker process; the chain waits for it, stops
when it fails or is cancelled, and passes its own cancellation on to the step that is running."""

import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.jobs import store
from backend.jobs.context import JobCancelled, JobContext
from db.models import JobStatus, ModelCheckpoint

POLL_S = 2.0
FINISHED = (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)

Spawn = Callable[[int], None]


def wait_for_step(context: JobContext, job_id: int, spawn: Spawn, label: str) -> None:
    """Run one step's job to its end; its failure or cancellation ends the chain, and cancelling the
    chain cancels it."""
    spawn(job_id)
    while True:
        with Session(context.engine) as session:
            job = store.get_job(session, job_id=job_id)
            if job.status in FINISHED:
                break
            if context.cancelled() and not job.cancel_requested:
                store.request_cancel(session, job_id=job_id)
        time.sleep(POLL_S)
    if job.status == JobStatus.cancelled:
        raise JobCancelled(f"{label} (job #{job_id}) was cancelled")
    if job.status == JobStatus.failed:
        raise RuntimeError(f"{label} (job #{job_id}) failed: {(job.error or '')[-500:]}")


def checkpoint_of(engine: Engine, training_run_id: int) -> int:
    """The checkpoint a finished training step registered."""
    with Session(engine) as session:
        checkpoint = session.exec(
            select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == training_run_id)
        ).first()
    if checkpoint is None or checkpoint.id is None:
        raise RuntimeError(f"training run {training_run_id} registered no checkpoint")
    return checkpoint.id


def spawner(context: JobContext) -> Spawn:
    """Start a step's job in a worker process of its own, logging where every job logs."""
    from backend.jobs.runner import spawn_job
    from db.settings import get_settings

    url = context.engine.url.render_as_string(hide_password=False)
    logs = get_settings().resolved_runs_dir / "logs"

    def spawn(job_id: int) -> None:
        spawn_job(job_id, database_url=url, logs_dir=logs)

    return spawn
