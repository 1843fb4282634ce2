"""Any CSV / JSONL / JSON table through a column mapping."""

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.importers import ColumnMap, ImportFailure, import_table
from db.models import Dataset, Problem, Rationale
from tests.backend.importers.conftest import row_counts

ROWS = [
    {
        "qid": "a1",
        "q": "Tom has 3 boxes of 5 pens. How many pens?",
        "a": "15",
        "sol": "3 * 5 = <<3*5=15>>15\n#### 15",
        "level": "1",
    },
    {
        "qid": "a2",
        "q": "A pen costs $2. What do 4 cost?",
        "a": "$8",
        "sol": "4 * 2 = <<4*2=8>>8\n#### 8",
        "level": "2",
    },
]
COLUMNS = ColumnMap(question="q", answer="a", solution="sol", id="qid")


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_with_mapping(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mine.csv", ROWS)
    with Session(engine) as session:
        report = import_table(session, path, columns=COLUMNS, split="dev", show_progress=False)
        again = import_table(session, path, columns=COLUMNS, split="dev", show_progress=False)
        problems = session.exec(select(Problem).order_by(col(Problem.id))).all()
        dataset = session.exec(select(Dataset)).one()
        assert len(session.exec(select(Rationale)).all()) == 2
    assert (report.added, again.added, again.unchanged) == (2, 0, 2)
    assert (dataset.name, dataset.source) == ("mine", "csv")
    assert [p.external_id for p in problems] == ["a1", "a2"]
    assert problems[1].gold_answer == "8" and problems[1].split == "dev"
    assert problems[0].gold_steps[0]["expressions"][0]["ok"] is True
    assert problems[0].meta == {"level": "1"}


def test_jsonl_with_split_column_and_numbers(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    rows = [
        {"question": "1+1?", "answer": 2, "part": "train"},
        {"question": "2+2?", "answer": 4.0, "part": "test"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with Session(engine) as session:
        import_table(session, path, columns=ColumnMap(split="part"), name="arith", show_progress=False)
        problems = session.exec(select(Problem).order_by(col(Problem.id))).all()
    assert [(p.split, p.gold_answer, p.external_id) for p in problems] == [
        ("train", "2", "0"),
        ("test", "4", "1"),
    ]


def test_answer_cell_holding_a_gsm8k_solution(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "gsm.json"
    path.write_text(json.dumps([{"question": "Q?", "answer": "Why? ** 2 + 2 = <<2+2=4>>4\n#### 4"}]))
    with Session(engine) as session:
        import_table(session, path, columns=ColumnMap(), show_progress=False)
        problem = session.exec(select(Problem)).one()
    assert (problem.gold_answer, problem.gold_steps[0]["sub_question"]) == ("4", "Why?")


def test_text_answers_and_no_answer_column(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "capitals.csv", [{"question": "Capital of France?", "answer": "Paris."}])
    with Session(engine) as session:
        import_table(session, path, columns=ColumnMap(), answer_type="text", show_progress=False)
        unlabelled = import_table(
            session, path, columns=ColumnMap(answer=None), name="unlabelled", show_progress=False
        )
        problems = session.exec(select(Problem).order_by(col(Problem.id))).all()
    assert unlabelled.added == 1
    assert [p.gold_answer for p in problems] == ["paris", None]


def test_missing_column_is_named_before_reading_rows(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mine.csv", ROWS)
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_table(session, path, columns=ColumnMap(question="question", answer="a"), show_progress=False)
    assert error.value.field == "question" and "the header has: qid, q, a, sol, level" in str(error.value)


def test_bad_cell_names_its_csv_line(engine: Engine, tmp_path: Path) -> None:
    rows = [dict(ROWS[0], qid=f"id{n}") for n in range(10)]
    rows[6]["a"] = "many"
    path = write_csv(tmp_path / "mine.csv", rows)
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_table(session, path, columns=COLUMNS, show_progress=False)
    # Header on line 1; each row's solution spans 2 lines, so row 7 starts on line 1 + 6 * 2 + 1.
    assert (error.value.line, error.value.field) == (14, "a")
    assert set(row_counts(engine).values()) == {0}


def test_duplicate_ids_are_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mine.csv", [ROWS[0], ROWS[1], ROWS[0]])
    with Session(engine) as session, pytest.raises(ImportFailure, match="duplicate id 'a1'"):
        import_table(session, path, columns=COLUMNS, show_progress=False)
    assert set(row_counts(engine).values()) == {0}
