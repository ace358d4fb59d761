"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event

import engine.store.access
import engine.store.credentials
import engine.store.kb
import engine.store.mailbox
import engine.store.outbox
import engine.store.privacy
import engine.store.sla  # noqa: F401 - registers every table on Base.metadata
from engine.run import timers
from engine.runtime import Runtime
from engine.store.db import _MIGRATIONS
from engine.store.models import Base
from engine.store.search import outside_models


def _context(connection):  # type: ignore[no-untyped-def]
    """The search index (SQLite's FTS5 tables, PostgreSQL's GIN expression indexes) is
    no model's: left out of the comparison (checked on its own in tests/rules/test_search.py)."""
    return MigrationContext.configure(
        connection,
        opts={"include_name": lambda name, kind, parents: not outside_models(name, kind, parents)},
    )


def test_it_migrates_to_the_schema_of_the_models(runtime: Runtime):
    with runtime.db.connect() as connection:
        differences = compare_metadata(_context(connection), Base.metadata)
    assert differences == []


def test_it_upgrades_an_up_to_date_database_without_change(runtime: Runtime):
    runtime.init_schema()  # a second upgrade is a no-op, not an error
    with runtime.db.connect() as connection:
        assert compare_metadata(_context(connection), Base.metadata) == []


def test_the_migrations_have_one_head_the_newest_file():
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    newest = max(p.name.split("_")[0] for p in (_MIGRATIONS / "versions").glob("0*.py"))
    assert ScriptDirectory.from_config(config).get_heads() == [newest]


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


def test_the_timer_sweep_reads_waiting_timers_through_their_own_index(runtime: Runtime):
    """Every scan the sweep runs can use the index of waiting timers on both databases, so
    a sweep never reads the timers settled before (most of the table, in time)."""
    scans: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM timers" in statement:
            scans.append((statement, parameters))

    event.listen(runtime.db, "before_cursor_execute", keep)
    try:
        timers.sweep(runtime)
        with runtime.unit() as work:
            timers.next_due(work)
    finally:
        event.remove(runtime.db, "before_cursor_execute", keep)
    assert len(scans) == 4  # BPMN due cases, SLA due rows, connector jobs, the next due moment

    with runtime.db.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # the tables are empty: make the planner show what it could use
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in scans:
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " ".join(
                str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters)
            )
            assert "ix_timers_waiting_due" in plan, (statement, plan)


def test_the_search_index_is_built_on_either_database(runtime: Runtime):
    """SQLite: the FTS5 tables and the triggers keeping them in step (a later migration that
    recreates a table drops its triggers: this fails then); PostgreSQL: the GIN indexes."""
    with runtime.db.connect() as connection:
        if connection.dialect.name == "sqlite":
            found = {
                (kind, name)
                for kind, name in connection.exec_driver_sql(
                    "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')"
                )
            }
            for fts in ("search_cases", "search_posts", "search_contacts"):
                assert ("table", fts) in found
                for suffix in ("ai", "ad", "au"):
                    assert ("trigger", f"{fts}_{suffix}") in found
        else:
            found = {
                (name, definition)
                for name, definition in connection.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                )
            }
            names = {name for name, definition in found if "USING gin" in definition}
            assert {"ix_cases_search", "ix_stream_posts_search", "ix_contacts_search"} <= names
