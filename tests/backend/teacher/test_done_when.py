"""Issue 3's "done when" with the real default teacher (SmolLM2 on CPU), on few problems to stay short;
bench/teacher_done_when.py runs the same on all 50 problems (figures in docs/results.md).

Fresh database, reasoning-gym gsm_symbolic imported; rationalize gives one sub-question per reference step;
cot with samples=4 at temperature 0.8 gives 4 graded samples per problem; a worker killed halfway and
restarted finishes with no duplicates.
"""

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from backend.importers import import_reasoning_gym
from backend.jobs import store
from backend.jobs.runner import run_job, spawn_job
from backend.queries.filters import ProblemFilter
from backend.teacher.job import GenerationConfig, start_generation
from db.models import JobStatus, Problem, Rationale, Step, TeacherRun, Verdict

pytestmark = pytest.mark.slow
GRADED = {Verdict.correct, Verdict.wrong, Verdict.unparseable}


@pytest.fixture
def gsm_symbolic(session: Session) -> str:
    report = import_reasoning_gym(
        session, "gsm_symbolic", size=50, seed=42, name="gsm_symbolic", show_progress=False
    )
    assert report.added == 50
    return "gsm_symbolic"


def run_rationales(session: Session, job_id: int) -> list[Rationale]:
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job_id)).one()
    return list(session.exec(select(Rationale).where(Rationale.run_id == run.id)))


def check_rationalized(session: Session, rationales: list[Rationale], problems: int) -> None:
    assert len(rationales) == problems
    for rationale in rationales:
        problem = session.get(Problem, rationale.problem_id)
        assert problem is not None
        steps = session.exec(
            select(Step).where(Step.rationale_id == rationale.id).order_by(col(Step.position))
        ).all()
        assert len(steps) == problem.num_gold_steps == len(problem.gold_steps)
        assert all((step.sub_question or "").strip() for step in steps), rationale.raw_text
        assert rationale.verdict == Verdict.correct


def test_rationalize_then_cot_samples_with_smollm2(
    engine: Engine, session: Session, gsm_symbolic: str
) -> None:
    rationalize = GenerationConfig(
        mode="rationalize", dataset=gsm_symbolic, problem_filter=ProblemFilter(limit=4), batch_size=4
    )
    job = start_generation(session, config=rationalize)
    assert run_job(engine, job.id) == JobStatus.succeeded
    check_rationalized(session, run_rationales(session, job.id), 4)

    cot = GenerationConfig(
        mode="cot",
        dataset=gsm_symbolic,
        problem_filter=ProblemFilter(limit=2),
        samples=4,
        temperature=0.8,
        max_tokens=160,
    )
    job = start_generation(session, config=cot)
    assert run_job(engine, job.id) == JobStatus.succeeded
    samples = run_rationales(session, job.id)
    assert sorted((r.problem_id, r.sample_index) for r in samples) == [
        (p, k) for p in sorted({r.problem_id for r in samples}) for k in range(4)
    ]
    assert len(samples) == 8 and all(r.verdict in GRADED for r in samples)
    assert all(r.raw_text and r.logprob is not None for r in samples)


def test_worker_killed_halfway_then_restarted_has_no_duplicates(
    engine: Engine, session: Session, gsm_symbolic: str
) -> None:
    config = GenerationConfig(
        mode="rationalize", dataset=gsm_symbolic, problem_filter=ProblemFilter(limit=6), batch_size=2
    )
    job = start_generation(session, config=config)
    assert job.id is not None
    url = engine.url.render_as_string(hide_password=False)
    worker = spawn_job(job.id, database_url=url, logs_dir=Path(str(engine.url.database)).parent / "logs")
    deadline = time.monotonic() + 600
    while _stored(engine, job.id) == 0:
        assert worker.poll() is None and time.monotonic() < deadline, "the worker ended or stalled"
        time.sleep(0.5)
    os.kill(worker.pid, signal.SIGKILL)  # a crash: no chance to record anything
    worker.wait()
    halfway = _stored(engine, job.id)
    assert 0 < halfway < 6

    with Session(engine) as other:
        assert store.reconcile_orphans(other) == [job.id]
        store.reset_for_resume(other, job_id=job.id)
    assert run_job(engine, job.id) == JobStatus.succeeded
    rationales = run_rationales(session, job.id)
    assert len({(r.problem_id, r.sample_index) for r in rationales}) == len(rationales) == 6
    check_rationalized(session, rationales, 6)


def _stored(engine: Engine, job_id: int) -> int:
    with Session(engine) as session:
        run_id = session.exec(select(TeacherRun.id).where(TeacherRun.job_id == job_id)).one()
        return session.exec(
            select(func.count()).select_from(Rationale).where(Rationale.run_id == run_id)
        ).one()
