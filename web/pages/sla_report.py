"""The SLA report page: the figures of ``/api/reports/sla`` as a table and bar charts.

The charts are SVG drawn on the server (no script, no chart library, nothing fetched
from elsewhere): per month, targets met and breached stacked, and cases opened beside
cases closed.  Months are summed over the slices shown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..api.reports import MONTH, build_report
from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
Word = Annotated[str, Query(max_length=50)]
WIDTH, HEIGHT, PAD = 640, 180, 24


def _month(text: str) -> str | None:
    return text if re.match(MONTH, text) else None


def bars(series: dict[str, list[int]], colours: list[str], *, stacked: bool) -> dict[str, Any]:
    """Rectangles for one chart: per month, one bar per value (``stacked``: on top of
    each other).  Heights are scaled to the largest month; labels carry the numbers."""
    months = sorted(series)
    top = max((sum(v) if stacked else max(v, default=0) for v in series.values()), default=0)
    top = max(top, 1)
    slot = (WIDTH - PAD) / max(len(months), 1)
    per = len(colours)
    rects, labels = [], []
    for i, month in enumerate(months):
        x0 = PAD + i * slot + slot * 0.1
        base = float(HEIGHT - PAD)
        for j, value in enumerate(series[month]):
            h = (HEIGHT - 2 * PAD) * value / top
            if stacked:
                x, w, y = x0, slot * 0.8, base - h
                base -= h
            else:
                w = slot * 0.8 / per
                x, y = x0 + j * w, HEIGHT - PAD - h
            rects.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "w": round(w, 1),
                    "h": round(h, 1),
                    "fill": colours[j],
                    "title": f"{month}: {value}",
                }
            )
        labels.append({"x": round(x0 + slot * 0.4, 1), "text": month})
    return {"width": WIDTH, "height": HEIGHT, "rects": rects, "labels": labels, "top": top}


@router.get("/reports/sla")
def sla_report_page(
    request: Request,
    case_type: Word = "",
    from_: Annotated[str, Query(alias="from", max_length=7)] = "",
    to: Annotated[str, Query(max_length=7)] = "",
    at_risk_hours: Annotated[float, Query(gt=0, le=8784)] = 4.0,
) -> Response:
    with acting(request) as me:
        agent(me)  # customers have the portal
        context = base_context(me, False)
        first, last = _month(from_), _month(to)
        data = build_report(me, case_type or None, first, last, at_risk_hours)
    targets: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    flow: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in data["rows"]:
        targets[row["month"]][0] += row["targets_met"]
        targets[row["month"]][1] += row["targets_breached"]
        flow[row["month"]][0] += row["opened"]
        flow[row["month"]][1] += row["closed"]
    context.update(
        report=data,
        case_type=case_type,
        first=first or "",
        last=last or "",
        at_risk_hours=at_risk_hours,
        targets_chart=bars(targets, ["#2e7d32", "#c62828"], stacked=True),
        flow_chart=bars(flow, ["#1565c0", "#78909c"], stacked=False),
    )
    return render(request, "sla_report.html", context)
