"""SLA target clocks: due times, warnings, pauses, independent targets, due moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sla import (
    DueMoment,
    SlaPolicy,
    Target,
    due_moments,
    evaluate,
    met,
    paused,
    reset,
    resumed,
    started,
)

from .calendars import BERLIN_OFFICE, utc

H = timedelta(hours=1)
POLICY = {
    "calendar": BERLIN_OFFICE,
    "targets": {
        "first_response": {"within": "PT4H", "warn_at": [0.9, 0.75]},
        "next_update": {"within": "PT8H"},
        "resolution": {"within": "P5D"},  # 120 business hours: 15 eight-hour days
    },
}
MONDAY_0800 = utc("2026-01-12T07:00Z")  # 08:00 CET


@pytest.fixture(scope="module")
def policy() -> SlaPolicy:
    return SlaPolicy.from_dict(POLICY)


def test_it_reads_the_policy(policy: SlaPolicy) -> None:
    assert [t.name for t in policy.targets] == ["first_response", "next_update", "resolution"]
    assert policy.target("first_response") == Target("first_response", 4 * H, (0.75, 0.9))
    assert policy.target("resolution").within == timedelta(days=5)
    assert policy.target("first_response").thresholds == (0.75, 0.9, 1.0)


def test_it_reports_due_times_and_warnings_of_running_targets(policy: SlaPolicy) -> None:
    status = evaluate(policy, [started(MONDAY_0800)], utc("2026-01-12T08:00Z"))
    first = status["first_response"]
    assert first.state == "running"
    assert first.started_at == MONDAY_0800
    assert first.due_at == utc("2026-01-12T11:00Z")  # 12:00 CET, the lunch break's start
    assert first.warnings == ((0.75, utc("2026-01-12T10:00Z")), (0.9, utc("2026-01-12T10:36Z")))
    assert (first.used, first.remaining) == (H, 3 * H)
    assert status["next_update"].due_at == utc("2026-01-12T16:00Z")
    assert status["resolution"].due_at == utc("2026-01-30T16:00Z")  # Fri of the third week


def test_it_lists_the_future_due_moments_for_a_scheduler(policy: SlaPolicy) -> None:
    moments = due_moments(policy, [started(MONDAY_0800)], utc("2026-01-12T08:00Z"))
    assert moments == [
        ("first_response", 0.75, utc("2026-01-12T10:00Z")),
        ("first_response", 0.9, utc("2026-01-12T10:36Z")),
        ("first_response", 1.0, utc("2026-01-12T11:00Z")),
        ("next_update", 1.0, utc("2026-01-12T16:00Z")),
        ("resolution", 1.0, utc("2026-01-30T16:00Z")),
    ]
    assert isinstance(moments[0], DueMoment)
    assert moments[0].due_at == utc("2026-01-12T10:00Z")


def test_it_passes_warning_thresholds_at_75_and_90_percent(policy: SlaPolicy) -> None:
    history = [started(MONDAY_0800)]
    at_75 = utc("2026-01-12T10:00Z")  # 11:00 CET, 3 of 4 hours
    first = evaluate(policy, history, at_75)["first_response"]
    assert first.state == "running"
    assert first.warnings[0] == (0.75, at_75)
    # The moment reached at ``now`` has fired: the scheduler gets only the later ones.
    assert [m[:2] for m in due_moments(policy, history, at_75)][:2] == [
        ("first_response", 0.9),
        ("first_response", 1.0),
    ]
    later = due_moments(policy, history, utc("2026-01-12T10:40Z"))
    assert later[0] == ("first_response", 1.0, utc("2026-01-12T11:00Z"))


def test_it_breaches_at_the_due_instant(policy: SlaPolicy) -> None:
    history = [started(MONDAY_0800)]
    first = evaluate(policy, history, utc("2026-01-12T11:00Z"))["first_response"]
    assert first.state == "breached"
    assert first.breached_at == first.due_at == utc("2026-01-12T11:00Z")
    assert (first.used, first.remaining) == (4 * H, timedelta(0))
    assert all(m.target != "first_response" for m in due_moments(policy, history, first.due_at))


def test_it_counts_a_target_met_at_its_due_instant_as_met(policy: SlaPolicy) -> None:
    due = utc("2026-01-12T11:00Z")
    first = evaluate(policy, [started(MONDAY_0800), met("first_response", due)], due)
    assert first["first_response"].state == "met"
    assert first["first_response"].breached_at is None


def test_it_keeps_a_late_answer_breached(policy: SlaPolicy) -> None:
    # Due at the 12:00 CET lunch break; answered at 12:30 CET, when no business time passed.
    history = [started(MONDAY_0800), met("first_response", utc("2026-01-12T11:30Z"))]
    first = evaluate(policy, history, utc("2026-01-12T15:00Z"))["first_response"]
    assert first.state == "breached"
    assert first.met_at == utc("2026-01-12T11:30Z")
    assert first.breached_at == utc("2026-01-12T11:00Z")
    assert first.used == 4 * H


def test_it_does_not_count_paused_time(policy: SlaPolicy) -> None:
    history = [
        started(MONDAY_0800),
        paused(utc("2026-01-12T08:00Z")),  # 09:00 CET, 1 h used
        resumed(utc("2026-01-12T10:00Z")),  # 11:00 CET
    ]
    first = evaluate(policy, history, utc("2026-01-12T10:30Z"))["first_response"]
    # 1 h before the pause, 11:00-12:00, then 13:00-15:00 CET.
    assert first.due_at == utc("2026-01-12T14:00Z")
    assert first.used == 1.5 * H


def test_it_shifts_the_due_time_by_a_pause_spanning_a_holiday(policy: SlaPolicy) -> None:
    start = utc("2026-04-29T06:00Z")  # Wed 08:00 CEST
    history = [started(start), paused(utc("2026-04-29T08:00Z"))]  # 2 h used
    during = evaluate(policy, history, utc("2026-05-01T10:00Z"))["first_response"]
    assert during.state == "paused"
    assert during.due_at is None
    assert during.warnings == ((0.75, None), (0.9, None))
    assert (during.used, during.remaining) == (2 * H, 2 * H)
    assert due_moments(policy, history, utc("2026-05-01T10:00Z")) == []
    # Resumed on Friday 1 May, Labour Day: the clock runs again from Monday 08:00 CEST.
    history.append(resumed(utc("2026-05-01T08:00Z")))
    after = evaluate(policy, history, utc("2026-05-01T10:00Z"))["first_response"]
    assert after.state == "running"
    assert after.due_at == utc("2026-05-04T08:00Z")  # Mon 10:00 CEST
    assert after.used == 2 * H


def test_it_keeps_first_response_when_next_update_resets(policy: SlaPolicy) -> None:
    answered = utc("2026-01-12T08:30Z")  # 09:30 CET, the first agent reply
    history = [
        started(MONDAY_0800),
        met("first_response", answered),
        reset("next_update", answered),
    ]
    before = evaluate(policy, history, utc("2026-01-12T09:00Z"))["first_response"]
    history.append(reset("next_update", utc("2026-01-13T09:00Z")))  # Tue 10:00 CET reply
    now = utc("2026-01-13T10:00Z")
    status = evaluate(policy, history, now)
    first = status["first_response"]
    assert first == before
    assert first.state == "met"
    assert first.met_at == answered
    assert first.due_at == utc("2026-01-12T11:00Z")
    assert (first.used, first.remaining) == (1.5 * H, 2.5 * H)
    update = status["next_update"]
    assert update.started_at == utc("2026-01-13T09:00Z")
    # Tue 10-12 and 13-17 CET (6 h), Wed 08-10 CET.
    assert update.due_at == utc("2026-01-14T09:00Z")
    assert update.used == H
    assert [m.target for m in due_moments(policy, history, now)] == ["next_update", "resolution"]


def test_it_restarts_a_breached_next_update_on_reset(policy: SlaPolicy) -> None:
    history = [started(MONDAY_0800), reset("next_update", utc("2026-01-13T12:00Z"))]
    before_reset = evaluate(policy, history[:1], utc("2026-01-13T12:00Z"))["next_update"]
    assert before_reset.state == "breached"
    update = evaluate(policy, history, utc("2026-01-13T12:00Z"))["next_update"]
    assert update.state == "running"
    assert update.breached_at is None
    # Tue 13:00 CET: 13-17 on Tuesday, 08-12 on Wednesday.
    assert update.due_at == utc("2026-01-14T11:00Z")


def test_it_resets_while_paused_and_runs_after_resume(policy: SlaPolicy) -> None:
    history = [
        started(MONDAY_0800),
        paused(utc("2026-01-12T09:00Z")),
        reset("next_update", utc("2026-01-12T09:00Z")),
    ]
    update = evaluate(policy, history, utc("2026-01-12T12:00Z"))["next_update"]
    assert (update.state, update.due_at, update.used) == ("paused", None, timedelta(0))
    history.append(resumed(utc("2026-01-13T07:00Z")))  # Tue 08:00 CET
    update = evaluate(policy, history, utc("2026-01-13T07:00Z"))["next_update"]
    assert update.due_at == utc("2026-01-13T16:00Z")


def test_it_does_not_resume_a_met_target(policy: SlaPolicy) -> None:
    history = [
        started(MONDAY_0800),
        met("first_response", utc("2026-01-12T08:00Z")),
        paused(utc("2026-01-12T09:00Z")),
        resumed(utc("2026-01-12T10:00Z")),
    ]
    first = evaluate(policy, history, utc("2026-01-20T10:00Z"))["first_response"]
    assert (first.state, first.used) == ("met", H)


def test_it_ignores_repeated_pauses_and_stray_resumes(policy: SlaPolicy) -> None:
    plain = [started(MONDAY_0800), paused(utc("2026-01-12T08:00Z"))]
    noisy = [
        started(MONDAY_0800),
        resumed(utc("2026-01-12T07:30Z")),
        paused(utc("2026-01-12T08:00Z")),
        paused(utc("2026-01-12T08:30Z")),
    ]
    now = utc("2026-01-12T12:00Z")
    assert evaluate(policy, noisy, now) == evaluate(policy, plain, now)


def test_it_sorts_the_history_by_time(policy: SlaPolicy) -> None:
    ordered = [
        started(MONDAY_0800),
        paused(utc("2026-01-12T08:00Z")),
        resumed(utc("2026-01-12T09:00Z")),
    ]
    shuffled = [ordered[2], ordered[0], ordered[1]]
    now = utc("2026-01-12T12:00Z")
    assert evaluate(policy, shuffled, now) == evaluate(policy, ordered, now)


def test_it_returns_nothing_before_the_case_starts(policy: SlaPolicy) -> None:
    assert evaluate(policy, [], MONDAY_0800) == {}
    assert due_moments(policy, [], MONDAY_0800) == []


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([paused(MONDAY_0800)], "begins with 'paused'"),
        ([started(MONDAY_0800), started(MONDAY_0800 + H)], "'started' must come first"),
        ([started(MONDAY_0800), met("first_reply", MONDAY_0800)], "unknown SLA target"),
        ([started(MONDAY_0800 + 5 * H)], "is after now"),
    ],
)
def test_it_refuses_an_inconsistent_history(policy: SlaPolicy, history: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(policy, history, MONDAY_0800 + H)


def test_it_refuses_malformed_events() -> None:
    with pytest.raises(ValueError, match="met: needs target"):
        met(None, MONDAY_0800)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        started(MONDAY_0800.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"targets": {}}, "targets: expected a non-empty table"),
        ({"targets": {"first_response": {}}}, "targets.first_response.within: required"),
        ({"targets": {"first_response": {"within": "4h"}}}, "targets.first_response.within: '4h'"),
        ({"targets": {"first_response": {"within": "PT0S"}}}, "within: must be a positive"),
        ({"targets": {"x": {"within": "PT1H", "warn_at": [1.5]}}}, r"targets.x.warn_at: 1.5"),
        ({"targets": {"x": {"within": "PT1H", "warn_at": [0.5, 0.5]}}}, "repeats"),
        ({"targets": {"x": {"within": "PT1H", "warn": [0.5]}}}, "targets.x: unknown key.*warn"),
        ({"targets": {"x": {"within": "P1M"}}}, "targets.x.within: .*months"),
        ({"calendar": {"timezone": "UTC"}}, "hours: required"),
        ({"escalation": {}}, "sla: unknown key.*escalation"),
    ],
)
def test_it_refuses_invalid_policies_naming_the_key(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaPolicy.from_dict({**POLICY, **change})


def test_it_keeps_a_target_met_while_paused_in_time(policy: SlaPolicy) -> None:
    history = [
        started(MONDAY_0800),
        paused(utc("2026-01-12T08:00Z")),
        met("resolution", utc("2026-03-02T08:00Z")),  # closed weeks later, while waiting
    ]
    resolution = evaluate(policy, history, utc("2026-03-02T09:00Z"))["resolution"]
    assert (resolution.state, resolution.used, resolution.due_at) == ("met", H, None)


def test_it_reports_instants_in_utc() -> None:
    policy = SlaPolicy.from_dict(POLICY)
    start = MONDAY_0800.astimezone(policy.calendar.zone)  # 08:00+01:00
    first = evaluate(policy, [started(start)], utc("2026-01-12T08:00Z"))["first_response"]
    assert first.started_at == MONDAY_0800
    assert first.started_at.tzinfo is first.due_at.tzinfo is UTC  # type: ignore[union-attr]


_POLICY = SlaPolicy.from_dict(POLICY)
_offsets = st.lists(
    st.tuples(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
        st.sampled_from(["paused", "resumed", "met"]),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    _offsets,
    st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)), max_size=5),
)
def test_it_never_moves_first_response_when_next_update_resets(
    start: datetime, steps: list[tuple[timedelta, str]], replies: list[timedelta]
) -> None:
    make = {"paused": paused, "resumed": resumed, "met": lambda at: met("first_response", at)}
    history = [started(start), *(make[kind](start + offset) for offset, kind in steps)]
    with_resets = history + [reset("next_update", start + offset) for offset in replies]
    now = start + timedelta(days=11)
    assert (
        evaluate(_POLICY, with_resets, now)["first_response"]
        == evaluate(_POLICY, history, now)["first_response"]
    )
    first_only = [m for m in due_moments(_POLICY, history, now) if m.target == "first_response"]
    assert first_only == [
        m for m in due_moments(_POLICY, with_resets, now) if m.target == "first_response"
    ]
    # The scheduler's breach moments are the due times the report shows.
    report = evaluate(_POLICY, with_resets, now)
    for moment in due_moments(_POLICY, with_resets, now):
        if moment.threshold == 1.0:
            assert report[moment.target].due_at == moment.due_at
            assert report[moment.target].state == "running"
