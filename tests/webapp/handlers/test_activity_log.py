"""Who did what: starting, cancelling and resuming jobs, exporting and bulk reviews through the handlers
record the acting user in the activity list (issue 26)."""

from pathlib import Path

import gradio as gr
import pytest
from sqlmodel import Session, select

from backend.access import activity
from backend.evaluation.stepthrough import Pair, StepSession
from backend.queries.filters import RationaleFilter
from backend.sets import curation
from db.models import Job, JobKind, JobStatus, Rationale, User
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.annotate_history import BulkHandlers
from webapp.handlers.curate import CurateHandlers
from webapp.handlers.demo import DemoHandlers
from webapp.handlers.generate import GenerateHandlers
from webapp.handlers.jobs import JobHandlers
from webapp.handlers.stepthrough import StepThroughHandlers
from webapp.handlers.train import TrainHandlers


def _entries(session: Session) -> list[tuple[str, str, str]]:
    return [(e.username, e.action, e.detail) for e in activity.recent(session, limit=50)]


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AppContext, "spawn", lambda self, job_id: None)  # rows only, no processes


def test_starting_cancelling_and_resuming_a_training_job_records_who(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session, no_workers
) -> None:
    frozen = curation.create_set(session, name="frozen", rationale_filter=RationaleFilter(verdict="correct"))
    curation.freeze(session, set_id=frozen.id or 0)
    empty = ("", None, None, "", "", False, None, "all_correct", False, "cpu", "off")
    TrainHandlers(auth_app).start(frozen.id, "cot", "default", "", *empty, as_user("alice"))
    job = session.exec(select(Job)).one()
    jobs = JobHandlers(auth_app, (JobKind.train,))
    jobs.cancel(job.id, as_user("bob"))
    job.status = JobStatus.cancelled
    session.add(job)
    session.commit()
    jobs.resume(job.id, as_user("alice"))
    assert _entries(session) == [
        ("alice", "job resumed", f"train job {job.id}"),
        ("bob", "job cancel requested", f"train job {job.id}"),
        ("alice", "job started", f"train job {job.id}"),
    ]
    assert activity.recent(session, limit=1)[0].user_id == users["alice"].id


def test_a_generation_start_records_who_and_a_refused_one_nothing(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session, no_workers
) -> None:
    form = ("transformers", "", "cot", "toy", "", 1, 1, 0.0, False, "", "", "")
    with pytest.raises(gr.Error, match="annotator"):
        GenerateHandlers(auth_app).start(*form, as_user("victor"))
    assert _entries(session) == []
    *_, job_id = GenerateHandlers(auth_app).start(*form, as_user("bob"))
    assert _entries(session) == [("bob", "job started", f"generate job {job_id}")]


def test_the_demo_chain_start_records_who(app: AppContext, session: Session, no_workers) -> None:
    DemoHandlers(app).build(as_user(None))  # login off: the local admin acts
    ((who, action, detail),) = _entries(session)
    assert (who, action) == ("local", "job started") and detail.startswith("demo job")


def test_exports_and_bulk_reviews_record_who(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    curated = curation.create_set(session, name="gold", rationale_filter=RationaleFilter(verdict="correct"))
    curation.freeze(session, set_id=curated.id or 0)
    CurateHandlers(auth_app).export(
        {}, curated.id, "cot", "prompt_completion", "gold.jsonl", "set", as_user("alice")
    )
    state = StepSession("q", {"checkpoint_id": 1}, {"checkpoint_id": 1}, pairs=[Pair("a?", "1")])
    shown = StepThroughHandlers(auth_app).export_markdown(state.to_json(), None, as_user("victor"))
    assert Path(shown["value"]).is_file()
    bulk = BulkHandlers(auth_app)
    pending, _, _ = bulk.preview({"verdict": "wrong"}, "reject", as_user("admin"))
    bulk.confirm(pending, as_user("admin"))
    entries = _entries(session)
    assert entries[0] == ("admin", "bulk review", "reject on 6 rationales")
    assert entries[1] == ("victor", "export", "step-through trace as Markdown")
    who, action, detail = entries[2]
    assert (who, action) == ("alice", "export") and detail.startswith(
        f"set {curated.id} as prompt_completion"
    )
