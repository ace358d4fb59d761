"""Background WAL checkpoints: committed work reaches the database file without a commit
having to copy it there, and a closed runtime leaves no thread behind."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from engine.runtime import Runtime
from engine.store.checkpoints import BACKSTOP_PAGES, Checkpointer, start_checkpointer
from people import directory


def _users_in_file_alone(db: Path, copy: Path) -> set[str]:
    """The usernames a copy of the database file holds without its write-ahead log."""
    shutil.copyfile(db, copy)
    try:
        with sqlite3.connect(copy) as connection:
            return {name for (name,) in connection.execute("SELECT username FROM users")}
    except sqlite3.DatabaseError:  # the schema is not there yet, or caught mid-copy
        return set()


def test_committed_rows_reach_the_database_file_in_the_background(tmp_path: Path):
    db = tmp_path / "casework.db"
    runtime = Runtime(f"sqlite:///{db}")
    runtime.init_schema()
    try:
        with runtime.unit() as work:
            directory.add_user(work, username="alice")
        deadline = time.monotonic() + 10
        while "alice" not in _users_in_file_alone(db, tmp_path / "copy.db"):
            assert time.monotonic() < deadline, "the commit never reached the database file"
            time.sleep(0.1)
        with runtime.db.connect() as connection:  # commits leave it to the thread
            limit = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert limit == BACKSTOP_PAGES
    finally:
        runtime.close()


def test_a_runtime_on_a_file_runs_one_checkpointer_until_it_is_closed(tmp_path: Path):
    runtime = Runtime(f"sqlite:///{tmp_path / 'casework.db'}")
    thread = runtime._checkpointer._thread if runtime._checkpointer else None
    assert thread is not None and thread.is_alive()
    runtime.close()
    assert not thread.is_alive()


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path):
    memory = Runtime("sqlite://")
    try:
        assert start_checkpointer(memory.db) is None
    finally:
        memory.close()


def test_a_database_file_removed_under_it_ends_the_thread(tmp_path: Path):
    db = tmp_path / "gone.db"
    sqlite3.connect(db).close()
    checkpointer = Checkpointer(db, interval=0.01).start()
    db.unlink()
    checkpointer._thread.join(timeout=5)
    assert not checkpointer._thread.is_alive()
