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
        canned,
        case_card_forms,
        case_edit,
        finding,
        inbox_actions,
        jobs,
        kb,
        parties,
        password_links,
        portal,
        privacy,
        sla_report,
        task_page,
        triage,
    )

    modules = (agents, case_edit, portal, jobs, admin, admin_mailboxes, triage, sla_report)
    admin_pages = (admin_users, admin_audit, admin_customers, admin_sla)
    # kb and the case cards' forms before case_edit: their /cases/{number}/articles and
    # /cases/{number}/records are not among case_edit's verbs
    for module in (
        kb,
        case_card_forms,
        *modules,
        *admin_pages,
        privacy,
        inbox_actions,
        password_links,
        account,
        canned,
        finding,
        parties,
        task_page,
    ):
        app.include_router(module.router)
