"""SLA clocks on the case page: each target's deadline and the time left, from the timer
rows the worker sweeps (the same rows ``run.py sla show`` lists)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.runtime import UnitOfWork
from engine.store.models import Timer


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    return " ".join([*parts, f"{mins}m"])


def clock_lines(work: UnitOfWork, case_id: int) -> list[dict[str, Any]]:
    """One line per SLA target: breached, or due at a time with the time left (``warning``
    once a warning threshold has passed)."""
    rows = work.session.scalars(
        select(Timer)
        .where(Timer.case_id == case_id, Timer.source == "sla", Timer.state != "cancelled")
        .order_by(Timer.cycle, Timer.threshold)
    )
    targets: dict[str, dict[str, Any]] = {}
    for timer in rows:
        line = targets.setdefault(timer.name, {"name": timer.name, "warned": False})
        if timer.threshold < 1.0 and timer.state == "fired":
            line["warned"] = True
        if timer.threshold >= 1.0:
            line["due_at"], line["fired"] = timer.due_at, timer.state == "fired"
    lines = []
    for line in targets.values():
        if "due_at" not in line:
            continue
        due: datetime = line["due_at"]
        if line["fired"] or due <= work.now:
            state, text = "breached", f"breached {_span(work.now - due)} ago"
        else:
            state = "warning" if line["warned"] else "ok"
            text = f"{_span(due - work.now)} left (due {due:%Y-%m-%d %H:%M} UTC)"
        lines.append({"name": line["name"], "state": state, "text": text})
    return lines
