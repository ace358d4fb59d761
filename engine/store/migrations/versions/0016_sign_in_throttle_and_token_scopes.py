"""sign-in throttle per user name and address; API tokens with parent, expiry and scopes

Revision ID: 0016
Revises: 0015
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_login_attempts_who", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=220), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    # tokens made before had no expiry: they get the default lifetime from now on, and
    # keep what they could do (administrators' tokens their administrator powers)
    expires = (datetime.now(UTC) + timedelta(days=90)).replace(tzinfo=None)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("scopes", sa.String(length=40), nullable=False, server_default="read write")
        )
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_tokens_parent_id_api_tokens"),
            "api_tokens",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_api_tokens_parent_id"), ["parent_id"])
    tokens = sa.table(
        "api_tokens",
        sa.column("user_id", sa.Integer()),
        sa.column("scopes", sa.String()),
        sa.column("expires_at", sa.DateTime()),
    )
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("is_admin", sa.Boolean()))
    admins = sa.select(users.c.id).where(users.c.is_admin.is_(True))
    op.execute(tokens.update().values(expires_at=expires))
    op.execute(
        tokens.update().where(tokens.c.user_id.in_(admins)).values(scopes="read write admin")
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("scopes", server_default=None)
        batch.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index(op.f("ix_api_tokens_parent_id"))
        batch.drop_constraint(op.f("fk_api_tokens_parent_id_api_tokens"), type_="foreignkey")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
        batch.drop_column("parent_id")
    op.drop_table("login_throttle")
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_who", "login_attempts", ["username", "address", "at"])
