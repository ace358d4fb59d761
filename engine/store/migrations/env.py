"""Alembic environment: migrations run on the connection ``engine.store.db.upgrade`` hands in."""

from alembic import context

import engine.store.access
import engine.store.credentials
import engine.store.events
import engine.store.kb
import engine.store.mailbox
import engine.store.operations
import engine.store.outbox
import engine.store.parties
import engine.store.privacy
import engine.store.sla  # noqa: F401 - registers every table on Base.metadata
from engine.store.models import Base
from engine.store.search import outside_models

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # SQLite's search index (FTS5 tables, migration 0026) is no model's table
    include_name=lambda name, kind, parents: not outside_models(name, kind, parents),
)
with context.begin_transaction():
    context.run_migrations()
