"""When timer start events fall due: ISO dates, durations and repetitions, and cron."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.run.schedules import ScheduleError, next_due, sub_minute

NOW = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "value", "after", "due"),
    [
        ("timeCycle", "0 9 * * MON", NOW, at(7, 9)),
        ("timeCycle", "0 9 * * MON", at(7, 9), at(14, 9)),
        ("timeCycle", "0 0 9 ? * MON-FRI", at(11, 9), at(14, 9)),  # Friday -> Monday
        ("timeCycle", "*/15 * * * *", NOW, at(7, 1, 45)),
        ("timeCycle", "0 12 24 12 *", NOW, at(24, 12)),
        ("timeCycle", "0/5 0/1 * 1/1 * ?", NOW, at(7, 1, 31)),  # Camunda's every 5 s: minutes
        ("timeCycle", '"R/PT1H"', NOW, at(7, 2, 30)),  # counted from the deploy (NOW)
        ("timeCycle", "R3/2026-12-07T00:00:00Z/PT1H", NOW, at(7, 2)),
        ("timeCycle", "R3/2026-12-07T00:00:00Z/PT1H", at(7, 2), None),  # three times done
        ("timeDate", "2026-12-24T09:00:00Z", NOW, at(24, 9)),
        ("timeDate", "2026-12-24T09:00:00Z", at(24, 9), None),
        ("timeDuration", "PT10M", NOW, at(7, 1, 40)),
        ("timeDuration", "PT10M", at(7, 1, 40), None),
    ],
)
def test_the_next_due_time(kind: str, value: str, after: datetime, due: datetime | None):
    assert next_due(kind, value, after, since=NOW) == due


@pytest.mark.parametrize(
    "value", ["0 9 * * FUNDAY", "61 * * * *", "61 0 9 * * MON", "R/PT0S", "tomorrow"]
)
def test_values_that_name_no_time_are_refused(value: str):
    with pytest.raises(ScheduleError):
        next_due("timeCycle", value, NOW, since=NOW)


def test_a_seconds_field_asking_for_more_than_one_firing_a_minute_is_named():
    assert sub_minute("0/5 0/1 * 1/1 * ?") == "0/5"
    assert sub_minute("0 0 9 ? * MON-FRI") is None
    assert sub_minute("0 9 * * MON") is None
