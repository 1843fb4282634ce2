"""A round end to end on tiny models: a student that has learned its three toy problems by heart samples
them, its correct samples join its set, the next student trains on the union, and both are compared on
the same problems; a cancelled round resumes without sampling again."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.jobs.chain import Spawn
from backend.jobs.context import JobCancelled, JobContext
from backend.jobs.runner import run_job
from backend.rounds.chain import run_round_job, start_round
from backend.rounds.config import RoundConfig
from backend.rounds.keep import kept_samples, load_samples, new_reasoning, reasoning_in_set
from backend.sets.curation import frozen_records
from backend.training.config import FilterPolicy, TrainConfig
from backend.training.job import start_training
from db.models import CuratedSet, EvalRun, Job, JobStatus, ModelCheckpoint, Rationale, TeacherRun, Verdict
from tests.backend.training.frozen_set import make_frozen_set


@pytest.fixture
def student(
    engine: Engine, session: Session, tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A CoT student that has seen its set's three problems often enough to write them back."""
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCRATIC_MODEL_ROOTS", f'["{tiny_llama.parent}"]')
    from db.settings import get_settings

    get_settings.cache_clear()
    trained_on = make_frozen_set(session, name="toy", socratic=False)
    config = TrainConfig(set_id=trained_on.id, kind="cot", base_model=str(tiny_llama), name="by-heart",
                         max_steps=60, learning_rate=1e-2, warmup=0, batch_size=3)  # fmt: skip
    job, _ = start_training(session, config=config)
    assert run_job(engine, job.id or 0) == JobStatus.succeeded
    return "by-heart"


def in_this_process(engine: Engine) -> Spawn:
    """Each step's job runs to its end here (the app spawns a worker process per step: the runner's own
    part, tested in tests/backend/jobs)."""

    def spawn(job_id: int) -> None:
        run_job(engine, job_id)

    return spawn


def _round(
    engine: Engine, session: Session, config: RoundConfig, spawn: Spawn | None = None
) -> tuple[Job, str]:
    job = start_round(session, config=config)
    context = JobContext(engine=engine, job_id=job.id or 0, params=dict(job.params))
    return job, run_round_job(context, spawn=spawn or in_this_process(engine))


@pytest.mark.slow
def test_a_round_adds_only_correct_samples_to_the_set_and_compares_the_students(
    engine: Engine, session: Session, student: str
) -> None:
    config = RoundConfig(student=student, samples=2, temperature=0.05, eval_dataset="toy-data", epochs=1)
    job, message = _round(engine, session, config)
    new_set = session.exec(select(CuratedSet).where(CuratedSet.name == f"round-{job.id}-set")).one()
    previous = {r.rationale_id for r in frozen_records(session, set_id=1)}
    now = [r.rationale_id for r in frozen_records(session, set_id=new_set.id or 0)]
    samples = session.exec(select(Rationale).where(col(Rationale.run_id).is_not(None))).all()
    assert len(samples) == 3 * 2  # k samples of each of the set's three questions
    added = set(now) - previous
    assert previous <= set(now) and added  # the student wrote some problems back correctly
    assert all(session.get(Rationale, rid).verdict == Verdict.correct for rid in added)  # type: ignore[union-attr]
    run_ids = [run.id or 0 for run in session.exec(select(TeacherRun)).all()]
    sampling = session.exec(select(Job).where(Job.kind == "generate")).one()
    # several slots' worth of samples per stored batch (and of problems per evaluation chunk), so that
    # finished slots are refilled rather than the batch draining every few problems
    assert (sampling.params["batch_size"], sampling.params["backend_options"]) == (256, {"batch_size": 64})
    assert added == set(kept_samples(load_samples(session, run_ids), FilterPolicy.all_correct))
    evals = session.exec(select(EvalRun).order_by(col(EvalRun.id))).all()
    assert [e.name for e in evals] == [f"round-{job.id}-before", f"round-{job.id}-after"]
    assert all(e.n_problems == 3 for e in evals)
    assert all((e.params["chunk_size"], e.params["batch_size"]) == (256, 64) for e in evals)
    assert "McNemar" in message and f"kept {len(added)} of 6 samples" in message
    assert "repeat reasoning already in the set" in message  # how many are copies, said
    assert session.exec(select(ModelCheckpoint).where(ModelCheckpoint.name == f"round-{job.id}-cot")).one()
    # a second round from the same student reuses its evaluation: only the new student is evaluated
    # with distinct, the greedy student's copies of its own set are not kept
    again = RoundConfig(
        student=student, samples=1, temperature=0, eval_dataset="toy-data", epochs=1, distinct=True
    )
    second, message = _round(engine, session, again)
    evals = session.exec(select(EvalRun).order_by(col(EvalRun.id))).all()
    assert [e.name for e in evals][2:] == [f"round-{second.id}-after"] and "McNemar" in message
    second_set = session.exec(select(CuratedSet).where(CuratedSet.name == f"round-{second.id}-set")).one()
    added_again = {r.rationale_id for r in frozen_records(session, set_id=second_set.id or 0)} - previous
    in_set = reasoning_in_set(frozen_records(session, set_id=1))
    second_runs = [run.id or 0 for run in session.exec(select(TeacherRun)).all() if run.id not in run_ids]
    second_samples = load_samples(session, second_runs)
    fresh = {s.rationale_id for s in new_reasoning(second_samples, in_set)}
    passed = set(kept_samples(second_samples, FilterPolicy.all_correct))
    assert "not kept" in message and added_again == passed & fresh
    assert passed - fresh  # the greedy student wrote some of its set back word for word: dropped
    # the first round's sampling settings again, with distinct: its samples are reused, not drawn again
    third, message = _round(engine, session, config.model_copy(update={"distinct": True}))
    assert len(session.exec(select(TeacherRun)).all()) == len(run_ids) + len(second_runs)
    third_set = session.exec(select(CuratedSet).where(CuratedSet.name == f"round-{third.id}-set")).one()
    added_third = {r.rationale_id for r in frozen_records(session, set_id=third_set.id or 0)} - previous
    first_passed = [s for s in load_samples(session, run_ids) if s.rationale_id in added]
    first_fresh = {s.rationale_id for s in new_reasoning(first_passed, in_set)}
    assert added_third == added & first_fresh and "McNemar" in message


@pytest.mark.slow
def test_a_cancelled_round_resumes_without_sampling_again(
    engine: Engine, session: Session, student: str
) -> None:
    # two of the set's three questions, drawn with the seed: the resumed round must draw the same two
    config = RoundConfig(
        student=student, samples=2, questions=2, temperature=0.05, eval_dataset="toy-data", epochs=1
    )
    started: list[int] = []

    def cancel_at_training(job_id: int) -> None:
        kind = session.get(Job, job_id)
        assert kind is not None
        started.append(job_id)
        if kind.kind == "train":  # the round is cancelled while its student trains
            from backend.jobs import store

            with Session(engine) as other:
                store.request_cancel(other, job_id=job_id)
        run_job(engine, job_id)

    with pytest.raises(JobCancelled):
        _round(engine, session, config, spawn=cancel_at_training)
    sampled = {r.id for r in session.exec(select(Rationale).where(col(Rationale.run_id).is_not(None))).all()}
    assert len(sampled) == 2 * 2  # k samples of each of the two questions drawn
    round_job = session.exec(select(Job).where(Job.kind == "round")).one()
    context = JobContext(engine=engine, job_id=round_job.id or 0, params=dict(round_job.params))
    message = run_round_job(context, spawn=in_this_process(engine))
    session.expire_all()
    again = {r.id for r in session.exec(select(Rationale).where(col(Rationale.run_id).is_not(None))).all()}
    assert again == sampled and len(session.exec(select(TeacherRun)).all()) == 1  # nothing sampled twice
    assert "McNemar" in message and "for 2 questions" in message
