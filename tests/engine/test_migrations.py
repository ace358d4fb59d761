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
    assert ScriptDirectory.from_config(config).get_heads() == ["0009"]
