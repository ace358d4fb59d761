"""The file store: attached files outside the database rows, named by their sha256.

A file is written to a temporary name in the store's ``tmp`` folder, flushed to disk and
renamed into place (``os.replace`` is atomic on one file system), so a crash leaves at most
a stray temporary file, never a half file under a name a row refers to.  The same bytes are
stored once however many posts carry them.  The store also holds the attachment policy:
the size limit and the virus-scan command every file passes before it is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engine.errors import InvalidInput

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
#: A file's name in the store: its SHA-256 in lower-case hex.
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SCAN_TIMEOUT_SECONDS = 120


class FileRefused(InvalidInput):
    """A file over the size limit, or one the virus scanner did not pass; nothing stored."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__("attachment refused", {filename: reason})
        self.reason = reason


@dataclass(frozen=True)
class FileStore:
    """``root``: the folder (``CASEWORK_FILES``); ``max_bytes``: the largest file accepted
    (``CASEWORK_ATTACHMENT_MAX_BYTES``); ``scan_command``: run with the file on standard
    input before storing, exit 0 clean, 1 infected (``CASEWORK_VIRUS_SCAN``, e.g.
    ``clamdscan --no-summary -``; empty: no scan)."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    scan_command: str = ""

    @classmethod
    def beside(cls, database_url: str | None) -> FileStore:
        """The default place: ``NAME.files`` beside a SQLite file, else ``casework-files``
        in the working directory (also for a URL that is no URL: opening the database
        then says what is wrong with it)."""
        try:
            url = make_url(database_url) if database_url else None
        except ArgumentError:
            url = None
        file = url.database if url is not None and url.get_backend_name() == "sqlite" else None
        if file not in (None, "", ":memory:"):
            return cls(Path(f"{file}.files"))
        return cls(Path("casework-files"))

    def check(self, filename: str, data: bytes) -> None:
        """Refuse a file over the limit or one the scanner flags (naming the limit or the
        scanner's verdict); a scanner that fails to answer refuses too."""
        if len(data) > self.max_bytes:
            raise FileRefused(
                filename,
                f"{len(data):,} bytes is over the limit of {self.max_bytes:,} bytes "
                "(CASEWORK_ATTACHMENT_MAX_BYTES)",
            )
        if not self.scan_command:
            return
        try:
            done = subprocess.run(
                shlex.split(self.scan_command),
                input=data,
                capture_output=True,
                timeout=SCAN_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FileRefused(filename, f"the virus scanner could not run ({exc})") from exc
        said = (done.stdout or done.stderr).decode("utf-8", "replace").strip()[:200]
        if done.returncode == 1:
            raise FileRefused(filename, f"the virus scanner found it infected ({said})")
        if done.returncode != 0:
            raise FileRefused(
                filename, f"the virus scanner failed (exit {done.returncode}: {said})"
            )

    def put(self, data: bytes) -> str:
        """Store ``data`` (once per content); its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        spool = self.root / "tmp"
        spool.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=spool, prefix=digest[:8], suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return digest

    def read(self, digest: str) -> bytes:
        """The stored bytes of ``digest`` (FileNotFoundError when the store lost them)."""
        return self.path(digest).read_bytes()

    def path(self, digest: str) -> Path:
        if not SHA256.match(digest):
            raise ValueError(f"not a sha256: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest
