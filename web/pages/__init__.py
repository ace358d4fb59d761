"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import account, admin, agents, jobs, portal, sla_report, triage

    for module in (agents, portal, jobs, admin, triage, sla_report, account):
        app.include_router(module.router)
