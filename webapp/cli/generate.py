"""`socratic-studio prepare-model` and `socratic-studio generate`: the teacher from the command line.

`generate` creates the same TeacherRun + Job the web app creates, then runs it here with a progress bar
(Ctrl-C cancels at the next batch boundary; `socratic-studio jobs resume N` continues), or hands it to a
background worker with --background.
"""

import json
import threading
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.jobs import store
from backend.jobs.runner import run_job_in_foreground, spawn_job
from backend.progress_bar import ThrottledBar, progress_bar
from backend.queries.filters import ProblemFilter
from backend.teacher.config import GenerationConfig
from db.models import JobStatus, TeacherRun
from webapp.cli.common import CliState, fail, state
from webapp.cli.config_options import config_command

# Given as files, a filter and backend options by the command's own options, then put in the config.
GENERATE_OWN_FIELDS = ("dataset", "problem_filter", "template", "few_shot", "backend_options")


def prepare_model(
    cache_dir: Path | None = typer.Option(
        None, help="Model cache folder (default: SOCRATIC_MODEL_CACHE or ~/.socratic-studio/models)."
    ),
) -> None:
    """Convert the embedded SmolLM2 teacher to a safetensors folder, once.

    Example: socratic-studio prepare-model
    """
    from backend.teacher.default_model import prepare_default_model

    try:
        folder = prepare_default_model(cache_dir)
    except FileNotFoundError as error:
        fail(str(error))
    typer.echo(f"default teacher ready: {folder}")


def _read_text_file(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the {what} file {path}: {error}")
    return None


def _read_json_file(path: Path | None, what: str) -> Any:
    text = _read_text_file(path, what)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"the {what} file {path} is not valid JSON: {error}")


def _backend_options(pairs: list[str], concurrency: int | None, chat: bool) -> dict[str, Any]:
    """`--option name=value` (value read as JSON when it parses: 4096, true, "bfloat16"), plus shortcuts."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name.strip():
            fail(f"--option takes name=value, got {pair!r}")
        try:
            options[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            options[name.strip()] = text
    if concurrency is not None:
        options["concurrency"] = concurrency
    if chat:
        options["chat"] = True
    return options


def _resolve_model(
    cli: CliState,
    backend: str,
    model: str,
    options: dict[str, Any],
    base_url: str | None,
    key_env: str | None,
) -> tuple[str, str, dict[str, Any]]:
    """(backend, model, options) checked by backend.model_ref; an unconfigured endpoint URL only with login
    off (the one user owns this machine), where the model is the served model's name."""
    from backend import model_ref

    settings = cli.settings
    if base_url or key_env:
        if settings.auth:
            names = ", ".join(e.name for e in settings.teacher_endpoints) or "none configured"
            fail(f"--base-url and --api-key-env are refused with login on; choose an endpoint ({names})")
        free = {"base_url": base_url, "api_key_env": key_env}
        return "openai", model, options | {k: v for k, v in free.items() if v}
    with Session(cli.engine()) as session:
        try:
            ref = model_ref.resolve(
                session, model, settings=settings, backend=backend, options=options, confine=settings.auth
            )
        except (ValueError, LookupError) as error:
            fail(str(error))
    return ref.backend, ref.model, ref.options


def _watch(engine: Engine, job_id: int) -> JobStatus:
    """Run the job on a thread while this one draws its progress from the job row."""
    outcome: dict[str, JobStatus] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(status=run_job_in_foreground(engine, job_id)), daemon=True
    )
    worker.start()
    with progress_bar(total=0, unit="problem", dynamic_ncols=True) as bar:
        try:
            while worker.is_alive():
                worker.join(timeout=1.0)
                _draw(bar, engine, job_id)
        except KeyboardInterrupt:
            with Session(engine) as session:
                store.request_cancel(session, job_id=job_id)
            typer.echo(
                f"\ncancelling at the next batch boundary (resume with: socratic-studio jobs resume {job_id})"
            )
            worker.join()
        _draw(bar, engine, job_id)
    return outcome.get("status", JobStatus.failed)


def _draw(bar: ThrottledBar, engine: Engine, job_id: int) -> None:
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
    bar.total = job.total
    bar.n = job.done
    bar.set_postfix_str(job.message.split(" · ", 1)[-1] if job.message else "", refresh=False)
    bar.refresh()  # off a terminal, at most one line every few seconds (backend.progress_bar)


@config_command(GenerationConfig, skip=GENERATE_OWN_FIELDS)
def generate(
    ctx: typer.Context,
    dataset: str = typer.Option(..., help="dataset name (see the web app or `socratic-studio import`)"),
    split: str | None = typer.Option(None, help="only this split"),
    limit: int | None = typer.Option(None, help="at most this many problems (in id order)"),
    offset: int = typer.Option(0, help="skip this many problems first"),
    template_file: Path | None = typer.Option(
        None, help="prompt template file ({examples}, {question}, ...)"
    ),
    few_shot_file: Path | None = typer.Option(None, help="few-shot examples JSON file"),
    base_url: str | None = typer.Option(
        None, help="login off only: an unconfigured OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"
    ),
    api_key_env: str | None = typer.Option(
        None, help="login off only: the env var holding that server's key (never stored)"
    ),
    option: list[str] | None = typer.Option(
        None, "--option", help="backend option name=value (repeat), e.g. dtype=bfloat16, max_model_len=4096"
    ),
    concurrency: int | None = typer.Option(None, help="openai: requests in flight"),
    chat: bool = typer.Option(False, help="chat template (local) or chat completions API (openai)"),
    background: bool = typer.Option(False, help="run in a background worker and return at once"),
    **fields: Any,
) -> None:
    """Generate teacher rationales as a job.

    Example: socratic-studio generate --dataset demo-gsm_symbolic --mode rationalize --limit 50
    """
    from backend.teacher.job import start_generation

    cli = state(ctx)
    options = _backend_options(option or [], concurrency, chat)
    backend, model = fields.pop("backend"), fields.pop("model")
    backend, model, options = _resolve_model(cli, backend, model, options, base_url, api_key_env)
    try:
        config = GenerationConfig(
            backend=backend, model=model, dataset=dataset,
            problem_filter=ProblemFilter(split=split, limit=limit, offset=offset),
            template=_read_text_file(template_file, "template"),
            few_shot=_read_json_file(few_shot_file, "few-shot"), backend_options=options,
            **fields | {"stop": fields["stop"] or None},
        )  # fmt: skip
    except ValueError as error:
        fail(str(error))
    engine = cli.engine()
    with Session(engine) as session:
        try:
            job = start_generation(session, config=config, free_endpoint=not cli.settings.auth)
        except (ValueError, OSError) as error:
            fail(str(error))
        run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    assert job.id is not None
    typer.echo(f"teacher run {run.id} ({run.name}) as job {job.id}")
    if background:
        spawn_job(job.id, database_url=cli.url, logs_dir=cli.settings.resolved_runs_dir / "logs")
        typer.echo(f"running in the background; watch with: socratic-studio jobs show {job.id}")
        return
    status = _watch(engine, job.id)
    with Session(engine) as session:
        finished = store.get_job(session, job_id=job.id)
    typer.echo(f"job {job.id} {status}: {finished.message}")
    if status == JobStatus.failed:
        fail((finished.error or "").strip().splitlines()[-1] if finished.error else "the job failed")


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the root `socratic-studio` app."""
    app.command("prepare-model")(prepare_model)
    app.command("generate")(generate)
