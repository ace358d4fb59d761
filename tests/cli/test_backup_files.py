"""A backup holds the attached files with the database, on both databases.

A case with an attached file is backed up, the database and the file store are wiped, the
archive is restored and the file downloads byte for byte as it was.  A truncated archive,
one with a damaged member and one lacking a file are refused in one line with exit code 6,
leaving the live database and file store as they were; a file store that lost a file the
database refers to makes ``backup`` refuse (exit 7) without writing an archive.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from engine.store.db import make_engine
from tests.cli.test_backups import snapshot
from tests.cli.test_run import Cli

pytestmark = pytest.mark.integration

PAYLOAD = bytes(range(256)) * 40 + b"the signed contract, every byte of it"


def desk(db_url: str, tmp_path: Path) -> tuple[Cli, int]:
    """The demo with a file attached to C-000001 by alice; the attachment's id."""
    cli = Cli(db_url, tmp_path)
    cli.env["CASEWORK_FILES"] = str(tmp_path / "files")
    cli("demo")
    (tmp_path / "contract.bin").write_bytes(PAYLOAD)
    posted = cli.json(
        "post", "add", "C-000001", "--body", "signed", "--attach", "contract.bin", "--as", "alice"
    )
    assert isinstance(posted, dict)
    return cli, posted["attachments"][0]


def wipe(db_url: str, tmp_path: Path) -> None:
    """Lose everything: the database's tables and the whole file store."""
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        for file in tmp_path.glob("casework.db*"):
            file.unlink()
    else:
        with engine.begin() as connection:
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'drop table if exists "{table}" cascade'))
        engine.dispose()
    shutil.rmtree(tmp_path / "files")
    assert tables(db_url) == []


def stored_files(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (tmp_path / "files").rglob("*") if p.is_file()}


def test_a_wiped_installation_comes_back_with_its_attached_files(db_url: str, tmp_path: Path):
    cli, attachment = desk(db_url, tmp_path)
    before = snapshot(db_url)
    made = cli.json("backup", "everything.tar")
    assert isinstance(made, dict) and made["files"] == 1

    wipe(db_url, tmp_path)
    lost = cli("attachment", "get", str(attachment), "-o", "x", "--as", "alice", ok=False)
    assert lost.returncode != 0

    restored = cli("restore", "everything.tar")  # an empty database: no --force needed
    assert "1 attached files into" in restored.stdout
    assert snapshot(db_url) == before
    cli("attachment", "get", str(attachment), "-o", "back.bin", "--as", "alice")
    assert (tmp_path / "back.bin").read_bytes() == PAYLOAD


def tables(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def rewrite(archive: Path, target: Path, *, drop_file: bool, fix_manifest: bool) -> None:
    """A copy of ``archive`` without its attached file, with its manifest left promising
    the file or (``fix_manifest``) no longer listing it."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source:
            data = source.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name.startswith("files/") and drop_file:
                continue
            if member.name == "manifest.json" and fix_manifest:
                manifest = json.loads(content)
                manifest["files"] = []
                content = json.dumps(manifest).encode()
                member.size = len(content)
            copy.addfile(member, io.BytesIO(content))


def test_a_damaged_truncated_or_incomplete_archive_is_refused_untouched(
    db_url: str, tmp_path: Path
):
    cli, attachment = desk(db_url, tmp_path)
    cli("backup", "good.tar")
    good = (tmp_path / "good.tar").read_bytes()
    # after the backup the installation goes on: a new post with a new file
    (tmp_path / "later.txt").write_bytes(b"written after the backup")
    cli("post", "add", "C-000001", "--body", "later", "--attach", "later.txt", "--as", "alice")
    live, files = snapshot(db_url), stored_files(tmp_path)

    (tmp_path / "cut.tar").write_bytes(good[: len(good) * 2 // 3])
    flipped = bytearray(good)
    at = good.index(PAYLOAD[:64])  # inside the attached file's bytes
    flipped[at + 10] ^= 0xFF
    (tmp_path / "flipped.tar").write_bytes(bytes(flipped))
    rewrite(tmp_path / "good.tar", tmp_path / "lacking.tar", drop_file=True, fix_manifest=False)
    cases = {
        "cut.tar": "is damaged or truncated",
        "flipped.tar": "does not match its checksum",
        "lacking.tar": "members missing, first files/",
    }
    if db_url.startswith("sqlite"):  # the database itself is read: a consistent liar fails
        rewrite(tmp_path / "good.tar", tmp_path / "liar.tar", drop_file=True, fix_manifest=True)
        cases["liar.tar"] = "lacks 1 attached files its database refers to"
    for name, said in cases.items():
        refused = cli("restore", name, "--force", ok=False)
        assert refused.returncode == 6, refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"error: {name} ") and said in line, line
        assert line.endswith("nothing was restored") or "lacks" in line
        assert snapshot(db_url) == live
        assert stored_files(tmp_path) == files
    # the good one still restores over it, to the moment of the backup
    cli("restore", "good.tar", "--force")
    assert len(snapshot(db_url)) == len(live)
    cli("attachment", "get", str(attachment), "-o", "back.bin", "--as", "alice")
    assert (tmp_path / "back.bin").read_bytes() == PAYLOAD


def test_a_file_store_that_lost_a_file_is_not_backed_up(db_url: str, tmp_path: Path):
    cli, _ = desk(db_url, tmp_path)
    [lost] = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    lost.unlink()
    refused = cli("backup", "partial.tar", ok=False)
    assert refused.returncode == 7
    [line] = refused.stderr.splitlines()
    assert f"lacks 1 of the 1 files the database refers to (first: {lost.name})" in line
    assert not (tmp_path / "partial.tar").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".casework")] == []
    nowhere = cli("backup", "no-such-folder/x.tar", ok=False)
    assert nowhere.returncode == 6
    assert nowhere.stderr.startswith("error: cannot write the backup no-such-folder/x.tar: ")
