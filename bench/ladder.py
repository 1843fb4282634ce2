"""The distillation ladder: students trained from one base (SmolLM2-135M-Instruct) on the same training
problems, scored on held-out sets with 95% Wilson intervals and exact McNemar tests.

Presets (bench/ladder_presets.py): `cpu` trains on reasoning-gym gsm_symbolic, `gsm8k-cpu` and `gpu` on
GSM8K train's gold solutions. Held-out sets (bench/ladder_data.py): seen and unseen gsm_symbolic templates,
GSM8K test and its contamination-clean subset, SVAMP; a development split only with --dev. Arms: the
floor (untrained base, chat template, worked shots), answer_only, cot, the Socratic pair and its variants;
each arm's rows say what trained it. Trained arms run with the calculator on and off; headline arms once
per seed. Stages (bench/ladder_stages.py) cut a preset into device calls.

Run from the project root (a fresh database under --work; the prepared SmolLM2 folder is reused):
    nohup .venv/bin/python bench/ladder.py --preset gsm8k-cpu --work /tmp/ladder > /tmp/ladder.log 2>&1 &
    .venv/bin/python bench/ladder.py --preset gpu --stage list --work /tmp/ladder-gpu     # the stages
    .venv/bin/python bench/ladder.py --preset gsm8k-cpu --dry-run --base-model DIR --work /tmp/dry
The dry run shrinks the preset, and reads the datasets from a bundle laid out under WORK/datasets as
bench/gpu_bundle.sh lays out the carried one. WORK/results.json is written after every evaluation.
"""

import argparse
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.training.config import CompileMode  # noqa: E402
from bench.ladder_bundle import bundle_datasets  # noqa: E402
from bench.ladder_presets import EVAL_SETS, PRESETS, STUDENTS, Preset, datasets_root, log, tiny  # noqa: E402
from bench.ladder_report import row_key, table  # noqa: E402
from bench.ladder_run import run_stage, save, teacher_sets_missing, without_students  # noqa: E402
from bench.ladder_stages import Stage, describe, plan  # noqa: E402

# GSM8K train has 7,473 problems; a gsm_symbolic pool this large already takes minutes to generate.
MAX_TRAIN_PROBLEMS = 7473
MAX_SYMBOLIC = 2000  # held-out gsm_symbolic items: generating more takes longer than evaluating them


def _names(flag: str, what: str, text: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of names, each one of `known`."""
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        wrong = ", ".join(unknown) or "nothing"
        raise ValueError(f"{flag} takes {what} among {', '.join(known)}; not {wrong}")
    return chosen


def overridden(
    preset: Preset,
    *,
    epochs: float | None,
    arms: str | None,
    seeds: str | None = None,
    train_problems: int | None = None,
    symbolic: int | None = None,
    floor_sets: str | None = None,
    compile_mode: str | None = None,
) -> Preset:
    """The preset with the command line's epochs, arms, seeds, training problems, held-out gsm_symbolic
    items and the floor's sets (recorded in results.json's config)."""
    if train_problems is not None:
        if not 1 <= train_problems <= MAX_TRAIN_PROBLEMS:
            raise ValueError(f"--train-problems must be from 1 to {MAX_TRAIN_PROBLEMS}, not {train_problems}")
        preset = replace(preset, n_train=train_problems, pool=max(preset.pool, train_problems))
    if epochs is not None:
        if not 0 < epochs <= 20:
            raise ValueError(f"--epochs must be above 0 and at most 20, not {epochs}")
        preset = replace(preset, epochs=epochs)
    if arms is not None:
        preset = replace(preset, arms=_names("--arms", "arms", arms, (*STUDENTS, "floor")))
    if seeds is not None:
        parts = [part.strip() for part in seeds.split(",") if part.strip()]
        if not parts or not all(part.isdigit() and int(part) < 10_000 for part in parts):
            raise ValueError(f"--seeds takes comma-separated seeds from 0 to 9999, not {seeds!r}")
        preset = replace(preset, seeds=tuple(dict.fromkeys(int(part) for part in parts)))
    if symbolic is not None:
        if not 0 <= symbolic <= MAX_SYMBOLIC:
            raise ValueError(f"--symbolic must be from 0 to {MAX_SYMBOLIC}, not {symbolic}")
        preset = replace(preset, n_eval_symbolic=symbolic)
    if floor_sets is not None:
        preset = replace(preset, floor_sets=_names("--floor-sets", "sets", floor_sets, EVAL_SETS))
    if compile_mode is not None:
        if compile_mode not in {mode.value for mode in CompileMode}:
            raise ValueError(f"--compile takes off, on or auto, not {compile_mode!r}")
        preset = replace(preset, compile=compile_mode)
    return preset


def pick_stages(stages: list[Stage], wanted: str, payload: dict[str, Any]) -> list[Stage]:
    """`all`, `next` (the first stage not finished) or one stage by name."""
    done = {row_key(row) for row in payload["results"]}

    def finished(stage: Stage) -> bool:
        if stage.arm is None:
            return "splits" in payload
        if {set_name for _, set_name in STUDENTS.get(stage.arm, [])} - set(payload["sets"]):
            return True  # its set is empty: the arm cannot train (run_stage logs why)
        return all(e.key() in done or not payload["splits"].get(e.dataset) for e in stage.evaluations)

    if wanted == "all":
        return stages
    if wanted == "next":
        return [stage for stage in stages if not finished(stage)][:1]
    named = [stage for stage in stages if stage.name == wanted]
    if not named:
        raise ValueError(f"no stage {wanted!r}; `--stage list` names them")
    if named[0].arm is not None and "splits" not in payload:
        raise ValueError("run the data stage first (`--stage data` or `--stage next`)")
    return named


def snapshot(work: Path, dest: Path) -> None:
    """results.json and the database, gzipped, for the next device call: traces are dropped from the copy
    (their outputs are in results.json) so the state fits what a call carries."""
    dest.mkdir(parents=True, exist_ok=True)
    copy = work / "snapshot.db"
    copy.unlink(missing_ok=True)
    with sqlite3.connect(work / "ladder.db") as source:
        source.execute("VACUUM INTO ?", (str(copy),))
    with sqlite3.connect(copy) as lean:
        lean.execute("DELETE FROM evaltrace")
    with sqlite3.connect(copy) as lean:
        lean.execute("VACUUM")
    for path, name in ((copy, "ladder.db.gz"), (work / "results.json", "results.json.gz")):
        with path.open("rb") as raw, gzip.open(dest / name, "wb") as packed:
            shutil.copyfileobj(raw, packed)
    copy.unlink()


def restore(work: Path, source: Path) -> None:
    """A snapshot's database and results into a fresh work folder (nothing there is overwritten)."""
    for name in ("ladder.db", "results.json"):
        if (source / f"{name}.gz").exists() and not (work / name).exists():
            with gzip.open(source / f"{name}.gz", "rb") as packed, (work / name).open("wb") as raw:
                shutil.copyfileobj(packed, raw)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="The distillation ladder (see bench/ladder.py).")
    p.add_argument("--preset", choices=sorted(PRESETS), help="default: cpu; with --dry-run, gpu")
    p.add_argument("--dry-run", action="store_true", help="the preset at a tiny size, datasets from a bundle")
    p.add_argument("--base-model", help="students' base, floor and teacher: a model folder (tiny for tests)")
    p.add_argument("--work", type=Path, required=True, help="folder for the database, runs and results")
    p.add_argument("--resume", action="store_true", help="keep WORK's students and finished evaluations")
    p.add_argument("--retrain", action="store_true", help="with --resume: train and evaluate again, "
                   "keeping WORK's data, teacher and floor")  # fmt: skip
    p.add_argument("--epochs", type=float, help="train this many epochs instead of the preset's")
    p.add_argument("--train-problems", type=int, help="train on this many problems instead of the preset's")
    p.add_argument("--arms", help="comma-separated arms to run instead of the preset's")
    p.add_argument("--symbolic", type=int, help="generate this many held-out gsm_symbolic items to evaluate")
    p.add_argument("--compile", help="torch.compile the students' backbones: off (default), on or auto")
    p.add_argument("--floor-sets", help="comma-separated sets the floor is evaluated on (default: every set)")
    p.add_argument("--seeds", help="comma-separated training seeds of the headline arms (e.g. 0,1)")
    p.add_argument("--stage", default="all", help="all, next, list, or a stage's name (resumes WORK)")
    p.add_argument("--dev", action="store_true", help="evaluate the development split only")
    p.add_argument("--restore", type=Path, help="start from a snapshot's database and results")
    p.add_argument("--snapshot", type=Path, help="afterwards, write a snapshot here for the next call")
    return p


def load_payload(work: Path, name: str, preset: Preset, *, resume: bool, retrain: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"preset": name, "config": asdict(preset), "results": []}
    previous = work / "results.json"
    if resume and previous.exists():
        payload = json.loads(previous.read_text()) | {"config": asdict(preset)}
        if retrain:
            payload = without_students(payload)
        kept = f"{len(payload.get('students', {}))} students, {len(payload['results'])} evaluations"
        log(f"resuming: {kept} kept")
    return payload


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.preset = args.preset or ("gpu" if args.dry_run else "cpu")  # a bare dry run rehearses the device
    if args.retrain and not args.resume:
        parser().error("--retrain reuses a finished run's data: give --resume too")
    try:
        preset = overridden(
            PRESETS[args.preset],
            epochs=args.epochs,
            arms=args.arms,
            seeds=args.seeds,
            train_problems=args.train_problems,
            symbolic=args.symbolic,
            floor_sets=args.floor_sets,
            compile_mode=args.compile,
        )
    except ValueError as error:
        parser().error(str(error))
    if args.dry_run:
        preset = tiny(preset, args.base_model)
    elif args.base_model:
        preset = replace(preset, base_model=args.base_model)
    stages = plan(preset, dev=args.dev)
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.restore:
        restore(work, args.restore)
    resume = args.resume or args.stage != "all"
    if args.stage == "list":
        previous = load_payload(work, args.preset, preset, resume=True, retrain=False)
        done = {row_key(row) for row in previous["results"]}
        data_done = "splits" in previous and not teacher_sets_missing(preset, previous)
        print(describe(stages, done, data_done=data_done))
        if args.snapshot and (work / "ladder.db").exists():
            snapshot(work, args.snapshot)
        return 0
    if args.dry_run:  # read the datasets as laid out for the device, never ../shared itself
        bundle_datasets(preset, datasets_root(), work / "datasets")
        os.environ["SOCRATIC_DATASETS"] = str(work / "datasets")
    if not resume:
        (work / "ladder.db").unlink(missing_ok=True)
    os.environ["SOCRATIC_RUNS_DIR"] = str(work / "runs")  # the model cache stays where SmolLM2 is prepared
    from db.engine import open_database
    from db.settings import get_settings

    get_settings.cache_clear()
    engine = open_database(f"sqlite:///{work / 'ladder.db'}")
    payload = load_payload(work, args.preset, preset, resume=resume, retrain=args.retrain)
    try:
        chosen = pick_stages(stages, args.stage, payload)
    except ValueError as error:
        parser().error(str(error))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    payload["commit"] = head.stdout.strip()
    log(f"preset {args.preset}{' (dry run)' if args.dry_run else ''}: stages {[s.name for s in chosen]}")
    for stage in chosen:
        started = time.monotonic()
        run_stage(engine, work, preset, payload, stage)
        payload.setdefault("stage_seconds", {})[stage.name] = round(time.monotonic() - started)
        save(work, payload)
        log(f"stage {stage.name} done in {payload['stage_seconds'][stage.name]} s")
    if args.snapshot:
        snapshot(work, args.snapshot)
    print(table(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
