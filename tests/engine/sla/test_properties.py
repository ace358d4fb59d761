"""Properties of business-time arithmetic on calendars chosen to be awkward.

Besides the algebra (``between`` inverts ``add``, ``add`` is additive, results are open
or at a closing time), ``business_time_between`` is checked against a slow reference
that converts every interval of every day through the zone, so the fast paths (whole
weeks skipped, ordinary days at a fixed offset) cannot drift from the definition.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sla import BusinessCalendar

from .calendars import BERLIN_OFFICE, NEW_YORK_OFFICE

US = timedelta(microseconds=1)
CALENDARS = [
    BusinessCalendar.from_dict(BERLIN_OFFICE),
    BusinessCalendar.from_dict(NEW_YORK_OFFICE),
    BusinessCalendar.from_dict({"timezone": "Europe/Berlin", "hours": "24/7"}),
    # Open through the hour that DST skips or repeats, and barely otherwise.
    BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "hours": {"sun": ["01:00-04:00"], "mon-sat": ["09:00-09:30"]}}
    ),
    # A half-hour DST shift at 02:00.
    BusinessCalendar.from_dict(
        {"timezone": "Australia/Lord_Howe", "hours": {"mon-sun": ["01:00-03:00", "12:00-12:45"]}}
    ),
    # DST changes at midnight; open across it on weekends.
    BusinessCalendar.from_dict(
        {
            "timezone": "America/Santiago",
            "hours": {"sat-sun": ["00:00-01:30", "22:00-24:00"], "wed": ["10:00-11:00"]},
            "holidays": {"country": "CL"},
        }
    ),
    BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Kolkata",
            "hours": {"mon-fri": ["09:30-18:00"]},
            "holidays": {"country": "IN"},
        }
    ),
]

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


def reference_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Business time in ``[a, b)`` by converting every interval of every day."""
    zone = calendar.zone
    day = a.astimezone(zone).date() - timedelta(days=2)
    total = timedelta(0)
    while day <= b.astimezone(zone).date() + timedelta(days=2):
        if not calendar.is_holiday(day):
            midnight = datetime.combine(day, time())
            for start, end in calendar.weekly[day.weekday()]:
                opens = _first_instant(zone, midnight + timedelta(minutes=start))
                closes = _first_instant(zone, midnight + timedelta(minutes=end))
                total += max(timedelta(0), min(closes, b) - max(opens, a))
        day += timedelta(days=1)
    return total


def _first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first instant whose wall clock shows ``wall`` or later (minute steps over a gap)."""
    while True:
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant
        wall += timedelta(minutes=1)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, durations)
def test_it_inverts_add_with_between(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    result = calendar.add_business_time(start, duration)
    assert result >= start
    assert calendar.business_time_between(start, result) == duration
    if duration:
        # Open at the result or just closing there; and business time ran until it.
        assert calendar.is_open(result) or calendar.is_open(result - US)
        assert calendar.is_open(result - US)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, durations, durations)
def test_it_adds_additively(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    step = calendar.add_business_time(calendar.add_business_time(start, first), second)
    assert step == calendar.add_business_time(start, first + second)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, spans)
def test_it_agrees_with_the_day_by_day_reference(
    calendar: BusinessCalendar, start: datetime, length: timedelta
) -> None:
    end = start + length
    assert calendar.business_time_between(start, end) == reference_between(calendar, start, end)


@settings(max_examples=300, deadline=None)
@given(calendars, instants)
def test_it_finds_the_next_opening(calendar: BusinessCalendar, at: datetime) -> None:
    opening = calendar.next_open(at)
    assert opening >= at
    assert calendar.is_open(opening)
    assert calendar.business_time_between(at, opening) == timedelta(0)
    assert (opening == at) == calendar.is_open(at)


@settings(max_examples=100, deadline=None)
@given(calendars, st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31)))
def test_it_keeps_spans_sorted_and_disjoint_across_days(
    calendar: BusinessCalendar, day: date
) -> None:
    spans = calendar.open_intervals(day) + calendar.open_intervals(day + timedelta(days=1))
    for (start, end), (following, _) in pairwise(spans):
        assert start < end <= following
