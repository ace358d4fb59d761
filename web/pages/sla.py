"""SLA clocks on the case page: each target's state, deadline and business time left, from
the case's clock history (the same figures as ``run.py sla show``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import UnitOfWork
from engine.sla import clocks as sla_clocks


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def clock_lines(work: UnitOfWork, case_id: int) -> list[dict[str, Any]]:
    """One line per SLA target: breached, met, paused (waiting on the customer), or due at a
    time with the business time left (``warning`` once a warning threshold has passed)."""
    shown = sla_clocks.clocks(work, case_id)
    if shown is None:
        return []
    lines = []
    for target in shown.targets:
        if target.state == "breached":
            assert target.breached_at is not None
            state, text = "breached", f"breached {_span(work.now - target.breached_at)} ago"
        elif target.state == "met":
            state, text = "met", f"met {target.met_at:%Y-%m-%d %H:%M} UTC"
        elif target.state == "paused":
            state = "paused"
            text = f"paused while waiting on the customer, {_span(target.remaining)} left"
        else:
            assert target.due_at is not None
            warned = any(at is not None and at <= work.now for _, at in target.warnings)
            state = "warning" if warned else "ok"
            text = (
                f"{_span(target.remaining)} business time left "
                f"(due {target.due_at:%Y-%m-%d %H:%M} UTC)"
            )
        lines.append({"name": target.target, "state": state, "text": text})
    return lines
