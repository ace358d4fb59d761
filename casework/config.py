"""What one Casework process is configured with, read in one place.

Entry points used to read the database URL, the mail settings and the debug switch
from their arguments and the environment each on their own; :class:`AppConfig` holds
them together, read once by :meth:`AppConfig.from_env` (or :meth:`AppConfig.from_args`
for the command line, whose options win over the environment).  Tests build it
directly with a throw-away database and a manual clock.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.clock import Clock, SystemClock
from engine.errors import InvalidInput
from engine.numbers import whole_number
from engine.store.db import DEFAULT_URL
from engine.store.files import DEFAULT_MAX_BYTES, FileStore
from mail.settings import MailSettings

#: The case types shipped with Casework (the demo deploys the support case type from here).
SHIPPED_PROCESSES = Path(__file__).resolve().parent.parent / "processes"


@dataclass(frozen=True)
class AppConfig:
    """``database_url``: where cases are stored (``CASEWORK_DB``, ``--db``); ``mail``: how
    mail is addressed and sent (``CASEWORK_SMTP_*``, ``CASEWORK_MAILDIR``, ...; see
    ``mail/settings.py``); ``clock``: the time every unit of work reads; ``processes``:
    the shipped case types; ``debug``: tracebacks and the libraries' own logging
    (``--debug``, ``CASEWORK_DEBUG=1``); ``workflow_cache_size``: live workflows kept
    per process (0: none, every action loads its case's workflow); ``files``: the
    attached-file store (``CASEWORK_FILES``, default beside the SQLite file), its size limit
    (``CASEWORK_ATTACHMENT_MAX_BYTES``) and virus-scan command (``CASEWORK_VIRUS_SCAN``);
    None: the default place with the default limit and no scan."""

    database_url: str = DEFAULT_URL
    mail: MailSettings = field(default_factory=MailSettings)
    clock: Clock = field(default_factory=SystemClock)
    processes: Path = SHIPPED_PROCESSES
    debug: bool = False
    workflow_cache_size: int = 256
    files: FileStore | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        database_url: str | None = None,
        debug: bool = False,
    ) -> AppConfig:
        """The configuration the environment gives; ``database_url`` and ``debug``, when
        given, win over ``CASEWORK_DB`` and ``CASEWORK_DEBUG``.  Bad mail settings are
        :class:`~engine.errors.InvalidInput` naming the variable."""
        env = dict(os.environ if env is None else env)
        url = database_url or env.get("CASEWORK_DB") or DEFAULT_URL
        return cls(
            database_url=url,
            mail=MailSettings.from_env(env),
            files=_file_store(env, url),
            debug=debug or env.get("CASEWORK_DEBUG", "") not in ("", "0"),
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> AppConfig:
        """The configuration of a ``run.py`` command: ``--db`` and ``--debug`` over the
        environment."""
        return cls.from_env(env, database_url=args.db, debug=args.debug)


def _file_store(env: Mapping[str, str], database_url: str) -> FileStore:
    """The file store the environment configures; a limit that is no number is named."""
    limit = env.get("CASEWORK_ATTACHMENT_MAX_BYTES", "").strip() or str(DEFAULT_MAX_BYTES)
    if whole_number(limit, high=2**62) is None:
        raise InvalidInput(
            "invalid attachment settings",
            {"CASEWORK_ATTACHMENT_MAX_BYTES": f"must be a positive number of bytes, not {limit!r}"},
        )
    root = env.get("CASEWORK_FILES", "").strip()
    return FileStore(
        Path(root) if root else FileStore.beside(database_url).root,
        max_bytes=int(limit),
        scan_command=env.get("CASEWORK_VIRUS_SCAN", "").strip(),
    )
