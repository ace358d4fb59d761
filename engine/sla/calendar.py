"""Business time on a business-hours calendar, exact to the microsecond.

Opening hours and holidays are *local* (wall-clock times and dates in the calendar's
zone) while SLA instants are UTC, so each local day is turned into its UTC "spans" (open
intervals) by the zone itself: a day of a DST change is 23 or 25 hours long.  A wall time
maps to the first instant at which the clock shows it or later: a repeated wall time
means its first occurrence, and one in the skipped hour means the moment of the change
(an 02:30 opening on a day that jumps from 02:00 to 03:00 opens at 03:00).  That mapping
never runs backwards, so spans stay in order within a day and from one day to the next.

Internally instants are integer microseconds since the epoch, so sums are exact and
``business_time_between(s, add_business_time(s, d)) == d`` holds without rounding.
Long durations stay cheap: an ordinary day (no holiday, no UTC-offset change) contributes
its nominal weekday length, so whole weeks up to the next "special" day are skipped in
one step; only special days and the two boundary days are converted through the zone.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from .hours import WeeklyHours, check_keys, check_weekly, parse_date, parse_hours
from .ics import parse_ics_holidays
from .zones import (
    DAY_US,
    EPOCH_ORDINAL,
    MINUTE_US,
    duration_us,
    from_us,
    offset_us,
    to_us,
    transition_days,
    wall_to_us,
)

__all__ = ["BusinessCalendar"]

_SEARCH_DAYS = 3660  # next_open gives up after ten years of closed days
_CALENDAR_KEYS = {"timezone", "hours", "holidays", "extra_holidays"}
_HOLIDAY_KEYS = {"country", "subdivision", "ics"}

Span = tuple[int, int]


class BusinessCalendar:
    """Opening hours in one IANA time zone, minus holidays (whole local dates).

    Every method takes aware datetimes (any zone; naive ones are refused, because a
    server's local time is exactly the bug this module exists to avoid) and returns aware
    UTC datetimes.  Instances are immutable; caches fill lazily and are safe to share.
    """

    def __init__(
        self,
        timezone: str,
        weekly: WeeklyHours,
        holidays: Iterable[date] = (),
        *,
        country: str | None = None,
        subdivision: str | None = None,
    ) -> None:
        """``weekly`` as from :func:`engine.sla.hours.parse_hours`; ``country`` and
        ``subdivision`` (ISO codes, e.g. ``"DE"``/``"BE"``) add the public holidays of the
        ``holidays`` package for whatever years a computation touches."""
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezone: unknown IANA time zone {timezone!r}") from None
        check_weekly(weekly)
        self.weekly = weekly
        self._weekly_us = tuple(
            tuple((s * MINUTE_US, e * MINUTE_US) for s, e in day) for day in weekly
        )
        self._nominal = tuple(sum(e - s for s, e in day) for day in self._weekly_us)
        self._week_us = sum(self._nominal)
        self._fixed_holidays = frozenset(d.toordinal() for d in holidays)
        self._country = None
        if country is not None or subdivision is not None:
            if not isinstance(country, str) or not country:
                raise ValueError("holidays.country: a country code is required with a subdivision")
            try:
                holidays_lib.country_holidays(country, subdiv=subdivision, years=[])
            except (NotImplementedError, KeyError, ValueError) as exc:
                raise ValueError(f"holidays: {exc}") from None
            self._country = (country, subdivision)
        self._special_years: dict[int, tuple[tuple[int, ...], frozenset[int]]] = {}
        # a day's spans never change: replaying many cases (what-if) asks for the same days
        self._day_spans: dict[int, tuple[Span, ...]] = {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build from the TOML shape (see the package docstring); ``ValueError`` names the key."""
        if not isinstance(data, Mapping):
            raise ValueError(f"calendar: expected a table, got {data!r}")
        check_keys("calendar", data, _CALENDAR_KEYS)
        if "timezone" not in data or not isinstance(data["timezone"], str):
            raise ValueError('timezone: required, an IANA name such as "Europe/Berlin"')
        if "hours" not in data:
            raise ValueError('hours: required, e.g. {"mon-fri": ["08:00-17:00"]} or "24/7"')
        weekly = parse_hours(data["hours"])
        dates: set[date] = set()
        extra = data.get("extra_holidays", [])
        if not isinstance(extra, list | tuple):
            raise ValueError(f"extra_holidays: expected a list of dates, got {extra!r}")
        dates.update(parse_date(v, f"extra_holidays[{i}]") for i, v in enumerate(extra))
        source = data.get("holidays", {})
        if not isinstance(source, Mapping):
            raise ValueError(f"holidays: expected a table, got {source!r}")
        check_keys("holidays", source, _HOLIDAY_KEYS)
        if "ics" in source:
            dates.update(parse_ics_holidays(source["ics"]))
        for key in ("country", "subdivision"):
            if key in source and not isinstance(source[key], str):
                raise ValueError(f"holidays.{key}: expected a code string, got {source[key]!r}")
        return cls(
            data["timezone"],
            weekly,
            dates,
            country=source.get("country"),
            subdivision=source.get("subdivision"),
        )

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.zone.key!r}, {self._week_us // 3_600_000_000}h/week)"

    # -- public operations -------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of business time has elapsed.

        Counting starts at ``start``, or at the next opening if closed then, so a positive
        result is always inside opening hours or exactly at a closing time (never at the
        following opening: "due at 17:00" rather than "due at 08:00 tomorrow").  A zero
        duration returns ``start`` unchanged, which keeps the operation additive:
        ``add(add(s, a), b) == add(s, a + b)``.
        """
        at = to_us(start, "start")
        remaining = duration_us(duration)
        if remaining == 0:
            return from_us(at)
        return from_us(self._add_us(at, remaining))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in ``[a, b)``; negative when ``b`` is before ``a`` (like ``b - a``)."""
        t0, t1 = to_us(a, "a"), to_us(b, "b")
        if t1 < t0:
            return -timedelta(microseconds=self._between_us(t1, t0))
        return timedelta(microseconds=self._between_us(t0, t1))

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is inside opening hours (an interval includes its start only)."""
        t = to_us(at, "at")
        day = self._local_ordinal(t)
        return any(s <= t < e for o in (day, day + 1) for s, e in self._spans(o))

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if open, else the next opening instant."""
        t = to_us(at, "at")
        first = self._local_ordinal(t)
        for o in range(first, first + _SEARCH_DAYS):
            for s, e in self._spans(o):
                if e > t:
                    return from_us(max(s, t))
        raise ValueError(f"at: no opening hours within {_SEARCH_DAYS} days after {at}")

    def is_holiday(self, day: date) -> bool:
        """Whether the local date ``day`` is a holiday (closed all day)."""
        return self._is_holiday(day.toordinal())

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC intervals in which the calendar is open on local date ``day``."""
        return [(from_us(s), from_us(e)) for s, e in self._spans(day.toordinal())]

    def spans_us(self, first: datetime, last: datetime) -> list[Span]:
        """The UTC spans (microseconds since the epoch) of every local day from the day
        before ``first``'s to two days after ``last``'s, in order: all the opening hours
        that touch ``[first, last]``, for tabulating business time over a whole period
        (:mod:`engine.sla.timeline`)."""
        start = self._local_ordinal(to_us(first, "first")) - 1
        end = self._local_ordinal(to_us(last, "last")) + 2
        return [span for o in range(start, end + 1) for span in self._spans(o)]

    # -- arithmetic on microseconds ----------------------------------------------------

    def _add_us(self, at: int, remaining: int) -> int:
        day = self._local_ordinal(at)
        # Spans of earlier days end before ``at``; the next day's may start before it only
        # where a clock turned back across midnight, so both are clipped.
        for o in (day, day + 1):
            for s, e in self._spans(o):
                if e <= at:
                    continue
                s = max(s, at)
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
        o = day + 2  # every span from here on lies after ``at``
        while True:
            if remaining > self._week_us:
                most = (remaining - 1) // self._week_us  # never skip past the landing
                weeks = (self._next_special(o, o + 7 * most) - o) // 7
                remaining -= weeks * self._week_us
                o += 7 * weeks
            if self._is_special(o):
                length = sum(e - s for s, e in self._spans(o))
            else:
                length = self._nominal[(o - 1) % 7]
            if remaining <= length:
                for s, e in self._spans(o):
                    if remaining <= e - s:
                        return s + remaining
                    remaining -= e - s
            remaining -= length
            o += 1

    def _between_us(self, t0: int, t1: int) -> int:
        first, last = self._local_ordinal(t0), self._local_ordinal(t1)
        if last - first < 2:
            return sum(self._clipped(o, t0, t1) for o in range(first, last + 2))
        edges = (first, first + 1, last, last + 1)  # as in _add_us, a day more is clipped
        return sum(self._clipped(o, t0, t1) for o in edges) + self._whole_days(first + 2, last)

    def _clipped(self, o: int, t0: int, t1: int) -> int:
        return sum(max(0, min(e, t1) - max(s, t0)) for s, e in self._spans(o))

    def _whole_days(self, o: int, end: int) -> int:
        """Business time of the local days ``[o, end)`` (ordinals), skipping whole weeks."""
        total = 0
        while o < end:
            special = self._next_special(o, end)
            weeks = (special - o) // 7
            total += weeks * self._week_us
            o += 7 * weeks
            while o < special:
                total += self._nominal[(o - 1) % 7]
                o += 1
            if o < end:
                total += sum(e - s for s, e in self._spans(o))
                o += 1
        return total

    # -- days --------------------------------------------------------------------------

    def _local_ordinal(self, t: int) -> int:
        return from_us(t).astimezone(self.zone).toordinal()

    def _spans(self, o: int) -> tuple[Span, ...]:
        """UTC spans of local day ``o``: sorted, disjoint, after the previous day's."""
        spans = self._day_spans.get(o)
        if spans is None:
            spans = self._day_spans[o] = self._compute_spans(o)
        return spans

    def _compute_spans(self, o: int) -> tuple[Span, ...]:
        intervals = self._weekly_us[(o - 1) % 7]
        if not intervals or self._is_holiday(o):
            return ()
        day = date.fromordinal(o)
        if o not in self._special_days(day.year)[1]:
            midnight = (o - EPOCH_ORDINAL) * DAY_US - offset_us(self.zone, o)
            return tuple((midnight + s, midnight + e) for s, e in intervals)
        # The UTC offset changes today or at the coming midnight: map each wall time.
        base = datetime(day.year, day.month, day.day)
        spans = []
        for s, e in intervals:
            start = wall_to_us(self.zone, base + timedelta(microseconds=s))
            end = wall_to_us(self.zone, base + timedelta(microseconds=e))
            if end > start:  # an interval entirely inside a skipped hour vanishes
                spans.append((start, end))
        return tuple(spans)

    def _is_holiday(self, o: int) -> bool:
        if o in self._fixed_holidays:
            return True
        if self._country is None:
            return False
        return o in self._library_holidays(date.fromordinal(o).year)

    def _library_holidays(self, year: int) -> frozenset[int]:
        country, subdivision = self._country or ("", None)
        return _public_holidays(country, subdivision, year)

    def _special_days(self, year: int) -> tuple[tuple[int, ...], frozenset[int]]:
        """Days of ``year`` that may not be their weekday's nominal hours at a fixed offset.

        Holidays on open weekdays, days whose UTC offset changes and the days before
        those (sorted, and as a set).
        """
        cached = self._special_years.get(year)
        if cached is None:
            first, last = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
            changes = (*transition_days(self.zone, year), *transition_days(self.zone, year + 1))
            # A change today, or at the coming midnight (should it fall inside a gap).
            days = {d for o in changes for d in (o, o - 1) if first <= d < last}
            days.update(o for o in self._fixed_holidays if first <= o < last)
            if self._country is not None:
                days.update(self._library_holidays(year))
            days = {o for o in days if self._weekly_us[(o - 1) % 7]}
            cached = (tuple(sorted(days)), frozenset(days))
            self._special_years[year] = cached
        return cached

    def _is_special(self, o: int) -> bool:
        return o in self._special_days(date.fromordinal(o).year)[1]

    def _next_special(self, o: int, limit: int) -> int:
        """The first special day ordinal in ``[o, limit)``, or ``limit``."""
        year = date.fromordinal(o).year
        while date(year, 1, 1).toordinal() < limit:
            ordered = self._special_days(year)[0]
            index = bisect_left(ordered, o)
            if index < len(ordered):
                return min(ordered[index], limit)
            year += 1
        return limit


@lru_cache(maxsize=1024)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[int]:
    """Day ordinals of one year's public holidays, shared by every calendar in the process
    (the ``holidays`` package computes them on demand, about a millisecond a year)."""
    found = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(d.toordinal() for d in found if d.year == year)
