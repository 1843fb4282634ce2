"""`socratic-studio train` and `socratic-studio eval`: student training and evaluation jobs.

Both run in the foreground (progress printed, the job row kept up to date as the web app would show it)
or, with --background, in a detached worker process that `socratic-studio jobs list/show/cancel` follows.
"""

from pathlib import Path

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.jobs import store
from backend.jobs.runner import run_job_in_foreground, spawn_job
from db.models import EvalRun, JobStatus, ModelCheckpoint, StudentKind
from webapp.cli.common import fail, state

TRAIN_EXAMPLE = (
    "socratic-studio train --set gsm8k-socratic-100 --kind decomposer --base-model default --max-steps 200"
)
EVAL_EXAMPLE = (
    "socratic-studio eval --method socratic --decomposer gsm8k-socratic-100-decomposer-1 "
    "--solver gsm8k-socratic-100-solver-2 --dataset gsm8k_socratic --limit 50"
)


def _run(engine: Engine, job_id: int, *, background: bool) -> JobStatus | None:
    """Run the job here, or spawn its worker and say how to follow it."""
    if background:
        from db.settings import get_settings

        logs_dir = get_settings().resolved_runs_dir / "logs"
        url = engine.url.render_as_string(hide_password=False)
        process = spawn_job(job_id, database_url=url, logs_dir=logs_dir)
        log = logs_dir / f"job-{job_id}.log"
        typer.echo(f"job {job_id} started in the background (pid {process.pid}); log: {log}")
        typer.echo(f"follow it with: socratic-studio jobs show {job_id}")
        return None
    status = run_job_in_foreground(engine, job_id)
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
        typer.echo(f"job {job_id} {status}: {job.message or ''}")
        if status == JobStatus.failed:
            fail((job.error or "failed").strip().splitlines()[-1])
    return status


def train(
    ctx: typer.Context,
    set_name: str = typer.Option(..., "--set", help="Frozen curated set (name or id)."),
    kind: StudentKind = typer.Option(
        ..., help="answer_only, cot, decomposer, solver, unified, decompose_only."
    ),
    base_model: str = typer.Option("default", help="Local folder or hub id; 'default' is SmolLM2-135M."),
    name: str = typer.Option("", help="Run and checkpoint name (default SET-KIND-ID)."),
    lora: bool = typer.Option(False, help="Train LoRA adapters (peft) instead of all weights."),
    lora_r: int = typer.Option(16, help="LoRA rank."),
    merge: bool = typer.Option(True, help="Merge LoRA adapters into the weights on save."),
    epochs: float = typer.Option(3.0, help="Passes over the examples."),
    max_steps: int = typer.Option(-1, help="Stop after N optimizer steps (-1: use --epochs)."),
    lr: float = typer.Option(5e-5, help="Peak learning rate."),
    batch_size: int = typer.Option(8, help="Examples per device per step."),
    grad_accumulation: int = typer.Option(1, help="Gradient accumulation steps."),
    max_length: int = typer.Option(512, help="Longest tokenized example."),
    warmup: float = typer.Option(0.0, help="Warmup steps (>= 1) or ratio (< 1)."),
    seed: int = typer.Option(0, help="Seed."),
    filter_policy: str = typer.Option(
        "all_correct", help="all_correct, one_correct_per_question, balanced, all."
    ),
    skip_flagged_sub_questions: bool = typer.Option(
        False,
        "--skip-flagged-sub-questions",
        help="Decomposer/unified: don't learn sub-questions the checks flag (their rationales stay).",
    ),
    output_dir: str = typer.Option("", help="Run directory (default RUNS_DIR/train-ID)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
    prepare_only: bool = typer.Option(
        False, "--prepare-only", help="Only record the run and write its config.json (for accelerate launch)."
    ),
) -> None:
    """Fine-tune a student on a frozen curated set (example below)."""
    from backend.training.config import TrainConfig
    from backend.training.job import start_training

    engine = state(ctx).engine()
    by_id = set_name.isdigit()
    try:
        config = TrainConfig(
            set_id=int(set_name) if by_id else None, set_name=None if by_id else set_name, kind=kind,
            base_model=base_model, name=name, lora=lora, lora_r=lora_r, merge_lora=merge, epochs=epochs,
            max_steps=max_steps, learning_rate=lr, batch_size=batch_size, grad_accumulation=grad_accumulation,
            max_length=max_length, warmup=warmup, seed=seed, filter_policy=filter_policy,  # type: ignore[arg-type]
            output_dir=output_dir, device=device, skip_flagged_sub_questions=skip_flagged_sub_questions,
        )  # fmt: skip
        with Session(engine) as session:
            job, run = start_training(session, config=config)
    except (ValueError, LookupError) as error:
        fail(str(error))
    assert job.id is not None
    typer.echo(f"training run {run.id} {run.name!r} ({run.hyperparams['n_examples']} examples), job {job.id}")
    if prepare_only:
        config_path = Path(run.output_dir) / "config.json"
        typer.echo(f"config: {config_path}\nrun it on several GPUs with:")
        # The URL goes in the environment (a password on the command line shows in `ps` and history).
        typer.echo(f"  SOCRATIC_DATABASE_URL={engine.url.render_as_string(hide_password=True)!r} \\")
        typer.echo(f"    accelerate launch -m backend.training.launch --config {config_path}")
        typer.echo("  (put the database password in place of *** or export SOCRATIC_DATABASE_URL first)")
        return
    if _run(engine, job.id, background=background) == JobStatus.succeeded:
        with Session(engine) as session:
            query = select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run.id)
            for checkpoint in session.exec(query):
                typer.echo(
                    f"checkpoint {checkpoint.id} {checkpoint.name!r} ({checkpoint.role}) at {checkpoint.path}"
                )


def _spec(session: Session, text: str | None) -> dict[str, object]:
    from backend.evaluation.socratic import parse_model_spec

    return parse_model_spec(session, text) if text else {}


def evaluate(
    ctx: typer.Context,
    method: str = typer.Option("socratic", help="socratic, cot, answer_only or divide_conquer."),
    decomposer: str | None = typer.Option(None, help="Checkpoint (name or id) or BACKEND:MODEL."),
    solver: str | None = typer.Option(
        None, help="Checkpoint or BACKEND:MODEL (the Socratic solver / D&C teacher)."
    ),
    model: str | None = typer.Option(None, help="The CoT or answer-only model (same as --solver)."),
    dataset: str = typer.Option(..., help="Dataset name."),
    split: str | None = typer.Option(None, help="Only this split."),
    offset: int = typer.Option(0, help="Skip the first N problems (id order)."),
    limit: int | None = typer.Option(None, help="At most N problems."),
    samples: int = typer.Option(1, help="Samples per problem (> 1: majority vote; needs --temperature)."),
    temperature: float = typer.Option(0.0, help="0 = greedy."),
    max_steps: int | None = typer.Option(
        None, help="Socratic step cap (default: from the student's training data, else 8)."
    ),
    max_tokens: int | None = typer.Option(
        None, help="Longest CoT / D&C solution (default: from the student's training data, else 256)."
    ),
    calculator: bool = typer.Option(True, help="Evaluate <<expr=...>> annotations as models write them."),
    few_shot_set: str | None = typer.Option(
        None, help="Frozen set whose first records are few-shot examples."
    ),
    few_shot: int = typer.Option(0, help="Number of few-shot examples (CoT / answer-only)."),
    name: str = typer.Option("", help="Run name."),
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
) -> None:
    """Evaluate students (or teachers) on a dataset, storing a trace per problem (example below)."""
    from backend.curation import get_set, get_set_by_name
    from backend.evaluation.config import EvalConfig
    from backend.evaluation.job import start_evaluation

    engine = state(ctx).engine()
    try:
        with Session(engine) as session:
            shots = None
            if few_shot_set:
                found = get_set(session, set_id=int(few_shot_set)) if few_shot_set.isdigit() else None
                shots = (found or get_set_by_name(session, name=few_shot_set)).id
            config = EvalConfig(
                method=method, decomposer=_spec(session, decomposer), solver=_spec(session, solver or model),  # type: ignore[arg-type]
                dataset_name=dataset, split=split, offset=offset, limit=limit, samples=samples,
                temperature=temperature, max_steps=max_steps, max_tokens=max_tokens, calculator=calculator,
                few_shot_set_id=shots, few_shot=few_shot, name=name,
            )  # fmt: skip
            job, run = start_evaluation(session, config=config)
    except (ValueError, LookupError) as error:
        fail(str(error))
    assert job.id is not None
    typer.echo(f"evaluation run {run.id} {run.name!r} on {run.n_problems} problems, job {job.id}")
    if _run(engine, job.id, background=background) is not None:
        with Session(engine) as session:
            finished = session.get(EvalRun, run.id)
            assert finished is not None
            for key in (
                "accuracy",
                "unparseable_rate",
                "tokens_per_problem",
                "mean_steps",
                "error_categories",
            ):
                typer.echo(f"{key:>20}: {finished.summary.get(key)}")


def register(app: typer.Typer) -> None:
    """Add `train` and `eval` to the root `socratic-studio` app."""
    app.command("train", epilog=f"Example: {TRAIN_EXAMPLE}")(train)
    app.command("eval", epilog=f"Example: {EVAL_EXAMPLE}")(evaluate)
