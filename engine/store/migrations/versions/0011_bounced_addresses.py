"""addresses that bounced for good: no more mail is queued to them

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounced_addresses",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("first_bounced_at", sa.DateTime(), nullable=False),
        sa.Column("last_bounced_at", sa.DateTime(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_bounced_addresses")),
    )


def downgrade() -> None:
    op.drop_table("bounced_addresses")
