"""Accounts with a parent account, leads, and the account and lead of a case

Revision ID: 0035
Revises: 0034

``accounts`` gets a unique name (the CLI and the pages name accounts) and ``parent_id``;
``contacts.account_id`` an index (an account page lists its contacts).  A case's account
and lead live in ``case_parties``, one row per case, so the ``cases`` table (and its search
triggers on SQLite) is left as it is.
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_accounts_parent_id_accounts"), "accounts", ["parent_id"], ["id"]
        )
        batch.create_unique_constraint(batch.f("uq_accounts_name"), ["name"])
        batch.create_index(batch.f("ix_accounts_parent_id"), ["parent_id"], unique=False)
    with op.batch_alter_table("contacts") as batch:
        batch.create_index(batch.f("ix_contacts_account_id"), ["account_id"], unique=False)
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index("ix_leads_email_lower", "leads", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "case_parties",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_parties_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_case_parties_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_case_parties_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_parties")),
    )
    op.create_index(op.f("ix_case_parties_account_id"), "case_parties", ["account_id"])
    op.create_index(op.f("ix_case_parties_lead_id"), "case_parties", ["lead_id"])


def downgrade() -> None:
    op.drop_table("case_parties")
    op.drop_index("ix_leads_email_lower", table_name="leads")
    op.drop_table("leads")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index(batch.f("ix_contacts_account_id"))
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index(batch.f("ix_accounts_parent_id"))
        batch.drop_constraint(batch.f("uq_accounts_name"), type_="unique")
        batch.drop_constraint(batch.f("fk_accounts_parent_id_accounts"), type_="foreignkey")
        batch.drop_column("parent_id")
