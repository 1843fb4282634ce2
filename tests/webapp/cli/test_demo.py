"""`socratic-studio demo build / status`: the page's "Build the demo students" from the command line."""

from sqlmodel import Session

from backend.demo.chain import DemoChainConfig, start_demo_chain
from backend.jobs import store
from db.engine import open_database
from db.models import JobStatus
from tests.webapp.cli.test_data import cli, db_url  # noqa: F401 (db_url is a fixture)


def test_status_before_any_chain_says_how_to_start_one(db_url: str) -> None:  # noqa: F811
    assert "no demo chain has run; `socratic-studio demo build` takes about" in cli(db_url, "demo", "status")


def test_status_shows_the_chain_and_how_it_ended(db_url: str) -> None:  # noqa: F811
    cli(db_url, "jobs", "list")  # creates and migrates the database
    engine = open_database(db_url)
    with Session(engine) as session:
        chain = start_demo_chain(session, config=DemoChainConfig())
    assert chain.id is not None
    assert f"demo chain {chain.id} queued" in cli(db_url, "demo", "status")
    store.mark_finished(
        engine, job_id=chain.id, status=JobStatus.failed, error="Traceback\nRuntimeError: no teacher"
    )
    output = cli(db_url, "demo", "status")
    assert f"demo chain {chain.id} failed" in output and "RuntimeError: no teacher" in output


def test_a_second_build_while_one_is_queued_is_refused(db_url: str) -> None:  # noqa: F811
    cli(db_url, "jobs", "list")
    with Session(open_database(db_url)) as session:
        chain = start_demo_chain(session, config=DemoChainConfig())
    output = cli(db_url, "demo", "build", "--background", ok=False)
    assert f"demo chain #{chain.id} is already building" in output and "demo status" in output


def test_help_lists_the_demo_and_step_label_commands_with_examples(db_url: str) -> None:  # noqa: F811
    assert "demo" in cli(db_url, "--help")
    assert "Example: socratic-studio demo build" in cli(db_url, "demo", "build", "--help")
    assert "--format processbench" in cli(db_url, "export", "--help")
