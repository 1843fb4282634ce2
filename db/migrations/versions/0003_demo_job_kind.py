"""A job kind for the "Build the demo students" chain (backend.demo_chain)

The job kind is an enum column: PostgreSQL stores it as the native type `jobkind` (by member name), which
gets the new value; SQLite stores plain text without a constraint and needs nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:00:00.000000
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE jobkind ADD VALUE IF NOT EXISTS 'demo'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; chain jobs are removed so no row holds it.
    op.execute("DELETE FROM job WHERE kind = 'demo'")
