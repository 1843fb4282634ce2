"""`socratic-studio train` / `eval` from the command line, including the issue's whole "done when" flow."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend.queries.filters import RationaleFilter
from backend.sets.curation import create_set, freeze
from db.engine import open_database
from db.models import (
    Dataset,
    EvalTrace,
    ModelCheckpoint,
    Problem,
    StudentKind,
    TrainingMetric,
    TrainingRun,
)
from db.settings import get_settings
from tests.backend.training.frozen_set import PROBLEMS, make_frozen_set
from webapp.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database and runs folder for this test; returns the --db URL."""
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCRATIC_RUNS_DIR", str(tmp_path / "runs"))
    get_settings.cache_clear()
    yield f"sqlite:///{tmp_path / 'studio.db'}"
    get_settings.cache_clear()


def invoke(url: str, *args: str) -> str:
    result = runner.invoke(app, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_help_shows_an_example_each():
    assert (
        "Example: socratic-studio train --set"
        in runner.invoke(app, ["train", "--help"], terminal_width=200).output
    )
    assert (
        "Example: socratic-studio eval --method socratic"
        in runner.invoke(app, ["eval", "--help"], terminal_width=200).output
    )


def test_bad_input_is_a_clear_error_not_a_traceback(cli_home):
    result = runner.invoke(app, ["--db", cli_home, "train", "--set", "nope", "--kind", "cot"])
    assert result.exit_code == 1 and "error: no curated set named 'nope'" in result.output
    result = runner.invoke(
        app, ["--db", cli_home, "eval", "--method", "cot", "--model", "ghost", "--dataset", "x"]
    )
    assert result.exit_code == 1 and "error: 'ghost' is not a model you can use here" in result.output


def write_gsm8k_socratic(path: Path) -> Path:
    """The toy problems in GSM8K's Socratic JSONL format (`sub-question ** step`, `#### answer`).

    Short problems on purpose: a tiny random student learns their sub-questions in a dozen steps (and
    the run is deterministic on CPU), whereas real GSM8K text needs far more training than a test has.
    """
    rows = []
    for question, steps, answer in PROBLEMS:
        solution = "\n".join(f"{sub_question} ** {text}" for sub_question, text in steps) + f"\n#### {answer}"
        rows.append(json.dumps({"question": question, "answer": solution}) + "\n")
    path.write_text("".join(rows))
    return path


def import_file(url: str, path: Path) -> None:
    """H1's `socratic-studio import gsm8k FILE` (its backend importer while the CLI is not in)."""
    if "import" in [command.name for command in app.registered_commands] + [
        g.name for g in app.registered_groups
    ]:
        invoke(url, "import", "gsm8k", str(path))
        return
    from backend.importers.gsm8k import import_gsm8k

    with Session(open_database(url)) as session:
        import_gsm8k(session, path, show_progress=False)


@pytest.mark.slow
def test_done_when_import_curate_train_socratic_students_evaluate(cli_home, tiny_llama, tmp_path):
    url = cli_home
    import_file(url, write_gsm8k_socratic(tmp_path / "test_socratic.jsonl"))
    engine = open_database(url)
    with Session(engine) as session:
        dataset = session.exec(select(Dataset)).one()
        dataset_name = dataset.name
        curated = create_set(
            session, name="toy-socratic", rationale_filter=RationaleFilter(dataset_id=dataset.id)
        )
        freeze(session, set_id=curated.id or 0)
    common = ["--set", "toy-socratic", "--base-model", str(tiny_llama), "--max-steps", "12", "--lr", "5e-3",
              "--warmup", "0"]  # fmt: skip
    out = invoke(url, "train", *common, "--kind", "decomposer", "--name", "dec", "--batch-size", "8",
                 "--skip-flagged-sub-questions")  # fmt: skip
    assert "checkpoint" in out and "'dec' (decomposer)" in out
    invoke(url, "train", *common, "--kind", "solver", "--name", "sol", "--batch-size", "8")
    out = invoke(url, "eval", "--method", "socratic", "--decomposer", "dec", "--solver", "sol",
                 "--dataset", dataset_name, "--max-steps", "3")  # fmt: skip
    assert "accuracy" in out and "evaluated 3/3 problems" in out
    with Session(engine) as session:
        names = {c.name: c for c in session.exec(select(ModelCheckpoint)).all()}
        assert set(names) == {"dec", "sol"} and Path(names["dec"].path, "model.safetensors").exists()
        recorded = session.exec(select(TrainingRun).where(TrainingRun.name == "dec")).one().hyperparams
        assert recorded["skip_flagged_sub_questions"] is True and "untrained_sub_questions" in recorded
        assert session.exec(select(TrainingMetric)).all()
        traces = session.exec(select(EvalTrace)).all()
        assert sorted(t.problem_id for t in traces) == sorted(session.exec(select(Problem.id)).all())
        for trace in traces:  # every evaluated problem: its sub-questions and their answers
            assert trace.steps and all(step["sub_question"] and "answer" in step for step in trace.steps)


def test_eval_says_which_problems_the_student_was_trained_on(cli_home, tiny_gpt2):
    with Session(open_database(cli_home)) as session:
        trained = make_frozen_set(session, name="toy-set")  # its problems: dataset "toy-set-data"
        run = TrainingRun(
            name="cot", set_id=trained.id or 0, student_kind=StudentKind.cot, base_model="default"
        )
        session.add(run)
        session.commit()
        session.add(
            ModelCheckpoint(name="cot", role=StudentKind.cot, path=str(tiny_gpt2), training_run_id=run.id)
        )
        session.commit()
    out = invoke(cli_home, "eval", "--method", "cot", "--model", "cot", "--dataset", "toy-set-data",
                 "--max-tokens", "4")  # fmt: skip
    assert "seen in training: 3/3" in out and "clean accuracy: none: all seen in training" in out
    assert "All 3 problems were seen in training" in out
