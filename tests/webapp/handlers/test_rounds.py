"""Round handlers: only CoT students are offered, a viewer cannot start a round, bad settings are refused
in one line before any job exists, and a started round is listed with its settings and outcome."""

from pathlib import Path

import gradio as gr
import pytest
from sqlmodel import Session, select

from db.models import Job, JobKind, JobStatus, ModelCheckpoint, StudentKind, TrainingRun
from tests.backend.training.frozen_set import make_frozen_set
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.rounds import RoundHandlers


@pytest.fixture
def students(session: Session, tmp_path: Path) -> None:
    trained = make_frozen_set(session, name="toy")
    for kind in (StudentKind.cot, StudentKind.solver):
        run = TrainingRun(name=f"{kind}", set_id=trained.id or 0, student_kind=kind, base_model="default")
        session.add(run)
        session.commit()
        folder = tmp_path / f"{kind}-model"
        folder.mkdir()
        session.add(ModelCheckpoint(name=f"{kind}", role=kind, path=str(folder), training_run_id=run.id))
    session.commit()


def _start(handlers: RoundHandlers, user: str, **changes: object) -> tuple[str, object]:
    fields = {"student": "cot", "samples": 4, "questions": 0, "temperature": 0.7, "rationalize": True,
              "distinct": True, "keep": "all_correct", "eval_dataset": "toy-data", "eval_split": "",
              "eval_limit": 0, "epochs": 1} | changes  # fmt: skip
    return handlers.start(*fields.values(), as_user(user))  # type: ignore[arg-type]


def test_only_cot_students_are_offered(app: AppContext, students: None) -> None:
    offered, datasets = RoundHandlers(app).choices()
    assert [label for label, _ in offered["choices"]] == ["#1 cot (cot)"]
    assert datasets["choices"] == ["toy-data"]


def test_a_round_is_checked_before_any_job_and_listed_once_started(
    auth_app: AppContext, users: object, students: None, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned: list[int] = []
    monkeypatch.setattr(AppContext, "spawn", lambda self, job_id: spawned.append(job_id))
    handlers = RoundHandlers(auth_app)
    refusals = [
        ("victor", {}, "annotator"),
        ("alice", {"student": ""}, "Pick the CoT student"),
        ("alice", {"student": "solver"}, "from a CoT student"),
        ("alice", {"samples": "many"}, "samples must be a number"),
        ("alice", {"questions": -3}, "questions must be &gt;= 1"),
        ("alice", {"questions": "half"}, "questions must be a number"),
        ("alice", {"samples": 2, "temperature": 0}, "need temperature &gt; 0"),  # shown escaped
        ("alice", {"keep": "all"}, "keep must be one of"),
        ("alice", {"eval_dataset": "gsm8k"}, "no dataset named &#x27;gsm8k"),
        ("alice", {"eval_split": "x" * 10_000}, "the split"),
    ]
    for user, changes, message in refusals:
        with pytest.raises(gr.Error, match=message):
            _start(handlers, user, **changes)
    assert spawned == [] and session.exec(select(Job)).all() == []
    text, _ = _start(handlers, "alice", eval_limit=2, questions=3)
    job = session.exec(select(Job)).one()
    assert job.kind == JobKind.round and spawned == [job.id] and f"round job {job.id}" in text
    assert job.params["eval_limit"] == 2 and job.params["rationalize"] is job.params["distinct"] is True
    assert job.params["questions"] == 3
    job.status, job.message = JobStatus.succeeded, "kept 3 of 8 samples"
    session.add(job)
    session.commit()
    listed = handlers.rounds()
    assert listed.values.tolist() == [
        [str(job.id), "cot", "4", "all_correct", "succeeded", "kept 3 of 8 samples"]
    ]
