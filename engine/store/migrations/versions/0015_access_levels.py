"""case-type permission levels (no | read | write) and the case types a portal role opens

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_type_permissions") as batch:
        batch.add_column(
            sa.Column("level", sa.String(10), nullable=False, server_default="read")
        )
    op.execute("UPDATE case_type_permissions SET level = 'write' WHERE can_write")
    with op.batch_alter_table("case_type_permissions") as batch:
        batch.drop_column("can_write")
    with op.batch_alter_table("portal_roles") as batch:
        batch.add_column(
            sa.Column("case_types", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_roles") as batch:
        batch.drop_column("case_types")
    op.execute("DELETE FROM case_type_permissions WHERE level = 'no'")
    with op.batch_alter_table("case_type_permissions") as batch:
        batch.add_column(
            sa.Column("can_write", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE case_type_permissions SET can_write = (level = 'write')")
    with op.batch_alter_table("case_type_permissions") as batch:
        batch.drop_column("level")
