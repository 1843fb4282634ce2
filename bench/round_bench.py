"""Samples per question, measured (issue 23): rounds with k = 4 and k = 1 from one gold-only student.

A `gsm8k-cpu` ladder's CoT student (trained on GSM8K train's gold solutions) is the teacher of a round
(backend.rounds, the job the Train page and `socratic-studio round` start): it samples k rationales for
`--questions` of its own training questions, the correct ones with sound arithmetic join its set, the next
student trains on the union with the ladder's recipe (epochs, rate, batch, seed), and both students are
evaluated on all of GSM8K test and compared with exact McNemar. The k = 1 round, from the same student
with the same questions, shows what many samples add alone: its "after" is compared with the k = 4
round's on the same problems. `--rationalize` runs STaR's variant (unsolved questions sampled again with
the gold answer as a hint), recorded as "k+rationalize". Rounds of earlier calls on the same `--work`
stay in its rounds.json, and every pair of them is compared. The student's own evaluation is run once
(later rounds reuse it).

The ladder's database is copied, never written. GSM8K train and test are disjoint, and every evaluation
runs the contamination check against the students' training problems.

Any ladder's CoT student can start the rounds, judged on any of its database's datasets
(`--eval-dataset`, `--eval-split`); every comparison is also made per split of the ladder (a `cpu`
ladder's seen and unseen templates). `--control NAME` compares every round's student and the start with
another evaluation of the same problems, e.g. the start's recipe trained as many steps as a round's
student (docs/results.md gives the commands). Each round's record counts the kept samples that only
repeat the set's reasoning.

Run (after `bench/ladder.py --preset gsm8k-cpu --train-problems 1200 --arms cot --seeds 1 --dev`):
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 OMP_NUM_THREADS=2 \
        .venv/bin/python bench/round_bench.py --ladder /work/runs/round1200 --work /work/runs/rounds \
        --seed 1 --samples 4,1 --questions 300 > /work/runs/rounds.log 2>&1
    (then the same with `--samples 4 --rationalize`)
Rerun with the same arguments to resume: finished rounds are kept, an unfinished one goes on from its
last finished step.
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ladder_presets import Preset, log, recorded_preset  # noqa: E402
from bench.ladder_run import student_key  # noqa: E402

EVAL_DATASET, EVAL_SPLIT = "gsm8k-test", "test"  # the ladder's name for GSM8K test (the default)


def round_config(args: argparse.Namespace, preset: Preset, checkpoint_id: int, samples: int) -> Any:
    from backend.rounds.config import RoundConfig

    return RoundConfig(
        student=str(checkpoint_id), samples=samples, questions=args.questions, temperature=args.temperature,
        rationalize=args.rationalize, distinct=args.distinct, keep=args.keep,
        eval_dataset=args.eval_dataset, eval_split=args.eval_split, eval_limit=args.eval_limit,
        epochs=preset.epochs, learning_rate=preset.learning_rate, batch_size=preset.batch_size,
        seed=args.seed,
    )  # fmt: skip


def run_round(engine: Any, config: Any) -> int:
    """The round's job run to its end here (its steps in worker processes); resumed when one with the
    same settings was stopped."""
    from sqlmodel import Session, col, select

    from backend.jobs import store
    from backend.jobs.runner import run_job
    from backend.rounds.chain import start_round
    from db.models import Job, JobKind, JobStatus

    with Session(engine) as session:
        # A round whose bench process was killed still reads "running": mark it failed so it resumes.
        store.reconcile_orphans(session)
        earlier = session.exec(
            select(Job).where(Job.kind == JobKind.round).order_by(col(Job.id).desc())
        ).all()
        # read back as configs, so that a round stored before a setting existed matches its default
        found = next((job for job in earlier if type(config).from_json(job.params) == config), None)
        if found is None:
            job = start_round(session, config=config)
        elif found.status == JobStatus.succeeded:
            return found.id or 0
        else:
            job = store.reset_for_resume(session, job_id=found.id or 0)
    assert job.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"round job {job.id} did not succeed; see `socratic-studio jobs show {job.id}`")
    return job.id


def step_seconds(engine: Any, prefix: str) -> dict[str, float]:
    """Wall seconds of each of the round's step jobs, by the name of what they made."""
    from sqlmodel import Session, select

    from db.models import EvalRun, Job, TeacherRun, TrainingRun

    seconds = {}
    with Session(engine) as session:
        for model in (TeacherRun, TrainingRun, EvalRun):
            for run in session.exec(select(model).where(model.name.startswith(prefix))).all():  # type: ignore[attr-defined]
                job = session.get(Job, run.job_id) if run.job_id else None
                if job and job.started_at and job.finished_at:
                    seconds[run.name] = round((job.finished_at - job.started_at).total_seconds(), 1)
    return seconds


def round_result(
    engine: Any, job_id: int, student: dict[str, Any], splits: dict[str, list[int]]
) -> dict[str, Any]:
    """What the round did: kept samples (its message), its steps' times, the new student's training speed,
    and both evaluations compared on the same problems with their contamination summaries, on the whole
    and on each of the ladder's splits they evaluated (a `cpu` ladder's seen and unseen templates). The
    student's evaluation is the round's own, or the first round's that it reused."""
    from sqlmodel import Session, col, select

    from backend.evaluation.paired import compare
    from db.models import EvalRun, Job, JobStatus, TrainingMetric, TrainingRun

    prefix = f"round-{job_id}-"
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None

        def named(name: str) -> EvalRun | None:
            return session.exec(select(EvalRun).where(EvalRun.name == name)).first()

        started_from = {"checkpoint_id": student["checkpoint_id"]}
        earlier = session.exec(
            select(EvalRun)
            .where(col(EvalRun.name).like("round-%-before"), EvalRun.status == JobStatus.succeeded)
            .order_by(col(EvalRun.id))
        ).all()
        reused = next((run for run in earlier if run.solver == started_from), None)
        before = named(f"{prefix}before") or reused
        after = named(f"{prefix}after")
        assert before is not None and before.id and after is not None and after.id
        trained = session.exec(select(TrainingRun).where(TrainingRun.name == f"{prefix}cot")).one()
        speeds = session.exec(
            select(TrainingMetric.tokens_per_second).where(
                TrainingMetric.run_id == trained.id, col(TrainingMetric.tokens_per_second).is_not(None)
            )
        ).all()
        return {
            "job_id": job_id,
            "message": job.message,
            "seconds": step_seconds(engine, prefix),
            "train_seconds": trained.train_seconds,
            "train_tokens_per_s_last": speeds[-1] if speeds else None,
            "evaluations": {run.name: summary_of(run) for run in (before, after)},
            "before_id": before.id,
            "after_id": after.id,
            "per_problem": per_problem(session, before.id, after.id),
            "reasoning": kept_reasoning(
                session, prefix, (student["hyperparams"]["set_id"], trained.set_id), job.params
            ),
        } | {
            "compare": compare(session, before.id, after.id),
            "by_split": by_split(session, before.id, after.id, splits),
        }


def kept_reasoning(
    session: Any, prefix: str, set_ids: tuple[int, int], params: dict[str, Any]
) -> dict[str, int]:
    """Of the samples that passed the keep policy, how many only repeat reasoning of the student's set (or
    an earlier sample) and how many reason otherwise: counted for every round, whether or not it kept
    only the new ones (`distinct`) or was run before the count existed. The samples are the round's own
    teacher runs and the runs its new set's rationales came from (a round that reused another's samples);
    `set_ids`: the student's set and the round's."""
    from sqlmodel import col, select

    from backend.rounds.keep import load_samples, select_kept
    from backend.sets.curation import frozen_records
    from backend.training.config import FilterPolicy
    from db.models import Rationale, TeacherRun

    previous = frozen_records(session, set_id=set_ids[0])
    added = {r.rationale_id for r in frozen_records(session, set_id=set_ids[1])} - {
        r.rationale_id for r in previous
    }
    own = session.exec(select(TeacherRun.id).where(col(TeacherRun.name).startswith(prefix))).all()
    sources = session.exec(select(Rationale.run_id).where(col(Rationale.id).in_(added))).all()
    runs = sorted({run for run in [*own, *sources] if run is not None})
    selection = select_kept(load_samples(session, runs), FilterPolicy(params["keep"]), previous)
    return {
        "passed": len(selection.passed),
        "repeats": selection.repeats,
        "new_reasoning": len(selection.fresh),
        "questions_with_new_reasoning": len({sample.problem_id for sample in selection.fresh}),
    }


def by_split(session: Any, before_id: int, after_id: int, splits: dict[str, list[int]]) -> dict[str, Any]:
    """The comparison restricted to each split of the ladder that both evaluations cover part of."""
    from backend.evaluation.paired import compare

    compared = {name: compare(session, before_id, after_id, problems=ids) for name, ids in splits.items()}
    return {name: result for name, result in compared.items() if result["n"]}


def per_problem(session: Any, before_id: int, after_id: int) -> dict[str, dict[str, Any]]:
    """Each problem's grading by both students (GSM8K's row id: correct, final answer), to audit."""
    from sqlmodel import col, select

    from db.models import EvalTrace, Problem

    graded: dict[str, dict[str, Any]] = {}
    for label, run_id in (("before", before_id), ("after", after_id)):
        rows = session.exec(
            select(Problem.external_id, EvalTrace.correct, EvalTrace.final_answer)
            .join(Problem, col(Problem.id) == EvalTrace.problem_id)
            .where(EvalTrace.eval_run_id == run_id)
        )
        for external_id, correct, answer in rows.all():
            graded.setdefault(external_id, {})[label] = [correct, answer]
    return graded


def summary_of(run: Any) -> dict[str, Any]:
    keys = ("n_problems", "n_correct", "accuracy", "tokens_per_problem", "contamination")
    return {"id": run.id} | {key: run.summary.get(key) for key in keys}


def paired(engine: Any, rounds: dict[str, Any], splits: dict[str, list[int]]) -> dict[str, Any]:
    """Each pair of rounds' new students on the same problems (k = 4 against k = 1: many samples alone),
    on the whole and per split."""
    from sqlmodel import Session

    from backend.evaluation.paired import compare

    ks = list(rounds)
    with Session(engine) as session:
        return {
            f"k={a} vs k={b}": compare(session, rounds[b]["after_id"], rounds[a]["after_id"])
            | {"by_split": by_split(session, rounds[b]["after_id"], rounds[a]["after_id"], splits)}
            for i, a in enumerate(ks)
            for b in ks[i + 1 :]
        }


def against_control(
    engine: Any, rounds: dict[str, Any], name: str, splits: dict[str, list[int]]
) -> dict[str, Any]:
    """Every round's new student, and the student it started from, against another evaluation of the
    same problems (`--control`: the start's recipe trained for as many steps as a round's student, which
    tells the samples' effect from that of training longer)."""
    from sqlmodel import Session, col, select

    from backend.evaluation.paired import compare
    from db.models import EvalRun, JobStatus

    with Session(engine) as session:
        control = session.exec(
            select(EvalRun).where(EvalRun.name == name, EvalRun.status == JobStatus.succeeded)
            .order_by(col(EvalRun.id).desc())
        ).first()  # fmt: skip
        if control is None or control.id is None:
            raise SystemExit(f"no finished evaluation named {name!r} in this run's database")

        def versus(before_id: int, after_id: int) -> dict[str, Any]:
            return compare(session, before_id, after_id) | {
                "by_split": by_split(session, before_id, after_id, splits)
            }

        start = next(iter(rounds.values()))["before_id"]
        return {"control": summary_of(control), "control vs start": versus(start, control.id)} | {
            f"k={label} vs control": versus(control.id, done["after_id"]) for label, done in rounds.items()
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ladder", type=Path, required=True, help="a ladder's work folder (CoT trained)")
    p.add_argument("--work", type=Path, required=True, help="this run's folder (the database is copied here)")
    p.add_argument(
        "--seed", type=int, default=0, help="the ladder's CoT student of this seed; the rounds' seed"
    )
    p.add_argument("--samples", default="4,1", help="comma-separated k of the rounds, run in this order")
    p.add_argument("--questions", type=int, help="training questions sampled (default: all of the set)")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--eval-limit", type=int, help="problems evaluated, in id order (default: all)")
    p.add_argument(
        "--eval-dataset", default=EVAL_DATASET, help="the dataset both students are evaluated on "
        "(a `cpu` ladder's held-out gsm_symbolic: gsm_symbolic-heldout)",
    )  # fmt: skip
    p.add_argument("--eval-split", default=EVAL_SPLIT, help="that dataset's split")
    p.add_argument(
        "--control", help="the name of another finished evaluation of the same problems in --work's database "
        "(e.g. the start's recipe trained as many steps as a round's student): every round and the start "
        "are compared with it",
    )  # fmt: skip
    p.add_argument("--keep", default="all_correct", help="the rounds' filter policy")
    p.add_argument(
        "--rationalize", action="store_true", help="questions with no correct sample are sampled again with "
        "the gold answer as a hint (STaR); the rounds are recorded as k+rationalize",
    )  # fmt: skip
    p.add_argument(
        "--distinct", action="store_true", help="keep only samples that reason otherwise than the set (RFT); "
        "a round with the sampling settings of an earlier one reuses its samples; recorded as k+distinct",
    )  # fmt: skip
    args = p.parse_args(argv)
    payload = json.loads((args.ladder / "results.json").read_text())
    preset = recorded_preset(payload)
    splits: dict[str, list[int]] = payload.get("splits", {})  # problem ids: the ladder's database's
    student = payload["students"].get(student_key("cot", "cot", args.seed))
    if student is None:
        raise SystemExit(f"{args.ladder} has no trained CoT student of seed {args.seed}")
    args.work.mkdir(parents=True, exist_ok=True)
    database, output = args.work / "rounds.db", args.work / "rounds.json"
    if not database.exists():
        with sqlite3.connect(args.ladder / "ladder.db") as source:
            source.execute("VACUUM INTO ?", (str(database),))
    os.environ["SOCRATIC_RUNS_DIR"] = str(args.work / "runs")  # the rounds' checkpoints and logs
    # the student samples from the ladder's own folder, which a model reference may name only when allowed
    os.environ["SOCRATIC_MODEL_ROOTS"] = json.dumps([str((args.ladder / "runs").resolve())])
    from db.engine import open_database

    engine = open_database(f"sqlite:///{database}")
    # Rounds of earlier calls on this folder stay in its record, so every pair of them is compared.
    earlier = json.loads(output.read_text())["rounds"] if output.exists() else {}
    result: dict[str, Any] = {"ladder": str(args.ladder), "student": student, "args": vars(args) | {
        "ladder": str(args.ladder), "work": str(args.work)}, "rounds": earlier}  # fmt: skip
    for k in (int(value) for value in args.samples.split(",")):
        label = str(k) + "+rationalize" * args.rationalize + "+distinct" * args.distinct
        started = time.monotonic()
        job_id = run_round(engine, round_config(args, preset, student["checkpoint_id"], k))
        done = round_result(engine, job_id, student, splits)
        wall = round(time.monotonic() - started)
        # a round found finished keeps the wall time of the call that ran it
        result["rounds"][label] = done | {"wall_s": earlier.get(label, {}).get("wall_s", wall)}
        log(f"k = {label}: {result['rounds'][label]['message']}")
        output.write_text(json.dumps(result, indent=1))
    result["paired"] = paired(engine, result["rounds"], splits)
    if args.control:
        result["against_control"] = against_control(engine, result["rounds"], args.control, splits)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
