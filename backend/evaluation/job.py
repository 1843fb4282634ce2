"""Evaluation as a job: `start_evaluation` checks the models and problems and records the run;
`run_evaluation_job` (in the worker) solves problems chunk by chunk, storing one EvalTrace per problem,
so a cancelled or crashed run resumes where it stopped; the summary is computed from the stored traces.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlmodel import Session, col, select

from backend.checks.answers import answers_match
from backend.checks.calculator import step_value
from backend.evaluation.config import EvalConfig, EvalMethod
from backend.evaluation.contamination import ContaminationCheck
from backend.evaluation.cot import SingleParams, few_shot_prefix, solve_single
from backend.evaluation.divide_conquer import solve_divide_conquer
from backend.evaluation.socratic import LoopParams, load_model, solve_socratic
from backend.evaluation.summary import summarise
from backend.evaluation.traces import Trace, error_category, first_divergent_step, trace_values, vote
from backend.jobs import store
from backend.jobs.context import JobCancelled, JobContext
from backend.queries.filters import ProblemFilter
from backend.sets.curation import frozen_records, get_set
from backend.teacher.base import TeacherBackend
from backend.teacher.progress import GenerationProgress, Listener, listening
from db.models import (
    Dataset,
    EvalRun,
    EvalTrace,
    Job,
    JobKind,
    JobStatus,
    ModelCheckpoint,
    Problem,
    StudentKind,
    TrainingRun,
)
from db.settings import get_settings

# Which checkpoint roles may fill which slot (teacher backends may fill any).
ROLES: dict[tuple[EvalMethod, str], set[StudentKind]] = {
    (EvalMethod.socratic, "decomposer"): {StudentKind.decomposer, StudentKind.unified},
    (EvalMethod.socratic, "solver"): {StudentKind.solver, StudentKind.unified},
    (EvalMethod.cot, "solver"): {StudentKind.cot},
    (EvalMethod.answer_only, "solver"): {StudentKind.answer_only},
    (EvalMethod.divide_conquer, "decomposer"): {StudentKind.decompose_only},
    (EvalMethod.divide_conquer, "solver"): set(StudentKind),
}


def _check_spec(session: Session, config: EvalConfig, slot: str) -> None:
    spec = config.decomposer if slot == "decomposer" else config.solver
    if "checkpoint_id" not in spec:
        if not (spec.get("backend") and spec.get("model")):
            raise ValueError(f"the {slot} needs checkpoint_id, or backend and model; got {spec!r}")
        return
    checkpoint = session.get(ModelCheckpoint, int(spec["checkpoint_id"]))
    if checkpoint is None:
        raise LookupError(f"no checkpoint with id {spec['checkpoint_id']} (the {slot})")
    allowed = ROLES[(config.method, slot)]
    if checkpoint.role not in allowed:
        roles = ", ".join(sorted(allowed))
        role = f"the {config.method} {slot} must be {roles}"
        raise ValueError(f"checkpoint {checkpoint.name!r} is a {checkpoint.role}; {role}")


def _problem_filter(session: Session, config: EvalConfig) -> ProblemFilter:
    if config.dataset_id is None and config.dataset_name:
        dataset = session.exec(select(Dataset).where(Dataset.name == config.dataset_name)).first()
        if dataset is None:
            raise LookupError(f"no dataset named {config.dataset_name!r}")
        config.dataset_id = dataset.id
    return ProblemFilter(
        dataset_id=config.dataset_id,
        split=config.split,
        ids=config.problem_ids,
        limit=config.limit,
        offset=config.offset,
    )


def fill_budget_from_training(session: Session, config: EvalConfig) -> None:
    """Limits the user left unset come from the students' training data (their runs' generation budget:
    the 99th-percentile target length with a margin, the longest decomposition), so a student is never
    cut off before the length it was trained to write; what is stored with the run is what was used."""
    learned: dict[str, int] = {}
    for spec in (config.decomposer, config.solver):
        if "checkpoint_id" not in spec:
            continue
        checkpoint = session.get(ModelCheckpoint, int(spec["checkpoint_id"]))
        run_id = checkpoint.training_run_id if checkpoint is not None else None
        run = session.get(TrainingRun, run_id) if run_id is not None else None
        for key, value in ((run.hyperparams.get("generation_budget") or {}) if run else {}).items():
            learned[key] = max(learned.get(key, 0), int(value))
    for key in ("max_tokens", "question_tokens", "answer_tokens", "max_steps"):
        if getattr(config, key) is None and key in learned:
            setattr(config, key, learned[key])


def finished_twin(session: Session, config: EvalConfig) -> EvalRun | None:
    """The latest succeeded evaluation with this config's settings, its name aside, whose traces cover
    exactly the problems the config selects now: greedy decoding of an unchanged checkpoint would write
    the same traces, so a caller (a round's evaluation of the student it started from) can reuse it
    instead of waiting again. Problems are never rewritten in place (a re-import adds rows), so the same
    problem ids mean the same questions; a dataset deleted and imported again has new ids."""
    wanted = config.model_copy(deep=True)
    selected = set(
        session.scalars(_problem_filter(session, wanted).query().with_only_columns(col(Problem.id)))
    )
    fill_budget_from_training(session, wanted)
    settings = wanted.to_json() | {"name": None}
    finished = session.exec(
        select(EvalRun)
        .where(EvalRun.status == JobStatus.succeeded, EvalRun.method == str(config.method))
        .where(EvalRun.n_problems == len(selected))
        .order_by(col(EvalRun.id).desc())
    ).all()
    same_settings = (run for run in finished if run.params | {"name": None} == settings)
    return next((run for run in same_settings if _traced_problems(session, run.id) == selected), None)


def _traced_problems(session: Session, run_id: int | None) -> set[int]:
    return set(session.scalars(select(EvalTrace.problem_id).where(EvalTrace.eval_run_id == run_id)))


def start_evaluation(
    session: Session, *, config: EvalConfig, created_by_id: int | None = None
) -> tuple[Job, EvalRun]:
    """Check models, problems and shots, then create the EvalRun and its queued Job."""
    for slot in ("decomposer", "solver") if config.decomposer else ("solver",):
        _check_spec(session, config, slot)
    problem_filter = _problem_filter(session, config)
    fill_budget_from_training(session, config)
    count = len(session.scalars(problem_filter.query()).all())
    if count == 0:
        raise ValueError(f"no problem matches {problem_filter.to_json()}")
    if config.few_shot_set_id is not None:
        frozen_records(
            session, set_id=get_set(session, set_id=config.few_shot_set_id).id or 0
        )  # exists, frozen
    run = EvalRun(
        name=config.name or "pending",
        method=str(config.method),
        decomposer=config.decomposer,
        solver=config.solver,
        problem_filter=problem_filter.to_json(),
        n_problems=count,
    )
    session.add(run)
    session.flush()
    config.name = config.name or f"{config.method}-{run.id}"
    run.name, run.params = config.name, config.to_json()
    session.commit()
    job = store.create_linked_job(
        session, kind=JobKind.evaluate, run=run, param_name="eval_run_id", created_by_id=created_by_id
    )
    return job, run


@dataclass
class Models:
    decomposer: TeacherBackend | None
    solver: TeacherBackend

    def close(self) -> None:
        self.solver.close()
        if self.decomposer is not None and self.decomposer is not self.solver:
            self.decomposer.close()


def _load(session: Session, spec: dict[str, Any], batch_size: int) -> TeacherBackend:
    # The micro-batch is a transformers option (a checkpoint runs there unless its spec says vllm); vLLM
    # schedules its own batches and an endpoint has its own concurrency.
    in_transformers = spec.get("backend", "transformers" if "checkpoint_id" in spec else None)
    options = {"batch_size": batch_size} if in_transformers == "transformers" else {}
    return load_model(session, spec, **options)


def load_models(session: Session, config: EvalConfig) -> Models:
    solver = _load(session, config.solver, config.batch_size)
    if not config.decomposer:
        return Models(None, solver)
    same = config.decomposer == config.solver  # a unified student plays both roles: load it once
    return Models(solver if same else _load(session, config.decomposer, config.batch_size), solver)


def solve(
    models: Models, config: EvalConfig, questions: Sequence[str], *, answer_type: str, prefix: str
) -> list[Trace]:
    """One trace per question; with samples > 1 each question runs n times (same batches) and votes."""
    repeated = [question for question in questions for _ in range(config.samples)]
    budget = config.budget()
    single = SingleParams(
        budget["max_tokens"], config.temperature, config.top_p, config.seed, config.calculator, answer_type
    )
    if config.method == EvalMethod.socratic:
        assert models.decomposer is not None
        loop = LoopParams(
            budget["max_steps"],
            config.temperature,
            config.top_p,
            config.seed,
            budget["question_tokens"],
            budget["answer_tokens"],
            config.calculator,
            answer_type,
        )
        traces = solve_socratic(models.decomposer, models.solver, repeated, loop)
    elif config.method == EvalMethod.divide_conquer:
        assert models.decomposer is not None
        traces = solve_divide_conquer(models.decomposer, models.solver, repeated, single, prefix=prefix)
    else:
        traces = solve_single(models.solver, repeated, single, prefix=prefix)
    n = config.samples
    return [vote(traces[i * n : (i + 1) * n], answer_type) for i in range(len(questions))]


def trace_row(
    eval_run_id: int,
    problem: Problem,
    trace: Trace,
    answer_type: str,
    check: ContaminationCheck | None = None,
) -> EvalTrace:
    """The stored trace with its reading against the reference (correct, divergence, error category) and,
    when the evaluated models have training data here, whether the problem was seen in it."""
    assert problem.id is not None
    correct = answers_match(trace.final_answer, problem.gold_answer, answer_type)
    divergent = first_divergent_step(trace_values(trace), problem.gold_steps)
    seen, overlap = check.flag(problem.id, problem.question) if check is not None else (None, None)
    return EvalTrace(
        eval_run_id=eval_run_id,
        problem_id=problem.id,
        steps=[step.to_json() | {"value": step_value(step.answer)} for step in trace.steps],
        raw_text=trace.raw_text,
        final_answer=trace.final_answer,
        correct=correct,
        parseable=trace.final_answer is not None,
        num_steps=len(trace.steps),
        tokens=trace.tokens,
        latency_s=round(trace.latency_s, 4),
        first_divergent_step=divergent,
        error_category=error_category(
            trace, correct=correct, first_divergent=divergent, num_gold_steps=problem.num_gold_steps
        ),
        error=trace.error,
        seen_in_training=seen,
        overlap=overlap,
    )


def _contamination_check(session: Session, run: EvalRun, config: EvalConfig) -> ContaminationCheck | None:
    """The run's check, built once per (re)start; the run records how many training problems it covers."""
    check = ContaminationCheck.for_models(session, (config.decomposer, config.solver))
    run.training_problems = len(check.problem_ids) if check is not None else None
    session.add(run)
    session.commit()
    return check


def _todo(session: Session, run: EvalRun) -> tuple[list[tuple[Problem, str]], int]:
    """Problems still without a trace in this run (with their answer type), and the run's total."""
    problems: list[Problem] = list(session.scalars(ProblemFilter.from_json(run.problem_filter).query()).all())
    done = set(session.exec(select(EvalTrace.problem_id).where(EvalTrace.eval_run_id == run.id)).all())
    types = dict(session.exec(select(Dataset.id, Dataset.answer_type)).all())
    todo = [(problem, types[problem.dataset_id]) for problem in problems if problem.id not in done]
    return todo, len(problems)


def _finish(ctx: JobContext, run_id: int, status: JobStatus, price: float) -> dict[str, Any]:
    with Session(ctx.engine) as session:
        run = session.get(EvalRun, run_id)
        assert run is not None
        run.summary = summarise(session, eval_run_id=run_id, price_per_1k_tokens=price)
        run.n_correct, run.status = run.summary["n_correct"], status
        session.add(run)
        session.commit()
        return run.summary


def _chunk_progress(ctx: JobContext, done: int, total: int) -> Listener:
    """Movement inside a chunk (its texts finished so far), so that a chunk of hundreds of problems does
    not show one count frozen for minutes; the count of problems moves when the chunk is stored. A cancel
    request stops the chunk within a step: its problems are not stored, so a resumed run does them again
    (minutes of work lost at most, rather than minutes of waiting for the chunk to end)."""

    def listener(progress: GenerationProgress) -> None:
        ctx.progress(done, total, f"{done}/{total} problems · this chunk: {progress.finished}/"
                     f"{progress.sequences} texts, {progress.tokens_out} tokens")  # fmt: skip
        ctx.stop_if_cancel_reported()

    return listener


def _run_chunks(ctx: JobContext, run_id: int, config: EvalConfig, models: Models, prefix: str) -> None:
    with Session(ctx.engine) as session:
        run = session.get(EvalRun, run_id)
        assert run is not None
        check = _contamination_check(session, run, config)  # commits: before the problems are loaded
        todo, total = _todo(session, run)
    done = total - len(todo)
    ordered = sorted(todo, key=lambda item: item[1])  # problems of one answer type share a batch
    for answer_type, group in groupby(ordered, key=lambda item: item[1]):
        items = list(group)
        for start in range(0, len(items), config.chunk_size):
            ctx.check_cancel()
            chunk = items[start : start + config.chunk_size]
            with listening(_chunk_progress(ctx, done, total)):
                traces = solve(
                    models, config, [p.question for p, _ in chunk], answer_type=answer_type, prefix=prefix
                )
            with Session(ctx.engine) as session:
                session.add_all(
                    trace_row(run_id, p, t, answer_type, check)
                    for (p, _), t in zip(chunk, traces, strict=True)
                )
                session.commit()
            done += len(chunk)
            ctx.progress(done, total, f"{done}/{total} problems")
            print(f"evaluated {done}/{total} problems", flush=True)  # the foreground CLI and the job log


def run_evaluation_job(ctx: JobContext) -> str:
    """Job handler: evaluate every problem not yet traced in this run, then store the summary."""
    run_id = int(ctx.params["eval_run_id"])
    with Session(ctx.engine) as session:
        run = session.get(EvalRun, run_id)
        if run is None:
            raise LookupError(f"no evaluation run with id {run_id}")
        config = EvalConfig.from_json(run.params)
        prefix = ""
        if config.few_shot and config.few_shot_set_id is not None:
            shots = frozen_records(session, set_id=config.few_shot_set_id)[: config.few_shot]
            prefix = few_shot_prefix(
                shots,
                kind=StudentKind.answer_only if config.method == EvalMethod.answer_only else StudentKind.cot,
            )
        run.status = JobStatus.running
        session.add(run)
        session.commit()
        models = load_models(session, config)
    price = (
        config.price_per_1k_tokens
        if config.price_per_1k_tokens is not None
        else get_settings().price_per_1k_tokens
    )
    try:
        _run_chunks(ctx, run_id, config, models, prefix)
    except JobCancelled:
        _finish(ctx, run_id, JobStatus.cancelled, price)
        raise
    except BaseException:
        _finish(ctx, run_id, JobStatus.failed, price)
        raise
    finally:
        models.close()
    summary = _finish(ctx, run_id, JobStatus.succeeded, price)
    accuracy, n, tokens = summary["accuracy"], summary["n_problems"], summary["tokens_per_problem"]
    note = summary["contamination"]["note"]
    return f"accuracy {accuracy:.1%} on {n} problems ({tokens} tokens each). {note}"


def eval_traces(session: Session, *, eval_run_id: int) -> list[EvalTrace]:
    return list(
        session.exec(
            select(EvalTrace).where(EvalTrace.eval_run_id == eval_run_id).order_by(col(EvalTrace.problem_id))
        ).all()
    )
