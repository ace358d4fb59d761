"""A case's SLA clock history: what happened to the clocks, and when.

The history is data, not state: the engine appends events as the case moves (opened,
waiting on the customer, answered) and :func:`engine.sla.targets.evaluate` replays
them, so a stored due time can never disagree with what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = ["TARGETED", "ClockEvent", "EventKind", "met", "paused", "reset", "resumed", "started"]

EventKind = Literal["started", "paused", "resumed", "met", "reset"]
TARGETED = ("met", "reset")
_KINDS = ("started", "paused", "resumed", *TARGETED)


@dataclass(frozen=True)
class ClockEvent:
    """One entry of a case's clock history; build them with the functions below.

    ``at`` may be given in any zone and is kept in UTC.
    """

    kind: EventKind
    at: datetime
    target: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"event: unknown kind {self.kind!r}; known: {', '.join(_KINDS)}")
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise ValueError(f"event {self.kind}: 'at' must be an aware datetime, got {self.at!r}")
        if (self.kind in TARGETED) != (self.target is not None):
            need = "needs" if self.kind in TARGETED else "takes no"
            raise ValueError(f"event {self.kind}: {need} target")
        object.__setattr__(self, "at", self.at.astimezone(UTC))


def started(at: datetime) -> ClockEvent:
    """The case opened: every target's clock starts."""
    return ClockEvent("started", at)


def paused(at: datetime) -> ClockEvent:
    """The case waits on the customer: every running clock stops."""
    return ClockEvent("paused", at)


def resumed(at: datetime) -> ClockEvent:
    """The customer answered: every clock that is not met runs again."""
    return ClockEvent("resumed", at)


def met(target: str, at: datetime) -> ClockEvent:
    """``target`` was fulfilled (e.g. the first response was sent); its clock stops."""
    return ClockEvent("met", at, target)


def reset(target: str, at: datetime) -> ClockEvent:
    """``target`` starts a fresh cycle at ``at`` (e.g. next update, on each agent reply)."""
    return ClockEvent("reset", at, target)
