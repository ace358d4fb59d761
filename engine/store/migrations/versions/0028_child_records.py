"""Child records of cases with their own access: items gain a reference, a restriction
flag and who created them; ``item_grants`` is each record's access list; to-dos become
child records of kind ``todo`` with the records attached to them (``todo_attachments``),
replacing the never-written ``work_tasks`` and ``work_task_attachments``

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("ref", sa.String(length=300), nullable=True))
        batch.add_column(
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_items_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "item_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("propagated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_grants_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_item_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_item_grants_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_grants")),
    )
    for column in ("item_id", "user_id", "group_id"):
        op.create_index(op.f(f"ix_item_grants_{column}"), "item_grants", [column])
    op.create_table(
        "todo_attachments",
        sa.Column("todo_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["todo_id"],
            ["items.id"],
            name=op.f("fk_todo_attachments_todo_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_todo_attachments_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("todo_id", "item_id", name=op.f("pk_todo_attachments")),
    )
    op.create_index(op.f("ix_todo_attachments_item_id"), "todo_attachments", ["item_id"])
    op.drop_index("ix_work_task_attachments_task", table_name="work_task_attachments")
    op.drop_index(op.f("ix_work_task_attachments_item_id"), table_name="work_task_attachments")
    op.drop_index(op.f("ix_work_task_attachments_case_id"), table_name="work_task_attachments")
    op.drop_table("work_task_attachments")
    op.drop_table("work_tasks")


def downgrade() -> None:
    op.create_table(
        "work_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_tasks")),
    )
    op.create_table(
        "work_task_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_task_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_work_task_attachments_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_work_task_attachments_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_task_id"],
            ["work_tasks.id"],
            name=op.f("fk_work_task_attachments_work_task_id_work_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_task_attachments")),
    )
    op.create_index(
        op.f("ix_work_task_attachments_case_id"), "work_task_attachments", ["case_id"]
    )
    op.create_index(
        op.f("ix_work_task_attachments_item_id"), "work_task_attachments", ["item_id"]
    )
    op.create_index("ix_work_task_attachments_task", "work_task_attachments", ["work_task_id"])
    op.drop_index(op.f("ix_todo_attachments_item_id"), table_name="todo_attachments")
    op.drop_table("todo_attachments")
    for column in ("item_id", "user_id", "group_id"):
        op.drop_index(op.f(f"ix_item_grants_{column}"), table_name="item_grants")
    op.drop_table("item_grants")
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(op.f("fk_items_created_by_id_users"), type_="foreignkey")
        batch.drop_column("created_at")
        batch.drop_column("created_by_id")
        batch.drop_column("restricted")
        batch.drop_column("ref")
