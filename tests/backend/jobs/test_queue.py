"""At most the configured number of jobs of a kind run at once: the rest wait in line as queued, show
their place, and start when a running one ends; claims racing from several processes never exceed the
cap; a job run in the CLI's foreground is never started from the line."""

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import queue, runner, store, worker
from db.engine import make_engine
from db.models import JobKind, JobStatus
from db.settings import DEFAULT_MAX_RUNNING_JOBS, get_settings


@pytest.fixture
def caps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SOCRATIC_MAX_RUNNING_JOBS", '{"train": 1, "generate": 2}')
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class Launches:
    """runner._launch without processes: records which jobs were started, as the real one marks them."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def __call__(self, engine: Engine, job_id: int, *, database_url: str, log_path: Path) -> Any:
        self.started.append(job_id)
        store.record_spawn(engine, job_id=job_id, pid=os.getpid(), log_path=str(log_path))
        return f"process of job {job_id}"


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Launches:
    fake = Launches()
    monkeypatch.setattr(runner, "_launch", fake)
    monkeypatch.setattr(runner, "open_database", lambda url: engine)
    return fake


def _jobs(session: Session, kind: JobKind, count: int) -> list[int]:
    return [store.create_job(session, kind=kind, params={}).id or 0 for _ in range(count)]


def _spawn(engine: Engine, job_id: int, tmp_path: Path) -> Any:
    return runner.spawn_job(job_id, database_url=str(engine.url), logs_dir=tmp_path / "logs")


def _finish(engine: Engine, job_id: int) -> None:
    store.mark_started(engine, job_id=job_id, log_path=None)
    store.mark_finished(engine, job_id=job_id, status=JobStatus.succeeded)


def test_jobs_over_the_cap_wait_in_line_and_start_when_one_ends(
    engine: Engine, session: Session, tmp_path: Path, caps: None, launches: Launches
) -> None:
    first, second, third = _jobs(session, JobKind.train, 3)
    assert _spawn(engine, first, tmp_path) == f"process of job {first}"
    assert _spawn(engine, second, tmp_path) is None and _spawn(engine, third, tmp_path) is None
    assert launches.started == [first]
    session.expire_all()
    assert [store.get_job(session, job_id=i).status for i in (second, third)] == [JobStatus.queued] * 2
    assert queue.places_in_line(session) == {second: 1, third: 2}

    _finish(engine, first)
    assert list(runner.start_waiting(engine, database_url=str(engine.url))) == [second]
    assert queue.places_in_line(session) == {third: 1}
    assert runner.start_waiting(engine, database_url=str(engine.url)) == {}  # second still holds the slot


def test_each_kind_has_its_own_cap(
    engine: Engine, session: Session, tmp_path: Path, caps: None, launches: Launches
) -> None:
    trains, generations = _jobs(session, JobKind.train, 2), _jobs(session, JobKind.generate, 3)
    for job_id in trains + generations:
        _spawn(engine, job_id, tmp_path)
    assert launches.started == [trains[0], *generations[:2]]
    assert queue.places_in_line(session) == {trains[1]: 1, generations[2]: 1}


def test_a_job_ending_in_its_worker_starts_the_next_one(
    engine: Engine, session: Session, tmp_path: Path, caps: None, launches: Launches, monkeypatch
) -> None:
    handlers = dict(runner.HANDLERS)
    handlers[JobKind.train] = "tests.backend.jobs.handlers_for_tests:explode"  # ends (failing) at once
    monkeypatch.setattr(runner, "HANDLERS", handlers)
    monkeypatch.setattr(worker, "open_database", lambda url: engine)
    first, second = _jobs(session, JobKind.train, 2)
    _spawn(engine, first, tmp_path)
    _spawn(engine, second, tmp_path)
    assert launches.started == [first]
    assert worker.main([str(first)]) == 1  # the worker process's main, run here
    assert launches.started == [first, second]


def test_cli_foreground_jobs_and_cancelled_ones_are_never_started_from_the_line(
    engine: Engine, session: Session, tmp_path: Path, caps: None, launches: Launches
) -> None:
    _jobs(session, JobKind.generate, 1)  # created; the CLI runs it in its own process
    running = _jobs(session, JobKind.generate, 2)
    for job_id in running:
        _spawn(engine, job_id, tmp_path)
    cancelled = _jobs(session, JobKind.generate, 1)[0]
    _spawn(engine, cancelled, tmp_path)  # waits: both slots are taken
    store.request_cancel(session, job_id=cancelled)
    _finish(engine, running[0])
    runner.start_waiting(engine, database_url=str(engine.url))
    assert launches.started == running  # neither the foreground job nor the cancelled one
    store.reset_for_resume(session, job_id=running[0])  # the CLI's resume runs it in the foreground
    assert not queue.is_waiting(store.get_job(session, job_id=running[0]))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def any_engine(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    """The test's SQLite database, or (slow) a new database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return engine
    from db.migrate import upgrade_to_head
    from tests.reliability.pg_server import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    request.addfinalizer(server.stop)
    postgres = make_engine(server.create_database("queue_race"))
    upgrade_to_head(postgres)
    return postgres


def _race(engine: Engine, jobs: list[int], cap: int) -> list[int]:
    """Each job claimed at the same moment through its own engine (as separate processes would)."""
    engines = [make_engine(str(engine.url)) for _ in jobs]
    barrier = threading.Barrier(len(jobs))
    won: list[int] = []

    def claim(job_id: int, own: Engine) -> None:
        barrier.wait()
        if queue.claim_slot(own, job_id=job_id, kind=JobKind.evaluate, cap=cap):
            won.append(job_id)

    threads = [threading.Thread(target=claim, args=pair) for pair in zip(jobs, engines, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won


def test_racing_claims_never_exceed_the_cap(tmp_path: Path, any_engine: Engine) -> None:
    engine, session = any_engine, Session(any_engine)
    for cap in (1, 2):
        jobs = _jobs(session, JobKind.evaluate, 8)
        for job_id in jobs:
            queue.wait_in_line(engine, job_id=job_id, log_path=str(tmp_path / f"{job_id}.log"))
        won = _race(engine, jobs, cap)
        assert len(won) == cap, won
        for job_id in jobs:  # end this round: every job finished
            store.mark_finished(engine, job_id=job_id, status=JobStatus.cancelled)


def test_every_job_kind_has_a_default_cap() -> None:
    assert set(DEFAULT_MAX_RUNNING_JOBS) == {kind.value for kind in JobKind}
    assert DEFAULT_MAX_RUNNING_JOBS["train"] == 1
