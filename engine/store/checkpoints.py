"""Background WAL checkpoints for the SQLite default.

In WAL mode a commit only appends pages to the write-ahead log; now and then those pages
must be copied back into the database file, and that copy syncs both files to disk.
SQLite does it inside whichever commit crosses the threshold, so one request in a few
hundred stalls for the whole copy and two syncs (measured on the lifecycle bench: 1% of
the commits took two thirds of all commit time, the slowest 120 ms).

A :class:`Checkpointer` does that copy from a thread of its own, on its own connection,
once a second.  It is a passive checkpoint: it never waits for, nor blocks, a reader or
a writer, and the sqlite3 module releases the GIL while it runs, so requests go on
meanwhile.  Each connection keeps its automatic checkpoint as a backstop, at a threshold
the log reaches only if this thread has stopped.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: Pages in the log before a committing connection checkpoints by itself (about 80 MB):
#: only reached when no checkpointer runs, as in a one-off command.
BACKSTOP_PAGES = 20_000
#: After a checkpoint lets the log restart, its file is cut back to this size.
LOG_SIZE_LIMIT = 64 * 1024 * 1024


class Checkpointer:
    """Checkpoints one SQLite database's write-ahead log every ``interval`` seconds."""

    def __init__(self, path: Path, *, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint {path.name}", daemon=True
        )

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, pages in the log, pages copied)."""
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval):
                if not self.path.exists():  # removed under us (a finished test, say)
                    return
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # the next round tries again
                    log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)
        finally:
            if connection is not None:
                connection.close()


def start_checkpointer(engine: Engine, *, interval: float = 1.0) -> Checkpointer | None:
    """A running checkpointer for an engine on a SQLite file; ``None`` for any other."""
    url = engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI: in-memory or shared, not a plain file
        return None
    return Checkpointer(Path(database), interval=interval).start()
