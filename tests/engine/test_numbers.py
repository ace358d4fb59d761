"""Typed numbers: only ASCII digits within the range count; anything else is no number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.numbers import MAX_ID, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("0012", 12),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),  # past the databases' INTEGER ids
        ("0", None),  # ids start at 1
        ("²", None),  # isdigit() says yes, int() says no
        ("١٢", None),  # int() would read 12 from Arabic-Indic digits
        (" 12", None),
        ("1_000", None),
        ("-3", None),
        ("", None),
        ("9" * 400, None),  # no giant int() conversion
    ],
)
def test_whole_number_reads_only_ascii_digits_in_range(text: str, expected: int | None):
    assert whole_number(text) == expected


def test_the_range_is_the_callers():
    assert whole_number("0", low=0) == 0
    assert whole_number("65536", high=65535) is None
    assert whole_number(42) == 42  # an id already parsed passes through


@given(st.text(max_size=12))
def test_any_text_is_a_number_or_none_never_an_error(text: str):
    value = whole_number(text)
    assert value is None or (str(value) == text.lstrip("0") and 1 <= value <= MAX_ID)
