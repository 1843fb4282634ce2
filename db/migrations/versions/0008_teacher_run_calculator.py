"""Teacher runs that write with the calculator

`teacherrun.calculator`: each text of the run was written with the calculator (a student that learned
GSM8K's annotations samples the way it is evaluated, e.g. a round's samples). Existing runs: false.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:51:56.548517
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it for a NOT NULL column with a default): a batch rebuild would drop
    # and recreate teacherrun, which rationales reference.
    op.add_column("teacherrun", sa.Column("calculator", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("teacherrun", schema=None) as batch_op:
        batch_op.drop_column("calculator")
