"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event

import engine.store.access
import engine.store.mailbox
import engine.store.outbox
import engine.store.sla
import engine.store.web  # noqa: F401 - registers the outbox, SLA and web tables
from engine.run import timers
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
    assert ScriptDirectory.from_config(config).get_heads() == ["0020"]


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
    assert len(scans) == 3  # BPMN due cases, SLA due rows, the next due moment

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
