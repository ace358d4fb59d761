"""mail in the wild: hard and soft bounces counted apart, suppression after repeated hard ones;
subject patterns, sign-in method and health (failures, last error, back-off) per mailbox

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bounced_addresses") as batch:
        batch.add_column(
            sa.Column("hard_bounces", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("soft_bounces", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("suppressed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(sa.Column("subject_patterns", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("imap_auth", sa.String(length=10), server_default="password", nullable=False)
        )
        batch.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_error_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("next_poll_at", sa.DateTime(), nullable=True))
    # every address blocked so far was blocked for a permanent failure: it stays blocked
    op.execute(
        "UPDATE bounced_addresses SET hard_bounces = bounces, suppressed_at = last_bounced_at"
    )


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("subject_patterns")
        batch.drop_column("imap_auth")
        batch.drop_column("failures")
        batch.drop_column("last_error")
        batch.drop_column("last_error_at")
        batch.drop_column("next_poll_at")
    op.execute("DELETE FROM bounced_addresses WHERE suppressed_at IS NULL")
    with op.batch_alter_table("bounced_addresses") as batch:
        batch.drop_column("suppressed_at")
        batch.drop_column("soft_bounces")
        batch.drop_column("hard_bounces")
