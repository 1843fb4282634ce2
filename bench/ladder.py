"""The distillation ladder: one student base, the same training problems for every arm.

Base: SmolLM2-135M-Instruct (the embedded default, `prepare_default_model()`), fine-tuned in full.
Arms:
    floor       the base model, few-shot CoT (k solved training problems in the prompt), no training
    answer_only trained on `Q: question -> So the answer is: X`
    cot         trained on `Q: question -> steps + So the answer is: X` (the reference steps)
    socratic    a decomposer and a solver trained on the reference sub-questions and steps
    cot_train   CoT trained on GSM8K train.jsonl (same number of problems, a different source)
Split (file order, disjoint): train on GSM8K test_socratic.jsonl rows [0, T) (it has both the solution and
its sub-questions); evaluate on rows [T, T+E); cot_train trains on train.jsonl rows [0, T); SVAMP is
evaluated on SVAMP.json rows [0, S). Every evaluation is greedy with the calculator on.

Run (from the project root; a fresh database under --work; the prepared SmolLM2 folder is reused):
    # reduced CPU configuration (25-40 minutes on 2 shared cores), what docs/benchmarks.md reports:
    nohup .venv/bin/python bench/ladder.py --preset reduced --work /tmp/ladder > /tmp/ladder.log 2>&1 &
    # the full configuration, for a GPU:
    .venv/bin/python bench/ladder.py --preset full --work /tmp/ladder-full
    # a one-minute smoke run of the whole pipeline:
    .venv/bin/python bench/ladder.py --preset smoke --work /tmp/ladder-smoke
Writes WORK/results.json and prints a Markdown table.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


@dataclass(frozen=True)
class Preset:
    n_train: int  # T: training problems (rows [0, T) of test_socratic.jsonl and of train.jsonl)
    n_eval: int  # E: GSM8K evaluation problems (rows [T, T+E))
    n_svamp: int  # S: SVAMP evaluation problems (rows [0, S))
    epochs: float
    max_steps: int  # -1: epochs decide
    learning_rate: float
    batch_size: int
    few_shot: int
    max_tokens: int  # CoT / floor solution
    answer_only_tokens: int  # answer-only output
    answer_tokens: int  # Socratic sub-answer
    question_tokens: int  # Socratic sub-question
    max_steps_socratic: int


PRESETS = {
    "smoke": Preset(8, 2, 2, 1, 1, 1e-4, 2, 1, 24, 8, 16, 12, 2),
    # Sized for a 2-core CPU shared with other work: 4 optimizer steps of 4 examples per student.
    "reduced": Preset(32, 12, 8, 1, 4, 2e-4, 4, 2, 96, 12, 40, 24, 4),
    "full": Preset(1000, 319, 1000, 3, -1, 5e-5, 16, 4, 256, 16, 96, 48, 8),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def import_data(engine: Any, work: Path, preset: Preset) -> dict[str, int]:
    """GSM8K Socratic test (all rows), the first T rows of GSM8K train, SVAMP; returns dataset ids."""
    from sqlmodel import Session

    from backend.importers.gsm8k import import_gsm8k
    from backend.importers.svamp import import_svamp

    train_slice = work / "gsm8k_train_slice.jsonl"
    lines = (DATASETS / "gsm8k" / "train.jsonl").read_text().splitlines(keepends=True)
    train_slice.write_text("".join(lines[: preset.n_train]))
    with Session(engine) as session:
        socratic = import_gsm8k(session, DATASETS / "gsm8k" / "test_socratic.jsonl", show_progress=False)
        train = import_gsm8k(
            session, train_slice, split="train", name="gsm8k_train_slice", show_progress=False
        )
        svamp = import_svamp(session, DATASETS / "svamp" / "SVAMP.json", show_progress=False)
    return {"socratic": socratic.dataset_id, "train": train.dataset_id, "svamp": svamp.dataset_id}


def problem_ids(session: Any, dataset_id: int, start: int, count: int) -> list[int]:
    """Problem ids of rows [start, start+count) in file order (the importer inserts in file order)."""
    from sqlmodel import col, select

    from db.models import Problem

    query = select(Problem.id).where(Problem.dataset_id == dataset_id).order_by(col(Problem.id))
    return list(session.exec(query.offset(start).limit(count)).all())


def frozen_set_of(session: Any, name: str, ids: list[int]) -> int:
    """A frozen set of the reference rationales of these problems."""
    from sqlmodel import col, select

    from backend.curation import create_set, freeze
    from db.models import Rationale, RationaleSource

    query = select(Rationale.id).where(
        col(Rationale.problem_id).in_(ids), Rationale.source == RationaleSource.reference
    )
    picks = list(session.exec(query).all())
    curated = create_set(session, name=name, picks=picks)
    assert curated.id is not None
    freeze(session, set_id=curated.id)
    return curated.id


def train(engine: Any, preset: Preset, set_id: int, kind: str, name: str) -> tuple[int, float]:
    """Train one student to the end in this process; (checkpoint id, training seconds)."""
    from sqlmodel import Session, select

    from backend.jobs.runner import run_job
    from backend.training.config import TrainConfig
    from backend.training.job import start_training
    from db.models import JobStatus, ModelCheckpoint, TrainingRun

    config = TrainConfig(
        set_id=set_id, kind=kind, base_model="default", name=name, epochs=preset.epochs,  # type: ignore[arg-type]
        max_steps=preset.max_steps, learning_rate=preset.learning_rate, batch_size=preset.batch_size, seed=0,
    )  # fmt: skip
    with Session(engine) as session:
        job, run = start_training(session, config=config)
    log(f"train {name}: {run.hyperparams['n_examples']} examples")
    assert job.id is not None and run.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"training {name} failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(TrainingRun, run.id)
        checkpoint = session.exec(
            select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run.id)
        ).one()
        assert finished is not None and checkpoint.id is not None
        log(f"trained {name} in {finished.train_seconds:.0f} s ({checkpoint.step} steps)")
        return checkpoint.id, finished.train_seconds


def evaluate(engine: Any, preset: Preset, name: str, ids: list[int], **spec: Any) -> dict[str, Any]:
    """Run one evaluation over these problems; its summary plus wall time."""
    from sqlmodel import Session

    from backend.evaluation.config import EvalConfig
    from backend.evaluation.job import start_evaluation
    from backend.jobs.runner import run_job
    from db.models import EvalRun, JobStatus

    tokens = preset.answer_only_tokens if spec["method"] == "answer_only" else preset.max_tokens
    config = EvalConfig(
        name=name, problem_ids=ids, max_tokens=tokens, answer_tokens=preset.answer_tokens,
        question_tokens=preset.question_tokens, max_steps=preset.max_steps_socratic, chunk_size=64, **spec,
    )  # fmt: skip
    with Session(engine) as session:
        job, run = start_evaluation(session, config=config)
    started = time.monotonic()
    assert job.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"evaluation {name} failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(EvalRun, run.id)
        assert finished is not None
        summary = dict(finished.summary) | {"eval_seconds": round(time.monotonic() - started, 1)}
    log(f"{name}: accuracy {summary['accuracy']:.1%}, {summary['tokens_per_problem']} tokens/problem")
    return summary


def run_ladder(engine: Any, work: Path, preset: Preset) -> list[dict[str, Any]]:
    from sqlmodel import Session

    datasets = import_data(engine, work, preset)
    with Session(engine) as session:
        train_ids = problem_ids(session, datasets["socratic"], 0, preset.n_train)
        eval_ids = problem_ids(session, datasets["socratic"], preset.n_train, preset.n_eval)
        svamp_ids = problem_ids(session, datasets["svamp"], 0, preset.n_svamp)
        socratic_set = frozen_set_of(session, "ladder-test-socratic-train", train_ids)
        train_set = frozen_set_of(
            session, "ladder-train-cot", problem_ids(session, datasets["train"], 0, preset.n_train)
        )
    checkpoints: dict[str, int] = {}
    seconds: dict[str, float] = {"floor": 0.0}
    students = [
        ("answer_only", socratic_set, "answer_only"),
        ("cot", socratic_set, "cot"),
        ("decomposer", socratic_set, "decomposer"),
        ("solver", socratic_set, "solver"),
        ("cot", train_set, "cot_train"),
    ]
    for kind, set_id, name in students:
        checkpoints[name], seconds[name] = train(engine, preset, set_id, kind, f"ladder-{name}")
    seconds["socratic"] = seconds.pop("decomposer") + seconds.pop("solver")
    floor = {"method": "cot", "solver": {"backend": "transformers", "model": "default"}}
    arms: dict[str, dict[str, Any]] = {
        "floor": floor | {"few_shot_set_id": socratic_set, "few_shot": preset.few_shot},
        "answer_only": {"method": "answer_only", "solver": {"checkpoint_id": checkpoints["answer_only"]}},
        "cot": {"method": "cot", "solver": {"checkpoint_id": checkpoints["cot"]}},
        "socratic": {
            "method": "socratic",
            "decomposer": {"checkpoint_id": checkpoints["decomposer"]},
            "solver": {"checkpoint_id": checkpoints["solver"]},
        },
        "cot_train": {"method": "cot", "solver": {"checkpoint_id": checkpoints["cot_train"]}},
    }
    results = []
    for arm, spec in arms.items():
        for dataset, ids in (("gsm8k", eval_ids), ("svamp", svamp_ids)):
            summary = evaluate(engine, preset, f"ladder-{arm}-{dataset}", ids, **spec)
            results.append(
                {"arm": arm, "dataset": dataset, "train_seconds": round(seconds[arm], 1)} | summary
            )
    return results


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| arm | eval set | accuracy | correct / n | unparseable | tokens / problem | mean steps | train s "
        "| eval s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r['arm']} | {r['dataset']} | {r['accuracy']:.1%} | {r['n_correct']} / {r['n_problems']} | "
            f"{r['unparseable_rate']:.0%} | {r['tokens_per_problem']:.0f} | {r['mean_steps']:.1f} | "
            f"{r['train_seconds']:.0f} | {r['eval_seconds']:.0f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="reduced")
    parser.add_argument("--work", type=Path, required=True, help="folder for the database, runs and results")
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset]
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "ladder.db").unlink(missing_ok=True)
    os.environ["SOCRATIC_RUNS_DIR"] = str(work / "runs")  # the model cache stays where SmolLM2 is prepared
    from db.engine import open_database
    from db.settings import get_settings

    get_settings.cache_clear()
    engine = open_database(f"sqlite:///{work / 'ladder.db'}")
    log(f"preset {args.preset}: {asdict(preset)}")
    started = time.monotonic()
    results = run_ladder(engine, work, preset)
    total = time.monotonic() - started
    t, e = preset.n_train, preset.n_eval
    split = {
        "train_rows": f"test_socratic.jsonl [0, {t}) and train.jsonl [0, {t})",
        "eval_rows": f"test_socratic.jsonl [{t}, {t + e}); SVAMP.json [0, {preset.n_svamp})",
    }
    payload = {
        "preset": args.preset,
        "config": asdict(preset),
        "split": split,
        "total_seconds": round(total),
        "results": results,
    }
    (work / "results.json").write_text(json.dumps(payload, indent=2))
    log(f"done in {total / 60:.1f} min; {json.dumps(split)}")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
