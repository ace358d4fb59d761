"""Printing results as aligned tables for people or JSON for scripts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TextIO


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


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


class ProgressBar:
    """``label [#####     ] 512/1000 cases`` redrawn in place, at most ten times a second."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self.stream, self.label, self.width = stream, label, width
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} cases")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
