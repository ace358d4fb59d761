"""Business-time arithmetic with exact instants: weekends, holidays, DST, zones."""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.sla import BusinessCalendar, parse_hours

from .calendars import BERLIN_OFFICE, berlin, local, new_york, utc

H = timedelta(hours=1)
US = timedelta(microseconds=1)


def calendar(hours: object, timezone: str = "Europe/Berlin", **extra: object) -> BusinessCalendar:
    return BusinessCalendar.from_dict({"timezone": timezone, "hours": hours, **extra})


# -- weekdays, lunch breaks, boundaries -----------------------------------------------


def test_it_skips_the_weekend() -> None:
    # Fri 2026-01-09 15:00 CET: 2 h on Friday, the other 2 h on Monday from 08:00 CET.
    assert berlin().add_business_time(utc("2026-01-09T14:00Z"), 4 * H) == utc("2026-01-12T09:00Z")


def test_it_skips_the_lunch_break() -> None:
    # Mon 11:00 CET + 2 h = 11-12 and 13-14.
    assert berlin().add_business_time(utc("2026-01-12T10:00Z"), 2 * H) == utc("2026-01-12T13:00Z")


def test_it_lands_on_the_closing_time_not_the_next_opening() -> None:
    cal = berlin()
    assert cal.add_business_time(utc("2026-01-12T07:00Z"), 8 * H) == utc("2026-01-12T16:00Z")
    assert cal.add_business_time(utc("2026-01-12T07:00Z"), 4 * H) == utc("2026-01-12T11:00Z")


def test_it_starts_counting_at_the_next_opening_when_closed() -> None:
    cal = berlin()
    # Saturday 10:00Z: the first business hour is Monday 08:00-09:00 CET.
    assert cal.add_business_time(utc("2026-01-10T10:00Z"), H) == utc("2026-01-12T08:00Z")
    # During lunch.
    assert cal.add_business_time(utc("2026-01-12T11:30Z"), H) == utc("2026-01-12T13:00Z")


def test_it_returns_the_start_for_a_zero_duration() -> None:
    assert berlin().add_business_time(utc("2026-01-10T10:00Z"), timedelta(0)) == utc(
        "2026-01-10T10:00Z"
    )


def test_it_counts_business_time_between_two_instants() -> None:
    cal = berlin()
    a, b = utc("2026-01-09T14:00Z"), utc("2026-01-12T09:00Z")
    assert cal.business_time_between(a, b) == 4 * H
    assert cal.business_time_between(b, a) == -4 * H
    assert cal.business_time_between(a, a) == timedelta(0)
    # Mon 07:00 CET to Fri 18:00 CET: five days of eight hours.
    assert cal.business_time_between(utc("2026-01-12T06:00Z"), utc("2026-01-16T17:00Z")) == 40 * H


def test_it_tells_open_and_next_open() -> None:
    cal = berlin()
    assert cal.is_open(utc("2026-01-12T07:00Z"))  # Mon 08:00 CET, opening instant
    assert not cal.is_open(utc("2026-01-12T11:00Z"))  # 12:00 CET, lunch starts
    assert not cal.is_open(utc("2026-01-12T16:00Z"))  # 17:00 CET, closed
    assert cal.next_open(utc("2026-01-12T09:15Z")) == utc("2026-01-12T09:15Z")
    assert cal.next_open(utc("2026-01-12T11:00Z")) == utc("2026-01-12T12:00Z")
    assert cal.next_open(utc("2026-01-09T16:00Z")) == utc("2026-01-12T07:00Z")


def test_it_returns_utc_and_accepts_any_aware_zone() -> None:
    cal = berlin()
    start = datetime.fromisoformat("2026-01-09T15:00+01:00")
    result = cal.add_business_time(start, 4 * H)
    assert result == utc("2026-01-12T09:00Z")
    assert result.tzinfo is UTC


def test_it_refuses_naive_datetimes_and_negative_durations() -> None:
    cal = berlin()
    with pytest.raises(ValueError, match="start: naive datetime"):
        cal.add_business_time(datetime(2026, 1, 12, 8), H)
    with pytest.raises(ValueError, match="b: naive datetime"):
        cal.business_time_between(utc("2026-01-12T07:00Z"), datetime(2026, 1, 12, 8))
    with pytest.raises(ValueError, match="at: naive"):
        cal.is_open(datetime(2026, 1, 12, 8))
    with pytest.raises(ValueError, match="negative"):
        cal.add_business_time(utc("2026-01-12T07:00Z"), -H)


# -- holidays -------------------------------------------------------------------------


def test_it_skips_a_public_holiday_from_the_holidays_package() -> None:
    cal = berlin()
    assert cal.is_holiday(date(2026, 5, 1))  # Labour Day, a Friday
    assert cal.is_holiday(date(2026, 10, 3))  # German Unity Day, a Saturday
    assert cal.is_holiday(date(2027, 1, 1))  # later years are loaded when touched
    assert not cal.is_holiday(date(2026, 4, 30))
    assert cal.open_intervals(date(2026, 5, 1)) == []
    # Thu 16:00 CEST: 1 h on Thursday, Friday is Labour Day, 3 h on Monday.
    assert cal.add_business_time(utc("2026-04-30T14:00Z"), 4 * H) == utc("2026-05-04T09:00Z")
    assert cal.business_time_between(utc("2026-04-30T14:00Z"), utc("2026-05-04T09:00Z")) == 4 * H


def test_it_skips_christmas_and_the_extra_holiday() -> None:
    cal = berlin()
    without_extra = BusinessCalendar.from_dict({**BERLIN_OFFICE, "extra_holidays": []})
    start = utc("2026-12-23T15:00Z")  # Wed 16:00 CET
    # Thu 24th is an extra holiday, Fri 25th Christmas Day: Monday 28th 08:00-09:00 CET.
    assert cal.add_business_time(start, 2 * H) == utc("2026-12-28T08:00Z")
    assert without_extra.add_business_time(start, 2 * H) == utc("2026-12-24T08:00Z")


def test_it_reads_holidays_from_ics_text() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20260716\r\nSUMMARY:Company\r\n"
        " day\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    cal = calendar({"mon-fri": ["08:00-12:00", "13:00-17:00"]}, holidays={"ics": ics})
    assert cal.is_holiday(date(2026, 7, 16))
    # Wed 16:00 CEST + 2 h: 1 h Wednesday, Thursday is closed, Friday 08:00-09:00 CEST.
    assert cal.add_business_time(utc("2026-07-15T14:00Z"), 2 * H) == utc("2026-07-17T07:00Z")


# -- DST ------------------------------------------------------------------------------


def test_it_counts_the_23_hour_spring_forward_day() -> None:
    cal = calendar("24/7")
    # Sat 2026-03-28 12:00 CET + 24 h of real time = Sun 13:00 CEST (the day lost an hour).
    result = cal.add_business_time(local("2026-03-28T12:00", "Europe/Berlin"), 24 * H)
    assert result == utc("2026-03-29T11:00Z")
    assert result == local("2026-03-29T13:00", "Europe/Berlin")
    midnight, next_midnight = utc("2026-03-28T23:00Z"), utc("2026-03-29T22:00Z")
    assert cal.business_time_between(midnight, next_midnight) == 23 * H


def test_it_counts_the_25_hour_fall_back_day() -> None:
    cal = calendar("24/7")
    # Sat 2026-10-24 12:00 CEST + 24 h = Sun 11:00 CET.
    result = cal.add_business_time(local("2026-10-24T12:00", "Europe/Berlin"), 24 * H)
    assert result == utc("2026-10-25T10:00Z")
    assert result == local("2026-10-25T11:00", "Europe/Berlin")
    midnight, next_midnight = utc("2026-10-24T22:00Z"), utc("2026-10-25T23:00Z")
    assert cal.business_time_between(midnight, next_midnight) == 25 * H


def test_it_counts_real_hours_when_opening_hours_contain_the_change() -> None:
    cal = calendar({"sun": ["01:00-04:00"]})
    # 01:00 CET to 04:00 CEST is two real hours; 01:00 CEST to 04:00 CET is four.
    assert cal.open_intervals(date(2026, 3, 29)) == [
        (utc("2026-03-29T00:00Z"), utc("2026-03-29T02:00Z"))
    ]
    assert cal.open_intervals(date(2026, 10, 25)) == [
        (utc("2026-10-24T23:00Z"), utc("2026-10-25T03:00Z"))
    ]
    # 3 h from Saturday: 2 h on the short Sunday, 1 h on the next Sunday (CEST).
    assert cal.add_business_time(utc("2026-03-28T12:00Z"), 3 * H) == utc("2026-04-05T00:00Z")
    assert cal.business_time_between(utc("2026-10-20T00:00Z"), utc("2026-10-27T00:00Z")) == 4 * H


def test_it_opens_at_the_change_when_the_opening_time_is_skipped() -> None:
    cal = calendar({"sun": ["02:30-05:00"]})
    # 02:30 does not exist on 2026-03-29 (02:00 CET jumps to 03:00 CEST = 01:00Z).
    assert cal.open_intervals(date(2026, 3, 29)) == [
        (utc("2026-03-29T01:00Z"), utc("2026-03-29T03:00Z"))
    ]
    assert cal.open_intervals(date(2026, 3, 22)) == [
        (utc("2026-03-22T01:30Z"), utc("2026-03-22T04:00Z"))
    ]
    # A closing time in the gap closes at the change; an interval inside it vanishes,
    # and order is kept (zoneinfo alone would put 02:10 after 03:05).
    split = calendar({"sun": ["01:00-02:30", "02:40-02:50", "03:00-03:05"]})
    assert split.open_intervals(date(2026, 3, 29)) == [
        (utc("2026-03-29T00:00Z"), utc("2026-03-29T01:00Z")),
        (utc("2026-03-29T01:00Z"), utc("2026-03-29T01:05Z")),
    ]
    assert split.business_time_between(utc("2026-03-28T00:00Z"), utc("2026-03-30T00:00Z")) == (
        timedelta(minutes=65)
    )
    # A repeated wall time means its first occurrence: 02:00 CEST to 03:00 CET is 2 h.
    repeated = calendar({"sun": ["02:00-03:00"]})
    assert repeated.open_intervals(date(2026, 10, 25)) == [
        (utc("2026-10-25T00:00Z"), utc("2026-10-25T02:00Z"))
    ]


def test_it_uses_summer_time_after_a_dst_weekend() -> None:
    # Fri 2026-03-27 16:00 CET + 2 h: 1 h Friday, Monday opens 08:00 CEST = 06:00Z.
    assert berlin().add_business_time(utc("2026-03-27T15:00Z"), 2 * H) == utc("2026-03-30T07:00Z")


# -- the calendar's zone is not the server's ------------------------------------------


def test_it_computes_in_the_calendar_zone_not_utc() -> None:
    cal = new_york()
    start = utc("2026-01-05T22:00Z")  # Mon 17:00 EST: already closed in New York
    assert not cal.is_open(start)
    assert cal.next_open(start) == utc("2026-01-06T14:00Z")  # Tue 09:00 EST
    assert cal.add_business_time(start, 4 * H) == utc("2026-01-06T18:00Z")
    # Mon 16:00 EST: 1 h Monday, 3 h Tuesday until 12:00 EST.
    assert cal.add_business_time(utc("2026-01-05T21:00Z"), 4 * H) == utc("2026-01-06T17:00Z")


def test_it_follows_new_york_dst_and_holidays() -> None:
    cal = new_york()
    # Fri 2026-03-06 15:00 EST + 4 h: 2 h Friday, Mon 03-09 09:00 EDT (13:00Z) + 2 h.
    assert cal.add_business_time(utc("2026-03-06T20:00Z"), 4 * H) == utc("2026-03-09T15:00Z")
    # Fri 2026-01-16 16:00 EST + 2 h: Monday 19th is Martin Luther King Jr. Day.
    assert cal.add_business_time(utc("2026-01-16T21:00Z"), 2 * H) == utc("2026-01-20T15:00Z")


# -- long durations -------------------------------------------------------------------


def test_it_skips_whole_weeks_exactly() -> None:
    cal = calendar({"mon-fri": ["08:00-17:00"]}, timezone="UTC")
    # 10 weeks of 45 h; the last hour ends at a Friday closing time.
    start = utc("2026-01-05T08:00Z")
    assert cal.add_business_time(start, 450 * H) == utc("2026-03-13T17:00Z")
    assert cal.business_time_between(start, utc("2026-03-13T17:00Z")) == 450 * H


def test_it_adds_a_year_of_business_time_in_well_under_10_ms() -> None:
    start = utc("2026-01-05T07:00Z")
    cold = berlin()
    began = time.perf_counter()
    result = cold.add_business_time(start, timedelta(days=365))
    cold_seconds = time.perf_counter() - began
    warm = []
    for _ in range(5):
        began = time.perf_counter()
        assert cold.add_business_time(start, timedelta(days=365)) == result
        warm.append(time.perf_counter() - began)
    assert min(warm) < 0.005, min(warm)
    assert cold_seconds < 0.1, cold_seconds  # loads ~5 years of holidays on first use
    assert cold.business_time_between(start, result) == timedelta(days=365)
    # 8760 business hours at 40 a week, minus Berlin's weekday holidays: late 2030.
    assert result.year == 2030


# -- configuration --------------------------------------------------------------------


def test_it_reads_the_toml_shape() -> None:
    data = tomllib.loads(
        """
        timezone = "Europe/Berlin"
        extra_holidays = [2026-12-24]
        [hours]
        mon-fri = ["08:00-12:00", "13:00-17:00"]
        sat = ["10:00-14:00"]
        [holidays]
        country = "DE"
        subdivision = "BE"
        """
    )
    cal = BusinessCalendar.from_dict(data)
    assert cal.is_holiday(date(2026, 12, 24))
    assert cal.weekly[5] == ((600, 840),)
    assert cal.weekly[6] == ()
    assert cal.business_time_between(utc("2026-01-10T00:00Z"), utc("2026-01-11T00:00Z")) == 4 * H


def test_it_merges_adjacent_intervals_and_reads_24_00() -> None:
    weekly = parse_hours({"mon": ["12:00-24:00", "08:00-12:00"], "tue": ["00:00-24:00"]})
    assert weekly[0] == ((480, 1440),)
    assert weekly[1] == ((0, 1440),)
    cal = calendar({"mon": ["22:00-24:00"], "tue": ["00:00-02:00"]}, timezone="UTC")
    # Monday's close at midnight is Tuesday's opening: the count runs on without a gap.
    assert cal.add_business_time(utc("2026-01-05T23:00Z"), 2 * H) == utc("2026-01-06T01:00Z")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "24/7"}, "timezone: required"),
        ({"timezone": "Mars/Olympus", "hours": "24/7"}, "timezone: unknown IANA time zone"),
        ({"timezone": "UTC"}, "hours: required"),
        ({"timezone": "UTC", "hours": "9-5"}, "hours: expected"),
        ({"timezone": "UTC", "hours": {"monday": ["08:00-17:00"]}}, "hours.monday: unknown"),
        ({"timezone": "UTC", "hours": {"mon": ["08:00-17:00"], "mon-fri": []}}, "more than once"),
        ({"timezone": "UTC", "hours": {"mon": ["17:00-08:00"]}}, "hours.mon: .* crosses midnight"),
        ({"timezone": "UTC", "hours": {"mon": ["8:00-17:00"]}}, "hours.mon: bad time '8:00'"),
        ({"timezone": "UTC", "hours": {"mon": ["24:00-24:00"]}}, "hours.mon: bad time"),
        ({"timezone": "UTC", "hours": {"mon": ["08:00-13:00", "12:00-17:00"]}}, "overlap"),
        ({"timezone": "UTC", "hours": {"mon": "08:00-17:00"}}, "hours.mon: expected a list"),
        ({"timezone": "UTC", "hours": {"sat-mon": []}}, "backwards"),
        ({"timezone": "UTC", "hours": {}}, "hours: the calendar is never open"),
        ({"timezone": "UTC", "hours": "24/7", "holiday": []}, "calendar: unknown key.*holiday"),
        (
            {"timezone": "UTC", "hours": "24/7", "extra_holidays": ["24.12.2026"]},
            r"extra_holidays\[0\]: expected a date",
        ),
        ({"timezone": "UTC", "hours": "24/7", "holidays": {"country": "XX"}}, "holidays: .*XX"),
        (
            {"timezone": "UTC", "hours": "24/7", "holidays": {"country": "DE", "subdivision": "Z"}},
            "holidays: .*subdivision",
        ),
        (
            {"timezone": "UTC", "hours": "24/7", "holidays": {"subdivision": "BE"}},
            "holidays.country: a country code is required",
        ),
        ({"timezone": "UTC", "hours": "24/7", "holidays": {"land": "DE"}}, "holidays: unknown"),
    ],
)
def test_it_refuses_invalid_configuration_naming_the_key(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict(data)
