"""The what-if fast path answers exactly what replaying each history through ``outcomes``
answers, on random histories and awkward calendars (DST gaps, holidays, 24/7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sla import BusinessCalendar, ClockEvent, SlaPolicy, Target
from engine.sla.outcomes import outcomes
from engine.sla.timeline import Timeline, fast_outcomes
from engine.sla.zones import to_us

from .test_properties import CALENDARS

NAMES = ("first_response", "next_update", "resolution")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

withins = st.one_of(
    st.sampled_from(
        [timedelta(hours=1), timedelta(hours=4), timedelta(hours=8), timedelta(days=1)]
    ),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=6)),
)
gaps = st.one_of(
    st.just(timedelta(0)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
)


@st.composite
def policies(draw: st.DrawFn) -> SlaPolicy:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    calendar: BusinessCalendar = draw(st.sampled_from(CALENDARS))
    return SlaPolicy(calendar, tuple(Target(name, draw(withins)) for name in names))


@st.composite
def cases(draw: st.DrawFn) -> tuple[SlaPolicy, list[ClockEvent], datetime | None, datetime]:
    """A policy and a history recorded under any targets (also ones the policy lacks),
    with some events exactly at a target's due instant, a close or none, and now."""
    policy = draw(policies())
    start = draw(
        st.datetimes(
            min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
        )
    )
    events = [ClockEvent("started", start)]
    at = start
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["paused", "resumed", "met", "reset", "met"]))
        target = draw(st.sampled_from((*NAMES, "other"))) if kind in ("met", "reset") else None
        if draw(st.integers(0, 4)) == 0:  # land on a due instant: met there is in time
            within = draw(withins)
            at = max(at, policy.calendar.add_business_time(start, within))
        else:
            at += draw(gaps)
        events.append(ClockEvent(kind, at, target))  # type: ignore[arg-type]
    closed = at + draw(gaps) if draw(st.booleans()) else None
    now = (closed or at) + draw(gaps)
    if draw(st.booleans()) and len(events) > 2:  # stored out of time order: replays sort
        i = draw(st.integers(1, len(events) - 2))
        events[i], events[i + 1] = events[i + 1], events[i]
    return policy, events, closed, now


def micros(events: list[ClockEvent]) -> list[tuple[str, int, str | None]]:
    return [(e.kind, to_us(e.at), e.target) for e in events]


@settings(max_examples=400, deadline=None)
@given(cases(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_the_fast_path_gives_the_outcomes_of_the_straightforward_replay(case, margin):
    policy, events, closed, now = case
    line = Timeline(policy, events[0].at - margin, now + margin)
    fast = fast_outcomes(
        line, micros(events), None if closed is None else to_us(closed), to_us(now)
    )
    assert fast == outcomes(policy, events, closed_at=closed, now=now)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_a_history_outside_the_tabulated_period_is_left_to_the_straightforward_replay(case):
    policy, events, closed, now = case
    late = Timeline(policy, events[0].at + timedelta(seconds=1), now + timedelta(days=1))
    end = closed or now
    early = Timeline(policy, events[0].at - timedelta(days=1), end - timedelta(seconds=1))
    for line in (late, early):
        found = fast_outcomes(
            line, micros(events), None if closed is None else to_us(closed), to_us(now)
        )
        assert found is None


def test_a_malformed_history_is_left_to_the_straightforward_replay_which_names_it():
    policy = SlaPolicy(CALENDARS[0], (Target("resolution", timedelta(hours=4)),))
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    line = Timeline(policy, at - timedelta(days=1), at + timedelta(days=1))
    resumed_first = [("resumed", to_us(at), None), ("started", to_us(at), None)]
    assert fast_outcomes(line, resumed_first, None, to_us(at)) is None
    twice = [("started", to_us(at), None), ("started", to_us(at), None)]
    assert fast_outcomes(line, twice, None, to_us(at)) is None
