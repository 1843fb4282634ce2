"""reasoning-gym generators: gsm_symbolic with its answer_cot as reference rationale; others as they are."""

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.importers import ImportFailure, import_reasoning_gym
from db.models import Dataset, Problem, Rationale, Step, TeacherMode, TeacherRun, Verdict
from tests.backend.importers.conftest import row_counts


def test_gsm_symbolic(engine: Engine) -> None:
    with Session(engine) as session:
        report = import_reasoning_gym(session, "gsm_symbolic", size=8, seed=42, show_progress=False)
        assert (report.added, report.dataset) == (8, "reasoning_gym-gsm_symbolic")
        problem = session.exec(select(Problem).where(Problem.external_id == "42-0")).one()
        assert problem.gold_answer == "70" and problem.num_gold_steps == 3
        assert "answer_cot" not in problem.meta and problem.meta["source_dataset"] == "gsm_symbolic"
        run = session.exec(select(TeacherRun)).one()
        assert (run.backend, run.mode) == ("reference", TeacherMode.cot)
        rationales = session.exec(select(Rationale)).all()
        assert len(rationales) == 8 and all(r.verdict == Verdict.correct for r in rationales)
        steps = session.exec(select(Step).where(Step.rationale_id == rationales[0].id)).all()
        assert [s.sub_question for s in steps] == [None, None, None]
        assert steps[0].text == "There are 12 x 2 = 24 students playing volleyball."
        same = import_reasoning_gym(session, "gsm_symbolic", size=8, seed=42, show_progress=False)
        more = import_reasoning_gym(session, "gsm_symbolic", size=3, seed=7, show_progress=False)
    assert (same.added, same.unchanged, more.added) == (0, 8, 3)


def test_other_generator_stores_what_it_has(engine: Engine) -> None:
    with Session(engine) as session:
        report = import_reasoning_gym(session, "basic_arithmetic", size=5, seed=1, show_progress=False)
        dataset = session.exec(select(Dataset)).one()
        problems = session.exec(select(Problem)).all()
    assert report.added == 5 and dataset.answer_type == "numeric"
    assert all(p.gold_steps == [] and "expression" in p.meta for p in problems)
    assert row_counts(engine)["Rationale"] == 0


def test_unknown_generator_and_bad_size(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(ImportFailure, match="field 'name'"):
            import_reasoning_gym(session, "no_such_generator", size=2, show_progress=False)
        with pytest.raises(ImportFailure, match="field 'size'"):
            import_reasoning_gym(session, "gsm_symbolic", size=0, show_progress=False)
    assert set(row_counts(engine).values()) == {0}
