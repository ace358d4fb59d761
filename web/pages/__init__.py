"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import agents

    app.include_router(agents.router)
