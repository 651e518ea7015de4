"""Completed runs: what a ``peerbill run`` was given, the ledger's head when it ended and the outputs it
left, so that running the month again on the same inputs finds nothing to do.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "completed_runs",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("inputs_key", sa.String(64), nullable=False),
        sa.Column("ledger_head", sa.String(64), nullable=False),
        sa.Column("out_dir", sa.Text, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("data_errors", sa.Boolean, nullable=False),
    )
    op.create_index("ix_completed_runs_month", "completed_runs", ["month"])


def downgrade() -> None:
    op.drop_table("completed_runs")
