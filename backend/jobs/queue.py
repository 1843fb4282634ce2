"""The line of jobs waiting for a worker: at most `settings.running_job_cap(kind)` jobs of a kind run at once.

A job handed to spawn_job waits in line: its row is `queued` with no pid, and the host whose processes
will start it and the log its worker will write already set (a queued row without them is a CLI job run
in the foreground, or one not handed over yet: never started from the line). A slot is
claimed by one conditional UPDATE that gives the row a pid only while fewer than the cap of its kind are
running or claimed (`queued` with a pid: spawned, not yet started), so two processes starting jobs at the
same moment never exceed the cap: SQLite runs each write statement under its one write lock, and on
PostgreSQL the claim first takes a transaction-scoped advisory lock (READ COMMITTED would otherwise let two
claims count the same rows). Until its worker process replaces it, the claimed row holds the claiming
process's pid, so a claimer that dies in between leaves an orphan that backend.jobs.store marks failed.

Whatever frees a slot starts the line again: a job's worker when it ends, the server at start, and the
job tables a page polls (a worker killed outright tells nobody).
"""

import os
import socket
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from db.models import Job, JobKind, JobStatus

ADVISORY_LOCK_KEY = 0x50C7A71C  # any constant: the key of PostgreSQL's lock around claims


def is_waiting(job: Job) -> bool:
    """In line for a worker, not spawned yet."""
    return job.status == JobStatus.queued and job.pid is None and None not in (job.hostname, job.log_path)


def _waiting_clause() -> ColumnElement[bool]:
    return and_(
        col(Job.status) == JobStatus.queued,
        col(Job.pid).is_(None),
        col(Job.hostname).is_not(None),
        col(Job.log_path).is_not(None),
    )


def wait_in_line(engine: Engine, *, job_id: int, log_path: str) -> None:
    """Put a queued job in line for a worker (a job that is not queued any more is left alone)."""
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == JobStatus.queued, col(Job.pid).is_(None))
            .values(log_path=log_path, hostname=socket.gethostname())
        )


def _lock_claims(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def claim_slot(engine: Engine, *, job_id: int, kind: JobKind, cap: int) -> bool:
    """Give the waiting job a slot if its kind has one free (True), in one atomic statement."""
    holding = or_(
        col(Job.status) == JobStatus.running,
        and_(col(Job.status) == JobStatus.queued, col(Job.pid).is_not(None)),
    )
    in_use = select(func.count()).select_from(Job).where(col(Job.kind) == kind, holding).scalar_subquery()
    claim = update(Job).where(col(Job.id) == job_id, _waiting_clause(), in_use < cap).values(pid=os.getpid())
    with engine.begin() as connection:  # a fresh transaction: its first statement is the write
        _lock_claims(connection)
        return connection.execute(claim).rowcount == 1


def waiting_jobs(session: Session, *, here: bool = False) -> Sequence[Job]:
    """Every job in line, oldest first (`here`: only those this machine starts; their logs are here)."""
    query = select(Job).where(_waiting_clause()).order_by(col(Job.id))
    if here:
        query = query.where(col(Job.hostname) == socket.gethostname())
    return session.scalars(query).all()


def places_in_line(session: Session) -> dict[int, int]:
    """job id -> its place in its kind's line (1: starts next)."""
    places: dict[int, int] = {}
    counts: dict[JobKind, int] = {}
    for job in waiting_jobs(session):
        counts[job.kind] = counts.get(job.kind, 0) + 1
        places[job.id or 0] = counts[job.kind]
    return places
