"""PRM800K-style step ratings, per-step error tags and time spent on reviews

Per-step verdicts become ratings with the PRM800K meaning (+1 correct and useful, 0 correct but no
progress, -1 wrong): existing "ok" becomes +1 and "wrong" -1, so old reviews keep their meaning. The first
wrong step is re-derived from the ratings (the earliest -1) where a review had one but no number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:10:00.000000
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TO_RATING = {"ok": 1, "wrong": -1}
# Downgrade: 0 ("correct, no progress") was still correct, so it goes back to "ok".
TO_VERDICT = {1: "ok", 0: "ok", -1: "wrong"}


def _load(value: Any) -> list[Any]:
    """A JSON column as read through plain SQL: a string on SQLite, already decoded on PostgreSQL."""
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def _first_wrong(ratings: list[int | None]) -> int | None:
    return ratings.index(-1) if -1 in ratings else None


def _copy(source: str, target: str, mapping: dict[Any, Any], *, derive_first_wrong: bool) -> None:
    """Rewrite every review's per-step list from column `source` into column `target` through `mapping`."""
    review = sa.table(
        "review",
        sa.column("id", sa.Integer),
        sa.column(source, sa.JSON),
        sa.column(target, sa.JSON),
        sa.column("first_wrong_step", sa.Integer),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(review.c.id, review.c[source], review.c.first_wrong_step)).all()
    for review_id, values, first_wrong in rows:
        converted = [mapping.get(value) for value in _load(values)]
        changes: dict[str, Any] = {target: converted}
        if derive_first_wrong and first_wrong is None:
            changes["first_wrong_step"] = _first_wrong(converted)
        connection.execute(sa.update(review).where(review.c.id == review_id).values(**changes))


def upgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_ratings", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("step_tags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("seconds_spent", sa.Float(), nullable=True))
    _copy("step_verdicts", "step_ratings", TO_RATING, derive_first_wrong=True)
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("step_verdicts")


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_verdicts", sa.JSON(), nullable=False, server_default="[]"))
    _copy("step_ratings", "step_verdicts", TO_VERDICT, derive_first_wrong=False)
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("seconds_spent")
        batch_op.drop_column("step_tags")
        batch_op.drop_column("step_ratings")
