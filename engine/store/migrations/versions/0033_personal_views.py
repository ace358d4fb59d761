"""The inbox: filters and sorts an agent saved as personal views

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personal_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_views")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_personal_views_user_id")),
    )
    op.create_index(op.f("ix_personal_views_user_id"), "personal_views", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_personal_views_user_id"), table_name="personal_views")
    op.drop_table("personal_views")
