"""call activities: the child case a parent case's call activity waits for

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_case_id", sa.Integer(), nullable=False),
        sa.Column("engine_task_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("child_case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_case_id"],
            ["cases.id"],
            name=op.f("fk_case_calls_parent_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_case_id"],
            ["cases.id"],
            name=op.f("fk_case_calls_child_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_calls")),
        sa.UniqueConstraint("child_case_id", name=op.f("uq_case_calls_child_case_id")),
    )
    op.create_index(
        op.f("ix_case_calls_parent_case_id"), "case_calls", ["parent_case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_calls_parent_case_id"), table_name="case_calls")
    op.drop_table("case_calls")
