"""Lists and held mail as one user may see them: the case list, and triage decisions.

The CLI and the web app both answer "which cases may I see here" and "may I decide this
held message"; the answers live here once so that both request sources agree.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from engine.errors import NotFound
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import Case, CaseType

from .case_acts import case_for_action, require_openable
from .checks import search_query
from .saved_views import view_query
from .subject import ALL, Subject


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
