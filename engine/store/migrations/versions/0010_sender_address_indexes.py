"""indexes on lower(email) of users and contacts

Mail intake looks every sender up by address, case-insensitively; without these indexes
each message scanned both tables.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email_lower", "users", [sa.text("lower(email)")])
    op.create_index("ix_contacts_email_lower", "contacts", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_contacts_email_lower", table_name="contacts")
    op.drop_index("ix_users_email_lower", table_name="users")
