"""Full-text search (SQLite FTS5 / PostgreSQL tsvector + GIN) and notifications read and mailed
per preference

Revision ID: 0026
Revises: 0025

SQLite: three external-content FTS5 tables over ``cases.subject``, ``stream_posts.body`` and
``contacts.name, email``, kept in step by triggers (so every write path, the engine's bulk
inserts included, keeps them right) and filled from the rows already there.  PostgreSQL: GIN
indexes over the same ``to_tsvector`` expressions the search queries use
(``engine.store.search``), so nothing needs keeping in step.
"""

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# table -> (FTS table, indexed columns); keep in step with engine.store.search
_SQLITE = {
    "cases": ("search_cases", ("subject",)),
    "stream_posts": ("search_posts", ("body",)),
    "contacts": ("search_contacts", ("name", "email")),
}
_TOKENIZE = "porter unicode61 remove_diacritics 2"

# index name -> (table, tsvector expression); the expressions must match engine.store.search
_POSTGRES = {
    "ix_cases_search": ("cases", "to_tsvector('english', subject)"),
    "ix_stream_posts_search": ("stream_posts", "to_tsvector('english', body)"),
    "ix_contacts_search": (
        "contacts",
        "to_tsvector('simple', name || ' ' || translate(coalesce(email, ''), '@.', '  '))",
    ),
}


def _sqlite_up() -> None:
    for table, (fts, columns) in _SQLITE.items():
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
            f"content_rowid='id', tokenize='{_TOKENIZE}')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("read_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_notifications_user_read", ["user_id", "read_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mail", sa.String(length=10), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        for name, (table, expression) in _POSTGRES.items():
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts, _ in _SQLITE.values():
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for name in _POSTGRES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_user_read")
        batch.drop_column("read_at")
