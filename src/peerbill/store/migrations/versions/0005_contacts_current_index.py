"""Drop the contacts index on (contact_id, current): the unique index on (contact_id, version) serves its lookups.

The import asks for the current version of a chunk of contact ids (``contact_id IN (...)`` and
``current``); both databases find those rows through the unique index's leading column, a
version or two per id.  The second index was written on every contact imported, taking time and
room in the file, and read by no query.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contacts_current", table_name="contacts")


def downgrade() -> None:
    op.create_index("ix_contacts_current", "contacts", ["contact_id", "current"])
