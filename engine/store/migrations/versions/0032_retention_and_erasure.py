"""Retention and erasure: audit lines may be rewritten only inside an erasing transaction

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_REFUSE = "SELECT RAISE(ABORT, 'audit_log is append-only')"


def upgrade() -> None:
    op.create_table(
        "audit_redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_redactions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "WHEN NOT EXISTS (SELECT 1 FROM audit_redactions) "
            f"BEGIN {_REFUSE}; END"
        )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN "
        "IF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM audit_redactions) THEN RETURN NEW; "
        "END IF; "
        "RAISE EXCEPTION 'audit_log is append-only'; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute(f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN {_REFUSE}; END")
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
    op.drop_table("audit_redactions")
