"""Prepared statements convert datetimes exactly as the column type does, whichever
datetime objects repeat (the converter remembers the last one it saw)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from engine.store.fast import _shared_datetime
from engine.store.types import UTCDateTime

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.just(timezone(timedelta(hours=5, minutes=30))),
)


@given(st.lists(MOMENTS, min_size=1, max_size=8), st.lists(st.integers(0, 7), max_size=30))
def test_same_values_as_the_type_in_any_order(moments: list[datetime], picks: list[int]) -> None:
    """Objects seen again, equal objects that are not the same object, and new ones: every
    answer is what the column type's own processor gives."""
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        kind = UTCDateTime()
        own = kind.dialect_impl(dialect).bind_processor(dialect)
        assert own is not None
        shared = _shared_datetime(kind, dialect, own)
        sequence = [moments[i % len(moments)] for i in picks] + moments
        sequence += [m.replace() for m in moments]  # equal, not identical
        assert [shared(m) for m in sequence] == [own(m) for m in sequence]
