"""What users do to cases, each through the one decision: open, post, close, hide, wait.

The CLI, the JSON API and the web pages call these, never the engine's changing functions
(a test keeps it so); the engine's functions stay for trusted internal callers (mail
intake, the worker, scenarios).  Every function first finds the case as the acting user
may see it - "not found", exactly as for a case that does not exist, when they may not
see it at all - then asks the decision for the action, then calls the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, select

from engine import audit
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.run import attachments, case_edits, cases, posts
from engine.run.attachments import NewFile
from engine.run.case_types import current_version_id
from engine.run.cases import OpenedCase
from engine.runtime import UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.store.access import CaseAccess
from engine.store.models import (
    Case,
    CaseType,
    CaseTypeVersion,
    Contact,
    PostAttachment,
    StreamPost,
    User,
)

from .checks import contact_filter, posts_query
from .decision import Decision, decide
from .facts import load_facts
from .levels import need
from .public import customer_opening_data
from .sections import check_section
from .subject import Subject, load_subject

_TYPE_CONFIG_BY_KEY = (
    select(CaseType.id, CaseTypeVersion.config)
    .outerjoin(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
    .where(CaseType.key == bindparam("key"))
)
_TYPES_WITH_CONFIG = (
    select(CaseType, CaseTypeVersion.config)
    .join(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
    .order_by(CaseType.key)
)


def require(work: UnitOfWork, subject: Subject, case: Case, action: str) -> Decision:
    """The decision for ``action`` on ``case`` when it allows it: "not found" when the
    subject cannot even see the case's summary (a forged number reveals nothing),
    "forbidden" with the deciding rule's reason when it can see it but not do this."""
    facts = load_facts(work, case, subject)
    decision = decide(subject, facts, action)
    if decision.allowed:
        return decision
    if action != "summary" and decide(subject, facts, "summary").allowed:
        raise Forbidden(
            f"{subject.username} may not {need(action).what} ({case.number}): {decision.reason}"
        )
    raise NotFound(f"no case {case.number}")


def case_for_action(
    work: UnitOfWork, subject: Subject, number: str, action: str
) -> tuple[Case, Decision]:
    """The case numbered ``number`` for ``action`` (see :func:`require`)."""
    need(action)  # an unknown action is bad input before anything is read
    case = cases.case_by_number(work, number)
    return case, require(work, subject, case, action)


def explain_for(
    work: UnitOfWork,
    asker: Subject | None,
    target: Subject,
    number: str,
    action: str = "read",
    section: str | None = None,
) -> Decision:
    """The decision for ``target`` as ``asker`` may learn it: their own access on a case
    they can see, or anyone's for administrators.  ``asker`` None is the operator at the
    command line (as for every administration command)."""
    need(action)
    check_section(section)
    case = cases.case_by_number(work, number)
    if asker is not None:
        require(work, asker, case, "explain")
        if asker.user_id != target.user_id and not asker.is_admin:
            raise Forbidden("only administrators may explain another user's access")
    return decide(target, load_facts(work, case, target), action, section)


# --- opening -----------------------------------------------------------------------------


def may_open(subject: Subject, type_id: int, key: str, config: dict[str, Any] | None) -> bool:
    """Who may open a case of a type: administrators; agents who may write it; customers
    whose portal role lists it (seed 000: "Permission to create Cases can be granted in a
    Portal Role").  View-only types: nobody."""
    if config is None or config.get("view_only"):
        return False
    if subject.is_admin:
        return True
    if subject.portal is not None:
        return key in subject.portal.case_types
    return subject.writes_type(type_id)


def openable_types(work: UnitOfWork, subject: Subject) -> list[CaseType]:
    """Case types the subject may open cases of (see :func:`may_open`)."""
    rows = work.session.execute(_TYPES_WITH_CONFIG)
    return [kind for kind, config in rows if may_open(subject, kind.id, kind.key, config)]


def require_openable(work: UnitOfWork, subject: Subject, case_type: str) -> None:
    """Refuse opening a case type the subject may not open (unknown keys are not found)."""
    row = work.session.execute(_TYPE_CONFIG_BY_KEY, {"key": case_type}).first()
    if row is None:
        raise NotFound(f"no case type '{case_type}'")
    if not may_open(subject, row[0], case_type, row[1]):
        raise Forbidden(f"{subject.username} may not open {case_type} cases")


def _main_contact(work: UnitOfWork, subject: Subject, contact_id: int | None) -> int | None:
    """The new case's main contact.  Customers open cases as themselves (their own contact),
    or with the "all" edit level for a contact of their own customer; agents name a contact
    they may see.  Any other id is "not found", as a missing contact is."""
    portal = subject.portal
    if contact_id is None:
        if portal is not None and len(subject.contact_ids) == 1:
            return next(iter(subject.contact_ids))
        return None
    if portal is not None:
        if contact_id in subject.contact_ids:
            return contact_id
        group = work.session.scalar(
            select(Contact.customer_group_id).where(Contact.id == contact_id)
        )
        if portal.edit_all and group is not None and group in portal.own_customers:
            return contact_id
        raise NotFound(f"no contact {contact_id}")
    seen = work.session.scalar(
        select(Contact.id).where(Contact.id == contact_id, contact_filter(subject))
    )
    if seen is None:
        raise NotFound(f"no contact {contact_id}")
    return contact_id


def open_case(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    *,
    case_type: str,
    title: str,
    data: dict[str, Any] | None = None,
    priority: str | None = None,
    contact: int | None = None,
) -> OpenedCase:
    """Open a case as ``user``.  Customers open only the types their portal role lists, as
    themselves, with only the fields the type opens to them and never a priority."""
    require_openable(work, subject, case_type)
    main_contact = _main_contact(work, subject, contact)
    values = data or {}
    if subject.portal is not None:
        if priority is not None:
            raise InvalidInput(
                "cannot open the case",
                {"priority": "customers cannot choose a priority; the service desk sets it"},
            )
        _, version_id = current_version_id(work, case_type)
        values = customer_opening_data(work.runtime.version(work.session, version_id), values)
    return cases.open_case(
        work,
        case_type=case_type,
        subject=title,
        raiser=user,
        data=values,
        priority=priority or "normal",
        main_contact_id=main_contact,
        actor_id=user.id,
    )


# --- acting on a case --------------------------------------------------------------------


def add_post(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    number: str,
    body: str,
    internal: bool = False,
    files: Sequence[NewFile] = (),
) -> StreamPost:
    """Post to the stream: needs stream access (monitors are read-only); internal notes
    are for agents.  ``files`` go with the post (refused whole when one is too large or
    flagged by the virus scanner)."""
    case_for_action(work, subject, number, "post_internal" if internal else "post")
    return posts.add_post(
        work, number=number, author=user, body=body, internal=internal, files=files
    )


def attachments_of_post(work: UnitOfWork, post_id: int) -> list[dict[str, Any]]:
    """The files of a post the caller just added (listing, not reading: no decision)."""
    return attachments.attachments_of(work, [post_id]).get(post_id, [])


def read_attachment(
    work: UnitOfWork, subject: Subject, attachment_id: int, number: str | None = None
) -> tuple[PostAttachment, bytes]:
    """A file and its bytes, for whoever may read its post: the same "not found" for an id
    that does not exist, another case's file (``number`` given), a case the subject may not
    see, and an internal post's file asked for by a customer."""
    missing = NotFound(f"no attachment {attachment_id}" + (f" on {number}" if number else ""))
    row = work.session.get(PostAttachment, attachment_id)
    post = work.session.get(StreamPost, row.post_id) if row is not None else None
    case = work.session.get(Case, post.case_id) if post is not None else None
    if row is None or case is None or (number is not None and case.number != number):
        raise missing
    try:
        require(work, subject, case, "read")
    except (NotFound, Forbidden):
        raise missing from None
    readable = work.session.scalar(
        posts_query(subject, case.id)
        .where(StreamPost.id == row.post_id)
        .with_only_columns(StreamPost.id)
    )
    if not readable:
        raise missing
    return row, attachments.content(work, row)


def close_case(
    work: UnitOfWork, subject: Subject, user: User, number: str, reason: str = ""
) -> Case:
    """Close a case by hand (refused while tasks are open: only those who may close learn it)."""
    case_for_action(work, subject, number, "close")
    return cases.close_case(work, number=number, actor_id=user.id, reason=reason)


def set_hidden(work: UnitOfWork, subject: Subject, number: str, hidden: bool) -> Case:
    """Hide a case from the portal (seed 000), or show it again; audited."""
    case, _ = case_for_action(work, subject, number, "hide")
    access = work.session.get(CaseAccess, case.id) or CaseAccess(case_id=case.id)
    access.hidden_from_portal = hidden
    work.session.add(access)
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="portal_visibility",
        after={"hidden": hidden},
    )
    return case


def set_waiting(work: UnitOfWork, subject: Subject, user: User, number: str, waiting: bool) -> bool:
    """The case waits on the customer (its SLA clocks stop), or runs again."""
    case, _ = case_for_action(work, subject, number, "write")
    return sla_clocks.set_waiting(work, case.id, waiting, actor_id=user.id)


# --- editing a case (issue 20: subject, priority, assignee, type, collaborators, closing) --


def edit_case(
    work: UnitOfWork,
    subject: Subject,
    number: str,
    *,
    title: str | None = None,
    priority: str | None = None,
) -> dict[str, Any]:
    """Change the subject or the priority (those who may write the case: managers)."""
    case, _ = case_for_action(work, subject, number, "edit")
    return case_edits.edit(work, case, subject=title, priority=priority, actor_id=subject.user_id)


def _assignable(work: UnitOfWork, case: Case, to: User) -> None:
    """The new assignee is an active agent who will see the case (as its collaborator at
    least): a deactivated user, a customer, or someone whose roles' level for the type is
    "no", is refused by name."""
    if not to.is_active:
        raise InvalidInput(
            f"cannot assign {case.number}",
            {"to": f"{to.username} is deactivated: choose someone else"},
        )
    other = load_subject(work, to)
    if other.portal is not None:
        raise InvalidInput(
            f"cannot assign {case.number}", {"to": f"{to.username} is a portal customer"}
        )
    facts = load_facts(work, case, other)
    as_collaborator = replace(facts, collaborators=facts.collaborators | {to.id})
    seen = decide(other, as_collaborator, "read")
    if not seen.allowed:
        raise InvalidInput(
            f"cannot assign {case.number}",
            {"to": f"{to.username} may not see it, even as a collaborator ({seen.reason})"},
        )


def assign_case(
    work: UnitOfWork, subject: Subject, number: str, to: User | None, *, delegate: bool = False
) -> bool:
    """Reassign the case (managers: ``assign``), or pass one's own case on (its assignee:
    ``delegate_case``, and they stay a collaborator).  Audited with before and after."""
    case, _ = case_for_action(work, subject, number, "delegate_case" if delegate else "assign")
    if to is not None:
        _assignable(work, case, to)
    elif delegate:
        raise InvalidInput(f"cannot delegate {number}", {"to": "name who takes it on"})
    how = "delegated" if delegate else "reassigned"
    return case_edits.assign(work, case, to, actor_id=subject.user_id, how=how)


def move_case(work: UnitOfWork, subject: Subject, number: str, case_type: str) -> str:
    """Move the case to another type: it needs write access here and the right to open
    cases of the new type (a type one may not open is "forbidden", an unknown one "not
    found").  Access follows the new type at once."""
    case, _ = case_for_action(work, subject, number, "move")
    require_openable(work, subject, case_type)
    return case_edits.move(work, case, case_type, actor_id=subject.user_id)


def close_with_outcome(work: UnitOfWork, subject: Subject, number: str, outcome: str = "") -> Case:
    """Close the case with an outcome (the type's list, when it has one)."""
    case, _ = case_for_action(work, subject, number, "close")
    return case_edits.close(work, case, outcome=outcome, actor_id=subject.user_id)


def cancel_case(work: UnitOfWork, subject: Subject, number: str, reason: str = "") -> Case:
    """Cancel the case: open tasks are withdrawn, it closes as ``cancelled``."""
    case, _ = case_for_action(work, subject, number, "cancel")
    return case_edits.cancel(work, case, reason=reason, actor_id=subject.user_id)


def reopen_case(work: UnitOfWork, subject: Subject, number: str) -> Case:
    """Reopen a closed case, within its type's grace period (managers)."""
    case, _ = case_for_action(work, subject, number, "reopen")
    return case_edits.reopen(work, case, actor_id=subject.user_id)


def collaborators_of(work: UnitOfWork, subject: Subject, number: str) -> list[str]:
    """The case's collaborators, for those who may read the case."""
    case, _ = case_for_action(work, subject, number, "read")
    return case_edits.collaborators(work, case.id)


def set_collaborator(
    work: UnitOfWork, subject: Subject, number: str, user: User, *, present: bool
) -> tuple[bool, list[str]]:
    """Add (``present``) or remove a collaborator: whether anything changed, and who the
    collaborators are now (the caller may have removed their own read access).  Customers
    are refused (the portal's own rules decide what they see).  Collaboration gives read
    and stream access unless the user's level for the case type is "no" (seed 000)."""
    case, _ = case_for_action(work, subject, number, "collaborators")
    if not present:
        changed = case_edits.remove_collaborator(work, case, user, actor_id=subject.user_id)
        return changed, case_edits.collaborators(work, case.id)
    if load_subject(work, user).portal is not None:
        raise InvalidInput(
            f"cannot add a collaborator to {number}",
            {"user": f"{user.username} is a portal customer"},
        )
    changed = case_edits.add_collaborator(work, case, user, actor_id=subject.user_id)
    return changed, case_edits.collaborators(work, case.id)


def case_visible(work: UnitOfWork, subject: Subject, number: str) -> bool:
    """Does the subject see the case at all (after a move it may have left their view)?"""
    case = cases.case_by_number(work, number)
    return decide(subject, load_facts(work, case, subject), "summary").allowed
