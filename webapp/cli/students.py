"""`socratic-studio train` and `socratic-studio eval`: student training and evaluation jobs.

Both run in the foreground (progress printed, the job row kept up to date as the web app would show it)
or, with --background, in a detached worker process that `socratic-studio jobs list/show/cancel` follows.
"""

from typing import Any

import typer
from sqlmodel import Session, select

from backend.evaluation.config import EvalConfig
from backend.training.config import TrainConfig
from db.models import EvalRun, JobStatus, ModelCheckpoint
from webapp.cli.common import fail, run_or_spawn, state
from webapp.cli.config_options import config_command

TRAIN_EXAMPLE = (
    "socratic-studio train --set gsm8k-socratic-100 --kind decomposer --base-model default --max-steps 200"
)
TRAIN_OWN_FIELDS = ("set_id", "set_name")  # --set takes a name or an id
# The CLI's earlier, shorter names keep working beside the fields' own.
TRAIN_ALIASES = {"learning_rate": ["--lr"], "merge_lora": ["--merge/--no-merge"]}
# The models, dataset and shots are named on the command line and resolved to ids before the config.
EVAL_OWN_FIELDS = ("decomposer", "solver", "dataset_id", "dataset_name", "few_shot_set_id")
EVAL_EXAMPLE = (
    "socratic-studio eval --method socratic --decomposer gsm8k-socratic-100-decomposer-1 "
    "--solver gsm8k-socratic-100-solver-2 --dataset gsm8k_socratic --limit 50"
)


@config_command(TrainConfig, skip=TRAIN_OWN_FIELDS, aliases=TRAIN_ALIASES)
def train(
    ctx: typer.Context,
    set_name: str = typer.Option(..., "--set", help="Frozen curated set (name or id)."),
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
    prepare_only: bool = typer.Option(
        False, "--prepare-only", help="Only record the run and its config (for accelerate launch --run-id)."
    ),
    **fields: Any,
) -> None:
    """Fine-tune a student on a frozen curated set (example below)."""
    from backend.training.job import start_training

    engine = state(ctx).engine()
    by_id = set_name.isdigit()
    try:
        config = TrainConfig(
            set_id=int(set_name) if by_id else None, set_name=None if by_id else set_name, **fields
        )
        with Session(engine) as session:
            job, run = start_training(session, config=config)
    except (ValueError, LookupError) as error:
        fail(str(error))
    assert job.id is not None
    typer.echo(f"training run {run.id} {run.name!r} ({run.hyperparams['n_examples']} examples), job {job.id}")
    if prepare_only:
        typer.echo("run it on several GPUs with:")
        # The URL goes in the environment (a password on the command line shows in `ps` and history).
        typer.echo(f"  SOCRATIC_DATABASE_URL={engine.url.render_as_string(hide_password=True)!r} \\")
        typer.echo(f"    accelerate launch -m backend.training.launch --run-id {run.id}")
        typer.echo("  (put the database password in place of *** or export SOCRATIC_DATABASE_URL first)")
        return
    if run_or_spawn(engine, job.id, background=background) == JobStatus.succeeded:
        with Session(engine) as session:
            query = select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run.id)
            for checkpoint in session.exec(query):
                typer.echo(
                    f"checkpoint {checkpoint.id} {checkpoint.name!r} ({checkpoint.role}) at {checkpoint.path}"
                )


def _spec(session: Session, text: str | None) -> dict[str, object]:
    from backend.evaluation.socratic import parse_model_spec

    return parse_model_spec(session, text) if text else {}


@config_command(EvalConfig, skip=EVAL_OWN_FIELDS)
def evaluate(
    ctx: typer.Context,
    decomposer: str | None = typer.Option(None, help="Checkpoint (name or id) or BACKEND:MODEL."),
    solver: str | None = typer.Option(
        None, help="Checkpoint or BACKEND:MODEL (the Socratic solver / D&C teacher)."
    ),
    model: str | None = typer.Option(None, help="The CoT or answer-only model (same as --solver)."),
    dataset: str = typer.Option(..., help="Dataset name."),
    few_shot_set: str | None = typer.Option(
        None, help="Frozen set whose first records are few-shot examples (name or id)."
    ),
    background: bool = typer.Option(False, "--background", help="Run in a detached worker process."),
    **fields: Any,
) -> None:
    """Evaluate students (or teachers) on a dataset, storing a trace per problem (example below)."""
    from backend.evaluation.job import start_evaluation
    from backend.evaluation.summary import contamination_cells
    from backend.sets.curation import get_set, get_set_by_name

    engine = state(ctx).engine()
    try:
        with Session(engine) as session:
            shots = None
            if few_shot_set:
                found = get_set(session, set_id=int(few_shot_set)) if few_shot_set.isdigit() else None
                shots = (found or get_set_by_name(session, name=few_shot_set)).id
            config = EvalConfig(
                decomposer=_spec(session, decomposer), solver=_spec(session, solver or model),
                dataset_name=dataset, few_shot_set_id=shots, **fields,
            )  # fmt: skip
            job, run = start_evaluation(session, config=config)
    except (ValueError, LookupError) as error:
        fail(str(error))
    assert job.id is not None
    typer.echo(f"evaluation run {run.id} {run.name!r} on {run.n_problems} problems, job {job.id}")
    if run_or_spawn(engine, job.id, background=background) is not None:
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
            seen, clean = contamination_cells(finished.summary)
            typer.echo(f"{'seen in training':>20}: {seen}\n{'clean accuracy':>20}: {clean}")
            typer.echo(finished.summary.get("contamination", {}).get("note", ""))


def register(app: typer.Typer) -> None:
    """Add `train` and `eval` to the root `socratic-studio` app."""
    app.command("train", epilog=f"Example: {TRAIN_EXAMPLE}")(train)
    app.command("eval", epilog=f"Example: {EVAL_EXAMPLE}")(evaluate)
