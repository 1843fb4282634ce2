"""Named annotation queues

`annotationqueue` names a list of rationales put together for review (for example one error class of an
evaluation's failures); `queueitem` holds its members, each once. Annotate walks a queue through the
rationale filter, and Curate can freeze what was accepted in it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:07:13.110928
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotationqueue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("annotationqueue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotationqueue_name"), ["name"], unique=True)
    op.create_table(
        "queueitem",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("rationale_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["queue_id"], ["annotationqueue.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rationale_id"], ["rationale.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("queue_id", "rationale_id"),
    )
    with op.batch_alter_table("queueitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queueitem_rationale_id"), ["rationale_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("queueitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queueitem_rationale_id"))
    op.drop_table("queueitem")
    with op.batch_alter_table("annotationqueue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotationqueue_name"))
    op.drop_table("annotationqueue")
