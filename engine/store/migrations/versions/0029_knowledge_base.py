"""Knowledge base: articles with states and categories, shown to portal roles, read and
edited by group permission, linked to cases, and found by their words

Revision ID: 0029
Revises: 0028

The search index follows migration 0026: on SQLite an external-content FTS5 table over
``kb_articles(title, body)`` kept in step by triggers; on PostgreSQL a GIN index over the
``to_tsvector`` expression :mod:`engine.store.search` queries.
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_TOKENIZE = "porter unicode61 remove_diacritics 2"
# keep in step with engine.store.search
_PG_INDEX = (
    "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin "
    "((to_tsvector('english', title || ' ' || body)))"
)


def _sqlite_up() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_kb USING fts5(title, body, content='kb_articles', "
        f"content_rowid='id', tokenize='{_TOKENIZE}')"
    )
    op.execute(
        "CREATE TRIGGER search_kb_ai AFTER INSERT ON kb_articles BEGIN "
        "INSERT INTO search_kb(rowid, title, body) VALUES (new.id, new.title, new.body); END"
    )
    op.execute(
        "CREATE TRIGGER search_kb_ad AFTER DELETE ON kb_articles BEGIN "
        "INSERT INTO search_kb(search_kb, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); END"
    )
    op.execute(
        "CREATE TRIGGER search_kb_au AFTER UPDATE OF title, body ON kb_articles BEGIN "
        "INSERT INTO search_kb(search_kb, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); "
        "INSERT INTO search_kb(rowid, title, body) VALUES (new.id, new.title, new.body); END"
    )


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_kb_articles_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index(op.f("ix_kb_articles_category"), "kb_articles", ["category"])
    op.create_index(op.f("ix_kb_articles_state"), "kb_articles", ["state"])
    op.create_table(
        "kb_article_roles",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("portal_role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_roles_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_role_id"],
            ["portal_roles.id"],
            name=op.f("fk_kb_article_roles_portal_role_id_portal_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "portal_role_id", name=op.f("pk_kb_article_roles")),
    )
    op.create_index(
        op.f("ix_kb_article_roles_portal_role_id"), "kb_article_roles", ["portal_role_id"]
    )
    op.create_table(
        "kb_permissions",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_kb_permissions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_kb_permissions")),
    )
    op.create_table(
        "kb_case_links",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_kb_case_links_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_case_links_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by"], ["users.id"], name=op.f("fk_kb_case_links_linked_by_users")
        ),
        sa.PrimaryKeyConstraint("case_id", "article_id", name=op.f("pk_kb_case_links")),
    )
    op.create_index(op.f("ix_kb_case_links_article_id"), "kb_case_links", ["article_id"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        op.execute(_PG_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_kb_{suffix}")
        op.execute("DROP TABLE IF EXISTS search_kb")
    else:
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
    op.drop_table("kb_case_links")
    op.drop_table("kb_permissions")
    op.drop_table("kb_article_roles")
    op.drop_table("kb_articles")
