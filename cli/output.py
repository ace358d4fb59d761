"""Printing results as aligned tables for people or JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any


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
