"""Every PostgreSQL connection runs with Casework's server settings, beside the schema the
URL names and any settings the URL gives itself."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import text

from engine.store.db import make_engine
from tests.scratch_db import scratch_schema


def test_postgresql_connections_run_without_jit_in_the_urls_schema(postgres_url: str) -> None:
    with scratch_schema(postgres_url) as url:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                assert connection.scalar(text("show jit")) == "off"
                search_path = connection.scalar(text("show search_path"))
        finally:
            engine.dispose()
        assert search_path == url.rpartition("?schema=")[2]


def test_settings_given_in_the_url_are_kept(postgres_url: str) -> None:
    own = quote("-cstatement_timeout=12345")
    engine = make_engine(f"{postgres_url}?options={own}")
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("show statement_timeout")) == "12345ms"
            assert connection.scalar(text("show jit")) == "off"
    finally:
        engine.dispose()
