"""Incidents of timer start events: an incident may name a case type instead of a case

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("case_type_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_incidents_case_type_id_case_types"),
            "case_types",
            ["case_type_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM incidents WHERE case_id IS NULL")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(batch.f("fk_incidents_case_type_id_case_types"), type_="foreignkey")
        batch.drop_column("case_type_id")
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
