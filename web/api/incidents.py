"""Incidents over JSON: the failed process steps of cases I may change, and retrying one
after the process was fixed (deploy + migrate).  A retry that fails again answers 422 like
the first failure (the incident counts another attempt); one of a case I may not change
answers 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from rules import incident_acts

from ..answers import IncidentAnswer, errors
from ..auth import SIGNED_IN, acting
from ..unit_routes import UnitRoute
from .params import Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/incidents",
    tags=["incidents"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)


@router.get(
    "",
    summary="Open incidents of the cases I may change, oldest first",
    response_model=list[IncidentAnswer],
)
def list_incidents(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        return incident_acts.list_incidents(me.work, me.subject)


@router.get("/{incident_id}", summary="One incident", response_model=IncidentAnswer)
def show_incident(request: Request, incident_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return incident_acts.show_incident(me.work, me.subject, incident_id)


@router.post(
    "/{incident_id}/retry",
    summary="Replay the failed step on the case as it is now; resolved when it passes",
    response_model=IncidentAnswer,
    responses=errors(409),
)
def retry_incident(request: Request, incident_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return incident_acts.retry_incident(me.work, me.subject, me.user, incident_id)
