"""A case as one user may see it: the agents' view and the customers' view.

The CLI's ``case show``, the API's ``GET /api/cases/{number}``, the agents' case page and
the portal page all answer this, so they never differ.  What is shown follows the one
decision (:func:`rules.decision.decide`): the sections its roles allow, the actions it
allows, the stream without what may not be read.  Customers get only the case type's
public fields and never an internal post, the history or a staff member's name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from engine.errors import NotFound
from engine.run import attachments, case_edits, case_links, cases, summaries, task_queries
from engine.run.incidents import describe, open_incidents
from engine.runtime import UnitOfWork
from engine.store.models import Case, CaseContact, Contact, User

from .checks import contact_filter, posts_at_level, related_cases_query
from .decision import Decision, decide
from .facts import CaseFacts, load_facts
from .levels import ACTIONS, Level
from .public import agent_fields, customer_fields, customer_side, staff_name, version_of
from .subject import Subject

_SUMMARY_KEYS = ("number", "subject", "status", "type", "priority")
_CUSTOMER_KEYS = (*_SUMMARY_KEYS, "created_at", "updated_at", "closed_at")


def allowed_actions(subject: Subject, facts: CaseFacts) -> list[str]:
    """Every action the decision allows this subject on the case (the page's buttons)."""
    return [action for action in ACTIONS if decide(subject, facts, action).allowed]


def seen_case(work: UnitOfWork, subject: Subject, number: str) -> tuple[Case, Decision, CaseFacts]:
    """The case and the decision to show it; "not found" below summary, like a missing one."""
    case = cases.case_by_number(work, number)
    facts = load_facts(work, case, subject)
    decision = decide(subject, facts, "summary")
    if not decision.allowed:
        raise NotFound(f"no case {number}")  # a forged number reveals nothing
    return case, decision, facts


def customer_summary(work: UnitOfWork, case: Case) -> dict[str, Any]:
    """A case in a customer's list: no staff names, no internal timers."""
    summary = summaries.case_summary(work, case)
    return {key: summary[key] for key in _CUSTOMER_KEYS}


def summary_for(work: UnitOfWork, subject: Subject, case: Case) -> dict[str, Any]:
    """A case in a list, as this subject may see it."""
    if subject.portal is not None:
        return customer_summary(work, case)
    return summaries.case_summary(work, case)


def customer_task(task: dict[str, Any], me: User) -> dict[str, Any]:
    """A task as its customer sees it: what to do and the form, not who else may do it."""
    mine = me.username
    return {
        "id": task["id"],
        "case": task["case"],
        "name": task["name"],
        "state": task["state"],
        "created_at": task["created_at"],
        "claimed_by": mine if task["claimed_by"] == mine else None,
        "completed_by": mine if task["completed_by"] == mine else None,
        "form": task["form"],
    }


def task_views(
    work: UnitOfWork, subject: Subject, user: User, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Task summaries as this subject may see them (customers: :func:`customer_task`)."""
    if subject.portal is None:
        return rows
    return [customer_task(row, user) for row in rows]


def _stream(
    work: UnitOfWork, subject: Subject, case: Case, level: Level, customer: bool
) -> list[dict[str, Any]]:
    shown = posts_at_level(work, subject, case.id, level)
    files = attachments.attachments_of(work, [p.id for p, _ in shown])
    customers = (
        customer_side(work, {p.author_id for p, _ in shown if p.author_id}) if customer else set()
    )
    team = staff_name(version_of(work, case)) if customer else ""
    return [
        {
            "id": p.id,
            "at": p.created_at,
            "author": author if not customer or p.author_id in customers else team,
            "internal": p.internal,
            "body": p.body,
            "attachments": files.get(p.id, []),
        }
        for p, author in shown
    ]


def _contacts(work: UnitOfWork, subject: Subject, case: Case) -> list[dict[str, Any]]:
    """The case's main and additional contacts the subject may read (seed 002: the case
    stays visible, contacts of customer groups they may not read are left out)."""
    rows = work.session.scalars(
        select(Contact)
        .where(
            or_(
                Contact.id == case.main_contact_id,
                Contact.id.in_(
                    select(CaseContact.contact_id).where(CaseContact.case_id == case.id)
                ),
            ),
            contact_filter(subject),
        )
        .order_by(Contact.id)
    )
    return [
        {"id": c.id, "name": c.name, "email": c.email, "main": c.id == case.main_contact_id}
        for c in rows
    ]


def linked_cases(work: UnitOfWork, subject: Subject, case: Case) -> list[dict[str, Any]]:
    """The cases linked to ``case`` that the subject may read, each with how ``case``
    relates to it (``link``); the others are left out without a trace (seed 002)."""
    kinds = case_links.kinds_of(work, case.id)
    if not kinds:
        return []
    shown = work.session.scalars(related_cases_query(subject, case.id))
    return [{**summary_for(work, subject, c), "link": kinds[c.id]} for c in shown]


def case_page(work: UnitOfWork, subject: Subject, user: User, number: str) -> dict[str, Any]:
    """The case as this subject may see it: the sections its roles allow, the tasks it may
    act on (all of them for those with case actions), the stream without what it may not
    read, the fields it may see, and the actions the decision allows."""
    case, decision, facts = seen_case(work, subject, number)
    shown, customer = decision.sections, subject.portal is not None
    detail = summaries.case_detail(work, case)
    if shown <= {"case_details"}:  # a task user's summary
        detail = {k: detail[k] for k in _SUMMARY_KEYS}
        detail["tasks"], detail["history"] = [], []
    else:
        data = cases.case_data(work, case)
        version = version_of(work, case)
        if customer:
            fields = customer_fields(version, data)
            detail = {k: detail[k] for k in _CUSTOMER_KEYS} | {"tasks": detail["tasks"]}
            detail["data"] = {f["id"]: f["value"] for f in fields}
        else:
            fields = agent_fields(version, data)
            detail["data"] = data
        detail["fields"] = fields
        if "case_actions" not in shown:  # e.g. the owner: only the tasks that are theirs
            detail["history"] = []
            detail["tasks"] = [
                t
                for t in detail["tasks"]
                if t["state"] == "open" and task_queries.is_eligible(work, t["id"], user)
            ]
        detail["tasks"] = task_views(work, subject, user, detail["tasks"])
        if not customer:  # who else reads and posts here (seed 000's collaborators)
            detail["collaborators"] = case_edits.collaborators(work, case.id)
    communications = "communications" in shown
    detail["stream"] = (
        _stream(work, subject, case, decision.level, customer) if communications else []
    )
    detail["contacts"] = _contacts(work, subject, case) if "contact_details" in shown else []
    detail["related"] = linked_cases(work, subject, case) if "linked_cases" in shown else []
    detail["sections"] = sorted(shown)
    detail["allowed"] = allowed_actions(subject, facts)
    if "write" in detail["allowed"]:  # its managers see the steps that failed
        detail["incidents"] = [describe(work, i) for i in open_incidents(work, case_id=case.id)]
    return detail
