"""SLA report facts: one narrow row per case, in reporting slices (type, group, priority),
summed per month in a rollup;
time zones and quiet hours of SLA notices per user and per group

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_slices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_type_id"],
            ["case_types.id"],
            name=op.f("fk_sla_slices_case_type_id_case_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_slices")),
        sa.UniqueConstraint(
            "case_type_id", "group_id", "priority", name=op.f("uq_sla_slices_case_type_id")
        ),
    )
    op.create_table(
        "sla_case_facts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("slice_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_month", sa.Integer(), nullable=False),
        sa.Column("closed_month", sa.Integer(), nullable=True),
        sa.Column("first_response_s", sa.Integer(), nullable=True),
        sa.Column("response_bucket", sa.Integer(), nullable=True),
        sa.Column("resolution_s", sa.Integer(), nullable=True),
        sa.Column("resolution_bucket", sa.Integer(), nullable=True),
        sa.Column("targets_met", sa.Integer(), nullable=False),
        sa.Column("targets_breached", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_sla_case_facts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slice_id"], ["sla_slices.id"], name=op.f("fk_sla_case_facts_slice_id_sla_slices")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_sla_case_facts")),
    )
    op.create_table(
        "sla_rollup",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("slice_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "slice_id", "measure", "bucket", name=op.f("pk_sla_rollup")
        ),
    )


    op.create_table(
        "notice_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("quiet_from", sa.String(length=5), nullable=False),
        sa.Column("quiet_to", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_notice_hours_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notice_hours_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_hours")),
        sa.UniqueConstraint("group_id", name=op.f("uq_notice_hours_group_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notice_hours_user_id")),
    )


def downgrade() -> None:
    op.drop_table("notice_hours")
    op.drop_table("sla_rollup")
    op.drop_table("sla_case_facts")
    op.drop_table("sla_slices")
