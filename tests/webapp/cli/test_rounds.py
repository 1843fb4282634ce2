"""`socratic-studio round`: bad settings and a student that cannot sample are refused in one line, before
any job exists (the round itself runs in tests/backend/rounds)."""

from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from db.engine import open_database
from db.models import Job, ModelCheckpoint, StudentKind, TrainingRun
from tests.backend.training.frozen_set import make_frozen_set
from tests.webapp.cli.test_students import cli_home  # noqa: F401  (the fixture)
from webapp.cli.main import app

runner = CliRunner()


def _round(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", url, "round", *args], terminal_width=200)
    return result.exit_code, result.output


def test_help_shows_an_example() -> None:
    assert (
        "Example: socratic-studio round --student"
        in runner.invoke(app, ["round", "--help"], terminal_width=200).output
    )


def test_a_round_is_refused_without_a_cot_student_trained_here(cli_home: str, tiny_llama: Path) -> None:  # noqa: F811
    with Session(open_database(cli_home)) as session:
        trained = make_frozen_set(session, name="toy")
        run = TrainingRun(
            name="solver", set_id=trained.id or 0, student_kind=StudentKind.solver, base_model="default"
        )
        session.add(run)
        session.commit()
        session.add(
            ModelCheckpoint(name="solver", role=StudentKind.solver, path="/nowhere", training_run_id=run.id)
        )
        session.add(ModelCheckpoint(name="imported", role=StudentKind.cot, path="/nowhere"))
        cot = TrainingRun(
            name="cot", set_id=trained.id or 0, student_kind=StudentKind.cot, base_model="default"
        )
        session.add(cot)
        session.commit()
        session.add(
            ModelCheckpoint(name="gone", role=StudentKind.cot, path="/nowhere", training_run_id=cot.id)
        )
        session.add(
            ModelCheckpoint(name="cot", role=StudentKind.cot, path=str(tiny_llama), training_run_id=cot.id)
        )
        session.commit()
    cases = [
        (["--student", "nobody", "--eval-dataset", "toy-data"], "no checkpoint with id or name 'nobody'"),
        (["--student", "gone", "--eval-dataset", "toy-data"], "has no model folder at /nowhere"),
        (["--student", "solver", "--eval-dataset", "toy-data"], "from a CoT student; 'solver' is solver"),
        (["--student", "imported", "--eval-dataset", "toy-data"], "was not trained here"),
        (["--student", "solver", "--eval-dataset", "toy-data", "--samples", "0"], "samples must be 1..64"),
        (["--student", "cot", "--eval-dataset", "gsm8k"], "no dataset named 'gsm8k' to evaluate on"),
        (
            ["--student", "cot", "--eval-dataset", "toy-data", "--eval-split", "dev"],
            "has no problems in split",
        ),
        (["--student", "solver", "--eval-dataset", "toy-data", "--keep", "all"], "keep must be one of"),
    ]
    for args, message in cases:
        code, output = _round(cli_home, *args)
        assert code == 1 and message in output, output
    with Session(open_database(cli_home)) as session:
        assert session.exec(select(Job)).all() == []
