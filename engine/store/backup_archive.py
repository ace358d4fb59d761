"""A backup is one archive: the database and every attached file it refers to, checksummed.

The attached files live outside the database (:mod:`engine.store.files`), so a copy of the
database alone restores posts whose downloads fail.  ``run.py backup`` therefore writes one
tar archive: ``manifest.json`` first (format, schema revisions, and the SHA-256 and size of
every other member), then the database copy (:mod:`engine.store.backups`), then
``files/<sha256>`` for each file the copied database refers to.  The files listed are read
from the same moment as the database: on SQLite from the copy itself, on PostgreSQL in the
transaction whose exported snapshot ``pg_dump`` dumps.

Restoring unpacks into a temporary folder and checks everything before it touches
anything: a damaged or truncated archive, a member that does not match its checksum, or a
database that refers to a file the archive lacks is refused (``InvalidInput``) with the
database and the file store untouched.  Then the files go into the store (written like any
new file: atomically, once per content) and the database is restored last, so it never
refers to a file that is not there.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from ..errors import Conflict, InvalidInput, StoreUnavailable
from . import backups
from .files import SHA256, FileStore

FORMAT = "casework-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Archived:
    """What a backup or restore did: the archive, its size, the database tool used and how
    many attached files went with the database."""

    file: Path
    bytes: int
    method: str
    files: int


def referenced_files(connection: Connection) -> set[str]:
    """The SHA-256 of every file the database refers to: attachments whose bytes are in the
    file store (older rows keep theirs in the row) and files of queued mail."""
    tables = inspect(connection).get_table_names()
    digests: set[str] = set()
    if "post_attachments" in tables:
        rows = connection.execute(
            text("select distinct sha256 from post_attachments where content is null")
        )
        digests.update(r[0] for r in rows)
    if "outbox" in tables and "attachments" in {
        c["name"] for c in inspect(connection).get_columns("outbox")
    }:
        for (files,) in connection.execute(
            text("select attachments from outbox where attachments is not null")
        ):
            listed = json.loads(files) if isinstance(files, str) else files
            digests.update(f["sha256"] for f in listed or [] if f.get("sha256"))
    return digests


def _revisions(connection: Connection) -> list[str]:
    return sorted(r[0] for r in connection.execute(text("select version_num from alembic_version")))


def backup(engine: Engine, store: FileStore, target: Path, *, force: bool = False) -> Archived:
    """Write the archive ``target`` (refused when it exists, unless ``force``); refused,
    writing nothing, when the file store lacks a file the database refers to."""
    if target.exists() and not force:
        raise Conflict(f"{target} exists; choose another file or pass --force to replace it")
    kind = engine.dialect.name
    folder = target.resolve().parent
    if not folder.is_dir():
        raise InvalidInput(f"cannot write the backup {target}: there is no folder {folder}")
    with tempfile.TemporaryDirectory(prefix=".casework-backup-", dir=folder) as scratch:
        database = Path(scratch) / DATABASE[kind]
        if kind == "sqlite":
            method = backups.copy_database(engine, database)
            copy = create_engine(f"sqlite:///{database}")
            try:
                with copy.connect() as connection:
                    digests, revisions = referenced_files(connection), _revisions(connection)
            finally:
                copy.dispose()
        else:
            with engine.connect() as connection:
                connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    snapshot = connection.execute(text("select pg_export_snapshot()")).scalar()
                    digests, revisions = referenced_files(connection), _revisions(connection)
                    method = backups.copy_database(engine, database, snapshot=str(snapshot))
        files = _stored(store, sorted(digests))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {
                "name": database.name,
                "kind": kind,
                "method": method,
                "schema": revisions,
                **_checksum(database),
            },
            "files": [{"sha256": d, "bytes": p.stat().st_size} for d, p in files],
        }
        partial = Path(scratch) / "archive.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
            tar.add(database, arcname=database.name)
            for digest, path in files:
                _add_checked(tar, store, digest, path)
        partial.replace(target)
    return Archived(target, target.stat().st_size, method, len(files))


def _stored(store: FileStore, digests: list[str]) -> list[tuple[str, Path]]:
    """Each digest with its file in the store; the ones it lacks are named, counted."""
    files = [(d, store.path(d)) for d in digests]
    missing = [d for d, p in files if not p.is_file()]
    if missing:
        raise StoreUnavailable(
            f"the file store {store.root} lacks {len(missing)} of the {len(files)} files the "
            f"database refers to (first: {missing[0]}); nothing was backed up"
        )
    return files


def _checksum(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
    with tempfile.SpooledTemporaryFile() as spool:
        spool.write(data)
        spool.seek(0)
        tar.addfile(info, spool)


def _add_checked(tar: tarfile.TarFile, store: FileStore, digest: str, path: Path) -> None:
    """Add a stored file, refusing one whose bytes no longer match its name."""
    if _checksum(path)["sha256"] != digest:
        raise StoreUnavailable(
            f"the file store {store.root} holds a damaged file {digest} (its content no "
            "longer matches its name); nothing was backed up"
        )
    tar.add(path, arcname=f"files/{digest}")


# --- restore ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unpacked:
    database: Path
    kind: str
    schema: set[str]
    files: dict[str, Path]


def restore(engine: Engine, store: FileStore, source: Path, *, force: bool = False) -> Archived:
    """Put the database and files of the archive ``source`` back; every check is made
    before anything is written (see the module's docstring)."""
    if not source.is_file():
        raise InvalidInput(f"cannot read the backup {source}: no such file")
    kind = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="casework-restore-") as scratch:
        unpacked = _unpack(source, Path(scratch))
        if unpacked.kind != kind:
            raise InvalidInput(
                f"{source} is a backup of a {unpacked.kind} database; the database to "
                f"restore into is {kind}"
            )
        backups.check_revisions(str(source), unpacked.schema)
        if kind == "sqlite":
            backups.check_sqlite_copy(unpacked.database, str(source))
            _refuse_missing(source, unpacked)
        if not force:
            backups.refuse_non_empty(engine)
        for digest, path in unpacked.files.items():
            _install(store, digest, path)
        method = backups.restore_database(engine, unpacked.database)
    return Archived(source, source.stat().st_size, method, len(unpacked.files))


def _refuse_missing(source: Path, unpacked: _Unpacked) -> None:
    """Refuse a SQLite copy that refers to a file the archive does not hold."""
    copy = create_engine(f"sqlite:///{unpacked.database}")
    try:
        with copy.connect() as connection:
            lacking = sorted(referenced_files(connection) - set(unpacked.files))
    finally:
        copy.dispose()
    if lacking:
        raise InvalidInput(
            f"{source} lacks {len(lacking)} attached files its database refers to "
            f"(first: {lacking[0]}); nothing was restored"
        )


def _damaged(source: Path, why: str) -> InvalidInput:
    return InvalidInput(f"{source} is damaged or truncated ({why}); nothing was restored")


def _unpack(source: Path, into: Path) -> _Unpacked:
    """Unpack and check the archive: every member the manifest lists is there and matches
    its checksum, and nothing else is."""
    if not tarfile.is_tarfile(source):
        raise InvalidInput(f"{source} is not a Casework backup (not a backup archive)")
    expected: dict[str, dict[str, Any]] = {}
    seen: dict[str, Path] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tarfile.open(source, "r:") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isfile() else None
                if data is None:
                    raise _damaged(source, f"{member.name} is not a file")
                if manifest is None:
                    manifest = _manifest(source, member.name, data)
                    expected = _members(source, manifest)
                    continue
                want = expected.get(member.name)
                if want is None or member.name in seen:
                    raise _damaged(source, f"{member.name} is not in its manifest")
                path = into / member.name
                if _copy(data, path) != (want["sha256"], want["bytes"]):
                    raise _damaged(source, f"{member.name} does not match its checksum")
                seen[member.name] = path
    except (tarfile.TarError, EOFError) as exc:
        raise _damaged(source, str(exc)) from None
    if manifest is None:
        raise InvalidInput(f"{source} is not a Casework backup (an empty archive)")
    lacking = sorted(set(expected) - set(seen))
    if lacking:
        raise _damaged(source, f"{len(lacking)} members missing, first {lacking[0]}")
    database = manifest["database"]
    return _Unpacked(
        seen[database["name"]],
        database["kind"],
        set(database.get("schema") or []),
        {name.removeprefix("files/"): p for name, p in seen.items() if name.startswith("files/")},
    )


def _manifest(source: Path, name: str, data: IO[bytes]) -> dict[str, Any]:
    if name != MANIFEST:
        raise InvalidInput(f"{source} is not a Casework backup (it does not start with a manifest)")
    try:
        manifest = json.loads(data.read())
    except (ValueError, UnicodeDecodeError):
        raise _damaged(source, "its manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{source} is not a Casework backup (a manifest of another format)")
    if manifest.get("version") != VERSION:
        raise InvalidInput(
            f"{source} is a backup of format {manifest.get('version')}, which this version "
            "of Casework does not read; restore it with the version that made it"
        )
    return manifest


def _members(source: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The members the manifest promises, by name; a manifest naming anything odd is refused
    (names are never taken as paths unchecked)."""
    try:
        database = manifest["database"]
        if DATABASE.get(database["kind"]) != database["name"]:
            raise ValueError(database["name"])
        members = {database["name"]: database}
        for file in manifest["files"]:
            if not SHA256.match(file["sha256"]):
                raise ValueError(file["sha256"])
            members[f"files/{file['sha256']}"] = file
        for entry in members.values():
            if not SHA256.match(entry["sha256"]) or not isinstance(entry["bytes"], int):
                raise ValueError(entry)
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(source, f"its manifest is malformed: {exc}") from None
    return members


def _copy(data: IO[bytes], path: Path) -> tuple[str, int]:
    """Write ``data`` to ``path``; its SHA-256 and size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _install(store: FileStore, digest: str, path: Path) -> None:
    """Put a checked file into the store, replacing a stored copy that was damaged."""
    stored = store.path(digest)
    if stored.is_file() and _checksum(stored)["sha256"] == digest:
        return
    stored.unlink(missing_ok=True)
    store.put(path.read_bytes())
