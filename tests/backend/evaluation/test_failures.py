"""Failure analysis queries and sending failures to the annotation queue."""

import pytest
from sqlmodel import Session, func, select

from backend.access.auth import PermissionDenied
from backend.annotation import named_queues
from backend.evaluation import failures
from backend.evaluation.failures import FailureFilter
from backend.queries.filters import RationaleFilter
from backend.sets import curation
from db.models import (
    AnnotationQueue,
    CuratedItem,
    EvalRun,
    EvalTrace,
    ModelCheckpoint,
    Rationale,
    StudentKind,
    TrainingRun,
)
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


def test_failures_on_problems_another_run_got_right(session: Session) -> None:
    """`right_in_run` keeps what a student lost against another run, and the other run's own failures
    or problems it never answered do not leak in (the subquery is not tied to the outer trace)."""
    rationales = seed_rationales(session)
    shown = seed_eval_run(session, rationales)  # right on the first problem, wrong on the other two
    other = seed_eval_run(session, rationales, name="other")
    second, third = (rationales[i].problem_id for i in (2, 4))
    for trace in session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == other.id)).all():
        trace.correct = trace.problem_id == second
        session.add(trace)
    session.commit()
    lost = FailureFilter(right_in_run=other.id)
    rows = failures.list_failures(session, eval_run_id=shown.id or 0, failure_filter=lost)
    assert [row["problem_id"] for row in rows] == [second]
    ids = failures.failing_trace_ids(session, eval_run_id=shown.id or 0, failure_filter=lost)
    assert len(ids) == 1 and third not in [row["problem_id"] for row in rows]
    nobody = FailureFilter(right_in_run=(other.id or 0) + 1000)
    assert failures.list_failures(session, eval_run_id=shown.id or 0, failure_filter=nobody) == []


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
    with pytest.raises(PermissionDenied):  # a viewer writes nothing, whoever calls
        failures.send_to_queue(session, trace_ids=trace_ids, by=users["victor"], queue_name="q")
    assert session.exec(select(Rationale).where(Rationale.source == "student")).first() is None
    ids = failures.send_to_queue(session, trace_ids=trace_ids, by=users["alice"], flag=True)
    stored = [session.get(Rationale, rationale_id) for rationale_id in ids]
    assert all(r is not None and r.source == "student" and r.review_status == "flagged" for r in stored)
    with pytest.raises(LookupError):
        failures.send_to_queue(session, trace_ids=[999], by=users["admin"])


def _trained_on(session: Session, run: EvalRun, rationale_ids: list[int]) -> None:
    """The run's solver: a checkpoint trained on a set of these rationales."""
    curated = curation.create_set(session, name="train-set", picks=rationale_ids)
    training = TrainingRun(name="t", set_id=curated.id or 0, student_kind=StudentKind.solver, base_model="x")
    session.add(training)
    session.commit()
    checkpoint = ModelCheckpoint(name="s", role=StudentKind.solver, path="/x", training_run_id=training.id)
    session.add(checkpoint)
    session.commit()
    run.solver = {"checkpoint_id": checkpoint.id}
    session.add(run)
    session.commit()


def _one_class(session: Session) -> tuple[EvalRun, list[Rationale], EvalTrace]:
    """The fixture's run with its last failure recategorised: two failures, one per error class."""
    rationales = seed_rationales(session)
    run = seed_eval_run(session, rationales)
    traces = session.exec(select(EvalTrace).where(EvalTrace.correct == False)).all()  # noqa: E712
    last = max(traces, key=lambda trace: trace.id or 0)
    last.error_category = "arithmetic"
    session.add(last)
    session.commit()
    return run, rationales, last


def test_one_error_class_goes_to_a_named_queue_and_nothing_else(session: Session) -> None:
    users = make_users(session)
    run, rationales, arithmetic = _one_class(session)
    one_class = FailureFilter(error_category="arithmetic")
    assert failures.failing_trace_ids(session, eval_run_id=run.id or 0, failure_filter=one_class) == [
        arithmetic.id
    ]
    _trained_on(session, run, [rationales[i].id or 0 for i in (0, 2, 3, 4)])
    sent = failures.send_to_queue(
        session, trace_ids=[arithmetic.id or 0], by=users["alice"], queue_name=" Arithmetic ", what="training"
    )
    assert sent == [rationales[4].id]  # its problem's trained rationale: not the untrained sample 5
    traces = failures.send_to_queue(
        session, trace_ids=[arithmetic.id or 0], by=users["alice"], queue_name="arithmetic", what="traces"
    )
    queue = session.exec(select(AnnotationQueue)).one()  # the same queue: names ignore case and spaces
    assert queue.name == "Arithmetic"
    members = named_queues.queue_rationale_ids(session, queue_id=queue.id or 0)
    assert members == sorted([rationales[4].id or 0, *traces])
    in_queue = RationaleFilter(queue_id=queue.id).apply(select(Rationale.id))
    assert sorted(session.exec(in_queue).all()) == members  # what Annotate and Curate walk
    failures.send_to_queue(session, trace_ids=[arithmetic.id or 0], by=users["bob"], queue_name="arithmetic")
    assert named_queues.queue_rationale_ids(session, queue_id=queue.id or 0) == members  # each once
    assert named_queues.queue_choices(session) == [("Arithmetic (2 of 2 to review)", queue.id)]


@pytest.mark.parametrize(
    ("what", "queue_name", "message"),
    [
        ("everything", "q", "send one of"),
        ("traces", "   ", "name the queue"),
        ("traces", "evil\u202equeue", "control character U\\+202E"),
        ("training", "q", "not trained on a curated set"),
    ],
)
def test_a_refused_send_writes_nothing(session: Session, what: str, queue_name: str, message: str) -> None:
    users = make_users(session)
    _, _, arithmetic = _one_class(session)
    before = session.exec(select(func.count()).select_from(Rationale)).one()
    with pytest.raises(ValueError, match=message):
        failures.send_to_queue(
            session, trace_ids=[arithmetic.id or 0], by=users["alice"], queue_name=queue_name, what=what
        )
    session.rollback()
    assert session.exec(select(func.count()).select_from(Rationale)).one() == before
    assert session.exec(select(AnnotationQueue)).first() is None
