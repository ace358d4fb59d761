"""Building the application: :func:`build_app` is the only place the parts are wired.

Every entry point (the CLI, ``run.py serve`` and ``worker``, the tests' fixtures and the
benches) builds its :class:`App` here from an :class:`~casework.config.AppConfig`, so
the engine's runtime always gets the same hooks, the same mail settings and the same
outbox transport, and no caller wires them by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import TracebackType

from designer.scenarios import RuntimeFactory
from engine.clock import Clock, ManualClock
from engine.runtime import Runtime
from mail.settings import MailSettings
from mail.smtp import Transport

from .config import AppConfig
from .hooks import AppHooks


@dataclass
class App:
    """One process's parts, wired: the engine's runtime (database, clock, caches) with
    the application's hooks, and the transport the outbox sends through.  Use it as a
    context manager, or call :meth:`close`, to release the database."""

    config: AppConfig
    runtime: Runtime
    hooks: AppHooks
    outbox: Transport

    @property
    def mail(self) -> MailSettings:
        return self.config.mail

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def build_app(config: AppConfig) -> App:
    """The application for ``config``; the schema is left as it is (``init`` or the
    long-running commands create or upgrade it)."""
    outbox = config.mail.transport()
    hooks = AppHooks(config.mail)
    runtime = Runtime(
        config.database_url,
        clock=config.clock,
        workflow_cache_size=config.workflow_cache_size,
        hooks=hooks,
        files=config.files,
    )
    return App(config, runtime, hooks, outbox)


def scenario_runtimes(config: AppConfig) -> RuntimeFactory:
    """Runtimes for designer scenarios: this configuration over each scenario's scratch
    database and manual clock, so scenarios see the hooks a real process runs."""

    @contextmanager
    def open_runtime(url: str, clock: ManualClock) -> Iterator[Runtime]:
        with build_app(replace(config, database_url=url, clock=clock)) as app:
            yield app.runtime

    return open_runtime
