"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import (
        account,
        admin,
        admin_mailboxes,
        agents,
        case_edit,
        finding,
        jobs,
        parties,
        portal,
        sla_report,
        task_page,
        triage,
    )

    modules = (agents, case_edit, portal, jobs, admin, admin_mailboxes, triage, sla_report)
    for module in (*modules, account, finding, parties, task_page):
        app.include_router(module.router)
