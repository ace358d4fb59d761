"""failed jobs: a timer that failed for good keeps why, and failed rows are found fast

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FAILED = "state = 'failed'"


def upgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.create_index(
        "ix_timers_failed",
        "timers",
        ["id"],
        sqlite_where=sa.text(FAILED),
        postgresql_where=sa.text(FAILED),
    )


def downgrade() -> None:
    op.drop_index("ix_timers_failed", table_name="timers")
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("last_error")
