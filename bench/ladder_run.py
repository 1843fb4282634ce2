"""The ladder's training, evaluation and command line (bench/ladder.py has the presets and the data)."""

import argparse
import json
import os
import subprocess
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench.ladder import (
    PRESETS,
    ROOT,
    Preset,
    frozen_set,
    import_data,
    log,
    reference_rationales,
    teacher_sub_questions,
)
from bench.ladder_report import compare, table

# arm -> (student kinds it trains, set it trains on)
STUDENTS = {
    "answer_only": [("answer_only", "reference")],
    "cot": [("cot", "reference")],
    "socratic": [("decomposer", "clean"), ("solver", "clean")],
    "socratic_unfiltered": [("decomposer", "all"), ("solver", "all")],
    "socratic_masked": [("decomposer", "all"), ("solver", "all")],
    "unified": [("unified", "clean")],
    "unified_masked": [("unified", "all")],
    "divide_conquer": [("decompose_only", "clean")],
}


# Arms whose asking students leave flagged sub-questions out of the loss (step-level curation).
SKIP_FLAGGED = ("socratic_masked", "unified_masked")


def train(
    engine: Any, preset: Preset, set_id: int, kind: str, name: str, *, skip_flagged: bool = False
) -> dict[str, Any]:
    """Train one student to the end in this process: its checkpoint id and what the run recorded."""
    from sqlmodel import Session, select

    from backend.jobs.runner import run_job
    from backend.training.config import TrainConfig
    from backend.training.job import start_training
    from db.models import JobStatus, ModelCheckpoint, TrainingRun

    with Session(engine) as session:  # a run stopped mid-training left its name taken: retry as name-2
        taken = set(session.exec(select(TrainingRun.name)).all())
        taken |= set(session.exec(select(ModelCheckpoint.name)).all())
    candidates = [name] + [f"{name}-{n}" for n in range(2, len(taken) + 3)]
    name = next(candidate for candidate in candidates if candidate not in taken)
    # Socratic sets hold the reference steps with teacher sub-questions (rationalize: no stated answer).
    policy = "all_correct" if kind in ("cot", "answer_only") else "all"
    config = TrainConfig(
        set_id=set_id, kind=kind, base_model="default", name=name, epochs=preset.epochs,  # type: ignore[arg-type]
        learning_rate=preset.learning_rate, batch_size=preset.batch_size, seed=0, warmup=0.1,
        filter_policy=policy, device=preset.device, skip_flagged_sub_questions=skip_flagged,  # type: ignore[arg-type]
    )  # fmt: skip
    with Session(engine) as session:
        job, run = start_training(session, config=config)
    assert job.id is not None and run.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"training {name} failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(TrainingRun, run.id)
        checkpoint = session.exec(
            select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run.id)
        ).one()
        assert finished is not None and checkpoint.id is not None
        params = dict(finished.hyperparams)
    log(
        f"trained {name}: {params.get('n_examples')} examples "
        f"({params.get('untrained_sub_questions', 0)} flagged sub-questions untrained), "
        f"{params.get('tokens_seen')} tokens in "
        f"{finished.train_seconds:.0f} s ({params.get('tokens_per_second')} tok/s, {params.get('precision')})"
    )
    return {"checkpoint_id": checkpoint.id, "seconds": finished.train_seconds, "hyperparams": params}


def evaluate(engine: Any, name: str, ids: list[int], spec: dict[str, Any], batch: int) -> dict[str, Any]:
    """One evaluation over these problems: its summary, wall time and per-problem correctness."""
    from sqlmodel import Session, col, select

    from backend.evaluation.config import EvalConfig
    from backend.evaluation.job import start_evaluation
    from backend.jobs.runner import run_job
    from db.models import EvalRun, EvalTrace, JobStatus

    config = EvalConfig(name=name, problem_ids=ids, chunk_size=max(64, batch), batch_size=batch, **spec)
    with Session(engine) as session:
        job, run = start_evaluation(session, config=config)
    started = time.monotonic()
    assert job.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"evaluation {name} failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(EvalRun, run.id)
        assert finished is not None
        rows = session.exec(
            select(EvalTrace.problem_id, EvalTrace.correct)
            .where(EvalTrace.eval_run_id == run.id)
            .order_by(col(EvalTrace.problem_id))
        ).all()
    summary = dict(finished.summary) | {"eval_seconds": round(time.monotonic() - started, 1)}
    log(f"{name}: {summary['n_correct']}/{summary['n_problems']} ({summary['accuracy']:.1%}), "
        f"{summary['tokens_per_problem']} tokens/problem, {summary['eval_seconds']} s")  # fmt: skip
    return summary | {"per_problem": {str(pid): bool(ok) for pid, ok in rows}}


def budget_of(trained: dict[str, Any]) -> dict[str, int]:
    return dict(trained["hyperparams"].get("generation_budget") or {})


def arm_specs(preset: Preset, students: dict[str, dict[str, Any]], sets: dict[str, int]) -> dict[str, Any]:
    """Evaluation settings per arm; token limits and the step cap from each student's training data."""
    base = {"backend": "transformers", "model": "default"}

    def checkpoint(name: str) -> dict[str, int]:
        return {"checkpoint_id": students[name]["checkpoint_id"]}

    specs: dict[str, Any] = {}
    cot_budget = budget_of(students["cot"]) if "cot" in students else {"max_tokens": 256}
    if "answer_only" in students:
        specs["answer_only"] = {"method": "answer_only", "solver": checkpoint("answer_only")} | budget_of(
            students["answer_only"]
        )
    if "cot" in students:
        specs["cot"] = {"method": "cot", "solver": checkpoint("cot")} | cot_budget
    for arm in ("socratic", "socratic_unfiltered", "socratic_masked"):
        if f"{arm}/decomposer" in students and f"{arm}/solver" in students:
            decomposer, solver = students[f"{arm}/decomposer"], students[f"{arm}/solver"]
            pair = {"decomposer": checkpoint(f"{arm}/decomposer"), "solver": checkpoint(f"{arm}/solver")}
            specs[arm] = {"method": "socratic"} | pair | budget_of(decomposer) | budget_of(solver)
    for arm in ("unified", "unified_masked"):  # one model asks and answers
        if f"{arm}/unified" in students:
            one = checkpoint(f"{arm}/unified")
            specs[arm] = {"method": "socratic", "decomposer": one, "solver": one} | budget_of(
                students[f"{arm}/unified"]
            )
    # The untrained base solves with the same shots as the floor, so the two differ only in the plan.
    shots = {"few_shot_set_id": sets["reference"], "few_shot": preset.few_shot}
    if "divide_conquer/decompose_only" in students:
        specs["divide_conquer"] = {"method": "divide_conquer",
                                   "decomposer": checkpoint("divide_conquer/decompose_only"),
                                   "solver": base} | shots | cot_budget  # fmt: skip
    # The floor last: the untrained base writes to its token limit and its wrong sums are rewound one by
    # one, so it is the slowest arm; a run cut short still has every trained arm.
    if "floor" in preset.arms:
        specs["floor"] = {"method": "cot", "solver": base} | shots | cot_budget
    return specs


def prepare_students(engine: Any, work: Path, preset: Preset, payload: dict[str, Any]) -> dict[str, int]:
    """Data, teacher sub-questions and trained students (the frozen sets by name)."""
    from sqlmodel import Session

    with Session(engine) as session:
        splits = import_data(session, preset)
        sets = {
            "reference": frozen_set(
                session, "ladder-reference", reference_rationales(session, splits["train"])
            )
        }
    payload["splits"] = splits
    needs_teacher = any(arm in STUDENTS and arm not in ("answer_only", "cot") for arm in preset.arms)
    if needs_teacher:
        teacher = teacher_sub_questions(engine, preset, splits["train"])
        payload["teacher"] = teacher
        with Session(engine) as session:
            sets["clean"] = frozen_set(session, "ladder-socratic-clean", teacher["clean"])
            sets["all"] = frozen_set(session, "ladder-socratic-all", teacher["all"])
    payload["sets"] = sets
    train_missing(engine, work, preset, payload, sets)
    return sets


def train_missing(
    engine: Any, work: Path, preset: Preset, payload: dict[str, Any], sets: dict[str, int]
) -> None:
    """Every arm's students not yet in `payload` (a run stopped mid-training resumes at the next one)."""
    students: dict[str, dict[str, Any]] = payload.setdefault("students", {})
    for arm in preset.arms:
        for kind, _ in STUDENTS.get(arm, []):
            key = kind if arm in ("answer_only", "cot") else f"{arm}/{kind}"
            if key in students:
                continue
            # Arms that differ in one student share the other (socratic_unfiltered and socratic_masked train
            # the same solver: masking changes only what an asking student learns); never train it twice.
            same = [other for other in students if recipe(other) == recipe(key)]
            if same:
                students[key] = students[same[0]]
                log(f"{key}: the same student as {same[0]} (checkpoint {students[key]['checkpoint_id']})")
            else:
                _, set_name, skip_flagged = recipe(key)
                name = f"ladder-{arm}-{kind}"
                students[key] = train(engine, preset, sets[set_name], kind, name, skip_flagged=skip_flagged)
            save(work, payload)


def recipe(key: str) -> tuple[str, str, bool]:
    """(kind, set, flagged sub-questions skipped) of a student key ("cot" or "arm/kind")."""
    arm, _, kind = key.rpartition("/")
    arm = arm or key
    set_name = dict(STUDENTS[arm])[kind]
    from backend.training.data import ASKING_KINDS  # the kinds the option applies to, in one place

    return kind, set_name, arm in SKIP_FLAGGED and kind in ASKING_KINDS


def sets_by_name(engine: Any) -> dict[str, int]:
    """The frozen sets of a run whose results.json predates recording them."""
    from sqlmodel import Session

    from backend.curation import get_set_by_name

    names = {"reference": "ladder-reference", "clean": "ladder-socratic-clean", "all": "ladder-socratic-all"}
    with Session(engine) as session:
        return {key: get_set_by_name(session, name=name).id or 0 for key, name in names.items()}


def run_ladder(engine: Any, work: Path, preset: Preset, payload: dict[str, Any]) -> None:
    """Everything not yet in `payload` (a resumed run keeps its students and finished evaluations)."""
    sets = payload.get("sets") or (
        sets_by_name(engine) if payload.get("students") else prepare_students(engine, work, preset, payload)
    )
    train_missing(engine, work, preset, payload, sets)
    done = {(r["arm"], r["dataset"]) for r in payload["results"]}
    for arm, spec in arm_specs(preset, payload["students"], sets).items():
        for dataset, ids in payload["splits"].items():
            if dataset == "train" or (arm, dataset) in done:
                continue
            summary = evaluate(engine, f"ladder-{arm}-{dataset}", ids, spec, preset.eval_batch)
            payload["results"].append({"arm": arm, "dataset": dataset} | summary)
            save(work, payload)


def save(work: Path, payload: dict[str, Any]) -> None:
    try:
        payload["comparisons"] = compare(payload["results"])
    except ImportError:  # the GPU machine runs without scipy: `bench/ladder_report.py results.json` later
        payload["comparisons"] = []
    (work / "results.json").write_text(json.dumps(payload, indent=1))


def without_students(payload: dict[str, Any]) -> dict[str, Any]:
    """A finished run's data, teacher and sets with no students: the untrained floor's rows are kept, since
    training changes nothing in them (a paired rerun of the trained arms on the very same problems)."""
    floor = [result for result in payload["results"] if result["arm"] == "floor"]
    return payload | {"students": {}, "results": floor, "retrained_from": payload.get("commit")}


def overridden(preset: Preset, *, epochs: float | None, arms: str | None) -> Preset:
    """The preset with the command line's epochs and arms (recorded in results.json's config)."""
    if epochs is not None:
        if not 0 < epochs <= 20:
            raise ValueError(f"--epochs must be above 0 and at most 20, not {epochs}")
        preset = replace(preset, epochs=epochs)
    if arms is not None:
        known = (*STUDENTS, "floor")
        chosen = tuple(arm.strip() for arm in arms.split(",") if arm.strip())
        unknown = [arm for arm in chosen if arm not in known]
        if unknown or not chosen:
            raise ValueError(
                f"--arms takes arms among {', '.join(known)}; not {', '.join(unknown) or 'nothing'}"
            )
        preset = replace(preset, arms=chosen)
    return preset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The distillation ladder (see bench/ladder.py).")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--dry-run", action="store_true", help="the dry-run preset: same code, tiny sizes")
    parser.add_argument("--work", type=Path, required=True, help="folder for the database, runs and results")
    parser.add_argument("--resume", action="store_true", help="keep WORK's students and finished evaluations")
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="with --resume: keep WORK's data, teacher and floor; train and evaluate the rest again",
    )
    parser.add_argument("--epochs", type=float, help="train this many epochs instead of the preset's")
    parser.add_argument("--arms", help="comma-separated arms to run instead of the preset's")
    args = parser.parse_args(argv)
    if args.retrain and not args.resume:
        parser.error("--retrain reuses a finished run's data: give --resume too")
    name = "dry-run" if args.dry_run else args.preset
    try:
        preset = overridden(PRESETS[name], epochs=args.epochs, arms=args.arms)
    except ValueError as error:
        parser.error(str(error))
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    previous = work / "results.json"
    if not args.resume:
        (work / "ladder.db").unlink(missing_ok=True)
    os.environ["SOCRATIC_RUNS_DIR"] = str(work / "runs")  # the model cache stays where SmolLM2 is prepared
    from db.engine import open_database
    from db.settings import get_settings

    get_settings.cache_clear()
    engine = open_database(f"sqlite:///{work / 'ladder.db'}")
    log(f"preset {name}: {asdict(preset)}")
    started = time.monotonic()
    payload: dict[str, Any] = {"preset": name, "config": asdict(preset), "results": []}
    if args.resume and previous.exists():
        payload = json.loads(previous.read_text()) | {"config": asdict(preset)}
        if args.retrain:
            payload = without_students(payload)
        log(
            f"resuming: {len(payload.get('students', {}))} students, "
            f"{len(payload['results'])} evaluations kept"
        )
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    payload["commit"] = head.stdout.strip()
    run_ladder(engine, work, preset, payload)
    payload["total_seconds"] = round(time.monotonic() - started)
    save(work, payload)
    log(f"done in {payload['total_seconds'] / 60:.1f} min")
    print(table(payload))
    return 0
