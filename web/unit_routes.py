"""Where a request handler runs: on the event loop or in the thread pool.

FastAPI hands every plain ``def`` handler to a thread pool, so the event loop stays free
while the handler waits on the database.  On SQLite that buys nothing: the database has
one writer, and the app's gate already lets one unit of work run at a time, so the pool
only adds two thread switches and its bookkeeping to each request (measured on the HTTP
lifecycle bench: a quarter of the throughput).  Routes of this class therefore run a plain
handler on the event loop when the app's units are serialized anyway
(``app.state.inline_units``), and in the thread pool otherwise (PostgreSQL, where units
run side by side).  ``async`` handlers are left as they are.

On PostgreSQL the same holds more than one would guess: with eight clients, a process
handing each request to the pool spent half again as much CPU per request (thread
hand-offs, the GIL passed back and forth at every database round trip) as one running
them inline, one at a time, and PostgreSQL itself twice as much.  ``serve --threads 1``
runs them inline there too (scale out with processes); ``--threads N`` caps the pool.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
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
        if request is None:
            return await run_in_threadpool(handler, **values)
        state = request.app.state
        if state.inline_units:
            return handler(**values)
        if state.request_threads is None:
            return await run_in_threadpool(handler, **values)
        if getattr(state, "thread_limiter", None) is None:  # made on the event loop
            state.thread_limiter = anyio.CapacityLimiter(state.request_threads)
        call = functools.partial(handler, **values)
        return await anyio.to_thread.run_sync(call, limiter=state.thread_limiter)

    return run
