"""Reports over JSON: the SLA report, for agents, over the case types they may read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from engine.sla import report as sla_report
from rules.sla_reports import report_types

from ..answers import errors
from ..auth import SIGNED_IN, Actor, acting
from ..unit_routes import UnitRoute
from .operations_answers import SlaReport

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/reports",
    tags=["reports"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def build_report(
    me: Actor,
    case_type: str | None,
    first: str | None,
    last: str | None,
    at_risk_hours: float,
) -> dict[str, Any]:
    """The report as the signed-in user may see it (the page uses it too)."""
    types = report_types(me.work, me.subject, case_type)
    built = sla_report.build(
        me.work,
        case_type_ids=types,
        first_month=sla_report.month_number(first) if first else None,
        last_month=sla_report.month_number(last) if last else None,
        at_risk_hours=at_risk_hours,
    )
    return sla_report.as_dicts(built)


@router.get(
    "/sla",
    summary="SLA report: cases, response and resolution times, targets met, at risk now",
    response_model=SlaReport,
)
def sla(
    request: Request,
    case_type: Annotated[str | None, Query(max_length=50)] = None,
    from_: Annotated[str | None, Query(alias="from", pattern=MONTH, max_length=7)] = None,
    to: Annotated[str | None, Query(pattern=MONTH, max_length=7)] = None,
    at_risk_hours: Annotated[float, Query(gt=0, le=8784)] = 4.0,
) -> dict[str, Any]:
    """Per case type, handling group, priority and month; only the case types the caller
    may read (a type asked for by name that they may not read: 404).  Customers: 403."""
    with acting(request) as me:
        return build_report(me, case_type, from_, to, at_risk_hours)
