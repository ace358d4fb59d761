"""attached files kept in the file store (not in their rows), files of mailed replies,
canned replies per group

Revision ID: 0030
Revises: 0029

New attachments keep only their metadata and sha256 in ``post_attachments``; the bytes live in
the content-addressed file store (``engine.store.files``).  Rows from before keep their bytes
in ``content`` and are served from there, so the column stays, nullable.
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("post_attachments") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_canned_replies_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_canned_replies_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint("group_id", "name", name=op.f("uq_canned_replies_group_id")),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachments")
    with op.batch_alter_table("post_attachments") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
