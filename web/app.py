"""The app factory: one FastAPI app around one application (``casework.compose.App``:
the runtime with its hooks, the mail settings).

Tests build the application over a throw-away database with a manual clock;
``run.py serve`` builds it from the configuration and serves this app with uvicorn.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from casework.compose import App
from engine.run.workload import Workload, workload
from engine.runtime import Runtime

from . import docs, errors
from .api import (
    canned,
    case_edits,
    case_links,
    cases,
    directory,
    health,
    inbox,
    incidents,
    kb,
    messages,
    notifications,
    parties,
    privacy,
    records,
    reports,
    search,
    session,
    tasks,
    tokens,
    triage,
    users,
)
from .metrics import AppMetrics, LatencyMiddleware
from .render import make_environment
from .request_ids import RequestIds
from .security_headers import SecurityHeaders
from .settings import WebSettings
from .sso import pages as sso_pages
from .sso.provider import Provider

STATIC = Path(__file__).parent / "static"
# Swagger UI, served from the installed package: the docs page needs no outside request
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def _field_errors(exc: RequestValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        found.setdefault(where or "body", str(error.get("msg", "is invalid")))
    return found


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": "the request is not valid", "errors": _field_errors(exc)}, status_code=422
    )


def _operation_id(route: APIRoute) -> str:
    """Operation ids are the handlers' names (links in the document refer to them)."""
    return route.name


class WebApp(FastAPI):
    """FastAPI with the security headers and the request id outside everything, errors
    included."""

    def build_middleware_stack(self) -> ASGIApp:
        timed = LatencyMiddleware(super().build_middleware_stack(), self.state.metrics)
        return SecurityHeaders(RequestIds(timed))


def _workload_reader(runtime: Runtime) -> Callable[[], Workload]:
    def read() -> Workload:
        with runtime.sessions() as session:
            return workload(session, runtime.clock.now())

    return read


def create_app(casework: App, settings: WebSettings | None = None) -> FastAPI:
    """The web app over the application ``casework``; ``settings`` default to
    :meth:`WebSettings` defaults (no trusted proxy, cookies Secure over HTTPS only, the
    default sign-in limits)."""
    runtime = casework.runtime
    app = WebApp(
        title="Casework",
        summary="Case management: cases, tasks, streams and permissions",
        version="0.1.0",
        docs_url=None,  # web/docs.py serves it from local files under a strict CSP
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.state.runtime = runtime
    app.state.mail = casework.mail  # the addresses and domain triage decisions use
    app.state.settings = settings = settings or WebSettings()
    app.state.oidc = Provider(settings.oidc) if settings.oidc else None
    sqlite = runtime.db.dialect.name == "sqlite"
    app.state.unit_gate = threading.Lock() if sqlite else contextlib.nullcontext()
    # see unit_routes.py: no thread pool where units are serialized or one thread is asked for
    threads = 1 if sqlite else settings.request_threads
    app.state.inline_units = threads == 1
    app.state.request_threads = threads
    app.state.templates = make_environment()
    app.state.metrics = AppMetrics(_workload_reader(runtime))
    errors.install(app)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for module in (
        session,
        tokens,
        cases,
        case_edits,
        case_links,
        tasks,
        messages,
        incidents,
        users,
        directory,
        inbox,
        parties,
        triage,
        reports,
        search,
        notifications,
        records,
        kb,
        canned,
        privacy,
        docs,
        health,
        sso_pages,
    ):
        app.include_router(module.router)
    from .pages import register as register_pages

    register_pages(app)
    app.mount("/docs/assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
