import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.jobs import runner, store
from db.models import Job, JobKind, JobStatus


@pytest.fixture
def test_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    handlers = dict(runner.HANDLERS)
    handlers[JobKind.generate] = "tests.backend.jobs.handlers_for_tests:count_to"
    handlers[JobKind.train] = "tests.backend.jobs.handlers_for_tests:explode"
    monkeypatch.setattr(runner, "HANDLERS", handlers)


def _job(session: Session, kind: JobKind, **params: object) -> int:
    job = store.create_job(session, kind=kind, params=dict(params))
    assert job.id is not None
    return job.id


def test_run_job_records_progress_and_success(engine, session, test_handlers):
    job_id = _job(session, JobKind.generate, total=3)
    assert runner.run_job(engine, job_id) == JobStatus.succeeded
    session.expire_all()
    job = store.get_job(session, job_id=job_id)
    assert (job.status, job.done, job.total, job.message) == (JobStatus.succeeded, 3, 3, "counted to 3")
    assert job.started_at is not None and job.finished_at is not None


def test_a_failing_handler_marks_the_job_failed_with_its_error(engine, session, test_handlers):
    job_id = _job(session, JobKind.train)
    assert runner.run_job(engine, job_id) == JobStatus.failed
    session.expire_all()
    job = store.get_job(session, job_id=job_id)
    assert job.status == JobStatus.failed and "the handler broke" in (job.error or "")


def test_cancel_before_start_and_resume(engine, session, test_handlers):
    job_id = _job(session, JobKind.generate, total=2)
    store.request_cancel(session, job_id=job_id)
    assert runner.run_job(engine, job_id) == JobStatus.cancelled
    store.reset_for_resume(session, job_id=job_id)
    assert runner.run_job(engine, job_id) == JobStatus.succeeded


def test_resume_refuses_a_running_job(session):
    job_id = _job(session, JobKind.generate, total=1)
    job = session.get(Job, job_id)
    assert job is not None
    job.status = JobStatus.running
    session.add(job)
    session.commit()
    with pytest.raises(ValueError, match="only finished jobs"):
        store.reset_for_resume(session, job_id=job_id)


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _spawn_counting_worker(engine, session, tmp_path: Path, **params: object) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A real worker subprocess whose handler is the test counter (set through a sitecustomize-free hook)."""
    job_id = _job(session, JobKind.generate, **params)
    log = tmp_path / f"job-{job_id}.log"
    code = (
        "import sys; from backend.jobs import runner, worker; "
        "runner.HANDLERS[runner.JobKind.generate] = 'tests.backend.jobs.handlers_for_tests:count_to'; "
        "sys.exit(worker.main(sys.argv[1:]))"
    )
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-c", code, str(job_id), "--log", str(log)],
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "SOCRATIC_DATABASE_URL": str(engine.url)},  # as spawn_job does: never argv
    )
    return job_id, process.pid


def test_worker_subprocess_is_cancelled_at_a_boundary(engine, session, tmp_path):
    job_id, _pid = _spawn_counting_worker(engine, session, tmp_path, total=500, sleep=0.05)

    def running() -> bool:
        session.expire_all()
        return store.get_job(session, job_id=job_id).done > 2

    _wait_for(running)
    store.request_cancel(session, job_id=job_id)

    def finished() -> bool:
        session.expire_all()
        return store.get_job(session, job_id=job_id).status == JobStatus.cancelled

    _wait_for(finished)


def test_a_killed_worker_is_found_and_marked_failed_with_its_log_tail(engine, session, tmp_path):
    job_id, pid = _spawn_counting_worker(engine, session, tmp_path, total=500, sleep=0.05)

    def running() -> bool:
        session.expire_all()
        return store.get_job(session, job_id=job_id).done > 2

    _wait_for(running)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert store.reconcile_orphans(session) == [job_id]
    job = store.get_job(session, job_id=job_id)
    assert job.status == JobStatus.failed
    assert "ended without finishing" in (job.error or "")


def test_a_terminated_worker_records_the_failure_itself(engine, session, tmp_path):
    job_id, pid = _spawn_counting_worker(engine, session, tmp_path, total=500, sleep=0.05)

    def running() -> bool:
        session.expire_all()
        return store.get_job(session, job_id=job_id).done > 2

    _wait_for(running)
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    session.expire_all()
    job = store.get_job(session, job_id=job_id)
    assert job.status == JobStatus.failed and "terminated by signal" in (job.error or "")


def test_a_worker_that_dies_before_starting_is_not_left_queued(engine, session, tmp_path):
    job_id = _job(session, JobKind.generate, total=1)
    # Killed at once, before it can mark the job started (as if it crashed while importing).
    process = runner.spawn_job(job_id, database_url=str(engine.url), logs_dir=tmp_path)
    session.expire_all()
    assert store.get_job(session, job_id=job_id).pid == process.pid
    process.kill()
    process.wait()
    assert store.reconcile_orphans(session) == [job_id]
    job = store.get_job(session, job_id=job_id)
    assert job.status == JobStatus.failed


def test_a_queued_job_never_spawned_is_left_for_its_runner(session):
    job_id = _job(session, JobKind.generate, total=1)
    assert store.reconcile_orphans(session) == []
    assert store.get_job(session, job_id=job_id).status == JobStatus.queued


def test_reconcile_also_fails_the_training_run_of_a_killed_job(session):
    from db.models import CuratedSet, StudentKind, TrainingRun
    from tests.factories import make_dataset

    job_id = _job(session, JobKind.train)
    make_dataset(session)
    curated = CuratedSet(name="s")
    session.add(curated)
    session.commit()
    assert curated.id is not None
    run = TrainingRun(
        name="r", job_id=job_id, set_id=curated.id, student_kind=StudentKind.cot, base_model="x"
    )
    run.status = JobStatus.running
    job = store.get_job(session, job_id=job_id)
    job.status, job.pid = JobStatus.running, 2**22 + 12345  # no such process
    session.add_all([run, job])
    session.commit()
    assert store.reconcile_orphans(session) == [job_id]
    session.refresh(run)
    assert run.status == JobStatus.failed


def test_a_dead_worker_that_its_parent_never_waited_for_counts_as_gone():
    """The web server spawns workers and never waits for them: a dead one lingers as a zombie."""
    zombie = subprocess.Popen(["true"])
    time.sleep(0.5)  # it has exited, and nobody has reaped it
    try:
        assert not store._process_alive(zombie.pid)
        assert store._process_alive(os.getpid())
    finally:
        zombie.wait()


def test_a_worker_killed_while_the_server_runs_shows_failed_on_the_next_look(session):
    """Not only after a restart: the jobs a page or the CLI lists are checked before they are shown."""
    dead, live = _job(session, JobKind.train), _job(session, JobKind.evaluate)
    for job_id, pid in ((dead, 2**22 + 12345), (live, os.getpid())):  # no such process; this one
        job = store.get_job(session, job_id=job_id)
        job.status, job.pid = JobStatus.running, pid
        session.add(job)
    session.commit()
    store.fail_orphans_among(session, store.list_jobs(session))
    session.expire_all()
    assert store.get_job(session, job_id=dead).status == JobStatus.failed
    assert store.get_job(session, job_id=live).status == JobStatus.running
