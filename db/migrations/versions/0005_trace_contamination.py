"""The contamination check: each evaluation trace records whether its problem was seen in training

`evaltrace.seen_in_training` is the flag and `evaltrace.overlap` the measure behind it (the share of the
problem's masked word n-grams found in one training question); both are NULL for traces stored before the
check existed or for models with no training data here (teacher backends). `evalrun.training_problems`
is how many training problems the run compared with (NULL: not checked).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 08:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaltrace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_in_training", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("overlap", sa.Float(), nullable=True))
    with op.batch_alter_table("evalrun", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_problems", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evalrun", schema=None) as batch_op:
        batch_op.drop_column("training_problems")
    with op.batch_alter_table("evaltrace", schema=None) as batch_op:
        batch_op.drop_column("overlap")
        batch_op.drop_column("seen_in_training")
