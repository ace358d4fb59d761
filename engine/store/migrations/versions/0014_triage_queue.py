"""a mailbox may hold mail naming a foreign case for triage

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(
            sa.Column(
                "refused_match", sa.String(10), nullable=False, server_default="new_case"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("refused_match")
