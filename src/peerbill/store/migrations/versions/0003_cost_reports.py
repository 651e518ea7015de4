"""Issued CB-496 cost reports and the contact-level items behind every figure.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("quarter", sa.String(8), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
        sa.Column("rule_packs", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.UniqueConstraint("quarter", "revision", name="uq_cost_reports_revision"),
    )
    op.create_table(
        "cost_report_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("cost_reports.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("row", sa.String(32), nullable=False),
        sa.Column("quarter", sa.String(8), nullable=False),
        sa.Column("contact_id", sa.String(255), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("federal", sa.Numeric(14, 2), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("rule_versions", sa.Text, nullable=False),
    )
    op.create_index("ix_cost_report_items_report", "cost_report_items", ["report_id"])
    op.create_index("ix_cost_report_items_contact", "cost_report_items", ["contact_id"])


def downgrade() -> None:
    op.drop_table("cost_report_items")
    op.drop_table("cost_reports")
