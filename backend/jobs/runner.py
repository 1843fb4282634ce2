"""Run a job in this process (CLI foreground) or spawn it as a worker subprocess (web app)."""

import importlib
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.allocator import job_environment, tune_this_process
from backend.jobs.context import JobCancelled, JobContext
from db.engine import open_database
from db.models import JobKind, JobStatus
from db.settings import get_settings

# Each kind's handler, imported only when a job of that kind runs (they pull in torch, vLLM, ...).
HANDLERS: dict[JobKind, str] = {
    JobKind.generate: "backend.teacher.job:run_generation_job",
    JobKind.train: "backend.training.job:run_training_job",
    JobKind.evaluate: "backend.evaluation.job:run_evaluation_job",
    JobKind.import_data: "backend.importers.job:run_import_job",
    JobKind.demo: "backend.demo_chain:run_demo_chain_job",
}

Handler = Callable[[JobContext], str]
DATABASE_URL_ENV = "SOCRATIC_DATABASE_URL"  # how a worker learns its database (the settings read it too)


def _load_handler(kind: JobKind) -> Handler:
    module_name, func_name = HANDLERS[kind].split(":")
    handler: Handler = getattr(importlib.import_module(module_name), func_name)
    return handler


def run_job(engine: Engine, job_id: int, *, log_path: str | None = None) -> JobStatus:
    """Run the job to its end in this process and record how it ended; never raises for job errors."""
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
        kind, params = job.kind, dict(job.params)
        if job.status == JobStatus.cancelled:
            return JobStatus.cancelled
    store.mark_started(engine, job_id=job_id, log_path=log_path)
    context = JobContext(engine=engine, job_id=job_id, params=params)
    try:
        message = _load_handler(kind)(context)
    except JobCancelled:
        store.mark_finished(engine, job_id=job_id, status=JobStatus.cancelled, message="cancelled")
        return JobStatus.cancelled
    except BaseException as error:  # KeyboardInterrupt too: the row must not stay "running"
        detail = "".join(traceback.format_exception(error))
        tail = store.read_log_tail(log_path)
        store.mark_finished(engine, job_id=job_id, status=JobStatus.failed, error=f"{detail}\n{tail}".strip())
        if not isinstance(error, Exception):
            raise
        return JobStatus.failed
    status = JobStatus.cancelled if context.cancelled() else JobStatus.succeeded
    store.mark_finished(engine, job_id=job_id, status=status, message=message)
    return status


def run_job_in_foreground(engine: Engine, job_id: int) -> JobStatus:
    """run_job for the CLI's foreground runs: the process's malloc is tuned first, as a spawned job's is."""
    tune_this_process(get_settings().allocator)
    return run_job(engine, job_id)


def spawn_job(job_id: int, *, database_url: str, logs_dir: Path) -> subprocess.Popen[bytes]:
    """Start `python -m backend.jobs.worker` for the job, detached from the web server's lifetime.

    List arguments (never a shell); output goes to a per-job log file whose tail is kept on failure.
    The database URL (it may hold a password) goes through the environment, never the command line,
    which any user of the machine can read in `ps`. The child's pid is stored at once, so a worker
    that dies before it starts is still found later.
    """
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = logs_dir / f"job-{job_id}.log"
    command = [sys.executable, "-m", "backend.jobs.worker", str(job_id), "--log", str(log_path)]
    # The job's process gets a caching memory allocator where the machine has one (backend.jobs.allocator).
    environment = job_environment(get_settings().allocator, {**os.environ, DATABASE_URL_ENV: database_url})
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,  # a restarted server neither kills nor orphans the job's process
        )
    store.record_spawn(open_database(database_url), job_id=job_id, pid=process.pid, log_path=str(log_path))
    return process
