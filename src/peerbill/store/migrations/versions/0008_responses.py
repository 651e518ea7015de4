"""Payers' responses: 999, TA1, 277CA and 835 files as received, what they say of batches, claims and
lines; a batch's status and the claims of each of its transaction sets.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("per_transaction", sa.Integer, nullable=True))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="sent"))
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("sender", sa.String(15), nullable=False),
        sa.Column("control", sa.String(9), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_table(
        "batch_acks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_batch_acks_batch", "batch_acks", ["batch_id"])
    op.create_table(
        "claim_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=False),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("claims.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("payer_claim_number", sa.String(50), nullable=False),
        sa.Column("charged", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid", sa.Numeric(14, 2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(14, 2), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_claim_events_claim", "claim_events", ["claim_id"])
    op.create_index("ix_claim_events_response", "claim_events", ["response_id"])
    op.create_table(
        "line_payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("claim_events.id"), nullable=False),
        sa.Column("line_id", sa.Integer, sa.ForeignKey("claim_lines.id"), nullable=False),
        sa.Column("charged", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid", sa.Numeric(14, 2), nullable=False),
        sa.Column("units", sa.Numeric(10, 2), nullable=False),
        sa.Column("adjustments", sa.JSON, nullable=False),
        sa.Column("remarks", sa.JSON, nullable=False),
    )
    op.create_index("ix_line_payments_event", "line_payments", ["event_id"])
    op.create_index("ix_line_payments_line", "line_payments", ["line_id"])


def downgrade() -> None:
    op.drop_table("line_payments")
    op.drop_table("claim_events")
    op.drop_table("batch_acks")
    op.drop_table("responses")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("status")
        batch.drop_column("per_transaction")
