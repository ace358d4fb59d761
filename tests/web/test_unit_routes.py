"""Plain handlers run on the event loop when the app's units are serialized (SQLite) and in
the thread pool otherwise, with their parameters, validation and schema unchanged."""

from __future__ import annotations

import threading

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from web.unit_routes import UnitRoute


def _app(inline: bool) -> FastAPI:
    router = APIRouter(route_class=UnitRoute)

    @router.get("/loop")
    async def loop_thread() -> dict[str, str]:  # async handlers always run on the loop
        return {"thread": threading.current_thread().name}

    @router.get("/plain")
    def plain(request: Request, count: int) -> dict[str, object]:
        return {"thread": threading.current_thread().name, "count": count}

    app = FastAPI()
    app.state.inline_units = inline
    app.include_router(router)
    return app


@pytest.mark.parametrize("inline", [True, False], ids=["serialized units", "parallel units"])
def test_a_plain_handler_runs_inline_only_when_units_are_serialized(inline: bool):
    with TestClient(_app(inline)) as client:
        loop = client.get("/loop").json()["thread"]
        answer = client.get("/plain", params={"count": 3}).json()
    assert answer["count"] == 3
    assert (answer["thread"] == loop) is inline


def test_the_wrapped_handler_keeps_its_parameters_validation_and_schema():
    with TestClient(_app(True)) as client:
        refused = client.get("/plain", params={"count": "many"})
        schema = client.get("/openapi.json").json()
    assert refused.status_code == 422
    parameters = schema["paths"]["/plain"]["get"]["parameters"]
    assert [(p["name"], p["schema"]["type"]) for p in parameters] == [("count", "integer")]
