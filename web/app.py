"""The app factory: one FastAPI app around one Runtime (database, clock, caches).

Tests build it over a throw-away database with a manual clock; ``run.py serve``
builds it over the configured database and serves it with uvicorn.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from engine.runtime import Runtime

from . import errors
from .api import cases, directory, tasks, tokens, triage
from .render import make_environment

STATIC = Path(__file__).parent / "static"


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


def create_app(runtime: Runtime, *, secure_cookies: bool = False) -> FastAPI:
    """The web app; ``secure_cookies`` marks the session cookie Secure (behind HTTPS)."""
    app = FastAPI(
        title="Casework",
        summary="Case management: cases, tasks, streams and permissions",
        version="0.1.0",
    )
    app.state.runtime = runtime
    sqlite = runtime.db.dialect.name == "sqlite"
    app.state.unit_gate = threading.Lock() if sqlite else contextlib.nullcontext()
    app.state.inline_units = sqlite  # see routing.py: no thread pool for serialized units
    app.state.secure_cookies = secure_cookies
    app.state.templates = make_environment()
    errors.install(app)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for module in (tokens, cases, tasks, directory, triage):
        app.include_router(module.router)
    from .pages import register as register_pages

    register_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
