"""The initial store: imports, reference rows, contacts, runs, verdicts.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )
    op.create_table(
        "reference_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.UniqueConstraint("file", "key", "version", name="uq_reference_rows_version"),
    )
    op.create_index("ix_reference_rows_current", "reference_rows", ["file", "key", "current"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("service_date", sa.String(32)),
        sa.Column("month", sa.String(7)),
        sa.Column("child_id", sa.String(255)),
        sa.Column("staff_id", sa.String(255)),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.UniqueConstraint("contact_id", "version", name="uq_contacts_version"),
    )
    op.create_index("ix_contacts_current", "contacts", ["contact_id", "current"])
    op.create_index("ix_contacts_month", "contacts", ["month"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("rule_packs", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("contact_id", sa.String(255), nullable=False),
        sa.Column("contact_version", sa.Integer),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("service_date", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payer", sa.String(32)),
        sa.Column("procedure", sa.String(16)),
        sa.Column("modifiers", sa.String(32), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("rate", sa.Numeric(12, 2)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("rule_ids", sa.Text, nullable=False),
        sa.Column("rule_versions", sa.Text, nullable=False),
        sa.Column("child_id", sa.String(255)),
        sa.Column("staff_id", sa.String(255)),
        sa.Column("plan_id", sa.String(255)),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_verdicts_run", "verdicts", ["run_id"])
    op.create_index("ix_verdicts_contact", "verdicts", ["contact_id"])


def downgrade() -> None:
    for index, table in (("ix_verdicts_contact", "verdicts"), ("ix_verdicts_run", "verdicts")):
        op.drop_index(index, table)
    op.drop_table("verdicts")
    op.drop_table("runs")
    op.drop_index("ix_contacts_month", "contacts")
    op.drop_index("ix_contacts_current", "contacts")
    op.drop_table("contacts")
    op.drop_index("ix_reference_rows_current", "reference_rows")
    op.drop_table("reference_rows")
    op.drop_table("imports")
