"""Helpers for importer tests: row counts per table (to prove an import stored nothing)."""

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from db.models import Dataset, Problem, Rationale, Revision, Step, TeacherRun

TABLES = (Dataset, Problem, Rationale, Step, Revision, TeacherRun)


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one() for table in TABLES
        }
