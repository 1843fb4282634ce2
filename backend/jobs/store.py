"""Job rows: create, report progress, cancel, finish, and find orphans after a restart."""

import os
import socket
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.display.masking import mask_secrets
from db.models import EvalRun, Job, JobKind, JobStatus, TrainingRun, utcnow

LOG_TAIL_CHARS = 4000


def create_job(
    session: Session, *, kind: JobKind, params: dict[str, Any], created_by_id: int | None = None
) -> Job:
    job = Job(kind=kind, params=params, created_by_id=created_by_id)
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def create_linked_job(
    session: Session,
    *,
    kind: JobKind,
    run: TrainingRun | EvalRun,
    param_name: str,
    created_by_id: int | None = None,
) -> Job:
    """The job that runs a training or evaluation run, linked both ways and committed; the run and the
    job are refreshed so both stay usable after the caller's session closes."""
    job = create_job(session, kind=kind, params={param_name: run.id}, created_by_id=created_by_id)
    run.job_id = job.id
    session.add(run)
    session.commit()
    session.refresh(run)
    session.refresh(job)
    return job


def get_job(session: Session, *, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise LookupError(f"no job with id {job_id}")
    return job


def list_jobs(
    session: Session, *, kind: JobKind | None = None, active_only: bool = False, limit: int = 50
) -> Sequence[Job]:
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if active_only:
        query = query.where(col(Job.status).in_([JobStatus.queued, JobStatus.running]))
    return session.exec(query).all()


def mark_started(engine: Engine, *, job_id: int, log_path: str | None) -> None:
    with Session(engine) as session:
        job = get_job(session, job_id=job_id)
        job.status = JobStatus.running
        job.pid = os.getpid()
        job.hostname = socket.gethostname()
        job.started_at = job.heartbeat_at = utcnow()
        job.log_path = log_path or job.log_path
        job.error = None
        session.add(job)
        session.commit()


def record_spawn(engine: Engine, *, job_id: int, pid: int, log_path: str) -> None:
    """Remember the worker process of a queued job (it sets its own pid again when it starts)."""
    with Session(engine) as session:
        job = get_job(session, job_id=job_id)
        if job.status == JobStatus.queued:
            job.pid, job.hostname, job.log_path = pid, socket.gethostname(), log_path
            session.add(job)
            session.commit()


def report_progress(engine: Engine, *, job_id: int, done: int, total: int, message: str = "") -> bool:
    """Store progress and a heartbeat; returns True when a cancel was requested (checked at the same time)."""
    with Session(engine) as session:
        job = get_job(session, job_id=job_id)
        job.done, job.total = done, total
        if message:
            job.message = message
        job.heartbeat_at = utcnow()
        session.add(job)
        session.commit()
        return job.cancel_requested


def cancel_requested(engine: Engine, *, job_id: int) -> bool:
    with Session(engine) as session:
        return get_job(session, job_id=job_id).cancel_requested


def request_cancel(session: Session, *, job_id: int) -> Job:
    """Ask a job to stop at its next batch or step boundary; a queued job is cancelled at once."""
    job = get_job(session, job_id=job_id)
    if job.status == JobStatus.queued:
        job.status = JobStatus.cancelled
        job.finished_at = utcnow()
    job.cancel_requested = True
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def mark_finished(
    engine: Engine, *, job_id: int, status: JobStatus, message: str = "", error: str | None = None
) -> None:
    with Session(engine) as session:
        job = get_job(session, job_id=job_id)
        job.status = status
        job.finished_at = utcnow()
        job.pid = None
        if message:
            job.message = mask_secrets(message)
        if error is not None:
            job.error = mask_secrets(error)  # a traceback may quote a connection URL
        session.add(job)
        session.commit()


def reset_for_resume(session: Session, *, job_id: int) -> Job:
    """Put a failed or cancelled job back, queued; its handler skips what is already stored. It is not in
    line for a worker (backend.jobs.queue) until spawn_job puts it there; the CLI runs it itself."""
    job = get_job(session, job_id=job_id)
    if job.status in (JobStatus.running, JobStatus.queued):
        raise ValueError(f"job {job_id} is {job.status}; only finished jobs can be resumed")
    job.status, job.cancel_requested, job.error, job.finished_at = JobStatus.queued, False, None, None
    job.pid, job.hostname = None, None  # out of any line: spawn_job puts it back in
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def read_log_tail(log_path: str | None, chars: int = LOG_TAIL_CHARS) -> str:
    """The end of a job's log, with passwords in URLs masked (it is stored and shown in the page)."""
    if not log_path or not os.path.exists(log_path):
        return ""
    with open(log_path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - chars))
        return mask_secrets(handle.read().decode("utf-8", errors="replace"))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A worker the running web server spawned and that died stays a zombie until the server exits (it
    # never waits for its children): signal 0 still reaches it, /proc says it is dead.
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (not Linux): signal 0 is all there is


def _fail_linked_runs(session: Session, *, job_id: int | None) -> None:
    """A training or evaluation run shows its job's fate: a killed worker never updated it itself."""
    runs: list[TrainingRun | EvalRun] = [
        *session.exec(select(TrainingRun).where(TrainingRun.job_id == job_id)).all(),
        *session.exec(select(EvalRun).where(EvalRun.job_id == job_id)).all(),
    ]
    for run in runs:
        if not JobStatus(run.status).finished:
            run.status = JobStatus.failed
            session.add(run)


def fail_if_orphaned(session: Session, job: Job) -> bool:
    """Mark an unfinished job failed, with its log tail, when its worker process is gone (True); the
    caller commits. Workers on another machine, live workers and never-spawned queued jobs are left."""
    if job.hostname not in (None, socket.gethostname()):
        return False  # a worker on another machine: its liveness cannot be checked from here
    never_spawned = job.status == JobStatus.queued and job.pid is None
    if never_spawned or (job.pid is not None and _process_alive(job.pid)):
        return False
    job.status = JobStatus.failed
    job.finished_at = utcnow()
    # One line for viewers: the log file keeps what the worker wrote before it ended.
    job.error = "the worker process ended without finishing (killed, or a server or machine restart)"
    session.add(job)
    _fail_linked_runs(session, job_id=job.id)
    return True


def fail_orphans_among(session: Session, jobs: Sequence[Job]) -> None:
    """The jobs a page or the CLI is about to show, their dead workers' rows marked failed first: a
    worker killed while the server runs (out of memory, `kill`) would otherwise show "running" until the
    next restart."""
    if any(fail_if_orphaned(session, job) for job in jobs if not JobStatus(job.status).finished):
        session.commit()


def reconcile_orphans(session: Session) -> list[int]:
    """After a server restart: jobs whose worker process is gone are marked failed with their log tail.

    That covers running jobs and queued jobs whose spawned worker died before it could start. Jobs whose
    worker is still alive are left alone: the page simply reattaches by polling their row. A queued job
    with no pid was never spawned (a CLI job waiting to run) and is left alone too.
    """
    candidates = session.exec(
        select(Job).where(col(Job.status).in_([JobStatus.running, JobStatus.queued]))
    ).all()
    orphaned = [job.id for job in candidates if fail_if_orphaned(session, job)]
    session.commit()
    return [job_id for job_id in orphaned if job_id is not None]
