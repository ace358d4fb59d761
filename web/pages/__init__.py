"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import account, admin, agents, case_edit, portal, sla_report, triage

    for module in (agents, case_edit, portal, admin, triage, sla_report, account):
        app.include_router(module.router)
