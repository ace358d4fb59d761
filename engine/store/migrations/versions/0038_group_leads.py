"""A member's role in a group: member or lead

Revision ID: 0038
Revises: 0037

``memberships.role``: ``member`` (every existing membership) or ``lead``.  A group's leads
(and administrators) manage the group's canned replies; every member may use them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "memberships",
        sa.Column("role", sa.String(length=20), nullable=False, server_default="member"),
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("role")
