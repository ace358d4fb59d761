"""Knowledge base categories as a tree: a category may sit inside a parent category

Revision ID: 0037
Revises: 0035

``kb_categories`` holds each category once (unique name) with its parent.  The categories
articles already carry become top-level categories, so nothing an editor wrote is lost;
``kb_articles.category`` keeps naming its category by name.
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0037"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["kb_categories.id"], name=op.f("fk_kb_categories_parent_id_kb_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_kb_categories_name")),
    )
    op.create_index(op.f("ix_kb_categories_parent_id"), "kb_categories", ["parent_id"])
    op.execute(
        "INSERT INTO kb_categories (name, created_at) "
        "SELECT category, MIN(created_at) FROM kb_articles WHERE category <> '' "
        "GROUP BY category"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_kb_categories_parent_id"), table_name="kb_categories")
    op.drop_table("kb_categories")
