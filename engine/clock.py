"""Time as the engine sees it.

Engine logic never reads the wall clock directly: a :class:`Clock` is injected so
tests (and scenario runs) can move time forward deterministically.  SpiffWorkflow's
timer events call ``datetime.now`` inside their own module and offer no hook, so
:func:`engine_time` installs, once, a ``datetime`` subclass in that module whose
``now()`` reads the clock of the current context.  That is the only place where we
reach into the library; everything else goes through public API.  Expressions get the
same class as ``datetime``, so ``datetime.now(timezone.utc)`` in a timer follows the
injected clock too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: for tests, scenarios and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class StartedClock:
    """Time that started at a chosen moment and runs on at the wall clock's pace: for
    rehearsals (``run.py --clock``), never in production."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("StartedClock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)


_current: ContextVar[Callable[[], datetime]] = ContextVar("casework_clock")


class ClockedDatetime(datetime):
    """``datetime`` whose ``now()`` follows the clock of the running engine step."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> ClockedDatetime:
        reader = _current.get(None)
        if reader is None:
            return super().now(tz)
        moment = reader()
        return cls.fromtimestamp(moment.timestamp(), tz or UTC)


_spiff_timer.datetime = ClockedDatetime


@contextmanager
def engine_time(clock: Clock) -> Iterator[None]:
    """Run SpiffWorkflow steps inside this block with ``clock`` as the time source."""
    token = _current.set(clock.now)
    try:
        yield
    finally:
        _current.reset(token)
