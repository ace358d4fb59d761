"""Engine errors as HTTP answers: 404 not found, 403 forbidden, 409 conflict, 422 invalid
(or a process step that failed).

API paths answer JSON; pages answer the error page (or the login page when the
visitor is not logged in).  Anything unexpected is logged and answered 500 with no
detail, but the handlers are written so that no input reaches that path.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import (
    CaseworkError,
    Conflict,
    DefinitionError,
    Forbidden,
    InvalidInput,
    NotFound,
    ProcessError,
)
from mail.message.quarantine import Quarantine
from people.throttle import TooManyAttempts

from .auth import NotAuthenticated
from .render import render

STATUS: list[tuple[type[Exception], int]] = [
    (TooManyAttempts, 429),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 422),
    (DefinitionError, 422),
    (ProcessError, 422),  # a step of the process failed; the case is as it was
]


#: Machine endpoints outside /api that answer in JSON or plain text, never with a page.
MACHINE_PATHS = ("/metrics", "/ready", "/health")


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in MACHINE_PATHS


def status_of(exc: Exception) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def body_of(exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, InvalidInput | ProcessError):
        body["errors"] = exc.details()
    if isinstance(exc, DefinitionError):
        body["errors"] = {f"problem {i}": str(p) for i, p in enumerate(exc.problems, 1)}
    return body


async def on_engine_error(request: Request, exc: Exception) -> Response:
    code = status_of(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
    if _is_api(request):
        return JSONResponse(body_of(exc), status_code=code, headers=headers)
    portal = request.url.path.startswith("/portal")
    context = {"status": code, "message": str(exc), "portal": portal}
    answer = render(request, "error.html", context, status=code)
    answer.headers.update(headers)
    return answer


async def on_not_authenticated(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    login = "/portal/login" if request.url.path.startswith("/portal") else "/login"
    return RedirectResponse(login, status_code=303)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own refusals; a body it cannot even decode (not UTF-8, say) is bad input
    like any other and answers 422 naming the body, not a bare 400."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        body = {"detail": "the request is not valid", "errors": {"body": str(exc.detail)}}
        return JSONResponse(body, status_code=422)
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(CaseworkError, on_engine_error)
    app.add_exception_handler(Quarantine, on_engine_error)  # a held message that no longer parses
    app.add_exception_handler(NotAuthenticated, on_not_authenticated)
