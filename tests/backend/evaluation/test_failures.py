"""Failure analysis queries and sending failures to the annotation queue."""

import pytest
from sqlmodel import Session, select

from backend.access.auth import PermissionDenied
from backend.evaluation import failures
from backend.evaluation.failures import FailureFilter
from backend.sets import curation
from db.models import CuratedItem, ModelCheckpoint, Rationale, StudentKind, TrainingRun
from tests.webapp.seed import make_users, seed_eval_run, seed_rationales


def test_failures_breakdowns_and_filters(session: Session) -> None:
    rationales = seed_rationales(session)
    run = seed_eval_run(session, rationales)
    rows = failures.list_failures(session, eval_run_id=run.id or 0)
    assert [row["gold"] for row in rows] == ["15", "20"] and rows[0]["first_divergent_step"] == 2
    assert (
        failures.list_failures(session, eval_run_id=run.id or 0, failure_filter=FailureFilter(min_steps=3))
        == []
    )
    assert failures.error_categories(session, eval_run_id=run.id or 0) == ["wrong_final"]
    counts = failures.breakdowns(session, eval_run_id=run.id or 0)
    assert counts["by_steps"] == {2: {"correct": 1, "wrong": 2}}
    assert counts["by_dataset"] == {"toy": {"correct": 1, "wrong": 2}}
    assert counts["by_category"] == {
        "correct": {"correct": 1, "wrong": 0},
        "wrong_final": {"correct": 0, "wrong": 2},
    }


def test_related_rationales_mark_the_training_set(session: Session) -> None:
    rationales = seed_rationales(session)
    run = seed_eval_run(session, rationales)
    curated = curation.create_set(session, name="train", picks=[rationales[2].id or 0])
    training = TrainingRun(
        name="t", set_id=curated.id or 0, student_kind=StudentKind.solver, base_model="tiny"
    )
    session.add(training)
    session.commit()
    checkpoint = ModelCheckpoint(
        name="solver", role=StudentKind.solver, path="/x", training_run_id=training.id
    )
    session.add(checkpoint)
    session.commit()
    run.solver = {"checkpoint_id": checkpoint.id}
    session.add(run)
    session.commit()
    related = failures.related_rationales(
        session, eval_run_id=run.id or 0, problem_id=rationales[2].problem_id
    )
    assert [(r["rationale_id"], r["in_training_set"]) for r in related] == [
        (rationales[2].id, True),
        (rationales[3].id, False),
    ]
    assert session.exec(select(CuratedItem)).first() is not None


def test_send_to_queue_needs_admin_to_assign(session: Session) -> None:
    users = make_users(session)
    rationales = seed_rationales(session)
    run = seed_eval_run(session, rationales)
    trace_ids = [row["trace_id"] for row in failures.list_failures(session, eval_run_id=run.id or 0)]
    with pytest.raises(PermissionDenied):
        failures.send_to_queue(session, trace_ids=trace_ids, by=users["alice"], assignee=users["bob"])
    assert session.exec(select(Rationale).where(Rationale.source == "student")).first() is None
    ids = failures.send_to_queue(session, trace_ids=trace_ids, by=users["alice"], flag=True)
    stored = [session.get(Rationale, rationale_id) for rationale_id in ids]
    assert all(r is not None and r.source == "student" and r.review_status == "flagged" for r in stored)
    with pytest.raises(LookupError):
        failures.send_to_queue(session, trace_ids=[999], by=users["admin"])
