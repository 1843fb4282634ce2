"""Teacher generation as a job: a TeacherRun records the settings, the handler fills it batch by batch.

Each batch of problems is generated, parsed, checked and stored in one transaction, so a crash loses at
most one batch; a restart skips every (run, problem, sample) already stored and the unique constraint
makes a duplicate impossible. A failed request becomes a rationale with verdict "failed" and its error,
and the run goes on. Cancelling stops at the next batch boundary.
"""

import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend import model_ref
from backend.evaluation.generate import WithCalculator
from backend.jobs import store
from backend.jobs.context import JobContext
from backend.model_ref import open_backend
from backend.queries.filters import ProblemFilter
from backend.rationales import add_rationale
from backend.teacher.base import GenerationParams, TeacherBackend
from backend.teacher.batch import BatchProgress, GeneratedBatch, generate_batch
from backend.teacher.choice import AUTO, LOCAL_BACKENDS, local_precision, pick_backend
from backend.teacher.config import GenerationConfig
from db.models import (
    Dataset,
    Job,
    JobKind,
    JobStatus,
    Problem,
    Rationale,
    RationaleSource,
    TeacherMode,
    TeacherRun,
)
from db.settings import get_settings

__all__ = ["GenerationConfig", "run_generation_job", "start_generation"]


def _resolve_filter(session: Session, config: GenerationConfig) -> ProblemFilter:
    problem_filter = ProblemFilter.from_json(config.problem_filter.to_json())
    if config.dataset:
        dataset = session.exec(select(Dataset).where(Dataset.name == config.dataset)).first()
        if dataset is None:
            raise ValueError(f"no dataset named {config.dataset!r}")
        problem_filter.dataset_id = dataset.id
    if session.execute(problem_filter.query().limit(1)).first() is None:
        raise ValueError("the problem filter selects no problems")
    return problem_filter


def _default_name(config: GenerationConfig) -> str:
    model = config.model.rstrip("/").split("/")[-1]
    return f"{config.mode} · {model} · {config.dataset or 'problems'} · x{config.samples}"


def start_generation(
    session: Session,
    *,
    config: GenerationConfig,
    created_by_id: int | None = None,
    free_endpoint: bool = False,
) -> Job:
    """Validate the settings, then create the TeacherRun and its queued Job (backend.jobs.runner runs it).
    `free_endpoint`: see GenerationConfig.check (the CLI of a login-free install only).
    Backend `auto` becomes the fastest installed local backend for this run's size (backend.teacher.choice);
    the run records the backend it got and the job's params that it was chosen automatically."""
    run, chosen_by = _new_run(session, config, free_endpoint=free_endpoint)
    session.add(run)
    session.flush()
    # Backend options hold no secret (check refused those): the API key stays in its env var.
    job_params: dict[str, Any] = {
        "run_id": run.id,
        "batch_size": config.batch_size,
        "backend_options": config.backend_options,
    }
    if chosen_by == AUTO:
        job_params["backend_chosen_by"] = AUTO
    job = store.create_job(session, kind=JobKind.generate, params=job_params, created_by_id=created_by_id)
    run.job_id = job.id
    session.add(run)
    session.commit()
    session.refresh(job)
    return job


def _new_run(session: Session, config: GenerationConfig, *, free_endpoint: bool) -> tuple[TeacherRun, str]:
    """The TeacherRun these settings make (not yet added) and who chose its backend; the config's backend
    and model become what the worker opens."""
    chosen_by = "user"
    if config.backend == AUTO:
        config.backend, chosen_by = _auto_backend(session, config), AUTO
    config.check(free_endpoint=free_endpoint)
    config.model = _stored_model(session, config)
    problem_filter = _resolve_filter(session, config)
    params = config.generation_params()
    run = TeacherRun(
        name=config.name.strip() or _default_name(config),
        backend=config.backend,
        model=config.model,
        mode=config.teacher_mode,
        prompt_template=config.resolved_template(),
        few_shot=config.resolved_few_shot(),
        show_gold=config.show_gold,
        calculator=config.calculator,
        samples=params.n,
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=params.max_tokens,
        stop=params.stop,
        seed=params.seed,
        price_per_1k_tokens=(
            get_settings().price_per_1k_tokens
            if config.price_per_1k_tokens is None
            else config.price_per_1k_tokens
        ),
        problem_filter=problem_filter.to_json(),
        dataset_id=problem_filter.dataset_id,
    )
    return run, chosen_by


# What decides a run's texts: the same values draw the same samples (the seed included), whatever the name,
# the price or the batch sizes.
SAMPLING_FIELDS = (
    "backend", "model", "mode", "prompt_template", "few_shot", "show_gold", "calculator",
    "samples", "temperature", "top_p", "max_tokens", "stop", "seed", "problem_filter",
)  # fmt: skip


def finished_twin(session: Session, config: GenerationConfig) -> TeacherRun | None:
    """The latest finished run of these settings, its name aside: a caller (a second round from one student
    with the same sampling settings) can reuse its samples instead of drawing them again. A run whose job
    did not succeed may lack samples, so it is never a twin."""
    wanted, _ = _new_run(session, config.model_copy(deep=True), free_endpoint=False)
    candidates = session.exec(
        select(TeacherRun)
        .join(Job, col(Job.id) == col(TeacherRun.job_id))
        .where(Job.status == JobStatus.succeeded, TeacherRun.model == wanted.model)
        .order_by(col(TeacherRun.id).desc())
    ).all()
    same = (run for run in candidates if all(getattr(run, f) == getattr(wanted, f) for f in SAMPLING_FIELDS))
    return next(same, None)


def _stored_model(session: Session, config: GenerationConfig) -> str:
    """The local model as the worker will open it: a checkpoint's name or id becomes its folder, checked
    here (with login off a name that is no checkpoint, folder or `default` would reach transformers as a
    hub id, and fail only in the worker, offline, after its retries)."""
    if config.backend not in LOCAL_BACKENDS:
        return config.model  # an endpoint: checked by name (or, login off, by its URL) when opened
    settings = get_settings()
    try:
        ref = model_ref.resolve(session, config.model, settings=settings, backend=config.backend,
                                confine=settings.auth)  # fmt: skip
    except LookupError as error:
        raise ValueError(str(error)) from error
    return ref.model


def _auto_backend(session: Session, config: GenerationConfig) -> str:
    """transformers or vllm for the run's expected length; a bad setting is left for check() to name."""
    try:
        params = config.generation_params()
        problem_filter = _resolve_filter(session, config)
    except ValueError:
        return "transformers"
    problems = session.execute(select(func.count()).select_from(problem_filter.query().subquery())).scalar()
    # Rationalize sends one short prompt per reference step; about three steps per problem.
    prompts = 3 if config.mode == TeacherMode.rationalize else 1
    return pick_backend(int(problems or 0) * prompts * params.n, params.max_tokens)


def run_params(run: TeacherRun) -> GenerationParams:
    return GenerationParams(
        n=run.samples,
        temperature=run.temperature,
        top_p=run.top_p,
        max_tokens=run.max_tokens,
        stop=list(run.stop),
        seed=run.seed,
    )


def stored_counts(session: Session, *, run_id: int) -> dict[int, int]:
    """Samples already stored per problem for this run (what a restart skips)."""
    rows = session.exec(
        select(Rationale.problem_id, func.count())
        .where(Rationale.run_id == run_id)
        .group_by(col(Rationale.problem_id))
    ).all()
    return {problem_id: count for problem_id, count in rows}


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RunTotals:
    """Tokens, time and cost of the run so far (resumed runs continue the stored totals)."""

    def __init__(self, run: TeacherRun, done: int, total: int) -> None:
        self.tokens_in, self.tokens_out, self.seconds = run.tokens_in, run.tokens_out, run.wall_seconds
        self.price, self.done, self.total = run.price_per_1k_tokens, done, total
        self.label = ""  # backend and precision, e.g. "transformers bfloat16"

    def add(self, batch: GeneratedBatch, seconds: float, problems: int) -> None:
        self.tokens_in += batch.tokens_in
        self.tokens_out += batch.tokens_out
        self.seconds += seconds
        self.done += problems

    @property
    def cost(self) -> float:
        return (self.tokens_in + self.tokens_out) / 1000 * self.price

    def message(self, live: BatchProgress | None = None, batch_seconds: float = 0.0) -> str:
        """`live`: the running batch's progress so far (its tokens count in the rate before it is stored)."""
        done, tokens_out, seconds = self.done, self.tokens_out, self.seconds + batch_seconds
        batch = ""
        if live is not None:
            done, tokens_out = done + live.problems_done, tokens_out + live.tokens_out
            batch = f"batch {live.sequences_done}/{live.sequences} sequences, {live.tokens_out} tokens · "
        rate = tokens_out / seconds if seconds else 0.0
        label = f" · {self.label}" if self.label else ""
        return (
            f"{done}/{self.total} problems · {batch}{rate:.0f} tok/s · {self.tokens_in} in / "
            f"{tokens_out} out · {seconds:.0f} s · ${self.cost:.4f}{label}"
        )


def _store_batch(engine: Engine, run_id: int, batch: GeneratedBatch, totals: RunTotals) -> None:
    """One transaction: the batch's rationales (skipping slots already stored) and the run's totals."""
    with Session(engine, expire_on_commit=False) as session:
        problem_ids = {problem.id for problem, _ in batch.drafts}
        taken = set(
            session.exec(
                select(Rationale.problem_id, Rationale.sample_index).where(
                    Rationale.run_id == run_id, col(Rationale.problem_id).in_(problem_ids)
                )
            ).all()
        )
        for problem, draft in batch.drafts:
            if (problem.id, draft.sample_index) not in taken:
                add_rationale(
                    session, problem=problem, draft=draft, source=RationaleSource.teacher, run_id=run_id
                )
        run = session.get(TeacherRun, run_id)
        assert run is not None
        run.tokens_in, run.tokens_out, run.wall_seconds = totals.tokens_in, totals.tokens_out, totals.seconds
        session.add(run)
        session.commit()


def _pending_problems(session: Session, run: TeacherRun) -> tuple[list[int], int]:
    """(ids of problems still missing samples, number of problems in the run)."""
    assert run.id is not None
    problems = session.scalars(ProblemFilter.from_json(run.problem_filter).query())
    ids = [problem.id for problem in problems]
    counts = stored_counts(session, run_id=run.id)
    pending = [
        problem_id for problem_id in ids if problem_id is not None and counts.get(problem_id, 0) < run.samples
    ]
    return pending, len(ids)


def _load_batch(session: Session, problem_ids: Sequence[int]) -> tuple[list[Problem], dict[int, str]]:
    problems = list(
        session.exec(select(Problem).where(col(Problem.id).in_(problem_ids)).order_by(col(Problem.id)))
    )
    dataset_ids = {problem.dataset_id for problem in problems}
    datasets = session.exec(select(Dataset).where(col(Dataset.id).in_(dataset_ids))).all()
    return problems, {dataset.id: dataset.answer_type for dataset in datasets if dataset.id is not None}


def _previous_texts(session: Session, run_id: int, problem_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = session.exec(
        select(Rationale.problem_id, Rationale.raw_text).where(
            Rationale.run_id == run_id, col(Rationale.problem_id).in_(problem_ids)
        )
    ).all()
    texts: dict[int, list[str]] = {}
    for problem_id, raw_text in rows:
        texts.setdefault(problem_id, []).append(raw_text)
    return texts


def run_generation_job(ctx: JobContext) -> str:
    """Job handler: generate, parse, check and store every missing sample of the job's TeacherRun."""
    run_id = int(ctx.params["run_id"])
    batch_size = int(ctx.params.get("batch_size", 8))
    with Session(ctx.engine, expire_on_commit=False) as session:
        run = session.get(TeacherRun, run_id)
        if run is None:
            raise LookupError(f"no teacher run with id {run_id}")
        pending, total = _pending_problems(session, run)
    totals = RunTotals(run, total - len(pending), total)
    ctx.progress(totals.done, total, totals.message(), force=True)
    if not pending:
        return f"nothing to do: {totals.message()}"
    options = dict(ctx.params.get("backend_options") or {})
    if run.backend in LOCAL_BACKENDS:
        # Decided here and passed on, so the precision recorded is the one the backend runs in.
        options["dtype"] = local_precision(options)
        _record(ctx, precision=options["dtype"])
        totals.label = f"{run.backend} {options['dtype']}"
    teacher: TeacherBackend = open_backend(run.backend, run.model, **options)
    if run.calculator:
        teacher = WithCalculator(teacher)
    try:
        for problem_ids in _chunks(pending, batch_size):
            ctx.check_cancel()
            _run_batch(ctx, teacher, run, problem_ids, totals)
    finally:
        teacher.close()
    return totals.message()


def _record(ctx: JobContext, **values: str) -> None:
    """Add what the worker decided (the precision) to the job's stored params."""
    with Session(ctx.engine) as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None
        job.params = {**job.params, **values}  # a new dict, so the JSON column is written
        session.add(job)
        session.commit()


def _run_batch(
    ctx: JobContext, teacher: TeacherBackend, run: TeacherRun, problem_ids: Sequence[int], totals: RunTotals
) -> None:
    assert run.id is not None
    with Session(ctx.engine, expire_on_commit=False) as session:
        problems, answer_types = _load_batch(session, problem_ids)
        previous = _previous_texts(session, run.id, problem_ids)
    started = time.perf_counter()

    def report(live: BatchProgress) -> None:
        message = totals.message(live, time.perf_counter() - started)
        ctx.progress(totals.done + live.problems_done, totals.total, message)
        # a cancel stops the batch within a step; its problems were not stored, so a resume does them
        ctx.stop_if_cancel_reported()

    batch = generate_batch(teacher, run, run_params(run), problems, answer_types, previous, report)
    totals.add(batch, time.perf_counter() - started, len(problems))
    _store_batch(ctx.engine, run.id, batch, totals)
    ctx.progress(totals.done, totals.total, totals.message())
