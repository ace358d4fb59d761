"""Target outcomes of many cases over one period, fast: the what-if replay's inner loop.

:func:`engine.sla.outcomes.outcomes` replays one history through
:func:`engine.sla.targets.evaluate`, which walks the calendar day by day for every
projection and every stopped segment: right for one case, slow for a hundred thousand.
Over a fixed period the calendar's business time is one non-decreasing function of the
instant, ``elapsed(t)`` (business microseconds since the period's first opening), so a
:class:`Timeline` tabulates the period's opening spans once (and their running totals)
and answers both questions a replay asks by bisection:

- business time between ``a`` and ``b`` is ``elapsed(b) - elapsed(a)``;
- the instant a clock started at ``s`` has used ``d`` of business time is the earliest
  ``t`` with ``elapsed(t) >= elapsed(s) + d`` -- inside opening hours or exactly at a
  closing, like ``BusinessCalendar.add_business_time`` (and ``s`` itself for ``d == 0``).

:func:`fast_outcomes` is ``outcomes`` for a policy without warning thresholds (all that
met/breached needs), on histories of ``(kind, microseconds, target)`` tuples: no
``ClockEvent``, no ``datetime`` and no per-target objects in the loop.  It answers
``None`` for a history it does not cover -- not beginning with one ``started``, an
unknown kind, an instant outside the timeline -- and the caller replays that case the
straightforward way, which also raises the same errors.  The property tests compare the
two on random histories and calendars.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime
from operator import itemgetter
from typing import Any

from .events import TARGETED
from .outcomes import RESOLUTION, Outcome
from .targets import SlaPolicy
from .zones import duration_us, to_us

Event = tuple[str, int, str | None]
"""``(kind, instant in microseconds since the epoch, target or None)``."""

_KINDS = frozenset({"started", "paused", "resumed", "met", "reset"})
_TARGETED = frozenset(TARGETED)
_BY_TIME = itemgetter(1)


class Timeline:
    """A policy's business time tabulated over ``[first, last]``: spans and running totals."""

    def __init__(self, policy: SlaPolicy, first: datetime, last: datetime) -> None:
        """``policy`` without warnings (``engine.sla.whatif.without_warnings``)."""
        self.first, self.last = to_us(first, "first"), to_us(last, "last")
        self.targets = tuple((t.name, duration_us(t.within)) for t in policy.targets)
        self.order = tuple(name for name, _ in self.targets)
        self.names = frozenset(self.order)
        self.place = {name: i for i, name in enumerate(self.order)}
        self.has_resolution = RESOLUTION in self.names
        starts: list[int] = []
        before: list[int] = []  # business time before each span
        after: list[int] = []  # ... and at its end
        total, last_end = 0, None
        #: spans in order and apart, as the calendar promises; else every case falls back
        self.usable = True
        for start, end in policy.calendar.spans_us(first, last):
            if last_end is not None and start < last_end:
                self.usable = False
            starts.append(start)
            before.append(total)
            total += end - start
            after.append(total)
            last_end = end
        self._starts, self._before, self._after = starts, before, after

    def elapsed(self, t: int) -> int:
        """Business microseconds from the first tabulated opening to ``t``."""
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        return min(self._before[i] + t - self._starts[i], self._after[i])

    def reach(self, goal: int) -> int | None:
        """The earliest instant at which ``elapsed`` reaches ``goal`` (> 0), or ``None``
        when that lies beyond the tabulated spans (so after ``last``)."""
        i = bisect_left(self._after, goal)
        if i == len(self._after):
            return None
        return self._starts[i] + goal - self._before[i]


def fast_outcomes(
    line: Timeline, events: list[Event], closed_at: int | None, now: int
) -> dict[str, Outcome] | None:
    """``outcomes(policy, events, closed_at=, now=)`` in microseconds; ``None``: not covered."""
    names = line.names
    end = now if closed_at is None else closed_at
    kept: list[Event] = []
    resolved, in_order = False, True
    starts, previous = 0, -(2**63)
    for event in events:
        kind, at, target = event
        if kind not in _KINDS or (kind in _TARGETED) == (target is None):
            return None  # a malformed history: the straightforward replay names it
        if at <= end and (target is None or target in names):
            kept.append(event)
            if at < previous:
                in_order = False
            previous = at
            if kind == "started":
                starts += 1
            elif target == RESOLUTION and kind == "met":
                resolved = True
    if not kept:
        return {}
    if closed_at is not None and line.has_resolution and not resolved:
        kept.append(("met", closed_at, RESOLUTION))
    if not in_order:
        kept.sort(key=_BY_TIME)  # stable, as the straightforward replay sorts
    kind, start, _ = kept[0]
    if kind != "started" or starts != 1 or start < line.first or end > line.last:
        return None
    if not line.usable:
        return None
    elapsed = line.elapsed
    # per target: [within, elapsed where it runs since (None: stopped), the instant it
    # runs since, business time used, breached, met]
    here = elapsed(start)
    clocks: list[list[Any]] = [[within, here, start, 0, False, False] for _, within in line.targets]
    place = line.place
    paused = False
    for index in range(1, len(kept)):
        kind, at, target = kept[index]
        if kind == "paused":
            if not paused:
                paused = True
                here = elapsed(at)
                for clock in clocks:
                    if clock[1] is not None:
                        _stop(line, clock, at, here, in_time_at_due=False)
        elif kind == "resumed":
            if paused:
                paused = False
                here = elapsed(at)
                for clock in clocks:
                    if not clock[5]:
                        clock[1], clock[2] = here, at
        elif kind == "met":
            clock = clocks[place[target]]  # type: ignore[index]
            if not clock[5]:
                if clock[1] is not None:
                    _stop(line, clock, at, elapsed(at), in_time_at_due=True)
                clock[5] = True
        else:  # reset: a fresh cycle of one target
            i = place[target]  # type: ignore[index]
            clocks[i] = [clocks[i][0], None if paused else elapsed(at), at, 0, False, False]
    found: dict[str, Outcome] = {}
    last = None
    for name, clock in zip(line.order, clocks, strict=True):
        if clock[1] is not None and not clock[4]:
            need = clock[0] - clock[3]
            if need <= 0:
                clock[4] = clock[2] <= end
            else:
                if last is None:
                    last = elapsed(end)
                clock[4] = last >= clock[1] + need
        found[name] = "breached" if clock[4] else "met" if clock[5] else "open"
    return found


def _stop(line: Timeline, clock: list[Any], at: int, here: int, *, in_time_at_due: bool) -> None:
    """Close the running segment of ``clock`` at ``at`` (``here`` = ``elapsed(at)``) and
    record a breach reached in it, as ``targets._Clock.stop`` does.

    The due instant need not be found: ``elapsed`` never decreases, so it lies before
    ``at`` when ``here`` passed the goal and after when it fell short; only a tie asks
    :meth:`Timeline.reach` whether it is ``at`` itself or the end of a closed stretch.
    """
    if not clock[4]:
        need = clock[0] - clock[3]
        if need <= 0:  # due where it runs since
            due: int | None = clock[2]
        elif here != clock[1] + need:
            clock[4] = here > clock[1] + need
            due = None
        else:
            due = line.reach(clock[1] + need)
        if due is not None:
            clock[4] = due < at or (due == at and not in_time_at_due)
    clock[3] += here - clock[1]
    clock[1] = None
