"""Demo data: 50 gsm_symbolic problems with reference CoT rationales, only into an empty database."""

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.demo.problems import DEMO_DATASET, ensure_demo_data
from db.models import Dataset, Problem, Rationale, RationaleSource, TeacherMode, TeacherRun
from tests.factories import make_dataset


def test_demo_data_once(engine: Engine) -> None:
    assert ensure_demo_data(engine) is True
    assert ensure_demo_data(engine) is False
    with Session(engine) as session:
        dataset = session.exec(select(Dataset)).one()
        problems = session.exec(select(Problem)).all()
        rationales = session.exec(select(Rationale)).all()
        run = session.exec(select(TeacherRun)).one()
    assert dataset.name == DEMO_DATASET and len(problems) == 50 and {p.split for p in problems} == {"train"}
    assert len(rationales) == 50 and {r.source for r in rationales} == {RationaleSource.reference}
    assert run.mode == TeacherMode.cot and all(r.num_steps >= 1 for r in rationales)
    assert all(p.gold_steps[0]["sub_question"] is None for p in problems)


def test_no_demo_when_data_exists(engine: Engine, session: Session) -> None:
    make_dataset(session, name="mine")
    assert ensure_demo_data(engine) is False
    assert len(session.exec(select(Problem)).all()) == 0
