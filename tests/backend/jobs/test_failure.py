"""A failed job shows its viewers one line, without traceback or server paths; its log keeps the rest."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import failure, runner, store
from db.models import JobKind, JobStatus

TRACEBACK = """Traceback (most recent call last):
  File "/home/studio/app/backend/jobs/runner.py", line 52, in run_job
    message = _load_handler(kind)(context)
FileNotFoundError: [Errno 2] No such file or directory: '/home/studio/.socratic-studio/runs/x/config.json'
job 3: database sqlite:////home/studio/.socratic-studio/studio.db"""


def test_one_line_names_the_error_without_paths() -> None:
    try:
        open("/srv/secret/place/missing.json")  # noqa: SIM115
    except OSError as error:
        line = failure.one_line(error)
    assert line == "FileNotFoundError: [Errno 2] No such file or directory: '.../missing.json'"
    assert failure.one_line(RuntimeError("first\n  second")) == "RuntimeError: first"
    assert len(failure.one_line(ValueError("x" * 5000))) == failure.MAX_CHARS


def test_a_stored_traceback_is_shown_as_its_exception_line() -> None:
    shown = failure.for_viewers(TRACEBACK)
    assert shown == "FileNotFoundError: [Errno 2] No such file or directory: '.../config.json'"
    assert failure.for_viewers("the worker ended\nlog tail /home/x/y") == "the worker ended"


def test_urls_keep_their_paths() -> None:
    assert failure.hide_paths("see http://host:8000/v1/models and /etc/app/conf") == (
        "see http://host:8000/v1/models and .../conf"
    )


def test_a_failing_job_stores_one_line_and_logs_its_traceback(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handlers = dict(runner.HANDLERS)
    handlers[JobKind.train] = "tests.backend.jobs.handlers_for_tests:explode"
    monkeypatch.setattr(runner, "HANDLERS", handlers)
    job_id = store.create_job(session, kind=JobKind.train, params={}).id or 0
    assert runner.run_job(engine, job_id) == JobStatus.failed
    session.expire_all()
    error = store.get_job(session, job_id=job_id).error or ""
    assert error == "RuntimeError: the handler broke"
    logged = capsys.readouterr().err  # a spawned worker's stderr is its log file
    assert "Traceback (most recent call last)" in logged and str(Path(runner.__file__).name) in logged


def test_an_orphaned_job_gets_one_line(session: Session, tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    log.write_text(TRACEBACK)
    job = store.create_job(session, kind=JobKind.train, params={})
    job.status, job.pid, job.log_path = JobStatus.running, 2**22 + 12345, str(log)  # no such process
    session.add(job)
    session.commit()
    assert store.reconcile_orphans(session) == [job.id]
    error = store.get_job(session, job_id=job.id or 0).error or ""
    assert "\n" not in error and "/home" not in error and "ended without finishing" in error
