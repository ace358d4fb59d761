"""Merging cases and kinds of related-case links

Revision ID: 0031
Revises: 0030

``case_links.kind`` says how the case of the row relates to the other one, as seen from it:
``related``, ``duplicate-of`` / ``duplicated-by``, ``parent-of`` / ``child-of``, and
``merged-into`` / ``merged-from`` (written only by a merge; the pointer mail follows to route
replies of a merged case to the case it went into).  Links already there are ``related``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_links") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="related")
        )


def downgrade() -> None:
    with op.batch_alter_table("case_links") as batch:
        batch.drop_column("kind")
