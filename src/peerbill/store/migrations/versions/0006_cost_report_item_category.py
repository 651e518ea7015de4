"""A cost-report item's service category and rating, so the report's rows by category and rating trace to
contacts.

Items recorded before it have neither (empty text).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cost_report_items") as batch:
        batch.add_column(sa.Column("category", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("rating", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cost_report_items") as batch:
        batch.drop_column("rating")
        batch.drop_column("category")
