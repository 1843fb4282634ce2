"""The demo button's status line: polled while a chain runs, quiet once it ends, and inert text."""

import os
import socket
import subprocess

import gradio as gr
import pytest
from markdown_it import MarkdownIt
from sqlmodel import Session, select

from db.models import Job, JobKind, JobStatus
from webapp.context import AppContext
from webapp.handlers.demo import DemoHandlers


def _chain(session: Session, **fields: object) -> Job:
    job = Job(kind=JobKind.demo, **fields)  # type: ignore[arg-type]
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def _shown(markdown: str) -> str:
    """The text a reader sees (the page renders Markdown with markdown-it)."""
    return MarkdownIt().render(markdown).replace("<p>", "").replace("</p>", "").strip()


def _timer_active(update: object) -> bool:
    assert isinstance(update, gr.Timer)
    return bool(update.active)


def test_poll_follows_a_chain_to_its_end_and_reports_it_ready(app: AppContext, session: Session) -> None:
    handlers = DemoHandlers(app)
    text, timer, ready = handlers.poll(None)
    assert "Expect about" in text and not _timer_active(timer) and ready is None  # nothing ran yet
    progress = "step 40/150 loss 0.53"
    step = Job(kind=JobKind.train, status=JobStatus.running, done=40, total=150, message=progress)
    session.add(step)
    session.commit()
    chain = _chain(session, status=JobStatus.running, message=f"3/5 training the decomposer (job #{step.id})")
    text, timer, ready = handlers.poll(None)
    assert "training the decomposer (job #" in _shown(text) and "- step 40/150 loss 0.53." in _shown(text)
    assert _timer_active(timer) and ready is None
    chain.status, chain.message = JobStatus.succeeded, "demo pair: decomposer #3, solver #4, 41% held-out"
    session.add(chain)
    session.commit()
    text, timer, ready = handlers.poll(None)
    assert "ready" in text and "41% held-out" in _shown(text) and not _timer_active(timer)
    assert ready == chain.id  # the page reloads its model pickers when this changes


def test_a_failed_chain_shows_its_error_as_text(app: AppContext, session: Session) -> None:
    _chain(session, status=JobStatus.failed, error="boom <img src=x onerror=alert(1)> [x](javascript:1)")
    text, timer, ready = DemoHandlers(app).poll(None)
    html = MarkdownIt().render(text)
    assert "failed" in text and "<img" not in html and "<a " not in html and "&lt;img" in html
    assert not _timer_active(timer) and ready is None


def test_a_second_click_while_a_chain_builds_starts_nothing(
    app: AppContext, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned: list[int] = []
    monkeypatch.setattr(AppContext, "spawn", lambda self, job_id: spawned.append(job_id))
    # A live worker: this process.
    running = _chain(session, status=JobStatus.running, message="1/5 the teacher writes sub-questions",
                     pid=os.getpid(), hostname=socket.gethostname())  # fmt: skip
    text, timer = DemoHandlers(app).build(gr.Request(username=None))
    assert "already building" in text and f"chain #{running.id}" in _shown(text) and _timer_active(timer)
    assert spawned == [] and len(session.exec(select(Job)).all()) == 1
    running.status = JobStatus.succeeded
    session.add(running)
    session.commit()
    text, _ = DemoHandlers(app).build(gr.Request(username=None))  # a finished chain: a new one may start
    assert "Started the demo chain" in text and len(spawned) == 1


def test_a_chain_whose_worker_died_does_not_block_the_next(
    app: AppContext, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AppContext, "spawn", lambda self, job_id: None)
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid names no process now
    orphan = _chain(session, status=JobStatus.running, pid=dead.pid, hostname=socket.gethostname())
    text, _ = DemoHandlers(app).build(gr.Request(username=None))
    assert "Started the demo chain" in text
    session.refresh(orphan)
    assert orphan.status == JobStatus.failed and "worker process ended" in (orphan.error or "")
