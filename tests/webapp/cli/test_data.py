"""`socratic-studio import` / `export` through the real CLI (typer's CliRunner): issue 2's done-when flow."""

import json
from collections.abc import Iterator
from pathlib import Path

import datasets
import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from backend.queries.filters import RationaleFilter
from backend.sets.curation import create_set, freeze
from db.engine import open_database
from db.models import Problem, Step
from db.settings import get_settings
from webapp.cli.main import app

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database and export root for this test; yields the --db URL."""
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCRATIC_EXPORT_ROOT", str(tmp_path / "exports"))
    get_settings.cache_clear()
    yield f"sqlite:///{tmp_path / 'studio.db'}"
    get_settings.cache_clear()


def cli(url: str, *args: str, ok: bool = True) -> str:
    result = runner.invoke(app, ["--db", url, *args])
    assert (result.exit_code == 0) is ok, result.output
    assert "Traceback" not in result.output
    return result.output


def count(url: str, table: type) -> int:
    with Session(open_database(url)) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_gsm8k_done_when(db_url: str, shared_datasets: Path, tmp_path: Path) -> None:
    path = shared_datasets / "gsm8k" / "test_socratic.jsonl"
    assert "gsm8k_socratic-test: 1,319 added, 0 unchanged" in cli(db_url, "import", "gsm8k", str(path), "-q")
    steps = count(db_url, Step)
    assert count(db_url, Problem) == 1319 and steps == sum(
        line.count("**") for line in path.read_text().splitlines()
    )
    assert "0 added, 1,319 unchanged" in cli(db_url, "import", "gsm8k", str(path), "-q")
    assert (count(db_url, Problem), count(db_url, Step)) == (1319, steps)
    lines = path.read_text().splitlines()
    lines[41] = '{"question": "broken", "answer": '
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    output = cli(db_url, "import", "gsm8k", str(broken), "--name", "other", "-q", ok=False)
    assert "broken.jsonl line 42: invalid JSON" in output and "nothing was imported" in output
    assert count(db_url, Problem) == 1319


def test_other_importers(db_url: str, shared_datasets: Path, tmp_path: Path) -> None:
    assert "1,000 added" in cli(
        db_url, "import", "svamp", str(shared_datasets / "svamp" / "SVAMP.json"), "-q"
    )
    assert "2,290 added" in cli(
        db_url, "import", "strategyqa", str(shared_datasets / "strategyqa" / "task.json"), "-q"
    )
    assert "reasoning_gym-gsm_symbolic: 5 added" in cli(
        db_url, "import", "reasoning-gym", "gsm_symbolic", "--size", "5", "--seed", "42", "-q"
    )
    table = tmp_path / "mine.csv"
    table.write_text("id,q,a\nx1,Two plus two?,4\nx2,Three times three?,9\n")
    assert "mine: 2 added" in cli(
        db_url,
        "import",
        "table",
        str(table),
        "--question-col",
        "q",
        "--answer-col",
        "a",
        "--id-col",
        "id",
        "-q",
    )
    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"question": ["One plus one?"], "answer": ["#### 2"]}).save_to_disk(str(saved))
    assert "saved: 1 added" in cli(db_url, "import", "hf", str(saved), "-q")
    assert count(db_url, Problem) == 1000 + 2290 + 5 + 2 + 1


def test_import_errors_are_clean(db_url: str, tmp_path: Path) -> None:
    assert "no such file" in cli(db_url, "import", "gsm8k", str(tmp_path / "missing.jsonl"), ok=False)
    assert "field 'name'" in cli(
        db_url, "import", "reasoning-gym", "not_a_generator", "--size", "2", ok=False
    )
    table = tmp_path / "t.csv"
    table.write_text("q,a\nQ?,1\n")
    assert "field 'question': no such column" in cli(db_url, "import", "table", str(table), ok=False)


def test_export(db_url: str, shared_datasets: Path, tmp_path: Path) -> None:
    cli(db_url, "import", "reasoning-gym", "gsm_symbolic", "--size", "4", "-q")
    with Session(open_database(db_url)) as session:
        curated = create_set(session, name="demo-set", rationale_filter=RationaleFilter())
        assert curated.id is not None
        assert "not frozen" in cli(db_url, "export", "demo-set", "--out", "x.jsonl", ok=False)
        freeze(session, set_id=curated.id)
    output = cli(db_url, "export", "demo-set", "--kind", "cot", "--format", "messages", "--out", "cot.jsonl")
    written = tmp_path / "exports" / "cot.jsonl"
    assert "wrote 4 examples" in output and len(written.read_text().splitlines()) == 4
    assert json.loads(written.read_text().splitlines()[0])["messages"][0]["role"] == "user"
    output = cli(
        db_url, "export", "--filter-json", '{"verdict": "correct"}', "--format", "dataset", "--out", "ds"
    )
    assert (
        "wrote 4 examples" in output and len(datasets.load_from_disk(str(tmp_path / "exports" / "ds"))) == 4
    )
    assert "nothing to export" in cli(
        db_url, "export", "demo-set", "--kind", "solver", "--out", "s.jsonl", ok=False
    )
    assert "outside the allowed folder" in cli(
        db_url, "export", "demo-set", "--out", "../escape.jsonl", ok=False
    )
    assert "no curated set named 'nope'" in cli(db_url, "export", "nope", "--out", "x.jsonl", ok=False)
    assert "either a set name or --filter-json" in cli(db_url, "export", "--out", "x.jsonl", ok=False)
    assert "--filter-json" in cli(db_url, "export", "--filter-json", "{bad", "--out", "x.jsonl", ok=False)
    assert "unknown filter fields" in cli(
        db_url, "export", "--filter-json", '{"colour": 1}', "--out", "x", ok=False
    )
    assert "unknown format" in cli(
        db_url, "export", "demo-set", "--format", "parquet", "--out", "x", ok=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ["import", "gsm8k"],
        ["import", "svamp"],
        ["import", "strategyqa"],
        ["import", "reasoning-gym"],
        ["import", "table"],
        ["import", "hf"],
        ["import"],
        ["export"],
    ],
)
def test_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=300)
    assert result.exit_code == 0 and "Example: socratic-studio " + command[0] in result.output
