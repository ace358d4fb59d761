"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import account, admin, agents, portal, sla_report, task_page, triage

    for module in (agents, portal, admin, triage, sla_report, account, task_page):
        app.include_router(module.router)
