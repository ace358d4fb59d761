"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import engine.store.access
import engine.store.mailbox
import engine.store.outbox
import engine.store.sla
import engine.store.web  # noqa: F401 - registers the outbox, SLA and web tables
from engine.runtime import Runtime
from engine.store.db import _MIGRATIONS
from engine.store.models import Base


def test_it_migrates_to_the_schema_of_the_models(runtime: Runtime):
    with runtime.db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_it_upgrades_an_up_to_date_database_without_change(runtime: Runtime):
    runtime.init_schema()  # a second upgrade is a no-op, not an error
    with runtime.db.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_migrations_have_one_head():
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == ["0012"]


def test_sender_addresses_are_indexed_case_insensitively(runtime: Runtime):
    """Expression indexes are invisible to the comparison above: look for them directly."""
    with runtime.db.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE lower(email) = 'a@b.example'"
                )
            )
            assert "ix_contacts_email_lower" in plan
            names = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index'"
                )
            }
        else:
            names = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            }
    assert {"ix_users_email_lower", "ix_contacts_email_lower"} <= names
