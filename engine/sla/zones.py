"""Instants as integer microseconds, and the few facts about a zone the calendar needs.

Integers keep business-time sums exact (``timedelta`` arithmetic is exact too, but slower
in the hot loops).  The zone facts: the UTC offset at a local midnight, the local days on
which it changes, and the first instant a wall-clock time is shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_US",
    "EPOCH_ORDINAL",
    "MINUTE_US",
    "duration_us",
    "from_us",
    "offset_us",
    "to_us",
    "transition_days",
    "wall_to_us",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
EPOCH_ORDINAL = _EPOCH.toordinal()
DAY_US = 86_400_000_000
MINUTE_US = 60_000_000


def to_us(at: datetime, name: str = "at") -> int:
    """Microseconds since the epoch of an aware datetime; ``name`` is used in the error."""
    if not isinstance(at, datetime):
        raise ValueError(f"{name}: expected an aware datetime, got {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {at.isoformat()} refused; pass an aware UTC one")
    return (at - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)


def duration_us(duration: timedelta) -> int:
    """Microseconds of a non-negative ``timedelta`` (exact: that is its resolution)."""
    if not isinstance(duration, timedelta):
        raise ValueError(f"duration: expected a timedelta, got {duration!r}")
    if duration < timedelta(0):
        raise ValueError(f"duration: {duration} is negative")
    return duration // _US


def wall_to_us(zone: ZoneInfo, wall: datetime) -> int:
    """The first instant at which the clock in ``zone`` shows ``wall`` (naive) or later.

    That is ``fold=0`` for an existing wall time (the first of a repeated one) and the
    instant of the change for one skipped by a gap, which ``zoneinfo`` alone would move
    forward by the length of the gap, possibly past later wall times.
    """
    instant = to_us(wall.replace(tzinfo=zone))
    if from_us(instant).astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap: ``fold=1`` maps before the change, ``fold=0`` after it; bisect between.
    before, after = to_us(wall.replace(tzinfo=zone, fold=1)), instant
    late = from_us(after).astimezone(zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if from_us(middle).astimezone(zone).utcoffset() == late:
            after = middle
        else:
            before = middle
    return after


def offset_us(zone: ZoneInfo, o: int) -> int:
    """UTC offset at local midnight (``fold=0``) of day ordinal ``o``."""
    day = date.fromordinal(o)
    offset = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
    return offset // _US if offset is not None else 0


@lru_cache(maxsize=1024)
def transition_days(zone: ZoneInfo, year: int) -> tuple[int, ...]:
    """Local days of ``year`` whose UTC offset at the next midnight differs from this one.

    The offset is sampled weekly and scanned daily only in weeks where it changed, which
    assumes no zone changes its offset and changes it back within seven days (checked
    against a daily scan for every zone of the tz database, 1970 to 2040).
    """
    first, last = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
    found = []
    start, offset = first, offset_us(zone, first)
    while start < last:
        stop = min(start + 7, last)
        stop_offset = offset_us(zone, stop)
        if stop_offset != offset:
            previous = offset
            for o in range(start + 1, stop + 1):
                current = offset_us(zone, o)
                if current != previous:
                    found.append(o - 1)
                previous = current
        start, offset = stop, stop_offset
    return tuple(found)
