"""GSM8K on the real files: Socratic and main formats, idempotence, atomic failure naming the line."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.importers import ImportFailure, import_gsm8k
from backend.importers.core import parse_solution
from db.models import Problem, Rationale, RationaleSource, Revision, Step, TeacherMode, TeacherRun, Verdict
from tests.backend.importers.conftest import row_counts


@pytest.fixture
def socratic_file(shared_datasets: Path) -> Path:
    return shared_datasets / "gsm8k" / "test_socratic.jsonl"


def test_socratic_test_split(engine: Engine, socratic_file: Path) -> None:
    with Session(engine) as session:
        report = import_gsm8k(session, socratic_file, show_progress=False)
    assert (report.dataset, report.added, report.unchanged, report.changed) == (
        "gsm8k_socratic-test",
        1319,
        0,
        0,
    )
    lines = [json.loads(line) for line in socratic_file.read_text().splitlines()]
    with Session(engine) as session:
        problems = session.exec(select(Problem).order_by(col(Problem.id))).all()
        assert len(problems) == 1319
        for problem, row in zip(problems, lines, strict=True):
            star_lines = [line for line in row["answer"].split("\n") if "**" in line]
            assert problem.num_gold_steps == len(problem.gold_steps) == len(star_lines)
            assert all(step["sub_question"] for step in problem.gold_steps)
            assert problem.split == "test"
            assert problem.gold_answer_raw == row["answer"].rsplit("####", 1)[1].strip()
        first = problems[0]
        assert first.gold_answer == "18"
        assert first.gold_steps[0]["sub_question"] == "How many eggs does Janet sell?"
        assert first.gold_steps[0]["expressions"] == [
            {"expression": "16-3-4", "claimed": "9", "computed": 9.0, "ok": True}
        ]
        assert first.gold_steps[1]["value"] == "18"


def test_reference_rationales(engine: Engine, socratic_file: Path) -> None:
    with Session(engine) as session:
        import_gsm8k(session, socratic_file, show_progress=False)
        (run,) = session.exec(select(TeacherRun)).all()
        assert (run.backend, run.mode) == ("reference", TeacherMode.socratic)
        rationales = session.exec(select(Rationale)).all()
        assert len(rationales) == 1319
        assert {r.source for r in rationales} == {RationaleSource.reference}
        assert {r.verdict for r in rationales} == {Verdict.correct}
        first = rationales[0]
        steps = session.exec(
            select(Step).where(Step.rationale_id == first.id).order_by(col(Step.position))
        ).all()
        assert [s.sub_question for s in steps][:1] == ["How many eggs does Janet sell?"]
        assert steps[0].expressions[0]["ok"] is True and steps[0].value == "9"
        (revision,) = session.exec(select(Revision).where(Revision.rationale_id == first.id)).all()
        assert revision.number == 1 and first.current_revision == 1
        assert revision.content["final_answer"] == "18"
        assert len(revision.content["steps"]) == first.num_steps == len(steps) == 2
        total_steps = sum(len(p.gold_steps) for p in session.exec(select(Problem)).all())
        assert len(session.exec(select(Step)).all()) == total_steps


def test_reimport_adds_nothing(engine: Engine, socratic_file: Path) -> None:
    with Session(engine) as session:
        import_gsm8k(session, socratic_file, show_progress=False)
    before = row_counts(engine)
    with Session(engine) as session:
        again = import_gsm8k(session, socratic_file, show_progress=False)
    assert (again.added, again.unchanged, again.changed) == (0, 1319, 0)
    assert row_counts(engine) == before


def test_changed_row_is_reported_not_duplicated(engine: Engine, socratic_file: Path, tmp_path: Path) -> None:
    lines = socratic_file.read_text().splitlines()[:20]
    original = tmp_path / "test.jsonl"
    original.write_text("\n".join(lines) + "\n")
    with Session(engine) as session:
        import_gsm8k(session, original, name="g", show_progress=False)
    row = json.loads(lines[4])
    row["question"] += " (edited)"
    lines[4] = json.dumps(row)
    original.write_text("\n".join(lines) + "\n")
    with Session(engine) as session:
        report = import_gsm8k(session, original, name="g", show_progress=False)
        stored = session.exec(select(Problem).where(Problem.external_id == "test:4")).one()
    assert (report.added, report.unchanged, report.changed, report.changed_ids) == (0, 19, 1, ["test:4"])
    assert "(edited)" not in stored.question
    assert "changed rows were kept" in report.summary()


def test_broken_line_imports_nothing(engine: Engine, socratic_file: Path, tmp_path: Path) -> None:
    lines = socratic_file.read_text().splitlines()
    lines[16] = lines[16][:-5]  # line 17: truncated JSON
    broken = tmp_path / "test_socratic.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    with (
        Session(engine) as session,
        pytest.raises(ImportFailure, match=r"test_socratic\.jsonl line 17") as error,
    ):
        import_gsm8k(session, broken, show_progress=False)
    assert error.value.line == 17 and "invalid JSON" in str(error.value)
    assert set(row_counts(engine).values()) == {0}


def test_missing_answer_names_line_and_field(engine: Engine, socratic_file: Path, tmp_path: Path) -> None:
    lines = socratic_file.read_text().splitlines()[:30]
    row = json.loads(lines[16])
    del row["answer"]
    lines[16] = json.dumps(row)
    broken = tmp_path / "test.jsonl"
    broken.write_text("\n".join(lines))
    with Session(engine) as session, pytest.raises(ImportFailure) as error:
        import_gsm8k(session, broken, show_progress=False)
    assert str(error.value) == "test.jsonl line 17, field 'answer': missing"
    assert set(row_counts(engine).values()) == {0}


def test_main_format(engine: Engine, shared_datasets: Path) -> None:
    with Session(engine) as session:
        report = import_gsm8k(session, shared_datasets / "gsm8k" / "test.jsonl", show_progress=False)
        assert (report.dataset, report.added) == ("gsm8k-test", 1319)
        problem = session.exec(select(Problem).order_by(col(Problem.id))).first()
        run = session.exec(select(TeacherRun)).one()
    assert problem is not None and run.mode == TeacherMode.cot
    assert all(step["sub_question"] is None for step in problem.gold_steps)
    assert problem.gold_answer == "18" and problem.num_gold_steps == 2


def test_socratic_separator_ignores_power_in_annotations() -> None:
    steps, final = parse_solution("It is 2**3 = <<2**3=8>>8.\nHow much? ** So 8 * 2 = <<8*2=16>>16.\n#### 16")
    assert [step["sub_question"] for step in steps] == [None, "How much?"]
    assert steps[0]["expressions"][0]["ok"] is True and final == "16"
    assert re.search(r"\*\*", steps[0]["text"])


def test_train_then_test_with_default_names_gives_two_datasets_that_never_collide(
    engine: Engine, shared_datasets: Path, tmp_path: Path
) -> None:
    """Importing train and then test must not fold test into train ("changed rows were kept as stored")."""
    rows = (shared_datasets / "gsm8k" / "train.jsonl").read_text().splitlines(keepends=True)[:20]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(rows))
    with Session(engine) as session:
        first = import_gsm8k(session, train, show_progress=False)
        second = import_gsm8k(session, shared_datasets / "gsm8k" / "test.jsonl", show_progress=False)
        assert (first.dataset, first.added) == ("gsm8k-train", 20)
        assert (second.dataset, second.added, second.changed) == ("gsm8k-test", 1319, 0)
        splits = {p.split for p in session.exec(select(Problem)).all()}
        ids = [p.external_id for p in session.exec(select(Problem)).all()]
    assert splits == {"train", "test"} and len(set(ids)) == len(ids) == 1339
    # Forced into one dataset, rows of different files still never collide.
    with Session(engine) as session:
        import_gsm8k(session, train, name="both", show_progress=False)
        report = import_gsm8k(
            session, shared_datasets / "gsm8k" / "test.jsonl", name="both", show_progress=False
        )
    assert report.added == 1319
