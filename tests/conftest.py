"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests use a fresh schema in the ``test`` database per test and drop it
afterwards (the server outlives the run).  Without a reachable server they are
skipped, unless ``CASEWORK_REQUIRE_REAL_PARTS=1`` (set by ``.ci/run``) turns that into
a failure (``tests/real_parts.py``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casework.compose import App, build_app
from casework.config import AppConfig
from designer import deploy
from engine.clock import Clock, ManualClock
from engine.runtime import Runtime
from engine.store.files import FileStore
from engine.store.models import User
from mail.settings import MailSettings
from people import directory
from tests.real_parts import missing
from tests.scratch_db import PG_URL, scratch_schema, unreachable

ROOT = Path(__file__).resolve().parent.parent

# The suite starts hundreds of ``run.py`` processes (the CLI tests, servers, workers).  Where
# the environment forbids bytecode caches (PYTHONDONTWRITEBYTECODE, set on some machines),
# each of them compiled every Casework module from source again: about a second of CPU per
# process.  The processes this run starts may write the caches (atomically, so parallel
# workers are safe); the environment outside the run is left as it was.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

PROCESSES = ROOT / "processes"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    reason = unreachable(PG_URL)
    if reason:
        missing("PostgreSQL", f"not reachable at {PG_URL}: {reason}", "apt-get install postgresql")
    yield PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'casework.db'}"
        return
    with scratch_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


def scratch_files(db_url: str) -> FileStore | None:
    """Where a test's attached files go: beside a SQLite file (the default), else a shared
    folder in the system's temporary directory (content-addressed: sharing it is harmless),
    never the working directory."""
    if db_url.startswith("sqlite"):
        return None
    return FileStore(Path(tempfile.gettempdir()) / "casework-test-files")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def runtime(db_url: str, clock: ManualClock) -> Iterator[Runtime]:
    """The engine alone (no hooks): what the engine's own tests run on."""
    rt = Runtime(db_url, clock=clock, files=scratch_files(db_url))
    rt.init_schema()
    yield rt
    rt.close()


def wired_app(db_url: str, clock: Clock | None = None, mail: MailSettings | None = None) -> App:
    """The application as every entry point builds it (``casework.compose.build_app``:
    the runtime with the rules' hooks and mail), over ``db_url``, its schema created;
    the clock is a manual one unless given."""
    config = AppConfig(
        database_url=db_url,
        clock=clock or ManualClock(),
        mail=mail or MailSettings(),
        files=scratch_files(db_url),
    )
    app = build_app(config)
    app.runtime.init_schema()
    return app


@pytest.fixture
def corpus() -> Path:
    """The shared corpus beside the clone; required in CI, skipped with a reason elsewhere."""
    if not CORPUS.is_dir():
        missing("the shared corpus", f"not at {CORPUS}")
    return CORPUS


def support_toml(extra: str = "") -> str:
    """The shipped support case type's TOML without its ``[sla]`` tables, plus ``extra``:
    tests that try their own SLA policy start from a case type with none."""
    kept, skipping = [], False
    for line in (PROCESSES / "support.toml").read_text().splitlines():
        if line.startswith("["):
            skipping = line.startswith("[sla")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n" + extra


PEOPLE = {
    "service-desk": ["alice", "bob"],
    "specialists": ["sam"],
    "support-leads": ["lee"],
    "support-monitors": ["mona"],
}


@dataclass
class Support:
    runtime: Runtime
    users: dict[str, User]
    version: int


def seed_directory(rt: Runtime, customers: tuple[str, ...] = ("carol", "dave")) -> dict[str, User]:
    users: dict[str, User] = {}
    with rt.unit() as work:
        for group, members in PEOPLE.items():
            directory.add_group(work, name=group)
            for name in members:
                users[name] = directory.add_user(work, username=name)
                directory.add_member(work, username=name, group=group)
        for name in customers:
            users[name] = directory.add_user(work, username=name)
    return users


@pytest.fixture
def support(runtime: Runtime) -> Support:
    """The shipped support case type with its groups and people, on a fresh database."""
    users = seed_directory(runtime)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    with runtime.unit() as work:
        result = deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    return Support(runtime, users, result.version)
