"""Hugging Face datasets: a local dataset saved with save_to_disk (the hub is not reachable here)."""

from pathlib import Path

import datasets
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.importers import ColumnMap, ImportFailure, import_hf
from db.models import Problem, Rationale
from tests.backend.importers.conftest import row_counts


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    train = datasets.Dataset.from_dict(
        {
            "question": ["Tom has 3 boxes of 5 pens. How many pens?", "What is 2 + 2?"],
            "answer": ["3 * 5 = <<3*5=15>>15 pens.\n#### 15", "2 + 2 = <<2+2=4>>4\n#### 4"],
        }
    )
    test = datasets.Dataset.from_dict(
        {"question": ["What is 6 / 3?"], "answer": ["6 / 3 = <<6/3=2>>2\n#### 2"]}
    )
    folder = tmp_path / "toy_gsm8k"
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(folder))
    return folder


def test_saved_dataset_dict(engine: Engine, saved: Path) -> None:
    with Session(engine) as session:
        report = import_hf(session, str(saved), columns=ColumnMap(), show_progress=False)
        again = import_hf(session, str(saved), columns=ColumnMap(), show_progress=False)
        problems = session.exec(select(Problem).order_by(col(Problem.id))).all()
        assert len(session.exec(select(Rationale)).all()) == 3
    assert (report.dataset, report.added, again.added) == ("toy_gsm8k", 3, 0)
    assert [(p.split, p.external_id, p.gold_answer) for p in problems] == [
        ("train", "0", "15"),
        ("train", "1", "4"),
        ("test", "0", "2"),
    ]


def test_one_split_and_single_dataset(engine: Engine, saved: Path, tmp_path: Path) -> None:
    single = tmp_path / "single"
    datasets.load_from_disk(str(saved))["test"].save_to_disk(str(single))
    with Session(engine) as session:
        only_test = import_hf(
            session, str(saved), columns=ColumnMap(), split="test", name="t", show_progress=False
        )
        plain = import_hf(session, str(single), columns=ColumnMap(), show_progress=False)
    assert (only_test.added, plain.added, plain.dataset) == (1, 1, "single")


def test_errors(engine: Engine, saved: Path, tmp_path: Path) -> None:
    with Session(engine) as session:
        with pytest.raises(ImportFailure, match="no split 'dev'"):
            import_hf(session, str(saved), columns=ColumnMap(), split="dev", show_progress=False)
        with pytest.raises(ImportFailure, match="field 'q': no such column"):
            import_hf(session, str(saved), columns=ColumnMap(question="q"), show_progress=False)
        with pytest.raises(ImportFailure, match="cannot load the dataset"):
            import_hf(session, str(tmp_path / "nothing-here"), columns=ColumnMap(), show_progress=False)
    bad = datasets.Dataset.from_dict({"question": ["ok?", "bad?"], "answer": ["#### 1", "#### many"]})
    bad.save_to_disk(str(tmp_path / "bad"))
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_hf(session, str(tmp_path / "bad"), columns=ColumnMap(), show_progress=False)
    assert "bad[train] line 2, field 'answer': 'many' is not a numeric answer" in str(error.value)
    assert set(row_counts(engine).values()) == {0}
