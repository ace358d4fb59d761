"""The agent's work list: open cases they may see, with SLA state, sorted, filtered, paged.

Every row and every count comes from ``case_list_query`` (the one visibility decision
every case list uses) or, for a task user, from the task visibility of ``task_acts`` (a
case they hold an open task of, seen as part of the task), so a case hidden from the user
is neither listed nor counted.  The
SLA state is read from the SLA timer rows the engine keeps (``engine.sla.clocks``): a
waiting breach threshold (fraction 1) gives the due date, a passed one means breached,
and a passed warning threshold with the breach still ahead means at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from engine.run import task_queries
from engine.runtime import UnitOfWork
from engine.store.models import Case, CaseType, HumanTask, StreamPost, Timer, User

from . import task_acts
from .case_lists import case_list_query
from .saved_views import view_query
from .subject import Subject

FILTERS = ("all", "mine", "groups", "unassigned", "at_risk", "breached")
SORTS = ("key", "subject", "type", "priority", "sla", "due", "assignee", "activity")
PAGE_SIZE = 25
_PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


#: the case's oldest open task, shown under the subject so the agent sees what is waiting
_CURRENT_TASK = (
    select(HumanTask.name)
    .where(HumanTask.case_id == Case.id, HumanTask.state == "open")
    .order_by(HumanTask.id)
    .limit(1)
    .correlate(Case)
    .scalar_subquery()
)


@dataclass(frozen=True)
class WorkPage:
    """One page of the work list and what the page links need."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def _sla_columns(now: datetime) -> tuple[Any, Any, Any]:
    """SQL per case: the breach due date, whether breached, whether at risk."""
    sla = and_(Timer.case_id == Case.id, Timer.source == "sla")
    due = (
        select(func.min(Timer.due_at))
        .where(sla, Timer.state == "waiting", Timer.threshold >= 1, Timer.due_at > now)
        .scalar_subquery()
    )
    breached = exists().where(
        sla,
        Timer.threshold >= 1,
        or_(Timer.state == "fired", and_(Timer.state == "waiting", Timer.due_at <= now)),
    )
    warned = exists().where(
        sla,
        Timer.threshold < 1,
        or_(Timer.state == "fired", and_(Timer.state == "waiting", Timer.due_at <= now)),
    )
    at_risk = and_(~breached, warned, due.is_not(None))
    return due, breached, at_risk


def _on_the_list(work: UnitOfWork, subject: Subject, user: User, status: str | None) -> Any:
    """SQL: the case is one the user may list, or holds an open task of."""
    listed_ids = (
        case_list_query(work, subject, status=status).with_only_columns(Case.id).order_by(None)
    )
    # a task user (specialist) may not list the case, but sees it as part of their task
    theirs = and_(
        task_acts.visible_tasks(subject),
        exists().where(
            HumanTask.case_id == Case.id,
            HumanTask.state == "open",
            task_queries.eligible(user.id),
        ),
    )
    return or_(Case.id.in_(listed_ids), theirs)


def changed_since(
    work: UnitOfWork, subject: Subject, user: User, since: datetime, limit: int = 100
) -> list[str]:
    """Numbers of the cases of the user's work list (or just closed from it) changed or
    posted to after ``since``: what the inbox's live refresh announces.  Only cases the
    user may see are ever named."""
    posted = exists().where(StreamPost.case_id == Case.id, StreamPost.created_at > since)
    query = (
        select(Case.number)
        .where(_on_the_list(work, subject, user, None), or_(Case.updated_at > since, posted))
        .order_by(Case.id)
        .limit(limit)
    )
    return [n for n in work.session.scalars(query) if n]


def work_page(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    *,
    show: str = "all",
    sort: str = "sla",
    descending: bool = False,
    page: int = 1,
    view: str | None = None,
) -> WorkPage:
    """A page of the open cases the user may see, narrowed by ``show`` and a role
    ``view`` offered to them (another is "not found") and ordered by ``sort`` (unknown
    values fall back to the defaults rather than failing)."""
    show = show if show in FILTERS else "all"
    sort = sort if sort in SORTS else "sla"
    due, breached, at_risk = _sla_columns(work.now)
    query = select(Case).where(Case.status == "open", _on_the_list(work, subject, user, "open"))
    if show == "mine":
        claimed = exists().where(
            HumanTask.case_id == Case.id,
            HumanTask.state == "open",
            HumanTask.claimed_by_id == user.id,
        )
        query = query.where(or_(Case.assignee_id == user.id, claimed))
    elif show == "groups":
        query = query.where(
            exists().where(
                HumanTask.case_id == Case.id,
                HumanTask.state == "open",
                HumanTask.claimed_by_id.is_(None),
                task_queries.eligible(user.id),
            )
        )
    elif show == "unassigned":
        query = query.where(Case.assignee_id.is_(None))
    elif show == "at_risk":
        query = query.where(at_risk)
    elif show == "breached":
        query = query.where(breached)
    if view:
        in_view = view_query(work, subject, view).with_only_columns(Case.id).order_by(None)
        query = query.where(Case.id.in_(in_view))
    total = work.session.scalar(
        select(func.count()).select_from(query.with_only_columns(Case.id).subquery())
    )
    total = int(total or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    assignee = aliased(User)
    state_rank = case((breached, 0), (at_risk, 1), (due.is_not(None), 2), else_=3)
    rank = case(_PRIORITY_RANK, value=Case.priority, else_=9)
    keys: dict[str, Any] = {
        "key": Case.id,
        "subject": func.lower(Case.subject),
        "type": CaseType.name,
        "priority": rank,
        "sla": state_rank,
        "due": due,
        "assignee": assignee.username,
        "activity": Case.updated_at,
    }
    order = keys[sort].desc() if descending else keys[sort].asc()
    listed = (
        query.add_columns(
            CaseType.name,
            assignee.username,
            assignee.is_active,
            due.label("due"),
            breached.label("b"),
            at_risk,
            _CURRENT_TASK,
        )
        .join(CaseType, CaseType.id == Case.case_type_id, isouter=False)
        .join(assignee, assignee.id == Case.assignee_id, isouter=True)
        .order_by(order.nulls_last(), due.asc().nulls_last(), Case.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = []
    for (
        found,
        type_name,
        assignee_name,
        assignee_active,
        due_at,
        is_breached,
        is_at_risk,
        task,
    ) in work.session.execute(listed):
        state = "breached" if is_breached else "at_risk" if is_at_risk else "ok"
        if due_at is None and not is_breached:
            state = "none"
        rows.append(
            {
                "number": found.number,
                "subject": found.subject,
                "task": task,
                "type": type_name,
                "priority": found.priority,
                "sla": state,
                "due": due_at,
                "left": (due_at - work.now) if due_at is not None else None,
                "assignee": assignee_name,
                "assignee_deactivated": assignee_name is not None and not assignee_active,
                "activity": found.updated_at,
            }
        )
    return WorkPage(rows=rows, total=total, page=page, pages=pages)
