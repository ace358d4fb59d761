"""``X-Request-ID``: every request has an id, in its answer and in every log line about it.

A proxy or client that sends an id (letters, digits, ``.-_:``; up to 128 characters) has
it honoured, so one request can be followed from the load balancer into our logs; else we
make one.  The answer carries it back in the same header.  Each request also leaves one
log line (``casework.web.request``: method, path, status, milliseconds), naming the case
when the route is a case's (``/cases/{number}``, ``/api/cases/{number}/...``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import log_context

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("casework.web.request")


def request_id_of(scope: Scope) -> str:
    """The id the caller sent, when it is a sensible one; else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            sent = bytes(value).decode("latin-1").strip()
            if _ACCEPTED.fullmatch(sent):
                return sent
            break
    return uuid.uuid4().hex


class RequestIds:
    """Sets the request id (and, once routed, the case) for the request's log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = request_id_of(scope)
        request_token = log_context.request_id.set(request)
        case_token = log_context.case_key.set(None)
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            number = scope.get("path_params", {}).get("number")
            if isinstance(number, str):
                log_context.case_key.set(number)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            log_context.case_key.reset(case_token)
            log_context.request_id.reset(request_token)
