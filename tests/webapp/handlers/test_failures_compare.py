"""The Failures page's "Compare with": the shown run against another one, paired on the problems both
answered and on the clean ones; the same run, a run with nothing shared, an unknown id and text where an
id belongs each get a clear answer. "Only what it got right" keeps the failures the compared run answered
correctly, in the table and in what is sent to a queue."""

import gradio as gr
import pytest
from sqlmodel import Session, select

from db.models import EvalTrace, Rationale, User
from tests.webapp.conftest import as_user
from tests.webapp.seed import seed_eval_run
from webapp.context import AppContext
from webapp.handlers.failures import FailureHandlers


def test_the_shown_run_is_compared_with_the_chosen_one(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    before = seed_eval_run(session, rationales, name="start")  # right on the first problem only
    after = seed_eval_run(session, rationales, name="round")
    traces = session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == after.id)).all()
    for trace, (correct, seen) in zip(
        sorted(traces, key=lambda t: t.id or 0), ((False, True), (True, False), (True, False)), strict=True
    ):
        trace.correct, trace.seen_in_training = correct, seen
        session.add(trace)
    for trace in session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == before.id)).all():
        trace.seen_in_training = trace.correct  # the first problem seen by both
        session.add(trace)
    session.commit()
    handlers = FailureHandlers(app)

    text = handlers.compare(after.id, before.id)
    assert text.startswith("**start** (before) against **round** (after), 3 problems both answered:")
    assert "Before 33.3% (1/3" in text and "after 66.7% (2/3" in text and "(+2/-1)" in text
    assert "On the 2 of 3 problems no student had seen in training: before 0.0% (0/2" in text
    assert handlers.compare(after.id, 0) == "" and handlers.compare(None, before.id) == ""
    assert handlers.compare(after.id, after.id).startswith("Pick another evaluation run")


def test_nothing_shared_unknown_runs_and_hostile_ids_get_clear_answers(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    from db.models import EvalRun

    shown = seed_eval_run(session, rationales)
    empty = EvalRun(name="<b>empty</b>", method="cot")
    session.add(empty)
    session.commit()
    handlers = FailureHandlers(app)
    assert "share no problem" in handlers.compare(shown.id, empty.id)
    assert "<b>" not in handlers.compare(shown.id, empty.id)  # run names are shown as text
    with pytest.raises(gr.Error, match="no evaluation run"):
        handlers.compare(shown.id, 10**6)
    for hostile in ("1; drop table evalrun", "-3", 2.5, "1e9999"):
        with pytest.raises(gr.Error, match="not a whole number"):
            handlers.compare(shown.id, hostile)


def _right_only_on_the_second_problem(session: Session, rationales: list[Rationale]) -> int:
    """Another evaluation of the seeded problems: right on the second only (the shown run is right on
    the first only, so of its two failures one was right here)."""
    run = seed_eval_run(session, rationales, name="start")
    traces = sorted(
        session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == run.id)).all(), key=lambda t: t.id or 0
    )
    for trace, correct in zip(traces, (False, True, False), strict=True):
        trace.correct = correct
        session.add(trace)
    session.commit()
    return run.id or 0


def test_only_the_failures_the_compared_run_got_right_are_shown_and_sent(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    shown = seed_eval_run(session, rationales)
    against = _right_only_on_the_second_problem(session, rationales)
    handlers = FailureHandlers(auth_app)
    everything, *_ = handlers.show(shown.id, 0, 0, 0, "", against, False)
    table, summary, *_ = handlers.show(shown.id, 0, 0, 0, "", against, True)
    assert len(everything["value"]) == 2 and len(table["value"]) == 1
    second = session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == against, EvalTrace.correct)).one()
    assert int(table["value"].iloc[0]["problem_id"]) == second.problem_id
    assert "showing 1" in summary and "Only the problems **start** answered correctly." in summary

    lost = (shown.id, 0, 0, 0, "", against, True)
    message = handlers.send("matching", None, *lost, "traces", "lost", 0, True, as_user("alice"))
    assert "1 rationales of 1 failures" in message
    student = session.exec(select(Rationale).where(Rationale.source == "student")).one()
    assert student.problem_id == second.problem_id


def test_keeping_what_the_compared_run_got_right_needs_another_existing_run(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    shown = seed_eval_run(session, rationales)
    handlers = FailureHandlers(app)
    with pytest.raises(gr.Error, match="Pick a run under Compare with first"):
        handlers.show(shown.id, 0, 0, 0, "", 0, True)
    with pytest.raises(gr.Error, match="Pick another evaluation run"):
        handlers.show(shown.id, 0, 0, 0, "", shown.id, True)
    with pytest.raises(gr.Error, match="no evaluation run with id"):
        handlers.show(shown.id, 0, 0, 0, "", 10**6, True)
    for hostile in ("1 or 1=1", -2, 1.5):
        with pytest.raises(gr.Error, match="not a whole number"):
            handlers.show(shown.id, 0, 0, 0, "", hostile, True)
    for not_a_box in ("false", 1.5, [True]):
        with pytest.raises(gr.Error, match="not a checkbox value"):
            handlers.show(shown.id, 0, 0, 0, "", shown.id, not_a_box)
    table, *_ = handlers.show(shown.id, 0, 0, 0, "", "garbage ignored when off", False)
    assert len(table["value"]) == 2  # the box off: the compared run plays no part


def test_ticking_the_box_or_picking_a_run_to_compare_only_refilters_when_it_can(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    """The box and the compared run re-show the failures; with no run shown, or the box ticked with
    nothing to compare with, the page stays as it is (no error over the table)."""
    shown = seed_eval_run(session, rationales)
    against = _right_only_on_the_second_problem(session, rationales)
    handlers = FailureHandlers(app)
    unchanged = (gr.skip(),) * 6
    assert handlers.refilter(0, 0, 0, 0, "", against, True) == unchanged  # no run shown yet
    assert handlers.refilter(shown.id, 0, 0, 0, "", 0, True) == unchanged  # nothing to compare with
    table, *_ = handlers.refilter(shown.id, 0, 0, 0, "", against, True)
    assert len(table["value"]) == 1
    table, *_ = handlers.refilter(shown.id, 0, 0, 0, "", against, False)  # the box cleared: all again
    assert len(table["value"]) == 2
    assert handlers.against_changed(shown.id, 0, 0, 0, "", against, False) == unchanged
    table, *_ = handlers.against_changed(shown.id, 0, 0, 0, "", against, True)
    assert len(table["value"]) == 1
    with pytest.raises(gr.Error, match="not a checkbox value"):
        handlers.refilter(shown.id, 0, 0, 0, "", against, "true")
