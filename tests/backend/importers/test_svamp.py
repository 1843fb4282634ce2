"""SVAMP.json: 1,000 problems, Body + " " + Question, float answers, Equation/Type in meta."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.importers import ImportFailure, import_svamp
from db.models import Dataset, Problem, Rationale
from tests.backend.importers.conftest import row_counts


def test_svamp(engine: Engine, shared_datasets: Path) -> None:
    with Session(engine) as session:
        report = import_svamp(session, shared_datasets / "svamp" / "SVAMP.json", show_progress=False)
        assert (report.added, report.dataset) == (1000, "svamp")
        problem = session.exec(select(Problem).where(Problem.external_id == "chal-1")).one()
        assert problem.question == (
            "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack "
            "How much do you have to pay to buy each pack?"
        )
        assert (problem.gold_answer_raw, problem.gold_answer, problem.split) == ("51.0", "51", "test")
        assert problem.meta == {"Equation": "( 76.0 - 25.0 )", "Type": "Subtraction"}
        assert session.exec(select(Dataset)).one().answer_type == "numeric"
        assert session.exec(select(Rationale)).all() == []  # no steps, no reference rationale
        again = import_svamp(session, shared_datasets / "svamp" / "SVAMP.json", show_progress=False)
    assert (again.added, again.unchanged) == (0, 1000)


def test_svamp_error_names_the_item_line(engine: Engine, shared_datasets: Path, tmp_path: Path) -> None:
    items = json.loads((shared_datasets / "svamp" / "SVAMP.json").read_text())[:5]
    items[3]["Answer"] = "a lot"
    broken = tmp_path / "SVAMP.json"
    broken.write_text(json.dumps(items, indent=4))
    expected_line = broken.read_text().splitlines().index("    {", 0) + 1 + 3 * 8  # 8 lines per item
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_svamp(session, broken, show_progress=False)
    assert (error.value.line, error.value.field) == (expected_line, "Answer")
    assert "not a numeric answer" in str(error.value)
    assert set(row_counts(engine).values()) == {0}
