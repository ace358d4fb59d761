"""How each target of a case ended, or stands, at a moment: the figures the SLA report
counts and the what-if replay compares (pure; no database).

Closing a case meets its ``resolution`` target: the close is the resolution.  A target
still running or paused at that moment (a first response never given) counts as
neither met nor breached.  Events naming targets the policy lacks are left out, so a
history can be replayed under a policy other than the one it was recorded under, and so
are events after the close (an answer posted on a closed case changes no outcome).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from .events import TARGETED, ClockEvent
from .targets import SlaPolicy, evaluate

Outcome = Literal["met", "breached", "open"]
RESOLUTION = "resolution"


def outcomes(
    policy: SlaPolicy, events: Iterable[ClockEvent], *, closed_at: datetime | None, now: datetime
) -> dict[str, Outcome]:
    """Each target's outcome for a case closed at ``closed_at`` (``None``: open at ``now``)."""
    names = {target.name for target in policy.targets}
    end = closed_at or now
    kept = [e for e in events if e.at <= end and (e.kind not in TARGETED or e.target in names)]
    if not kept:
        return {}
    resolved = any(e.kind == "met" and e.target == RESOLUTION for e in kept)
    if closed_at is not None and RESOLUTION in names and not resolved:
        kept.append(ClockEvent("met", closed_at, RESOLUTION))
    return {
        name: "met" if s.state == "met" else "breached" if s.state == "breached" else "open"
        for name, s in evaluate(policy, kept, end).items()
    }


def tally(found: dict[str, Outcome]) -> tuple[int, int]:
    """(targets met, targets breached)."""
    values = list(found.values())
    return values.count("met"), values.count("breached")
