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

from backend.jobs import failure, queue, store
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
    JobKind.demo: "backend.demo.chain:run_demo_chain_job",
    JobKind.round: "backend.rounds.chain:run_round_job",
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
        # The traceback goes to the job's log (stderr; admins read it), the row gets one line for viewers.
        traceback.print_exception(error, file=sys.stderr)
        sys.stderr.flush()
        store.mark_finished(engine, job_id=job_id, status=JobStatus.failed, error=failure.one_line(error))
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


def spawn_job(job_id: int, *, database_url: str, logs_dir: Path) -> subprocess.Popen[bytes] | None:
    """Put the job in line for a worker process and start whatever the line allows (backend.jobs.queue):
    its process when its kind has a free slot, else None (it starts when a running job of its kind ends)."""
    logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # logs quote paths and tracebacks
    engine = open_database(database_url)
    queue.wait_in_line(engine, job_id=job_id, log_path=str(logs_dir / f"job-{job_id}.log"))
    return start_waiting(engine, database_url=database_url).get(job_id)


def start_waiting(engine: Engine, *, database_url: str) -> dict[int, subprocess.Popen[bytes]]:
    """Start the jobs in line that have a free slot, oldest first within each kind; their processes."""
    settings = get_settings()
    with Session(engine) as session:
        line = [(job.id or 0, job.kind, job.log_path or "") for job in queue.waiting_jobs(session, here=True)]
    started: dict[int, subprocess.Popen[bytes]] = {}
    full: set[JobKind] = set()
    for job_id, kind, log_path in line:
        if kind in full:
            continue
        if not queue.claim_slot(engine, job_id=job_id, kind=kind, cap=settings.running_job_cap(kind.value)):
            full.add(kind)  # its older jobs hold the slots: the younger ones wait too
            continue
        process = _launch(engine, job_id, database_url=database_url, log_path=Path(log_path))
        if process is not None:
            started[job_id] = process
    return started


def _launch(
    engine: Engine, job_id: int, *, database_url: str, log_path: Path
) -> subprocess.Popen[bytes] | None:
    """Start `python -m backend.jobs.worker` for a job that holds a slot, detached from the web server.

    List arguments (never a shell); output goes to the job's log file, which keeps the full traceback of a
    failure. The database URL (it may hold a password) goes through the environment, never the command
    line, which any user of the machine can read in `ps`. The child's pid is stored at once, so a worker
    that dies before it starts is still found later.
    """
    command = [sys.executable, "-m", "backend.jobs.worker", str(job_id), "--log", str(log_path)]
    # The job's process gets a caching memory allocator where the machine has one (backend.jobs.allocator).
    environment = job_environment(get_settings().allocator, {**os.environ, DATABASE_URL_ENV: database_url})
    try:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=environment,
                start_new_session=True,  # a restarted server neither kills nor orphans the job's process
            )
    except OSError as error:  # no such interpreter, out of processes: the slot is given back
        store.mark_finished(
            engine,
            job_id=job_id,
            status=JobStatus.failed,
            error=f"the job's worker could not start ({error.strerror})",
        )
        return None
    store.record_spawn(engine, job_id=job_id, pid=process.pid, log_path=str(log_path))
    return process
