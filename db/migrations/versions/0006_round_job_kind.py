"""A job kind for training rounds (backend.rounds.chain)

The job kind is an enum column: PostgreSQL stores it as the native type `jobkind` (by member name), which
gets the new value; SQLite stores plain text without a constraint and needs nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:10:00.000000
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE jobkind ADD VALUE IF NOT EXISTS 'round'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; round jobs are removed so no row holds it.
    op.execute("DELETE FROM job WHERE kind = 'round'")
