"""Another worker's transaction that has claimed some work and stalls: what a second
worker does meanwhile shows whether it passes the claimed work over or waits for it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from engine.runtime import Runtime, UnitOfWork

T = TypeVar("T")


@contextlib.contextmanager
def held_elsewhere(
    rt: Runtime, claim: Callable[[UnitOfWork], T], *, most: float = 15
) -> Iterator[T]:
    """Yield what ``claim`` took in a transaction of another thread, held until the block
    ends, or for ``most`` seconds: a worker that waited for it rather than passing it
    over would go on after that, and find it free.  The holder stops without doing the
    work, so its claim ends with its transaction."""
    held, release = threading.Event(), threading.Event()
    taken: list[T] = []

    def holder() -> None:
        with rt.unit() as work:
            taken.append(claim(work))
            held.set()
            release.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    safety = threading.Timer(most, release.set)
    try:
        assert held.wait(30), "the other worker claimed nothing"
        safety.start()
        yield taken[0]
    finally:
        release.set()
        safety.cancel()
        thread.join()
