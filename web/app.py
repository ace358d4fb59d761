"""The app factory: one FastAPI app around one Runtime (database, clock, caches).

Tests build it over a throw-away database with a manual clock; ``run.py serve``
builds it over the configured database and serves it with uvicorn.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from engine.runtime import Runtime

from . import docs, errors
from .api import cases, directory, incidents, messages, session, tasks, tokens, triage
from .headers import SecurityHeaders
from .render import make_environment
from .settings import WebSettings

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


class App(FastAPI):
    """FastAPI with the security headers outside everything, errors included."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(runtime: Runtime, settings: WebSettings | None = None) -> FastAPI:
    """The web app over ``runtime``; ``settings`` default to :meth:`WebSettings` defaults
    (no trusted proxy, cookies Secure over HTTPS only, the default sign-in limits)."""
    app = App(
        title="Casework",
        summary="Case management: cases, tasks, streams and permissions",
        version="0.1.0",
        docs_url=None,  # web/docs.py serves it from local files under a strict CSP
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.state.runtime = runtime
    app.state.settings = settings or WebSettings()
    sqlite = runtime.db.dialect.name == "sqlite"
    app.state.unit_gate = threading.Lock() if sqlite else contextlib.nullcontext()
    app.state.inline_units = sqlite  # see routing.py: no thread pool for serialized units
    app.state.templates = make_environment()
    errors.install(app)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for module in (session, tokens, cases, tasks, messages, incidents, directory, triage, docs):
        app.include_router(module.router)
    from .pages import register as register_pages

    register_pages(app)
    app.mount("/docs/assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
