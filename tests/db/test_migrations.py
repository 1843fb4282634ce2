"""Migrations are released history: the models never drift from what the migrations build, and a database
made by the landed 0001 (rows in every table) upgrades to head keeping every row, readable by today's
models. Run on SQLite here and on PostgreSQL with --runslow (tests/reliability's throwaway server)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from sqlmodel.main import default_registry

import db.models  # noqa: F401  (every table on SQLModel.metadata)
from db.engine import make_engine
from db.migrate import alembic_config, upgrade_to_head
from db.models import Review

LANDED = "0001"  # the first released revision: never edited again, only built upon
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'studio.db'}"
        return
    from tests.reliability.pg_server import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        yield server.create_database("migrations")
    finally:
        server.stop()


def _drift(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_models_match_the_schema_the_migrations_build(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade_to_head(engine)
    drift = _drift(engine)
    assert not drift, (
        "db.models differ from the migrations; add a revision "
        "(alembic revision --autogenerate, chained after the head), never edit a landed one:\n"
        + "\n".join(map(str, drift))
    )


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _value(table: str, column: sa.Column[Any], row_id: int) -> Any:
    """A plausible value for a column of the old schema (enums take a value today's models know)."""
    current = SQLModel.metadata.tables.get(table)
    model_type = current.c[column.name].type if current is not None and column.name in current.c else None
    if isinstance(model_type, sa.Enum):
        return model_type.enums[0]
    if (table, column.name) == ("review", "step_verdicts"):
        return ["ok", "wrong", None]  # what 0002 turns into ratings
    if column.foreign_keys or column.primary_key:
        return row_id
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0.5
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(kind, sa.JSON):
        return []
    length = getattr(kind, "length", None) or 40
    return f"{table}-{column.name}"[: max(1, length - 3)] + f"-{row_id}"  # distinct: unique columns


def _fill_every_table(engine: Engine) -> dict[str, int]:
    """Two rows in every table of the old schema, parents before children; returns the counts."""
    old = sa.MetaData()
    old.reflect(engine)
    counts = {}
    with engine.begin() as connection:
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [{c.name: _value(table.name, c, row_id) for c in table.columns} for row_id in (1, 2)]
            connection.execute(table.insert(), rows)
            counts[table.name] = len(rows)
    return counts


def test_a_database_made_by_the_landed_0001_upgrades_keeping_every_row(empty_url: str) -> None:
    engine = make_engine(empty_url)
    _upgrade_to(engine, LANDED)
    counts = _fill_every_table(engine)
    assert len(counts) >= 10  # every table of 0001
    upgrade_to_head(engine)
    with engine.connect() as connection:
        for table, count in counts.items():
            assert connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar() == count, table
    assert not _drift(engine)
    with Session(engine) as session:  # every row loads through today's models
        for mapper in default_registry.mappers:
            model = mapper.class_
            if getattr(model, "__table__", None) is not None and model.__table__.name in counts:
                assert len(session.exec(select(model)).all()) == counts[model.__table__.name], model
        reviews = session.exec(select(Review).order_by(Review.id)).all()  # type: ignore[arg-type]
        assert [review.step_ratings for review in reviews] == [[1, -1, None]] * 2


def test_the_regeneration_script_is_gone() -> None:
    assert not (ROOT / "scripts" / "regen_migration.sh").exists()
