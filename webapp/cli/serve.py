"""`socratic-studio serve`: migrate the database, prepare demo data and the default model, start the app."""

from typing import Annotated

import typer
from sqlmodel import Session

from backend.access import auth
from backend.jobs.runner import start_waiting
from backend.jobs.store import reconcile_orphans
from webapp.cli.common import fail, state

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _prepare_demo(engine: object) -> None:
    from backend.demo.problems import ensure_demo_data

    typer.echo("Checking demo data (imported once, into an empty database)...")
    if ensure_demo_data(engine):  # type: ignore[arg-type]
        typer.echo("Imported the demo problems with their reference rationales.")


def _prepare_model() -> None:
    from backend.teacher.default_model import DEFAULT_TEACHER_NAME, prepare_default_model

    typer.echo(
        f"Preparing the default teacher {DEFAULT_TEACHER_NAME} (the first run converts it: about 20 s)..."
    )
    typer.echo(f"Default teacher ready at {prepare_default_model()}")


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the local network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not import the demo problems.")] = False,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Do not prepare the default SmolLM2 teacher.")
    ] = False,
) -> None:
    """Start the web app. Example: socratic-studio serve --port 7861"""
    from webapp.app import build_app, launch_options  # gradio loads only for this command

    cli = state(ctx)
    settings = cli.settings
    engine = cli.engine()  # opening the database applies the migrations
    with Session(engine) as session:
        auth.ensure_local_user(session)
    if not no_demo:
        _prepare_demo(engine)
    if not no_model:
        _prepare_model()
    with Session(engine) as session:
        orphans = reconcile_orphans(session)
    if orphans:
        typer.echo(f"Marked jobs whose worker had ended as failed: {orphans}")
    started = start_waiting(engine, database_url=cli.url)  # jobs left in line by the last run
    if started:
        typer.echo(f"Started jobs that were waiting in line: {sorted(started)}")
    blocks = build_app(engine, settings)
    blocks.queue(default_concurrency_limit=4)
    try:
        blocks.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            **launch_options(engine, settings),
        )
    except OSError as error:
        fail(f"cannot listen on {host}:{port} ({error}); choose another one with --port")
    login = "login required (SOCRATIC_AUTH=1)" if settings.auth else "no login: you act as the local admin"
    address = settings.public_origin or f"http://{host}:{port}"
    typer.secho(f"Socratic Studio is running at {address}  ({login}; Ctrl+C stops it)", bold=True)
    if not settings.auth and host not in LOOPBACK_HOSTS:
        # webapp.perimeter refuses every other Host name: a login-free app is the local admin's alone.
        typer.secho(
            f"Login is off, so only http://127.0.0.1:{port} and http://localhost:{port} are answered; "
            "set SOCRATIC_AUTH=1 to serve other machines.",
            fg=typer.colors.YELLOW,
        )
    try:
        blocks.block_thread()
    finally:
        blocks.close()
