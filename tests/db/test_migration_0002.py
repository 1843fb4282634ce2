"""Migration 0002: old per-step verdicts become PRM800K ratings (ok -> +1, wrong -> -1), and back."""

import json
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.engine import make_engine
from db.migrate import alembic_config

OLD_REVIEWS = [  # (id, step_verdicts, first_wrong_step) as version 0001 stored them
    (1, ["ok", "wrong", None, "wrong"], None),
    (2, ["ok", "ok"], None),
    (3, [], None),
    (4, ["wrong", "ok"], 1),  # a typed first wrong step is kept as it was
]


def _migrate(engine: Engine, target: str, *, down: bool = False) -> None:
    config = alembic_config(str(engine.url))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def _insert_old_reviews(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("PRAGMA foreign_keys=OFF"))  # review rows alone, without their rationales
        for review_id, verdicts, first_wrong in OLD_REVIEWS:
            connection.execute(
                text(
                    "INSERT INTO review (id, rationale_id, revision_number, verdict, step_verdicts,"
                    " first_wrong_step, error_tags, comment, created_at)"
                    " VALUES (:id, 1, 1, 'reject', :verdicts, :first, '[]', '', '2026-12-01 10:00:00')"
                ),
                {"id": review_id, "verdicts": json.dumps(verdicts), "first": first_wrong},
            )


def test_old_verdicts_become_ratings_and_come_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _migrate(engine, "0001")
    _insert_old_reviews(engine)
    _migrate(engine, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, step_ratings, first_wrong_step, step_tags, seconds_spent FROM review ORDER BY id"
            )
        ).all()
        columns = {row[1] for row in connection.execute(text("PRAGMA table_info(review)"))}
    assert [(r[0], json.loads(r[1]), r[2]) for r in rows] == [
        (1, [1, -1, None, -1], 1),
        (2, [1, 1], None),
        (3, [], None),
        (4, [-1, 1], 1),
    ]
    assert {(r[3], r[4]) for r in rows} == {("[]", None)}
    assert "step_verdicts" not in columns

    _migrate(engine, "0001", down=True)
    with engine.connect() as connection:
        back = connection.execute(text("SELECT step_verdicts FROM review ORDER BY id")).scalars().all()
    assert [json.loads(v) for v in back] == [verdicts for _, verdicts, _ in OLD_REVIEWS]
