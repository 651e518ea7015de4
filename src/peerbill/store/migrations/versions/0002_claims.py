"""Claims: batches, claims, lines, which contact went on which line, control numbers.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payer", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("prepared_at", sa.DateTime, nullable=False),
        sa.Column("usage", sa.String(1), nullable=False),
        sa.Column("isa_control", sa.Integer, nullable=False, unique=True),
        sa.Column("gs_control", sa.Integer, nullable=False),
        sa.Column("st_controls", sa.JSON, nullable=False),
        sa.Column("rule_packs", sa.JSON, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("claim_ref", sa.String(38), nullable=False, unique=True),
        sa.Column("payer", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("child_id", sa.String(255), nullable=False),
        sa.Column("staff_id", sa.String(255), nullable=False),
        sa.Column("frequency", sa.String(1), nullable=False),
        sa.Column("replaces_id", sa.Integer, sa.ForeignKey("claims.id")),
        sa.Column("original_ref", sa.String(50)),
        sa.Column("payer_claim_number", sa.String(50)),
        sa.Column("place_of_service", sa.String(2), nullable=False),
        sa.Column("diagnoses", sa.JSON, nullable=False),
        sa.Column("subscriber", sa.JSON, nullable=False),
        sa.Column("rendering", sa.JSON, nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_claims_batch", "claims", ["batch_id"])
    op.create_index("ix_claims_month", "claims", ["payer", "month"])
    op.create_table(
        "claim_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("claims.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("service_date", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(16), nullable=False),
        sa.Column("modifiers", sa.String(32), nullable=False),
        sa.Column("place_of_service", sa.String(2), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("rate", sa.Numeric(12, 2), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("pointers", sa.JSON, nullable=False),
    )
    op.create_index("ix_claim_lines_claim", "claim_lines", ["claim_id"])
    op.create_table(
        "line_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_id", sa.Integer, sa.ForeignKey("claim_lines.id"), nullable=False),
        sa.Column("contact_id", sa.String(255), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("service_date", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(255)),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
    )
    op.create_index("ix_line_contacts_contact", "line_contacts", ["contact_id"])
    op.create_index("ix_line_contacts_line", "line_contacts", ["line_id"])
    op.create_table(
        "billed_contacts",
        sa.Column("contact_id", sa.String(255), primary_key=True),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("claims.id"), nullable=False),
        sa.Column("line_contact_id", sa.Integer, sa.ForeignKey("line_contacts.id"), nullable=False),
    )
    op.create_index("ix_billed_contacts_claim", "billed_contacts", ["claim_id"])


def downgrade() -> None:
    op.drop_table("billed_contacts")
    op.drop_table("line_contacts")
    op.drop_table("claim_lines")
    op.drop_table("claims")
    op.drop_table("batches")
    op.drop_table("counters")
