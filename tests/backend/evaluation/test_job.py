"""Evaluation jobs over real tiny checkpoints: a trace per problem, summary, sampling, cancel + resume."""

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.evaluation import job as job_module
from backend.evaluation.config import EvalConfig
from backend.evaluation.job import eval_traces, run_evaluation_job, start_evaluation, trace_row
from backend.evaluation.traces import StepRecord, Trace
from backend.jobs import runner, store
from backend.jobs.context import JobCancelled, JobContext
from db.models import EvalRun, EvalTrace, JobStatus, ModelCheckpoint, Problem, StudentKind
from tests.backend.training.frozen_set import make_problems
from tests.tiny_models import build_tiny_t5


def register(session: Session, path: Path, role: StudentKind, name: str) -> int:
    checkpoint = ModelCheckpoint(name=name, role=role, path=str(path))
    session.add(checkpoint)
    session.commit()
    assert checkpoint.id is not None
    return checkpoint.id


@pytest.fixture
def toy(session: Session) -> list[Problem]:
    return make_problems(session, name="toy")


def socratic_config(session: Session, model: Path, **fields: object) -> EvalConfig:
    decomposer = register(session, model, StudentKind.decomposer, "dec")
    solver = register(session, model, StudentKind.solver, "sol")
    values: dict[str, object] = {
        "dataset_name": "toy",
        "max_steps": 2,
        "question_tokens": 8,
        "answer_tokens": 8,
    }
    values.update(fields)
    return EvalConfig(decomposer={"checkpoint_id": decomposer}, solver={"checkpoint_id": solver}, **values)  # type: ignore[arg-type]


def run(engine, session: Session, config: EvalConfig) -> EvalRun:  # type: ignore[no-untyped-def]
    job, eval_run = start_evaluation(session, config=config)
    assert job.id is not None
    assert runner.run_job(engine, job.id) == JobStatus.succeeded, store.get_job(session, job_id=job.id).error
    session.expire_all()
    refreshed = session.get(EvalRun, eval_run.id)
    assert refreshed is not None
    return refreshed


def test_socratic_evaluation_stores_a_trace_per_problem_and_a_summary(engine, session, toy, tiny_llama):
    eval_run = run(engine, session, socratic_config(session, tiny_llama))
    assert eval_run.id is not None
    traces = eval_traces(session, eval_run_id=eval_run.id)
    assert [t.problem_id for t in traces] == [p.id for p in toy]
    for trace in traces:
        assert trace.num_steps == len(trace.steps) <= 2 and trace.tokens > 0 and trace.raw_text.endswith("]")
        assert all(
            {"sub_question", "answer", "tokens", "latency_s", "value"} <= set(step) for step in trace.steps
        )
        assert trace.correct is False and trace.error_category is not None  # a random model
    summary = eval_run.summary
    assert eval_run.status == JobStatus.succeeded and summary["n_problems"] == 3 and summary["accuracy"] == 0
    assert set(summary["accuracy_by_reference_steps"]) == {"1", "2"}
    assert summary["accuracy_by_reference_steps"]["2"]["n"] == 2
    assert (
        summary["tokens_per_problem"] > 0
        and "unparseable_rate" in summary
        and "estimated_cost_per_problem" in summary
    )
    job = store.get_job(session, job_id=eval_run.job_id or 0)
    assert (job.done, job.total) == (3, 3) and "accuracy 0.0% on 3 problems" in job.message


def test_sampled_cot_takes_a_majority_vote(engine, session, toy, tiny_gpt2):
    cot = register(session, tiny_gpt2, StudentKind.cot, "cot")
    config = EvalConfig(method="cot", solver={"checkpoint_id": cot}, dataset_name="toy", limit=2, samples=3,
                        temperature=1.0, max_tokens=6)  # fmt: skip
    eval_run = run(engine, session, config)
    traces = eval_traces(session, eval_run_id=eval_run.id or 0)
    assert len(traces) == 2 and all("[majority vote over 3 samples:" in t.raw_text for t in traces)


def test_a_t5_checkpoint_is_served_and_divide_and_conquer_runs(engine, session, toy, tiny_llama, tmp_path):
    t5 = register(session, build_tiny_t5(tmp_path / "t5"), StudentKind.decompose_only, "t5-decomposer")
    teacher = {"backend": "transformers", "model": str(tiny_llama)}
    config = EvalConfig(
        method="divide_conquer",
        decomposer={"checkpoint_id": t5},
        solver=teacher,
        dataset_name="toy",
        max_tokens=6,
    )
    eval_run = run(engine, session, config)
    assert eval_run.summary["n_problems"] == 3 and all(
        t.raw_text.startswith("[plan]") for t in eval_traces(session, eval_run_id=eval_run.id or 0)
    )


class CancelAfter(JobContext):
    """The job context with a cancel arriving after `checks_left` boundary checks (the only stand-in)."""

    checks_left: int = 1

    def cancelled(self) -> bool:
        self.checks_left -= 1
        return self.checks_left < 0


def test_cancel_between_chunks_then_resume_finishes_only_the_rest(engine, session, toy, tiny_llama):
    job, eval_run = start_evaluation(session, config=socratic_config(session, tiny_llama, chunk_size=1))
    assert job.id is not None and eval_run.id is not None
    ctx = CancelAfter(engine=engine, job_id=job.id, params=dict(job.params))
    with pytest.raises(JobCancelled):
        run_evaluation_job(ctx)
    session.expire_all()
    assert len(eval_traces(session, eval_run_id=eval_run.id)) == 1
    assert session.get(EvalRun, eval_run.id).status == JobStatus.cancelled  # type: ignore[union-attr]
    store.mark_finished(engine, job_id=job.id, status=JobStatus.cancelled)
    session.expire_all()
    store.reset_for_resume(session, job_id=job.id)
    assert runner.run_job(engine, job.id) == JobStatus.succeeded
    session.expire_all()
    traces = eval_traces(session, eval_run_id=eval_run.id)
    assert sorted(t.problem_id for t in traces) == sorted(p.id for p in toy)  # no problem twice
    assert session.get(EvalRun, eval_run.id).summary["n_problems"] == 3  # type: ignore[union-attr]


def test_a_cancel_stops_the_chunk_being_decoded_and_resume_does_it_again(
    engine, session, toy, tiny_llama, monkeypatch
):
    cot = register(session, tiny_llama, StudentKind.cot, "cot")
    config = EvalConfig(method="cot", solver={"checkpoint_id": cot}, dataset_name="toy", max_tokens=24)
    job, eval_run = start_evaluation(session, config=config)  # one chunk holds all three problems
    assert job.id is not None and eval_run.id is not None
    store.mark_started(engine, job_id=job.id, log_path=None)
    real_solve, returned = job_module.solve, []

    def cancelled_while_decoding(*args, **kwargs):  # type: ignore[no-untyped-def]
        with Session(engine) as other:  # the page's cancel button, once the chunk has started
            store.request_cancel(other, job_id=job.id or 0)
        traces = real_solve(*args, **kwargs)
        returned.append(traces)
        return traces

    monkeypatch.setattr(job_module, "solve", cancelled_while_decoding)
    ctx = JobContext(engine=engine, job_id=job.id, params=dict(job.params), min_report_interval_s=0)
    with pytest.raises(JobCancelled):
        run_evaluation_job(ctx)
    assert returned == []  # stopped inside the chunk's decoding, not after it
    session.expire_all()
    assert eval_traces(session, eval_run_id=eval_run.id) == []  # the unfinished chunk is not stored
    assert session.get(EvalRun, eval_run.id).status == JobStatus.cancelled  # type: ignore[union-attr]
    monkeypatch.setattr(job_module, "solve", real_solve)
    store.mark_finished(engine, job_id=job.id, status=JobStatus.cancelled)
    session.expire_all()
    store.reset_for_resume(session, job_id=job.id)
    assert runner.run_job(engine, job.id) == JobStatus.succeeded
    session.expire_all()
    assert len(eval_traces(session, eval_run_id=eval_run.id)) == 3


def test_start_evaluation_refuses_bad_input(session, toy, tiny_llama):
    cot = register(session, tiny_llama, StudentKind.cot, "a-cot-student")
    with pytest.raises(
        ValueError, match="'a-cot-student' is a cot; the socratic decomposer must be decomposer, unified"
    ):
        start_evaluation(
            session,
            config=EvalConfig(
                decomposer={"checkpoint_id": cot}, solver={"checkpoint_id": cot}, dataset_name="toy"
            ),
        )
    with pytest.raises(ValueError, match="needs a decomposer"):
        EvalConfig(solver={"checkpoint_id": cot}, dataset_name="toy")
    with pytest.raises(ValueError, match="needs temperature > 0"):
        EvalConfig(method="cot", solver={"checkpoint_id": cot}, dataset_name="toy", samples=4)
    with pytest.raises(LookupError, match="no dataset named 'gsm9k'"):
        start_evaluation(
            session, config=EvalConfig(method="cot", solver={"checkpoint_id": cot}, dataset_name="gsm9k")
        )
    with pytest.raises(ValueError, match="no problem matches"):
        start_evaluation(
            session,
            config=EvalConfig(method="cot", solver={"checkpoint_id": cot}, dataset_name="toy", split="train"),
        )
    with pytest.raises(LookupError, match="no checkpoint with id 99"):
        start_evaluation(
            session, config=EvalConfig(method="cot", solver={"checkpoint_id": 99}, dataset_name="toy")
        )
    assert session.exec(select(EvalRun)).all() == []


def test_trace_rows_read_the_trace_against_the_reference(session, toy):
    problem = toy[0]  # gold steps 15 then 11; gold answer 11
    steps = [StepRecord("How many pens?", "3 * 5 = <<3*5=15>>15"), StepRecord("Left?", "15 - 4 = 10")]
    wrong = Trace(steps=steps, final_answer="10", stop_reason="end", tokens_in=20, tokens_out=5)
    row = trace_row(1, problem, wrong, "numeric")
    assert (row.correct, row.parseable, row.first_divergent_step, row.error_category) == (
        False,
        True,
        1,
        "arithmetic",  # "15 - 4 = 10": plain equations are checked like annotations
    )
    assert row.tokens == 25 and [step["value"] for step in row.steps] == ["15", "10"]
    right = Trace(
        steps=[StepRecord("q", "15"), StepRecord("q2", "So 11.")], final_answer="11", stop_reason="end"
    )
    row = trace_row(1, problem, right, "numeric")
    assert (row.correct, row.first_divergent_step, row.error_category) == (True, None, None)


def test_problem_order_is_stable(session, toy):
    ids = session.exec(select(Problem.id).order_by(col(Problem.id))).all()
    assert ids == [p.id for p in toy]


def test_unset_limits_come_from_the_students_training_data(session, toy, tiny_llama):
    from backend.evaluation.job import fill_budget_from_training
    from db.models import TrainingRun
    from tests.backend.training.frozen_set import make_frozen_set

    curated = make_frozen_set(session, name="budget-set")
    assert curated.id is not None
    ids = {}
    for role, budget in (
        ("decomposer", {"question_tokens": 21, "max_steps": 5}),
        ("solver", {"answer_tokens": 33, "max_steps": 4}),
    ):
        run = TrainingRun(name=f"{role}-run", set_id=curated.id, student_kind=role, base_model="default",
                          hyperparams={"generation_budget": budget})  # fmt: skip
        session.add(run)
        session.commit()
        checkpoint = ModelCheckpoint(name=role, role=role, path=str(tiny_llama), training_run_id=run.id)
        session.add(checkpoint)
        session.commit()
        ids[role] = checkpoint.id
    config = EvalConfig(
        decomposer={"checkpoint_id": ids["decomposer"]}, solver={"checkpoint_id": ids["solver"]},
        dataset_name="toy", answer_tokens=40,
    )  # fmt: skip
    fill_budget_from_training(session, config)
    assert (config.question_tokens, config.answer_tokens, config.max_steps) == (
        21,
        40,
        5,
    )  # the user's 40 wins
    assert config.max_tokens is None and config.budget()["max_tokens"] == 256  # nothing learned: fallback


def test_a_finished_evaluation_with_the_same_settings_is_found_and_no_other(session, toy, tiny_llama):
    from backend.evaluation.job import finished_twin

    solver = register(session, tiny_llama, StudentKind.cot, "student")
    settings = {"method": "cot", "solver": {"checkpoint_id": solver}, "dataset_name": "toy", "max_tokens": 16}
    _, first = start_evaluation(session, config=EvalConfig(name="first", **settings))  # type: ignore[arg-type]
    assert finished_twin(session, EvalConfig(name="again", **settings)) is None  # queued, not finished
    first.status = JobStatus.succeeded
    session.add(first)
    session.add_all(EvalTrace(eval_run_id=first.id or 0, problem_id=p.id or 0) for p in toy[1:])
    session.commit()
    # a trace short: the run did not cover the same problems (same count, one missing)
    assert finished_twin(session, EvalConfig(name="again", **settings)) is None
    session.add(EvalTrace(eval_run_id=first.id or 0, problem_id=toy[0].id or 0))
    session.commit()
    assert finished_twin(session, EvalConfig(name="again", **settings)) == first  # the name aside
    for other in ({"max_tokens": 17}, {"limit": 2}, {"temperature": 0.5, "samples": 2}):
        assert finished_twin(session, EvalConfig(name="again", **(settings | other))) is None  # type: ignore[arg-type]
    new = Problem(dataset_id=toy[0].dataset_id, external_id="new", question="A new one?", content_hash="new")
    session.add(new)
    session.commit()
    assert finished_twin(session, EvalConfig(name="again", **settings)) is None  # the dataset grew


def test_a_chunk_reports_its_finished_texts_before_it_is_stored(engine, session, toy, tiny_llama):
    solver = register(session, tiny_llama, StudentKind.cot, "student")
    config = EvalConfig(method="cot", solver={"checkpoint_id": solver}, dataset_name="toy", max_tokens=8,
                        chunk_size=64, batch_size=2)  # fmt: skip
    job, _ = start_evaluation(session, config=config)
    reports: list[tuple[int, str]] = []

    class Recording(JobContext):
        def progress(self, done: int, total: int, message: str = "", *, force: bool = False) -> None:
            reports.append((done, message))

    run_evaluation_job(Recording(engine=engine, job_id=job.id or 0, params=dict(job.params)))
    inside = [message for done, message in reports if "this chunk:" in message]
    n = len(toy)
    assert inside and all(done == 0 for done, message in reports if message in inside)  # one chunk, unstored
    assert inside[-1].startswith(f"0/{n} problems · this chunk: {n}/{n} texts")
    assert reports[-1][0] == n  # the count moves when the chunk is stored


def test_the_micro_batch_goes_only_to_a_transformers_model(session, tiny_llama, monkeypatch):
    """A checkpoint evaluated with vllm failed at load: the transformers-only batch_size was passed."""
    from backend.evaluation import job as evaluation_job

    cot = register(session, tiny_llama, StudentKind.cot, "a-cot-student")
    seen: list[dict[str, object]] = []
    monkeypatch.setattr(evaluation_job, "load_model", lambda _s, _spec, **options: seen.append(options))
    for spec in (
        {"checkpoint_id": cot},
        {"checkpoint_id": cot, "backend": "transformers"},
        {"checkpoint_id": cot, "backend": "vllm"},
        {"backend": "vllm", "model": "default"},
        {"backend": "openai", "model": "big-teacher"},
    ):
        evaluation_job._load(session, spec, batch_size=32)
    assert seen == [{"batch_size": 32}, {"batch_size": 32}, {}, {}, {}]
