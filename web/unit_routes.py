"""Where a request handler runs: on the event loop or in the thread pool.

FastAPI hands every plain ``def`` handler to a thread pool, so the event loop stays free
while the handler waits on the database.  On SQLite that buys nothing: the database has
one writer, and the app's gate already lets one unit of work run at a time, so the pool
only adds two thread switches and its bookkeeping to each request (measured on the HTTP
lifecycle bench: a quarter of the throughput).  Routes of this class therefore run a plain
handler on the event loop when the app's units are serialized anyway
(``app.state.inline_units``), and in the thread pool otherwise (PostgreSQL, where units
run side by side).  ``async`` handlers are left as they are.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request


class UnitRoute(APIRoute):
    """An API route whose plain handler runs inline when units are serialized."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _inline_when_serialized(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _inline_when_serialized(handler: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps keeps the handler's signature (FastAPI reads its parameters and
    # return type through __wrapped__); FastAPI always passes them by name.
    @functools.wraps(handler)
    async def run(**values: Any) -> Any:
        request = next((v for v in values.values() if isinstance(v, Request)), None)
        if request is not None and request.app.state.inline_units:
            return handler(**values)
        return await run_in_threadpool(handler, **values)

    return run
