from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.engine import make_engine, open_database
from db.migrate import upgrade_to_head
from db.models import Rationale, Step
from tests.factories import make_dataset, make_problem, make_rationale


def test_migrations_create_schema_in_wal_mode_with_foreign_keys(engine):
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_upgrade_is_idempotent(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'again.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert open_database(url) is open_database(url)


def test_foreign_keys_are_enforced(session: Session):
    session.add(Step(rationale_id=999, position=0, text="orphan"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_deleting_a_problem_cascades_to_rationales_and_steps(session: Session):
    dataset = make_dataset(session)
    problem = make_problem(session, dataset)
    make_rationale(session, problem)
    session.delete(problem)
    session.commit()
    assert session.exec(select(Rationale)).all() == []
    assert session.exec(select(Step)).all() == []
