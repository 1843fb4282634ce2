"""Job, Train, Evaluate and Failures handlers on rows built directly (no model runs here)."""

import json

import gradio as gr
import pytest
from sqlmodel import Session, select

from backend.jobs import store
from backend.queries.filters import RationaleFilter
from backend.sets import curation
from db.models import (
    Job,
    JobKind,
    JobStatus,
    Rationale,
    StudentKind,
    TrainingMetric,
    TrainingRun,
    User,
)
from tests.webapp.conftest import as_user
from tests.webapp.seed import seed_eval_run
from webapp.context import AppContext
from webapp.handlers.failures import FailureHandlers
from webapp.handlers.jobs import JobHandlers
from webapp.handlers.train import TrainHandlers


def _training_run(session: Session, name: str, losses: list[float], **hyper: object) -> TrainingRun:
    curated = curation.create_set(
        session, name=f"set-{name}", rationale_filter=RationaleFilter(verdict="correct")
    )
    curation.freeze(session, set_id=curated.id or 0)
    job = store.create_job(session, kind=JobKind.train, params={})
    job.status, job.done, job.total = JobStatus.running, len(losses), 10
    run = TrainingRun(
        name=name,
        set_id=curated.id or 0,
        student_kind=StudentKind.cot,
        base_model="tiny",
        job_id=job.id,
        hyperparams={"learning_rate": 5e-5, "epochs": 1} | hyper,
    )
    session.add_all([job, run])
    session.commit()
    session.add_all(
        TrainingMetric(run_id=run.id or 0, step=i + 1, loss=loss) for i, loss in enumerate(losses)
    )
    session.commit()
    return run


def test_job_table_cancel_and_resume_refusal(
    auth_app: AppContext, users: dict[str, User], session: Session
) -> None:
    job = store.create_job(session, kind=JobKind.train, params={})
    store.create_job(session, kind=JobKind.generate, params={})
    handlers = JobHandlers(auth_app, (JobKind.train, JobKind.evaluate))
    assert list(handlers.table()["value"]["id"]) == [job.id]  # only this page's kinds
    with pytest.raises(gr.Error):
        handlers.cancel(job.id, as_user("victor"))
    message, table = handlers.cancel(job.id, as_user("alice"))
    assert "cancel requested" in message.lower() and table["value"].loc[0, "status"] == "cancelled"
    session.expire_all()
    assert session.get(Job, job.id).cancel_requested  # type: ignore[union-attr]
    running = store.create_job(session, kind=JobKind.train, params={})
    running.status = JobStatus.running
    session.add(running)
    session.commit()
    with pytest.raises(gr.Error, match="only finished jobs"):
        handlers.resume(running.id, as_user("alice"))


def test_train_progress_curves_and_config_diff(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    first = _training_run(session, "a", [2.0, 1.5, 1.2])
    second = _training_run(session, "b", [2.1, 1.9], learning_rate=1e-4)
    handlers = TrainHandlers(app)
    line, figure = handlers.progress(first.id)
    assert "step 3/10" in line and "loss 1.2000" in line and "running" in line
    assert json.loads(figure.to_json())["data"][0]["y"] == [2.0, 1.5, 1.2]
    _, _, job_id = handlers.watch(first.id)
    assert job_id == first.job_id
    overlay, diff = handlers.compare([first.id, second.id])
    assert len(json.loads(overlay.to_json())["data"]) == 2
    assert diff.iloc[0]["parameter"] == "learning_rate" and diff.iloc[0]["differs"] == "yes"
    sets, runs, _ = handlers.choices(second.id)
    assert runs["value"] == second.id and len(sets["choices"]) == 2


def test_training_needs_a_frozen_set_and_the_role(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    handlers = TrainHandlers(auth_app)
    args = ("cot", "default", "", 1, 2, 5e-5, 2, 128, False, 8, "all_correct", False, "cpu", "off")
    with pytest.raises(gr.Error, match="frozen set"):
        handlers.start(None, *args, as_user("alice"))
    draft = curation.create_set(session, name="draft", rationale_filter=RationaleFilter())
    with pytest.raises(gr.Error, match="not frozen"):
        handlers.start(draft.id, *args, as_user("alice"))
    with pytest.raises(gr.Error):
        handlers.start(draft.id, *args, as_user("victor"))
    with pytest.raises(gr.Error, match="outside the allowed"):
        handlers.start(draft.id, "cot", "/etc", *args[2:], as_user("alice"))
    assert session.exec(select(TrainingRun)).first() is None


def test_failures_list_detail_and_send_to_queue(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    run = seed_eval_run(session, rationales)
    handlers = FailureHandlers(auth_app)
    shown, summary, by_steps, _, _, categories = handlers.show(run.id, 0, 0, 0, "")
    table = shown["value"]
    assert len(table) == 2 and "2 wrong of 3" in summary and "wrong_final" in categories["choices"]
    assert json.loads(by_steps.to_json())["data"][1]["y"] == [2]  # two wrong traces with 2 steps
    trace_id = int(table.iloc[0]["trace_id"])
    question, gold, trace, reference, related = handlers.detail(run.id, trace_id)
    assert gold == "15" and question.startswith("Tom has 3 boxes")
    assert trace[1][1] == "first divergent" and trace[0][1] is None  # step 2 departs from the reference
    assert reference[1][1] == "first divergent" and len(related["value"]) == 2
    filters = (run.id, 0, 0, 0, "", 0, False)  # run, dataset, min/max steps, class, compared run, lost
    with pytest.raises(gr.Error):
        handlers.send("selected", trace_id, *filters, "traces", "", 0, True, as_user("victor"))
    with pytest.raises(gr.Error, match="admin"):  # assigning is for admins
        handlers.send("selected", trace_id, *filters, "traces", "", users["bob"].id, True, as_user("alice"))
    with pytest.raises(gr.Error, match="not trained on a curated set"):  # nothing to send: a clear error
        handlers.send("matching", None, *filters, "training", "", 0, True, as_user("alice"))
    message = handlers.send("matching", None, *filters, "traces", "", users["bob"].id, True, as_user("admin"))
    student = session.exec(select(Rationale).where(Rationale.source == "student")).all()
    assert len(student) == 2 and "2 rationales of 2 failures" in message
    assert {r.assigned_to_id for r in student} == {users["bob"].id} and {
        r.review_status for r in student
    } == {"flagged"}
    step_two = (run.id, 0, 3, 0, "", 0, False)  # no failure has 3 steps or more
    with pytest.raises(gr.Error, match="No failure of this run matches"):
        handlers.send("matching", None, *step_two, "traces", "q", 0, True, as_user("alice"))
    message = handlers.send("matching", None, *filters, "traces", "step 2", 0, True, as_user("alice"))
    assert "the queue **step 2**" in message  # sending again adds no rationale, and fills the queue
    assert len(session.exec(select(Rationale).where(Rationale.source == "student")).all()) == 2


def test_clicking_a_job_opens_its_log_and_picks_it(app: AppContext, session: Session, tmp_path) -> None:
    log = tmp_path / "job.log"
    log.write_text("step 1\nstep 2: loss 1.5\n")
    job = store.create_job(session, kind=JobKind.train, params={})
    job.log_path = str(log)
    session.add(job)
    session.commit()
    handlers = JobHandlers(app, (JobKind.train,))
    row = handlers.rows().values.tolist()[0]
    job_id, text, box = handlers.select(
        gr.SelectData(None, {"index": [0, 2], "value": row[2], "row_value": row}), as_user(None)
    )
    assert job_id == job.id and "loss 1.5" in text and box["open"] is True


def test_empty_tables_charts_and_pickers_say_what_fills_them(app: AppContext) -> None:
    assert JobHandlers(app, (JobKind.train,)).table()["label"].startswith("No jobs yet")
    runs, _, _, against = FailureHandlers(app).choices()
    assert runs["choices"] == [] and runs["info"].startswith("No evaluation yet: run one from the Train tab")
    assert against["choices"] == [("nothing", 0)]


def test_job_table_shows_a_killed_worker_as_failed(app: AppContext, session: Session) -> None:
    job = store.create_job(session, kind=JobKind.train, params={})
    job.status, job.pid = JobStatus.running, 2**22 + 12345  # its worker was killed: no such process
    session.add(job)
    session.commit()
    table = JobHandlers(app, (JobKind.train,)).table()["value"]
    assert list(table["status"]) == ["failed"]


def test_training_fields_left_empty_take_the_recipe_defaults(
    auth_app: AppContext,
    users: dict[str, User],
    rationales: list[Rationale],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend.training.config import TrainConfig

    spawned: list[int] = []
    monkeypatch.setattr(AppContext, "spawn", lambda _, job_id: spawned.append(job_id))  # no worker here
    frozen = curation.create_set(session, name="frozen", rationale_filter=RationaleFilter(verdict="correct"))
    curation.freeze(session, set_id=frozen.id or 0)
    empty = ("", None, None, "", "", False, None, "all_correct", False, "cpu", "")
    TrainHandlers(auth_app).start(frozen.id, "cot", "default", "", *empty, as_user("alice"))
    run = session.exec(select(TrainingRun)).one()
    assert run.hyperparams["compile"] == "off"  # the default when the page sends nothing
    defaults = TrainConfig(set_id=1, kind="cot", base_model="default")  # type: ignore[arg-type]
    for field in ("epochs", "learning_rate", "batch_size", "max_length", "lora_r", "warmup"):
        assert run.hyperparams[field] == getattr(defaults, field), field
    assert len(spawned) == 1
    with pytest.raises(gr.Error, match="batch size must be a number"):
        TrainHandlers(auth_app).start(frozen.id, "cot", "default", "", "", None, None, "many", *empty[4:],
                                      as_user("alice"))  # fmt: skip


def test_evaluation_runs_and_failures_show_what_was_seen_in_training(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    from backend.evaluation.summary import summarise
    from db.models import EvalRun, EvalTrace
    from webapp.handlers.evaluate import EvaluateHandlers

    run = seed_eval_run(session, rationales)  # first trace right, two wrong
    assert run.id is not None
    traces = session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == run.id)).all()
    for trace, seen in zip(sorted(traces, key=lambda t: t.id or 0), (True, True, False), strict=True):
        trace.seen_in_training, trace.overlap = seen, 1.0 if seen else 0.1
        session.add(trace)
    run.training_problems = 40
    session.add(run)
    session.commit()
    run.summary = summarise(session, eval_run_id=run.id, price_per_1k_tokens=0)
    session.add(run)
    session.add(EvalRun(name="teacher", method="cot"))  # no checkpoint, no summary: not checked
    session.commit()
    table = EvaluateHandlers(app).runs()
    checked = table[table["id"] == run.id].iloc[0]
    assert (checked["seen_in_training"], checked["clean_accuracy"]) == ("2/3", "0.0% (0/1)")
    assert table[table["name"] == "teacher"].iloc[0]["seen_in_training"] == "not checked"
    shown, summary, *_ = FailureHandlers(app).show(run.id, 0, 0, 0, "")
    assert "2 of 3 problems were seen in training; on the 1 unseen, accuracy is 0.0%" in summary
    assert list(shown["value"]["seen_in_training"]) == [True, False]


def test_train_and_evaluate_texts_are_bounded_before_any_check(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    """Issue 26: the run name, base model, device, models and split are refused over their limits or
    with a NUL or bidirectional control character, with a message naming the field."""
    from webapp.handlers.evaluate import EvaluateHandlers

    frozen = curation.create_set(session, name="frozen", rationale_filter=RationaleFilter(verdict="correct"))
    curation.freeze(session, set_id=frozen.id or 0)
    rest = (1, 2, 5e-5, 2, 128, False, 8, "all_correct", False)
    train = TrainHandlers(auth_app)
    for base, name, device, error in [
        ("default", "n" * 101, "cpu", "the run name is too long: 101 characters, at most 100"),
        ("default", "admin\u202egnp.exe", "cpu", "the run name may not contain the control character"),
        ("x" * 1_001, "run", "cpu", "the base model is too long: 1,001 characters"),
        ("default\x00", "run", "cpu", "the base model may not contain the NUL character"),
        ("default", "run", "cuda:" + "0" * 200, "the device is too long"),
    ]:
        with pytest.raises(gr.Error, match=error):
            train.start(frozen.id, "cot", base, name, *rest, device, "off", as_user("alice"))
    with pytest.raises(gr.Error, match="compile"):  # a typed value outside the choices
        train.start(frozen.id, "cot", "default", "run", *rest, "cpu", "always", as_user("alice"))
    evaluate = EvaluateHandlers(auth_app)
    for solver, split, error in [
        ("9" * 1_001, "test", "the model is too long: 1,001 characters"),
        ("default", "test\x00", "the split may not contain the NUL character"),
        ("default", "s" * 101, "the split is too long"),
    ]:
        with pytest.raises(gr.Error, match=error):
            evaluate.start("cot", "", solver, None, split, 1, as_user("alice"))
    assert session.exec(select(TrainingRun)).first() is None
