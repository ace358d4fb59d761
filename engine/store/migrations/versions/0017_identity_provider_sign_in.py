"""sign-in through an OpenID Connect provider: pending sign-ins and linked provider accounts

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_sign_ins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_provider_sign_ins")),
    )
    op.create_index(
        op.f("ix_provider_sign_ins_expires_at"), "provider_sign_ins", ["expires_at"]
    )
    op.create_table(
        "provider_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_provider_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_provider_identities_issuer")),
    )
    op.create_index(
        op.f("ix_provider_identities_user_id"), "provider_identities", ["user_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provider_identities_user_id"), table_name="provider_identities")
    op.drop_table("provider_identities")
    op.drop_index(op.f("ix_provider_sign_ins_expires_at"), table_name="provider_sign_ins")
    op.drop_table("provider_sign_ins")
