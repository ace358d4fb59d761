"""Quiet hours in a recipient's own time zone (pure): when a notice due now may reach them.

Quiet hours are two local wall times, ``from`` and ``to``; when ``from`` is later than
``to`` they span midnight (``22:00``-``07:00``, a night).  A notice that falls inside
them waits for the end, the start of the recipient's day, in their zone (so a day with
a clock change still ends its night at the wall time they chose).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def wall_time(text: str, where: str) -> time:
    """``"07:30"`` -> 07:30; ``ValueError`` naming ``where`` otherwise."""
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a time like 07:30") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"time zone: unknown IANA time zone {name!r}") from None


def deliver_at(now: datetime, zone_name: str, quiet_from: str, quiet_to: str) -> datetime:
    """``now``, or the end of the quiet hours ``now`` falls in (an aware UTC-able instant)."""
    tz = zone(zone_name)
    start, end = wall_time(quiet_from, "from"), wall_time(quiet_to, "to")
    local = now.astimezone(tz)
    clock = local.time()
    if start == end:
        return now
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)
