"""StrategyQA (BIG-bench task.json): 2,290 yes/no questions with their explanations."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from backend.importers import ImportFailure, import_strategyqa
from db.models import Dataset, Problem
from tests.backend.importers.conftest import row_counts


def test_strategyqa(engine: Engine, shared_datasets: Path) -> None:
    with Session(engine) as session:
        report = import_strategyqa(session, shared_datasets / "strategyqa" / "task.json", show_progress=False)
        assert (report.added, report.dataset) == (2290, "strategyqa")
        assert session.exec(select(Dataset)).one().answer_type == "yes_no"
        answers = dict(
            session.exec(select(Problem.gold_answer, func.count()).group_by(Problem.gold_answer)).all()
        )
        assert set(answers) == {"yes", "no"} and sum(answers.values()) == 2290
        first = session.exec(select(Problem).where(Problem.external_id == "0")).one()
    assert first.question == "Is it common to see frost during some college commencements?"
    assert (first.gold_answer, first.gold_answer_raw) == ("yes", "Yes")
    assert first.gold_solution is not None and first.gold_solution.startswith(
        "College commencement ceremonies"
    )


def test_label_disagreeing_with_scores_is_refused(engine: Engine, tmp_path: Path) -> None:
    task = {
        "name": "strategyqa",
        "examples": [
            {"input": "Is water wet?", "target_scores": {"Yes": 1, "No": 0}, "target": "Yes. It is."},
            {"input": "Do fish fly?", "target_scores": {"Yes": 1, "No": 0}, "target": "No. They swim."},
        ],
    }
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task, indent=1))
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_strategyqa(session, path, show_progress=False)
    assert (
        error.value.field == "target"
        and error.value.line == path.read_text().splitlines().index("  {", 5) + 1
    )
    assert set(row_counts(engine).values()) == {0}
