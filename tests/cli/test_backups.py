"""``run.py backup``, ``restore`` and ``db upgrade``, and the refusal of unknown schemas.

On both databases: a backup is taken while another process keeps opening cases, the
database is restored from it, and what comes back is exactly a consistent prefix of what
was there (SQLite: the online backup API; PostgreSQL: the real ``pg_dump`` and
``pg_restore``).  ``serve`` and ``worker`` refuse a database at a schema revision they do
not know, or another application's database, in one line with exit code 7.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.run import cases
from engine.store.db import make_engine
from engine.store.models import Case, HumanTask
from people.directory import user_by_name
from tests.cli.test_run import Cli
from tests.conftest import wired_app

pytestmark = pytest.mark.integration


def snapshot(db_url: str) -> dict[int, tuple[str, str, int]]:
    """Every case: number, workflow state and how many tasks it has."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            tasks = dict(
                connection.execute(
                    select(HumanTask.case_id, func.count()).group_by(HumanTask.case_id)
                ).all()
            )
            return {
                case_id: (number, state, tasks.get(case_id, 0))
                for case_id, number, state in connection.execute(
                    select(Case.id, Case.number, Case.workflow_state)
                )
            }
    finally:
        engine.dispose()


def test_a_backup_taken_while_cases_open_restores_to_a_consistent_moment(
    db_url: str, tmp_path: Path
):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    before = len(snapshot(db_url))
    stop, opened = threading.Event(), []
    app = wired_app(db_url)

    def keep_opening() -> None:
        while not stop.is_set():
            with app.runtime.unit() as work:
                carol = user_by_name(work, "carol")
                opened.append(
                    cases.open_case(work, case_type="SUPPORT", subject="During", raiser=carol)
                )

    writer = threading.Thread(target=keep_opening)
    writer.start()
    try:
        while len(opened) < 3:  # the writer is well under way
            threading.Event().wait(0.05)
        file = tmp_path / "casework.backup"
        made = cli("backup", str(file))
        assert made.stdout.startswith(f"backed up to {file} (")
        while len(opened) < 6:  # and goes on after the backup
            threading.Event().wait(0.05)
    finally:
        stop.set()
        writer.join()
        app.close()
    everything = snapshot(db_url)
    assert len(everything) == before + len(opened)

    refused = cli("restore", str(file), ok=False)  # the database holds data
    assert refused.returncode == 5
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert snapshot(db_url) == everything  # nothing changed

    restored_line = cli("restore", str(file), "--force").stdout
    assert "restored" in restored_line
    restored = snapshot(db_url)
    # a moment of the past: some of the cases opened meanwhile, each complete, no other
    assert before + 3 <= len(restored) < len(everything)
    assert sorted(restored) == sorted(everything)[: len(restored)]
    assert restored == {case_id: everything[case_id] for case_id in restored}
    assert all(tasks >= 1 for _, _, tasks in restored.values())
    # and the installation works on it
    assert cli("db", "upgrade").stdout.strip().startswith("schema already at ")
    listed = cli.json("case", "list", "--as", "alice")
    assert len(listed) >= 1


def test_a_backup_restores_into_an_empty_sqlite_database_and_refuses_odd_files(
    tmp_path: Path,
):
    source = Cli(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    source("demo")
    source("backup", "copy.db")
    again = source("backup", "copy.db", ok=False)
    assert again.returncode == 5 and "copy.db exists" in again.stderr
    fresh = Cli(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    fresh("restore", "copy.db")  # empty: no --force needed
    assert snapshot(f"sqlite:///{tmp_path / 'fresh.db'}") == snapshot(
        f"sqlite:///{tmp_path / 'live.db'}"
    )
    (tmp_path / "notes.txt").write_text("not a database")
    odd = Cli(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)("restore", "notes.txt", ok=False)
    assert odd.returncode == 6 and odd.stderr.startswith("error: notes.txt is not a Casework")
    gone = fresh("restore", "missing.db", "--force", ok=False)
    assert gone.returncode == 6 and "no such file" in gone.stderr


def test_serve_and_worker_refuse_a_schema_they_do_not_know(db_url: str, tmp_path: Path):
    cli = Cli(db_url, tmp_path)
    cli("init")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '9999'"))
    engine.dispose()
    for command in (("worker", "--once"), ("serve", "--port", "0"), ("db", "upgrade")):
        refused = cli(*command, ok=False)
        assert refused.returncode == 7, refused.stderr
        [line] = refused.stderr.splitlines()
        assert "is at schema revision 9999, which this version of Casework does not know" in line
        assert line.startswith("error: the database ")


def test_another_applications_database_is_refused_untouched(tmp_path: Path):
    foreign = tmp_path / "shop.db"
    engine = create_engine(f"sqlite:///{foreign}")
    with engine.begin() as connection:
        connection.execute(text("create table orders (id integer primary key, total real)"))
    engine.dispose()
    cli = Cli(f"sqlite:///{foreign}", tmp_path)
    refused = cli("worker", "--once", ok=False)
    assert refused.returncode == 7
    assert refused.stderr.strip().endswith(
        "holds tables (orders, ...) but no Casework schema revision: another application's "
        "database? nothing was changed"
    )
    engine = create_engine(f"sqlite:///{foreign}")
    with engine.connect() as connection:
        tables = connection.execute(text("select name from sqlite_master where type='table'"))
        assert [name for (name,) in tables] == ["orders"]
    engine.dispose()
