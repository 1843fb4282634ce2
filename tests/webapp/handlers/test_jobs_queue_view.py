"""The jobs table shows jobs over the running cap as queued with their place in line (and its poll starts
the next one when a worker died); a viewer reads a failure as one line, an admin also the log's tail."""

import os
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from sqlmodel import Session

from backend.jobs import queue, runner, store
from db.models import JobKind, JobStatus, User
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.jobs import JobHandlers

TRACEBACK = """Traceback (most recent call last):
  File "/home/studio/app/backend/training/job.py", line 88, in run_training_job
    raise ValueError(f"no checkpoint in {path}")
ValueError: no checkpoint in /home/studio/.socratic-studio/runs/run-4"""


def _line(session: Session, engine: Any, tmp_path: Path, count: int) -> list[int]:
    ids = [store.create_job(session, kind=JobKind.train, params={}).id or 0 for _ in range(count)]
    for job_id in ids:
        queue.wait_in_line(engine, job_id=job_id, log_path=str(tmp_path / f"job-{job_id}.log"))
    return ids


def test_jobs_over_the_cap_show_their_place_and_start_when_the_slot_frees(
    app: AppContext, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = store.create_job(session, kind=JobKind.train, params={})
    running.status, running.pid = JobStatus.running, os.getpid()  # a live worker holds the one slot
    session.add(running)
    session.commit()
    second, third = _line(session, app.engine, tmp_path, 2)
    started: list[int] = []

    def launch(engine: Any, job_id: int, **_: Any) -> str:
        started.append(job_id)
        store.record_spawn(engine, job_id=job_id, pid=os.getpid(), log_path="x.log")
        return "process"

    monkeypatch.setattr(runner, "_launch", launch)
    handlers = JobHandlers(app, (JobKind.train,))
    table = handlers.table()["value"]
    assert list(table["status"]) == ["queued (#2 in line)", "queued (#1 in line)", "running"]
    assert started == []

    running.pid = 2**22 + 12345  # its worker was killed: nobody started the next job
    session.add(running)
    session.commit()
    table = handlers.table()["value"]
    assert started == [second]
    assert list(table["status"]) == ["queued (#1 in line)", "queued", "failed"]
    assert third not in started


def test_a_viewer_reads_a_failure_as_one_line_an_admin_the_log(
    auth_app: AppContext, users: dict[str, User], session: Session, tmp_path: Path
) -> None:
    log = tmp_path / "job.log"
    log.write_text(f"job 1: database sqlite:////home/studio/studio.db\n{TRACEBACK}\n")
    job = store.create_job(session, kind=JobKind.train, params={})
    job.status, job.error, job.log_path = JobStatus.failed, f"{TRACEBACK}\n(log tail)", str(log)
    session.add(job)
    session.commit()
    handlers = JobHandlers(auth_app, (JobKind.train,))
    row = handlers.rows().values.tolist()[0]
    event = gr.SelectData(None, {"index": [0, 0], "value": row[0], "row_value": row})
    _, seen, _ = handlers.select(event, as_user("victor"))
    assert seen == "ValueError: no checkpoint in .../run-4"
    _, seen, _ = handlers.select(event, as_user("alice"))  # annotators too: one line
    assert "Traceback" not in seen and "/home" not in seen
    _, seen, _ = handlers.select(event, as_user("admin"))
    assert "Traceback (most recent call last)" in seen and "/home/studio/app/backend" in seen
