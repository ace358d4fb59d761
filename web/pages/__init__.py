"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import account, admin, admin_mailboxes, agents, jobs, portal, sla_report, triage

    for module in (agents, portal, jobs, admin, admin_mailboxes, triage, sla_report, account):
        app.include_router(module.router)
