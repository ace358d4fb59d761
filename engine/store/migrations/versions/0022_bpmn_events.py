"""BPMN events: what a case waits for, its correlation key, incidents, start timers

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("waits_for", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("correlation_key", sa.String(length=200), nullable=True))
        batch.create_index("ix_cases_correlation", ["case_type_id", "correlation_key"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("element_name", sa.String(length=500), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_incidents_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_incidents_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_incidents_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_state_case", "incidents", ["state", "case_id"])
    op.create_table(
        "start_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_type_id"],
            ["case_types.id"],
            name=op.f("fk_start_timers_case_type_id_case_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["case_type_versions.id"],
            name=op.f("fk_start_timers_version_id_case_type_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_start_timers_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_start_timers")),
        sa.UniqueConstraint(
            "case_type_id",
            "element_id",
            "due_at",
            name=op.f("uq_start_timers_case_type_id"),
        ),
    )
    op.create_index("ix_start_timers_due", "start_timers", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_start_timers_due", table_name="start_timers")
    op.drop_table("start_timers")
    op.drop_index("ix_incidents_state_case", table_name="incidents")
    op.drop_table("incidents")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_correlation")
        batch.drop_column("correlation_key")
        batch.drop_column("waits_for")
