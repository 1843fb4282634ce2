"""Training as a job: `start_training` records the run and its config (before anything trains);
`run_training_job` is the worker-side handler; `execute_training` is shared with the multi-GPU launcher.
"""

import math
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.jobs import store
from backend.jobs.context import JobContext
from backend.sets.curation import frozen_records, get_set, get_set_by_name
from backend.training.config import TrainConfig
from backend.training.data import ExampleBuild, build_training_examples
from db.models import CuratedSet, Job, JobKind, JobStatus, ModelCheckpoint, TrainingRun
from db.settings import get_settings


def _resolve_set(session: Session, config: TrainConfig) -> CuratedSet:
    if config.set_id is not None:
        curated_set = get_set(session, set_id=config.set_id)
    else:
        curated_set = get_set_by_name(session, name=config.set_name or "")
    if curated_set.frozen_at is None:
        raise ValueError(f"set {curated_set.name!r} is not frozen; freeze it before training")
    return curated_set


def training_build(session: Session, config: TrainConfig) -> ExampleBuild:
    """The exact examples a run trains on and the rationales dropped why (a clear ValueError if none)."""
    assert config.set_id is not None
    records = frozen_records(session, set_id=config.set_id)
    epochs = max(1, math.ceil(config.epochs))
    return build_training_examples(
        records,
        kind=config.kind,
        policy=config.filter_policy,
        epochs=epochs,
        seed=config.seed,
        skip_flagged_sub_questions=config.skip_flagged_sub_questions,
    )


def _name_taken(session: Session, name: str) -> bool:
    run = session.exec(select(TrainingRun).where(TrainingRun.name == name)).first()
    checkpoint = session.exec(select(ModelCheckpoint).where(ModelCheckpoint.name == name)).first()
    return run is not None or checkpoint is not None


def start_training(
    session: Session, *, config: TrainConfig, created_by_id: int | None = None
) -> tuple[Job, TrainingRun]:
    """Validate the config against the set, create the TrainingRun (which stores the config)
    and its queued Job."""
    curated_set = _resolve_set(session, config)
    config.set_id, config.set_name = curated_set.id, curated_set.name
    build = training_build(session, config)  # fail now, in the caller's hands, not in the worker
    if config.name and _name_taken(session, config.name):
        raise ValueError(f"a training run or checkpoint named {config.name!r} already exists")
    assert curated_set.id is not None
    run = TrainingRun(
        name=config.name or "pending",
        set_id=curated_set.id,
        student_kind=config.kind,
        base_model=config.base_model,
        device=config.device,
    )
    session.add(run)
    session.flush()
    config.name = config.name or f"{curated_set.name}-{config.kind}-{run.id}"
    config.output_dir = config.output_dir or str(get_settings().resolved_runs_dir / f"train-{run.id}")
    run.name, run.output_dir = config.name, config.output_dir
    run.hyperparams = config.to_json() | {
        "n_examples": len(build.examples),
        "dropped": dict(build.dropped),
        "untrained_sub_questions": build.untrained_sub_questions,
    }
    session.commit()
    job = store.create_linked_job(
        session, kind=JobKind.train, run=run, param_name="training_run_id", created_by_id=created_by_id
    )
    assert run.id is not None
    return job, run


def _update_run(engine: Engine, run_id: int, **values: object) -> None:
    with Session(engine) as session:
        run = session.get(TrainingRun, run_id)
        assert run is not None
        for key, value in values.items():
            setattr(run, key, value)
        session.add(run)
        session.commit()


def _register(
    engine: Engine, *, run_id: int, config: TrainConfig, model_dir: Path, step: int, cancelled: bool
) -> ModelCheckpoint:
    from backend.training.trainer import resolve_base_model

    name = f"{config.name}-cancelled-step{step}" if cancelled else config.name
    checkpoint = ModelCheckpoint(
        name=name,
        role=config.kind,
        path=str(model_dir),
        base_model=resolve_base_model(config.base_model) if config.base_model != "default" else "default",
        training_run_id=run_id,
        step=step,
    )
    with Session(engine) as session:
        session.add(checkpoint)
        session.commit()
        session.refresh(checkpoint)
    return checkpoint


def execute_training(
    engine: Engine,
    *,
    run_id: int,
    config: TrainConfig,
    cancelled: Callable[[], bool],
    report: Callable[[int, int, str], None] | None = None,
) -> ModelCheckpoint | None:
    """Train one run and register its checkpoint; the run row ends succeeded, cancelled or failed.

    Under `accelerate launch` every process calls this; only the main one writes rows and files.
    """
    from backend.training.recorder import RunRecorder
    from backend.training.trainer import train_student

    _update_run(engine, run_id, status=JobStatus.running)
    try:
        with Session(engine) as session:
            build = training_build(session, config)
        recorder = RunRecorder(engine=engine, run_id=run_id, cancelled=cancelled, report=report)
        outcome = train_student(
            config,
            build.examples,
            output_dir=Path(config.output_dir),
            recorder=recorder,
            dialogues=build.dialogues,
        )
    except BaseException:
        _update_run(engine, run_id, status=JobStatus.failed)
        raise
    if not outcome.is_main:
        return None
    checkpoint = _register(
        engine,
        run_id=run_id,
        config=config,
        model_dir=outcome.model_dir,
        step=outcome.step,
        cancelled=outcome.cancelled,
    )
    status = JobStatus.cancelled if outcome.cancelled else JobStatus.succeeded
    with Session(engine) as session:
        run = session.get(TrainingRun, run_id)
        hyperparams = dict(run.hyperparams) if run is not None else {}
    _update_run(
        engine,
        run_id,
        status=status,
        train_seconds=round(outcome.seconds, 3),
        device=outcome.device,
        hyperparams=hyperparams | outcome.settings,  # what this run actually used (precision, packing)
    )
    return checkpoint


def load_run_config(engine: Engine, run_id: int) -> TrainConfig:
    with Session(engine) as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise LookupError(f"no training run with id {run_id}")
        return TrainConfig.from_run(run.hyperparams)


def run_training_job(ctx: JobContext) -> str:
    """Job handler (inside the worker subprocess): train, register the checkpoint, say what happened."""
    run_id = int(ctx.params["training_run_id"])
    config = load_run_config(ctx.engine, run_id)
    if ctx.cancelled():
        _update_run(ctx.engine, run_id, status=JobStatus.cancelled)
        return "cancelled before training started"
    checkpoint = execute_training(
        ctx.engine, run_id=run_id, config=config, cancelled=ctx.cancelled, report=ctx.progress
    )
    assert checkpoint is not None
    verb = "cancelled at" if ctx.cancelled() else "trained"
    where = f"checkpoint {checkpoint.name!r} (id {checkpoint.id}) at {checkpoint.path}"
    return f"{verb} step {checkpoint.step}: {where}"
