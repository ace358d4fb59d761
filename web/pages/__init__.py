"""Server-rendered pages: agents' pages, administration and the customer portal."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from . import (
        account,
        admin,
        admin_audit,
        admin_customers,
        admin_mailboxes,
        admin_sla,
        admin_users,
        agents,
        case_edit,
        finding,
        jobs,
        password_links,
        portal,
        sla_report,
        task_page,
        triage,
    )

    modules = (agents, case_edit, portal, jobs, admin, admin_mailboxes, triage, sla_report)
    admin_pages = (admin_users, admin_audit, admin_customers, admin_sla)
    for module in (*modules, *admin_pages, password_links, account, finding, task_page):
        app.include_router(module.router)
