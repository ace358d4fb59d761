"""``[closing]`` of a case type: how a case ends and whether it may open again.

A designer chooses what a reply to a closed case does - it reopens the case, it opens a
follow-up case linked to it, or the closed case is final - and for how long after closing
a case may still be reopened (the grace period).  Outcomes, when listed, are the only
ones a case of the type may be closed with::

    [closing]
    replies = "reopen"        # reopen | follow_up (the default) | final
    grace_days = 14           # reopenable this long after closing (final: default 0)
    outcomes = ["solved", "workaround", "duplicate"]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

REPLIES = ("reopen", "follow_up", "final")
_KEYS = ("replies", "grace_days", "outcomes")


@dataclass(frozen=True)
class ClosingPolicy:
    replies: str = "follow_up"
    grace_days: float | None = None  # None: no limit (for "final": none at all)
    outcomes: tuple[str, ...] = ()

    @property
    def grace(self) -> timedelta | None:
        """How long after closing a case may be reopened; None is "any time"."""
        if self.grace_days is None:
            return timedelta(0) if self.replies == "final" else None
        return timedelta(days=self.grace_days)

    def reopenable(self, closed_at: datetime | None, now: datetime) -> bool:
        """May a case closed at ``closed_at`` still be reopened (by hand or by a reply)?"""
        grace = self.grace
        if grace is None or closed_at is None:
            return True
        return grace > timedelta(0) and now - closed_at <= grace

    def reply_reopens(self, closed_at: datetime | None, now: datetime) -> bool:
        """Does a customer's reply reopen the closed case (else it opens a follow-up)?"""
        return self.replies == "reopen" and self.reopenable(closed_at, now)

    def why_final(self) -> str:
        """Why a closed case can no longer be reopened (its grace period)."""
        if self.grace_days is None and self.grace is None:
            return "closed cases of this type may be reopened at any time"
        if self.grace == timedelta(0):
            return "closed cases of this type are final"
        return f"closed cases of this type are final {self.grace_days:g} day(s) after closing"

    @classmethod
    def of(cls, closing: dict[str, Any] | None) -> ClosingPolicy:
        closing = closing or {}
        grace = closing.get("grace_days")
        return cls(
            replies=str(closing.get("replies", "follow_up")),
            grace_days=None if grace is None else float(grace),
            outcomes=tuple(closing.get("outcomes", ())),
        )


def read_closing(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Check ``[closing]``; every problem names the key."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["[closing] must be a table"]
    problems = [
        f"[closing] has unknown key '{key}'; keys: {', '.join(_KEYS)}"
        for key in raw
        if key not in _KEYS
    ]
    if "replies" in raw and raw["replies"] not in REPLIES:
        problems.append(f"closing.replies must be one of {', '.join(REPLIES)}")
    grace = raw.get("grace_days")
    if grace is not None and (
        isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0
    ):
        problems.append("closing.grace_days must be a number of days, 0 or more")
    outcomes = raw.get("outcomes", [])
    if not isinstance(outcomes, list) or not all(
        isinstance(o, str) and 0 < len(o) <= 200 for o in outcomes
    ):
        problems.append('closing.outcomes must list outcome names: ["solved", "duplicate"]')
    elif "cancelled" in outcomes:
        problems.append("closing.outcomes: 'cancelled' is the outcome of cancelling, not closing")
    return ({} if problems else dict(raw)), problems
