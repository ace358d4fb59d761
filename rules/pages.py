"""What a user may do with a case as a whole: find it for an action, open one, read its page.

The CLI and the web app both answer "show me this case" and "may I open this kind of
case"; the answers live here once so that both request sources agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select

from engine.errors import Forbidden, NotFound
from engine.run import cases, posts, tasks
from engine.run import summaries as views
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import Case, CaseType, CaseTypeVersion, HumanTask, User

from .decisions import (
    allows,
    can,
    level_and_sections,
    posts_at_level,
    search_query,
    visible_case,
)
from .levels import ACTIONS, Level
from .subject import ALL, Subject, load_subject
from .views import view_query


def case_for_action(work: UnitOfWork, subject: Subject, number: str, action: str) -> Case:
    """The case for ``action``: "not found" when the subject cannot even see it (a forged
    number reveals nothing), "forbidden" when it can see it but not do this."""
    case = visible_case(work, subject, number, "summary")
    if not can(work, subject, action, case):
        raise Forbidden(f"{subject.username} may not {action.replace('_', ' ')} on {number}")
    return case


def require_visible_task(work: UnitOfWork, user: User, task_id: int) -> None:
    """Refuse a task the user may not even see the summary of its case with "not found",
    so a forged task id reveals nothing (acting on it is then the engine's decision).
    Whoever may act on an open task sees it (the task_user rule): that is one indexed
    read, so the full rule check runs only for everyone else."""
    if tasks.may_act_now(work, task_id, user):
        return
    task = work.session.get(HumanTask, task_id)
    case = work.session.get(Case, task.case_id) if task else None
    if task is None or case is None or not can(work, load_subject(work, user), "summary", case):
        raise NotFound(f"no task {task_id}")


def visible_task(work: UnitOfWork, user: User, task_id: int) -> HumanTask:
    """The task, when :func:`require_visible_task` lets the user see it."""
    require_visible_task(work, user, task_id)
    return tasks.get_task(work, task_id)


_TYPES_WITH_CONFIG = (
    select(CaseType, CaseTypeVersion.config)
    .join(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
    .order_by(CaseType.key)
)
_TYPE_CONFIG_BY_KEY = (
    select(CaseType.id, CaseTypeVersion.config)
    .outerjoin(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
    .where(CaseType.key == bindparam("key"))
)


def _may_open(subject: Subject, type_id: int, config: dict[str, Any] | None) -> bool:
    """Admins open every type; agents those they may write; portal users those whose process
    has a lane for the raising customer (the owner role).  View-only types: nobody."""
    if config is None or config.get("view_only"):
        return False
    for_customers = "owner" in config["case_type"].get("lanes", {}).values()
    if subject.is_admin or subject.writes_type(type_id):
        return True
    return subject.portal is not None and for_customers


def openable_types(work: UnitOfWork, subject: Subject) -> list[CaseType]:
    """Case types the subject may open cases of (see :func:`_may_open`)."""
    rows = work.session.execute(_TYPES_WITH_CONFIG)
    return [kind for kind, config in rows if _may_open(subject, kind.id, config)]


def workable_type_keys(work: UnitOfWork, subject: Subject) -> frozenset[str] | None:
    """Keys of the case types the subject may write (``None``: every type).  Mail held for
    triage belongs to its mailbox's case type: these are the types whose mail they decide."""
    if subject.is_admin or subject.writable_types == ALL:
        return None
    if subject.portal is not None or not subject.writable_types:
        return frozenset()
    ids = sorted(subject.writable_types)
    return frozenset(work.session.scalars(select(CaseType.key).where(CaseType.id.in_(ids))))


def require_triage_decision(
    work: UnitOfWork, subject: Subject, inbound_id: int, *, into: str | None
) -> None:
    """Refuse a decision on held mail the subject may not take.  The message must be in a
    mailbox of a type the subject works ("not found" otherwise, as for a case); opening a
    case for it needs the right to open that type, threading it the right to post on the
    case ``into``."""
    row = work.session.get(InboundMessage, inbound_id)
    mailbox = work.session.get(Mailbox, row.mailbox_id) if row else None
    keys = workable_type_keys(work, subject)
    if mailbox is None or (keys is not None and mailbox.case_type_key not in keys):
        raise NotFound(f"no inbound message {inbound_id}")
    if into is None:
        require_openable(work, subject, mailbox.case_type_key)
    else:
        case_for_action(work, subject, into, "post")


def require_openable(work: UnitOfWork, subject: Subject, case_type: str) -> None:
    """Refuse opening a case type the subject may not open (unknown keys are not found)."""
    row = work.session.execute(_TYPE_CONFIG_BY_KEY, {"key": case_type}).first()
    if row is None:
        raise NotFound(f"no case type {case_type}")
    if not _may_open(subject, row[0], row[1]):
        raise Forbidden(f"{subject.username} may not open {case_type} cases")


def case_page(work: UnitOfWork, subject: Subject, user: User, number: str) -> dict[str, Any]:
    """The case as this subject may see it: the sections its roles allow, the tasks it may
    act on (all of them for those with case actions), and the stream without what it may
    not read (internal posts never reach portal users)."""
    case = cases.case_by_number(work, number)
    level, shown = level_and_sections(work, subject, case)
    if level < Level.SUMMARY:
        raise NotFound(f"no case {number}")  # as visible_case: a forged number reveals nothing
    detail = views.case_detail(work, case)
    if "case_details" not in shown or shown == {"case_details"}:
        detail = {k: detail[k] for k in ("number", "subject", "status", "type", "priority")}
        detail["tasks"], detail["history"] = [], []
    else:
        detail["data"] = cases.case_data(work, case)
        if "case_actions" not in shown:  # e.g. the owner: only the tasks that are theirs
            detail["history"] = []
            detail["tasks"] = [
                t
                for t in detail["tasks"]
                if t["state"] == "open" and tasks.is_eligible(work, t["id"], user)
            ]
    shown_posts = posts_at_level(work, subject, case.id, level) if "communications" in shown else []
    files = posts.attachments_of(work, [p.id for p, _ in shown_posts])
    detail["stream"] = [
        {
            "id": p.id,
            "at": p.created_at,
            "author": author,
            "internal": p.internal,
            "body": p.body,
            "attachments": files.get(p.id, []),
        }
        for p, author in shown_posts
    ]
    detail["sections"] = sorted(shown)
    detail["allowed"] = [action for action in ACTIONS if allows(subject, level, action)]
    return detail


def case_list_query(
    work: UnitOfWork,
    subject: Subject,
    *,
    view: str | None = None,
    text: str = "",
    priority: str | None = None,
    status: str | None = None,
    case_type: str | None = None,
) -> Select[tuple[Case]]:
    """Cases for a list page: a named view or a search, narrowed by status and case type,
    always within what the subject may see (newest first)."""
    if view:
        query = view_query(work, subject, view)
        if text:
            matching = search_query(subject, text).with_only_columns(Case.id).order_by(None)
            query = query.where(Case.id.in_(matching))
        if priority:
            query = query.where(Case.priority == priority)
    else:
        query = search_query(subject, text, priority=priority)
    if status:
        query = query.where(Case.status == status)
    if case_type:
        query = query.join(CaseType, CaseType.id == Case.case_type_id).where(
            CaseType.key == case_type
        )
    return query
