"""The demo chain: its jobs run in order as real jobs (tiny models stand in for SmolLM2), the checkpoints
it registers are what Step through offers first, and a failing or cancelled step ends the chain."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.demo.chain import (
    DemoChainConfig,
    Steps,
    run_demo_chain_job,
    split_by_sub_question_checks,
    start_demo_chain,
)
from backend.demo.problems import ensure_demo_problems
from backend.evaluation.stepthrough_picker import picker
from backend.jobs.chain import wait_for_step
from backend.jobs.context import JobCancelled, JobContext
from backend.jobs.runner import run_job
from backend.queries.filters import RationaleFilter
from db.models import EvalRun, Job, JobKind, JobStatus, ModelCheckpoint, Problem, TrainingRun
from db.settings import Settings


def test_the_page_can_say_how_long_before_starting() -> None:
    small, large = DemoChainConfig(train_problems=100), DemoChainConfig(train_problems=300)
    assert 0 < small.expected_seconds() < large.expected_seconds()
    with pytest.raises(ValueError, match="at least 10 train problems"):
        start_demo_chain(None, config=DemoChainConfig(train_problems=3))  # type: ignore[arg-type]


def test_held_out_problems_are_no_train_question(session: Session) -> None:
    held_out = ensure_demo_problems(session, train=30, held_out=10)
    train = {p.question for p in session.exec(select(Problem).where(Problem.split == "train")).all()}
    chosen = session.exec(select(Problem).where(col(Problem.id).in_(held_out))).all()
    assert len(chosen) == 10 and all(p.split == "test" and p.question not in train for p in chosen)
    assert ensure_demo_problems(session, train=30, held_out=10) == held_out  # idempotent


@pytest.mark.slow
def test_the_chain_builds_an_evaluated_pair_that_step_through_offers(
    engine: Engine, session: Session, tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCRATIC_MODEL_ROOTS", f'["{tiny_llama.parent}"]')
    from db.settings import get_settings

    get_settings.cache_clear()
    tiny = str(tiny_llama)
    # The default policy: every rationale is kept, and the sub-questions the checks flag (a random tiny
    # teacher asks hardly a real question) are context the decomposer does not learn to ask.
    config = DemoChainConfig(train_problems=10, held_out_problems=3, teacher=tiny,
                             teacher_backend="transformers", base_model=tiny, epochs=1.0,
                             )  # fmt: skip
    chain = start_demo_chain(session, config=config)
    assert chain.kind == JobKind.demo
    context = JobContext(engine=engine, job_id=chain.id or 0, params=dict(chain.params))
    # Each step's job runs to its end through the job runner, here in this process (the app spawns a
    # worker process per step; that part is the runner's own, tested in tests/backend/jobs).
    message = run_demo_chain_job(context, spawn=lambda job_id: run_job(engine, job_id) and None)
    assert message.startswith("demo pair: decomposer #") and "held-out" in message
    session.expire_all()
    kinds = [job.kind for job in session.exec(select(Job).order_by(col(Job.id))).all()]
    assert kinds == [JobKind.demo, JobKind.generate, JobKind.train, JobKind.train, JobKind.evaluate]
    runs = {run.student_kind: run.hyperparams for run in session.exec(select(TrainingRun)).all()}
    decomposer_run = runs["decomposer"]
    assert decomposer_run["skip_flagged_sub_questions"] and decomposer_run["untrained_sub_questions"] > 0
    assert decomposer_run["warmup"] == runs["solver"]["warmup"] == DemoChainConfig().warmup  # the recipe
    evaluation = session.exec(select(EvalRun)).one()
    assert evaluation.status == JobStatus.succeeded and evaluation.n_problems == 3
    names = sorted(c.name for c in session.exec(select(ModelCheckpoint)).all())
    assert names == [f"demo-decomposer-{chain.id}", f"demo-solver-{chain.id}"]
    offer = picker(session, Settings(home=tmp_path / "home"))
    labels = dict((value, label) for label, value in offer.choices)
    assert offer.has_students and "trained on" in labels[offer.decomposer or ""]
    assert "held-out" in labels[offer.solver or ""]


def test_a_cancelled_step_ends_the_chain(engine: Engine, session: Session) -> None:
    """Cancelling a step's job (from its own panel) stops the chain there."""
    job = Job(kind=JobKind.generate, status=JobStatus.cancelled)
    session.add(job)
    session.commit()
    chain = Job(kind=JobKind.demo)
    session.add(chain)
    session.commit()
    context = JobContext(engine=engine, job_id=chain.id or 0, params={})
    with pytest.raises(JobCancelled, match="was cancelled"):
        wait_for_step(context, job.id or 0, lambda job_id: None, "the teacher run")


def test_the_chain_trains_on_rationales_whose_sub_questions_pass_the_checks(session: Session) -> None:
    from db.models import Step
    from tests.webapp.seed import seed_rationales

    rationales = seed_rationales(session)
    correct = [r for r in rationales if r.verdict == "correct"]
    repeated = session.exec(select(Step).where(Step.rationale_id == correct[0].id, Step.position == 1)).one()
    repeated.sub_question = "How many pens are in one box?"  # the previous step's question again
    session.add(repeated)
    session.commit()
    clean, flagged = split_by_sub_question_checks(session, RationaleFilter(verdict="correct"))
    assert flagged == [correct[0].id]
    assert clean == sorted(r.id for r in correct[1:])  # the wrong rationales are not chosen at all


def test_sub_question_policy_is_checked_and_old_chains_still_load() -> None:
    with pytest.raises(ValueError, match="sub_questions: Input should be 'clean', 'skip_flagged' or 'all'"):
        DemoChainConfig(sub_questions="whatever")
    assert DemoChainConfig.from_params({"clean_sub_questions": False}).sub_questions == "all"
    assert DemoChainConfig.from_params({"clean_sub_questions": True}).sub_questions == "clean"


@pytest.mark.parametrize("policy", ["clean", "skip_flagged"])
def test_freezing_nothing_says_why(engine: Engine, session: Session, policy: str) -> None:
    """A teacher run with no correct rationale ends the chain with a message that fits the policy."""
    chain = Job(kind=JobKind.demo)
    session.add(chain)
    session.commit()
    context = JobContext(engine=engine, job_id=chain.id or 0, params={})
    steps = Steps(context, DemoChainConfig(sub_questions=policy), spawn=lambda job_id: None)
    with pytest.raises(RuntimeError, match="stored no correct rationale"):
        steps.freeze(dataset_id=1, run_id=12345)
