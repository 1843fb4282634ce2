"""The ladder's training and evaluation: students trained once per recipe and seed, each evaluation stored in
results.json (summary, per-problem correctness and every output) before the next starts.

bench/ladder.py is the command line; bench/ladder_data.py the problems; bench/ladder_stages.py the stages.
"""

import json
import time
from pathlib import Path
from typing import Any

from bench.ladder_data import frozen_set, import_data, reference_rationales, teacher_sub_questions
from bench.ladder_presets import SKIP_FLAGGED, STUDENTS, TRAINED_BY, Preset, log
from bench.ladder_report import compare, row_key
from bench.ladder_stages import Evaluation, Stage, seeds_of


def student_key(arm: str, kind: str, seed: int = 0) -> str:
    """ "cot", "socratic_masked/solver", "cot@1" (a second seed)."""
    base = kind if arm in ("answer_only", "cot") else f"{arm}/{kind}"
    return base if seed == 0 else f"{base}@{seed}"


def recipe(key: str) -> tuple[str, str, bool, int]:
    """(kind, set, flagged sub-questions skipped, seed) of a student key."""
    key, _, seed = key.partition("@")
    arm, _, kind = key.rpartition("/")
    arm = arm or key
    set_name = dict(STUDENTS[arm])[kind]
    from backend.training.data import ASKING_KINDS  # the kinds the option applies to, in one place

    return kind, set_name, arm in SKIP_FLAGGED and kind in ASKING_KINDS, int(seed or 0)


def train(engine: Any, preset: Preset, set_id: int, key: str, name: str) -> dict[str, Any]:
    """Train one student to the end in this process: its checkpoint id and what the run recorded."""
    from sqlmodel import Session, select

    from backend.jobs.runner import run_job
    from backend.training.config import TrainConfig
    from backend.training.job import start_training
    from db.models import JobStatus, ModelCheckpoint, TrainingRun

    kind, _, skip_flagged, seed = recipe(key)
    with Session(engine) as session:  # a run stopped mid-training left its name taken: retry as name-2
        taken = set(session.exec(select(TrainingRun.name)).all())
        taken |= set(session.exec(select(ModelCheckpoint.name)).all())
    candidates = [name] + [f"{name}-{n}" for n in range(2, len(taken) + 3)]
    name = next(candidate for candidate in candidates if candidate not in taken)
    # Socratic sets hold the reference steps with teacher sub-questions (rationalize: no stated answer).
    policy = "all_correct" if kind in ("cot", "answer_only") else "all"
    config = TrainConfig(
        set_id=set_id, kind=kind, base_model=preset.base_model, name=name, epochs=preset.epochs,  # type: ignore[arg-type]
        learning_rate=preset.learning_rate, batch_size=preset.batch_size, seed=seed, warmup=0.1,
        filter_policy=policy, device=preset.device, skip_flagged_sub_questions=skip_flagged,  # type: ignore[arg-type]
        compile=preset.compile,  # type: ignore[arg-type]  # checked by overridden (--compile)
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
    compiled = params.get("compiled")
    speed = f"{params.get('tokens_per_second')} tok/s, {params.get('precision')}; compile {compiled}"
    log(f"trained {name}: {params.get('n_examples')} examples, {params.get('tokens_seen')} tokens in "
        f"{finished.train_seconds:.0f} s ({speed})")  # fmt: skip
    return {"checkpoint_id": checkpoint.id, "seconds": finished.train_seconds, "hyperparams": params}


def outputs_of(engine: Any, run_id: int) -> dict[str, dict[str, Any]]:
    """Every trace of an evaluation, per problem: what the model wrote, so grading can be audited."""
    from sqlmodel import Session, col, select

    from db.models import EvalTrace

    with Session(engine) as session:
        traces = session.exec(
            select(EvalTrace).where(EvalTrace.eval_run_id == run_id).order_by(col(EvalTrace.problem_id))
        ).all()
    return {
        str(trace.problem_id): {
            "correct": bool(trace.correct),
            "answer": trace.final_answer,
            "text": trace.raw_text,
            "steps": [[step.get("sub_question"), step.get("answer")] for step in trace.steps or []],
        }
        for trace in traces
    }


def evaluate(engine: Any, name: str, ids: list[int], spec: dict[str, Any], batch: int) -> dict[str, Any]:
    """One evaluation over these problems: its summary, wall time, per-problem correctness and outputs."""
    from sqlmodel import Session

    from backend.evaluation.config import EvalConfig
    from backend.evaluation.job import start_evaluation
    from backend.jobs.runner import run_job
    from db.models import EvalRun, JobStatus

    config = EvalConfig(name=name, problem_ids=ids, chunk_size=max(64, batch), batch_size=batch, **spec)
    with Session(engine) as session:
        job, run = start_evaluation(session, config=config)
    started = time.monotonic()
    assert job.id is not None and run.id is not None
    if run_job(engine, job.id) != JobStatus.succeeded:
        raise RuntimeError(f"evaluation {name} failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        finished = session.get(EvalRun, run.id)
        assert finished is not None
        summary = dict(finished.summary) | {"eval_seconds": round(time.monotonic() - started, 1)}
    log(f"{name}: {summary['n_correct']}/{summary['n_problems']} ({summary['accuracy']:.1%}), "
        f"{summary['tokens_per_problem']} tokens/problem, {summary['eval_seconds']} s")  # fmt: skip
    outputs = outputs_of(engine, run.id)
    per_problem = {pid: out["correct"] for pid, out in outputs.items()}
    return summary | {"per_problem": per_problem, "outputs": outputs}


def budget_of(trained: dict[str, Any]) -> dict[str, int]:
    return dict(trained["hyperparams"].get("generation_budget") or {})


def base_spec(preset: Preset) -> dict[str, Any]:
    """The untrained base through its chat template: the format it was instruction-tuned on."""
    return {"backend": "transformers", "model": preset.base_model, "options": {"chat": True}}


def arm_spec(preset: Preset, arm: str, seed: int, students: dict[str, Any], sets: dict[str, int]) -> dict:
    """Evaluation settings of one arm at one seed; token limits and the step cap from its training data."""
    spec = _arm_spec(preset, arm, seed, students, sets)
    if preset.decode_cap:  # a tiny untrained model writes to every limit: keep the dry run short
        limits = ("max_tokens", "question_tokens", "answer_tokens")
        spec |= {key: min(spec.get(key) or preset.decode_cap, preset.decode_cap) for key in limits}
        spec["max_steps"] = 2
    return spec


def _arm_spec(preset: Preset, arm: str, seed: int, students: dict[str, Any], sets: dict[str, int]) -> dict:

    def student(kind: str) -> dict[str, Any]:
        return students[student_key(arm, kind, seed)]

    def checkpoint(kind: str) -> dict[str, int]:
        return {"checkpoint_id": student(kind)["checkpoint_id"]}

    cot_key = student_key("cot", "cot", seed if seed in seeds_of(preset, "cot") else 0)
    cot_budget = budget_of(students[cot_key]) if cot_key in students else {"max_tokens": 256}
    # The untrained base solves with the floor's shots, so the floor and Divide-or-Conquer differ in the plan.
    shots = {"few_shot_set_id": sets["reference"], "few_shot": preset.few_shot}
    if arm == "floor":
        return {"method": "cot", "solver": base_spec(preset)} | shots | cot_budget
    if arm in ("answer_only", "cot"):
        return {"method": arm, "solver": checkpoint(arm)} | budget_of(student(arm))
    if arm.startswith("socratic"):
        pair = {"decomposer": checkpoint("decomposer"), "solver": checkpoint("solver")}
        return {"method": "socratic"} | pair | budget_of(student("decomposer")) | budget_of(student("solver"))
    if arm.startswith("unified"):  # one model asks and answers
        one = checkpoint("unified")
        return {"method": "socratic", "decomposer": one, "solver": one} | budget_of(student("unified"))
    assert arm == "divide_conquer", arm
    return {"method": "divide_conquer", "decomposer": checkpoint("decompose_only"),
            "solver": base_spec(preset)} | shots | cot_budget  # fmt: skip


def usable(engine: Any, student: dict[str, Any]) -> bool:
    """A student whose checkpoint is on this machine (a fresh device machine has none: train again)."""
    from sqlmodel import Session

    from db.models import ModelCheckpoint

    with Session(engine) as session:
        checkpoint = session.get(ModelCheckpoint, student["checkpoint_id"])
        return checkpoint is not None and Path(checkpoint.path).exists()


def teacher_sets_missing(preset: Preset, payload: dict[str, Any]) -> set[str]:
    """The teacher-written sets (`clean`, `all`) the preset's arms train on that this run has not made:
    a run resumed with a Socratic arm its first run lacked still needs its teacher."""
    needed = {set_name for arm in preset.arms for _, set_name in STUDENTS.get(arm, [])} & {"clean", "all"}
    return set() if "teacher" in payload else needed - set(payload.get("sets", {}))


def prepare_data(engine: Any, work: Path, preset: Preset, payload: dict[str, Any]) -> None:
    """The data stage: problems, the reference set, and the teacher's sub-questions where an arm asks;
    on a resumed run, only what it lacks."""
    from sqlmodel import Session

    if "splits" not in payload:
        with Session(engine) as session:
            splits = {name: ids for name, ids in import_data(session, preset).items() if ids}
            reference = reference_rationales(session, splits["train"])
            payload["sets"] = {"reference": frozen_set(session, "ladder-reference", reference)}
        payload["splits"] = splits
    missing = teacher_sets_missing(preset, payload)
    if missing:
        teacher = teacher_sub_questions(engine, preset, payload["splits"]["train"])
        payload["teacher"] = teacher
        with Session(engine) as session:
            for key in sorted(missing):
                if teacher[key]:  # an empty set cannot be frozen; its arms are skipped below
                    payload["sets"][key] = frozen_set(session, f"ladder-socratic-{key}", teacher[key])
    payload["arm_training"] = payload.get("arm_training", {}) | {arm: TRAINED_BY[arm] for arm in preset.arms}
    save(work, payload)


def train_arm(engine: Any, work: Path, preset: Preset, payload: dict[str, Any], arm: str, seed: int) -> None:
    """The arm's students at this seed not yet trained here (arms that share a recipe share the student)."""
    students: dict[str, dict[str, Any]] = payload.setdefault("students", {})
    for kind, _ in STUDENTS.get(arm, []):
        key = student_key(arm, kind, seed)
        if key in students and usable(engine, students[key]):
            continue
        # socratic_unfiltered and socratic_masked train the same solver: masking changes only what an
        # asking student learns; never train it twice.
        same = [k for k in students if k != key and recipe(k) == recipe(key) and usable(engine, students[k])]
        if same:
            students[key] = students[same[0]]
            log(f"{key}: the same student as {same[0]} (checkpoint {students[key]['checkpoint_id']})")
        else:
            set_name = recipe(key)[1]
            name = f"ladder-{arm}-{kind}" + (f"-s{seed}" if seed else "")
            students[key] = train(engine, preset, payload["sets"][set_name], key, name)
        save(work, payload)


def run_stage(engine: Any, work: Path, preset: Preset, payload: dict[str, Any], stage: Stage) -> None:
    """One stage: the data, or one arm's students and the evaluations of the stage not yet done."""
    if stage.arm is None:
        if "splits" not in payload or teacher_sets_missing(preset, payload):
            prepare_data(engine, work, preset, payload)
        return
    done = {row_key(row) for row in payload["results"]}
    todo = [e for e in stage.evaluations if e.key() not in done and payload["splits"].get(e.dataset)]
    missing = {set_name for _, set_name in STUDENTS.get(stage.arm, [])} - set(payload["sets"])
    if missing:  # the teacher left no rationale for it (a tiny dry-run teacher writes no clean one)
        log(f"{stage.arm}: not trained, the teacher left the {', '.join(sorted(missing))} set empty")
        return
    if not todo:
        return
    train_arm(engine, work, preset, payload, stage.arm, stage.seed)
    spec = arm_spec(preset, stage.arm, stage.seed, payload["students"], payload["sets"])
    for evaluation in todo:
        run_evaluation(engine, work, preset, payload, evaluation, spec)


def run_evaluation(
    engine: Any, work: Path, preset: Preset, payload: dict[str, Any], evaluation: Evaluation, spec: dict
) -> None:
    ids = payload["splits"][evaluation.dataset]
    ids = ids[: evaluation.limit] if evaluation.limit else ids
    name = f"ladder-{evaluation.arm}-s{evaluation.seed}-{evaluation.dataset}"
    name += "" if evaluation.calculator else "-nocalc"
    summary = evaluate(engine, name, ids, spec | {"calculator": evaluation.calculator}, preset.eval_batch)
    row = {"arm": evaluation.arm, "dataset": evaluation.dataset, "calculator": evaluation.calculator,
           "seed": evaluation.seed, "trained_by": TRAINED_BY[evaluation.arm]} | summary  # fmt: skip
    payload["results"].append(row)
    clean = payload["splits"].get(f"{evaluation.dataset}_clean")
    if clean is not None:  # the clean subset, read off the same outputs
        payload["results"].append(subset_row(row, f"{evaluation.dataset}_clean", clean))
    save(work, payload)


def subset_row(row: dict[str, Any], dataset: str, ids: list[int]) -> dict[str, Any]:
    """A row restricted to some of its problems (the contamination-clean subset of an evaluated set)."""
    keep = {str(pid) for pid in ids} & set(row["per_problem"])
    per_problem = {pid: ok for pid, ok in row["per_problem"].items() if pid in keep}
    n, correct = len(per_problem), sum(per_problem.values())
    return {key: row[key] for key in ("arm", "calculator", "seed", "trained_by", "tokens_per_problem")} | {
        "dataset": dataset, "n_problems": n, "n_correct": correct, "accuracy": correct / n if n else 0.0,
        "eval_seconds": 0.0, "per_problem": per_problem, "subset_of": row["dataset"],
    }  # fmt: skip


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
