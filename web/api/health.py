"""Operations endpoints: ``/health`` (the process answers), ``/ready`` (it can do its
work) and ``/metrics`` (Prometheus text format, administrators only).

``/health`` and ``/ready`` need no sign-in, as load balancers and orchestrators call
them; they tell nothing but the checks' outcome.  ``/metrics`` shows the size of the
case load, which is the business's own information: it needs an administrator's session
or API token (Prometheus sends one with ``authorization.credentials_file``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from engine.errors import Forbidden
from engine.store.health import readiness

from ..answers import errors
from ..auth import SIGNED_IN, acting, runtime_of, settings_of
from ..metrics import AppMetrics
from .operations_answers import Alive, Readiness

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The process answers", response_model=Alive)
def health() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Database reachable, schema at head, a worker beat recently (else 503)",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A check failed; each is named"}},
)
def ready(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    seconds = settings_of(request).ready_heartbeat_seconds
    checks = readiness(rt.db, rt.clock.now(), timedelta(seconds=seconds))
    if seconds == 0:
        checks = [c for c in checks if c.name != "worker"]
    ok = all(c.ok for c in checks)
    body = {"ready": ok, "checks": [asdict(c) for c in checks]}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (administrators)",
    response_class=Response,
    dependencies=SIGNED_IN,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text format",
        },
        **errors(401, 403),
    },
)
def metrics(request: Request) -> Response:
    with acting(request) as me:
        if not me.user.is_admin:
            raise Forbidden(f"{me.user.username} is not an administrator")
    registry: AppMetrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
