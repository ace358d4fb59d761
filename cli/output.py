"""Printing results as aligned tables for people or JSON for scripts, and progress bars."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NoReturn, TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def emit(data: Any, *, as_json: bool, table: Sequence[str] | None = None) -> None:
    """Print ``data`` (a dict or a list of dicts); ``table`` picks columns for people."""
    if as_json:
        print(json.dumps(data, default=_default, indent=2, ensure_ascii=False))
        return
    if isinstance(data, list):
        print_table(data, table or (list(data[0]) if data else []))
        return
    for key, value in data.items():
        if isinstance(value, list | dict):
            value = json.dumps(value, default=_default, ensure_ascii=False)
        print(f"{key + ':':<16} {'' if value is None else value}")


def done(message: str, *, as_json: bool, **facts: Any) -> None:
    """A command's confirmation: the sentence for people, the same facts as JSON for scripts
    (so with ``--json`` standard output is always one JSON document)."""
    if as_json:
        emit(facts, as_json=True)
    else:
        print(message)


def print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    text = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in text)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in text:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


class ProgressBar:
    """``migrating  45%|████▌     | 4500/10000 [00:12<00:15, 370 cases/s]``.

    Drawn on standard error only while it is a terminal: piped or redirected (a script,
    a log file, the tests) it stays silent, so nothing but results reaches a reader.
    Call it as ``bar(done, total)`` -- the shape of the engine's progress callbacks -- or
    wrap an iterable with :func:`progress`.
    """

    def __init__(self, label: str, unit: str = "cases", stream: TextIO | None = None) -> None:
        self._options = _options(label, unit, stream)
        self._bar: tqdm[NoReturn] | None = None  # drawn at the first step, not before

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, **self._options)
        elif self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable[T],
    label: str,
    *,
    unit: str = "cases",
    total: int | None = None,
    stream: TextIO | None = None,
) -> tqdm[T]:
    """``iterable`` with a progress bar on a terminal (none when standard error is not one)."""
    return tqdm(iterable, total=total, **_options(label, unit, stream))


def _options(label: str, unit: str, stream: TextIO | None) -> dict[str, Any]:
    stream = stream or sys.stderr
    return {
        "desc": label,
        "unit": f" {unit}",
        "file": stream,
        "disable": None,  # tqdm's "off unless the stream is a terminal"
        # follow the terminal's size; one that reports none (0x0, as some pseudo-terminals
        # do) gets 80x24 instead of a bar tqdm would hide as "off the screen"
        **({"dynamic_ncols": True} if _sized(stream) else {"ncols": 80, "nrows": 24}),
        "mininterval": 0.2,
    }


def _sized(stream: TextIO) -> bool:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):  # not a terminal, or no file behind it
        return False
    return size.columns > 0 and size.lines > 0
