"""Secrets stay out of process lists, shell history and stored logs: a worker learns its database URL from
its environment, never its command line (which every user of the machine reads in `ps`); job records and
log tails show URLs with the password masked; `users add` never takes a password as an argument."""

import json
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from backend.access import auth
from backend.display.errors import describe_db_error
from backend.display.masking import mask_secrets
from backend.jobs import store
from backend.jobs.runner import spawn_job
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import JobKind, JobStatus
from tests.reliability.pg_server import PostgresServer
from webapp.cli.main import app

PASSWORD = "Pa55-in-the-url-9f3e"
runner = CliRunner()


def test_mask_secrets_hides_url_and_keyword_passwords() -> None:
    text = (
        f"could not open postgresql+psycopg://studio:{PASSWORD}@db:5432/studio; "
        f"dsn host=db user=studio password={PASSWORD} dbname=studio; https://api.example/v1 untouched"
    )
    masked = mask_secrets(text)
    assert PASSWORD not in masked
    assert "postgresql+psycopg://studio:***@db:5432/studio" in masked and "password=***" in masked
    assert "https://api.example/v1 untouched" in masked


def test_database_errors_shown_to_people_mask_the_password() -> None:
    url = f"postgresql+psycopg://studio:{PASSWORD}@db.internal/studio"
    message = describe_db_error(ValueError(f"bad option in {url}"), database=url)
    assert PASSWORD not in message and "studio:***@db.internal" in message


def _cmdlines_while_running(pid: int, process: object) -> list[bytes]:
    """Every distinct /proc/PID/cmdline seen until the worker exits (before exec it is the parent's)."""
    seen: list[bytes] = []
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:  # type: ignore[attr-defined]
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            break
        if cmdline and cmdline not in seen:
            seen.append(cmdline)
        time.sleep(0.01)
    return seen


def _run_failing_worker(engine: Engine, url: str, logs: Path) -> tuple[list[bytes], int]:
    """Spawn a real worker for a generate job whose run does not exist (it fails, storing its log tail)."""
    with Session(engine) as session:
        job = store.create_job(session, kind=JobKind.generate, params={"run_id": 424242})
    assert job.id is not None
    worker = spawn_job(job.id, database_url=url, logs_dir=logs)
    cmdlines = _cmdlines_while_running(worker.pid, worker)
    worker.wait(timeout=120)
    return [c for c in cmdlines if b"backend.jobs.worker" in c], job.id


def test_the_worker_command_line_carries_no_database_url(engine: Engine, tmp_path: Path) -> None:
    url = str(engine.url)
    cmdlines, job_id = _run_failing_worker(engine, url, tmp_path / "logs")
    assert cmdlines, "the worker's command line was never seen"
    assert all(url.split("///")[1].encode() not in line for line in cmdlines), cmdlines
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
    assert job.status == JobStatus.failed and "no teacher run with id 424242" in (job.error or "")


@pytest.mark.slow
def test_a_postgres_password_is_in_no_worker_argv_and_no_stored_log(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    import psycopg

    dsn = f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE ROLE studio LOGIN PASSWORD '{PASSWORD}'")
        connection.execute('CREATE DATABASE "secrets" OWNER studio')
    url = f"postgresql+psycopg://studio:{PASSWORD}@127.0.0.1:{postgres_server.port}/secrets"
    engine = make_engine(url)
    upgrade_to_head(engine)
    cmdlines, job_id = _run_failing_worker(engine, url, tmp_path / "logs")
    assert cmdlines, "the worker's command line was never seen"
    assert all(PASSWORD.encode() not in line for line in cmdlines), cmdlines
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
    stored = f"{job.error}{job.message}{json.dumps(job.params)}{store.read_log_tail(job.log_path)}"
    assert job.status == JobStatus.failed and "studio:***@127.0.0.1" in stored  # the tail is in job.error
    assert PASSWORD not in stored
    assert PASSWORD not in Path(job.log_path or "").read_text()  # the log file itself


def test_users_add_takes_no_password_argument(db_url: str) -> None:
    refused = runner.invoke(app, ["--db", db_url, "users", "add", "eve", "--password", "hunter2hunter2"])
    assert refused.exit_code != 0 and "No such option" in refused.output
    prompted = runner.invoke(
        app, ["--db", db_url, "users", "add", "alice"], input="s3cret-pass\ns3cret-pass\n"
    )
    assert prompted.exit_code == 0 and "s3cret-pass" not in prompted.output  # typed without echo
    piped = runner.invoke(
        app,
        ["--db", db_url, "users", "add", "bob", "--role", "viewer", "--password-stdin"],
        input="b0b-pass-99\n",
    )
    assert piped.exit_code == 0, piped.output
    session = Session(make_engine(db_url))
    assert auth.authenticate(session, username="alice", password="s3cret-pass") is not None
    assert auth.authenticate(session, username="bob", password="b0b-pass-99") is not None
    session.close()
