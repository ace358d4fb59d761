"""Plain handlers run on the event loop when the app's units are serialized (SQLite) or one
request thread is asked for, and in a thread pool otherwise (capped at ``--threads`` when
given), with their parameters, validation and schema unchanged."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from web.unit_routes import UnitRoute


def _app(inline: bool, threads: int | None = None) -> FastAPI:
    router = APIRouter(route_class=UnitRoute)
    running = {"now": 0, "most": 0}
    lock = threading.Lock()

    @router.get("/slow")
    def slow(request: Request) -> dict[str, int]:
        """Holds its thread a while, noting how many handlers ran at once."""
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.2)
        with lock:
            running["now"] -= 1
        return dict(running)

    @router.get("/loop")
    async def loop_thread() -> dict[str, str]:  # async handlers always run on the loop
        return {"thread": threading.current_thread().name}

    @router.get("/plain")
    def plain(request: Request, count: int) -> dict[str, object]:
        return {"thread": threading.current_thread().name, "count": count}

    app = FastAPI()
    app.state.inline_units = inline
    app.state.request_threads = threads
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


@pytest.mark.parametrize("threads", [2, 3])
def test_the_thread_count_caps_how_many_handlers_run_at_once(threads: int):
    """``serve --threads N`` on PostgreSQL: at most N requests are in handlers at once, the
    rest wait their turn (and are all answered)."""
    with TestClient(_app(False, threads)) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get("/slow"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert max(a.json()["most"] for a in answers) == threads


def test_one_thread_runs_requests_on_the_event_loop_on_postgresql(postgres_url: str):
    """``--threads 1`` on PostgreSQL: no hand-off to a thread (see web/unit_routes.py)."""
    from tests.conftest import wired_app
    from tests.scratch_db import scratch_schema
    from web.app import create_app
    from web.settings import WebSettings

    with scratch_schema(postgres_url) as url:
        wired = wired_app(url)
        try:
            one = create_app(wired, WebSettings(request_threads=1))
            pooled = create_app(wired, WebSettings())
            capped = create_app(wired, WebSettings(request_threads=4))
        finally:
            wired.runtime.close()
    assert one.state.inline_units is True
    assert pooled.state.inline_units is False and pooled.state.request_threads is None
    assert capped.state.inline_units is False and capped.state.request_threads == 4


@pytest.mark.parametrize("typed", ["0", "-1", "many", "1.5", "257", "\u0661"])
def test_a_thread_count_that_is_not_one_to_256_is_refused_by_name(typed: str):
    from engine.errors import InvalidInput
    from web.settings import WebSettings

    with pytest.raises(InvalidInput) as refused:
        WebSettings.from_env({"CASEWORK_REQUEST_THREADS": typed})
    assert "whole number from 1 to 256" in str(refused.value)
