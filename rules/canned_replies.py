"""Canned replies: texts a group's agents insert into their answers, with variables.

A reply belongs to one group.  Agents see and insert the replies of their own groups
(administrators: every group's); only the group's leads (a membership with role ``lead``)
and administrators add, change and remove them, as shared macros are kept in mature
desks, so one agent cannot rewrite what the whole team sends; customers see none.  A reply
is a Jinja2 template rendered in the sandbox, with a fixed set of variables
(:data:`VARIABLES`): one it does not know is refused when the reply is saved, naming it, so
a reply never fails in the middle of an answer.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from engine import audit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.models import CannedReply, CaseType, Contact, Group, User
from people.directory import group_by_name

from .case_acts import case_for_action
from .subject import Subject

#: The variables a reply may use, with what they stand for.
VARIABLES = {
    "case_key": "the case number, e.g. C-000123",
    "subject": "the case's subject",
    "case_type": "the case type's name",
    "priority": "the case's priority",
    "status": "open, closed or cancelled",
    "customer_name": "the main contact's name (else the person who raised the case)",
    "customer_email": "the main contact's address (else the raiser's)",
    "agent_name": "the name of the agent inserting the reply",
    "agent_username": "the user name of the agent inserting the reply",
    "group": "the group the reply belongs to",
}
_SAMPLE = dict.fromkeys(VARIABLES, "x")
MAX_NAME = 100
MAX_BODY = 20_000
_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


def _agent(subject: Subject) -> None:
    if subject.portal is not None:
        raise Forbidden("canned replies are for agents")


def may_manage(subject: Subject, group_id: int) -> bool:
    """Whether the subject adds, changes and removes the replies of this group: its leads
    and administrators (the one check the CLI, the API and the pages all ask)."""
    return subject.portal is None and (subject.is_admin or group_id in subject.lead_group_ids)


def _may_manage(subject: Subject, group: Group) -> None:
    _agent(subject)
    if not may_manage(subject, group.id):
        raise Forbidden(
            f"{subject.username} may not manage the canned replies of {group.name}: "
            "only its leads and administrators may"
        )


def check_template(body: str) -> None:
    """Refuse a template that does not parse, uses a variable not in :data:`VARIABLES`, or
    fails on sample values (``{{ subject.nope }}``, a sandboxed attribute)."""
    field = "body"
    try:
        parsed = _ENV.parse(body)
    except TemplateError as exc:
        raise InvalidInput("invalid canned reply", {field: f"does not parse: {exc}"}) from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - VARIABLES.keys())
    if unknown:
        raise InvalidInput(
            "invalid canned reply",
            {field: f"unknown variable {', '.join(unknown)} (known: {', '.join(VARIABLES)})"},
        )
    try:
        _ENV.from_string(body).render(_SAMPLE)
    except TemplateError as exc:
        raise InvalidInput("invalid canned reply", {field: f"cannot be rendered: {exc}"}) from None


def _checked(name: str, body: str) -> tuple[str, str]:
    name, body = name.strip(), body.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput("invalid canned reply", {"name": f"1 to {MAX_NAME} characters"})
    if not body or len(body) > MAX_BODY:
        raise InvalidInput("invalid canned reply", {"body": f"1 to {MAX_BODY} characters"})
    check_template(body)
    return name, body


def _as_dict(reply: CannedReply, group: str) -> dict[str, Any]:
    return {
        "id": reply.id,
        "group": group,
        "name": reply.name,
        "body": reply.body,
        "updated_at": reply.updated_at,
    }


def list_replies(
    work: UnitOfWork, subject: Subject, group: str | None = None
) -> list[dict[str, Any]]:
    """The canned replies the subject may insert (of their groups), optionally of one group."""
    _agent(subject)
    query = select(CannedReply, Group.name).join(Group, Group.id == CannedReply.group_id)
    if not subject.is_admin:
        query = query.where(CannedReply.group_id.in_(sorted(subject.group_ids)))
    if group is not None:
        query = query.where(Group.name == group)
    rows = work.session.execute(query.order_by(Group.name, CannedReply.name))
    return [_as_dict(reply, name) for reply, name in rows]


def shelves(work: UnitOfWork, subject: Subject) -> list[dict[str, Any]]:
    """The groups whose replies the subject sees (their own; administrators: every group),
    each with its replies and whether the subject manages them, for a page to offer the
    forms exactly where :func:`add_reply`, :func:`update_reply` and :func:`remove_reply`
    would allow them."""
    _agent(subject)
    query = select(Group).order_by(Group.name)
    if not subject.is_admin:
        query = query.where(Group.id.in_(sorted(subject.group_ids)))
    replies: dict[str, list[dict[str, Any]]] = {}
    for reply in list_replies(work, subject):
        replies.setdefault(reply["group"], []).append(reply)
    return [
        {
            "group": group.name,
            "manage": may_manage(subject, group.id),
            "replies": replies.get(group.name, []),
        }
        for group in work.session.scalars(query)
    ]


def _reply(work: UnitOfWork, subject: Subject, reply_id: int) -> tuple[CannedReply, Group]:
    """A reply the subject may see; any other is "not found", like one that does not exist."""
    _agent(subject)
    reply = work.session.get(CannedReply, reply_id)
    group = work.session.get(Group, reply.group_id) if reply is not None else None
    if reply is None or group is None or not (subject.is_admin or group.id in subject.group_ids):
        raise NotFound(f"no canned reply {reply_id}")
    return reply, group


def show_reply(work: UnitOfWork, subject: Subject, reply_id: int) -> dict[str, Any]:
    reply, group = _reply(work, subject, reply_id)
    return _as_dict(reply, group.name)


def add_reply(
    work: UnitOfWork, subject: Subject, *, group: str, name: str, body: str
) -> dict[str, Any]:
    """A new canned reply of ``group`` (by its leads and administrators); names are unique
    per group."""
    owner = group_by_name(work, group)
    _may_manage(subject, owner)
    name, body = _checked(name, body)
    taken = select(CannedReply.id).where(CannedReply.group_id == owner.id, CannedReply.name == name)
    if work.session.scalar(taken) is not None:
        raise Conflict(f"{group} has a canned reply named {name!r} already")
    reply = CannedReply(
        group_id=owner.id,
        name=name,
        body=body,
        created_by=subject.user_id,
        created_at=work.now,
        updated_at=work.now,
    )
    work.session.add(reply)
    work.session.flush()
    _audit(work, subject, reply, "canned_reply_added", {"group": group, "name": name})
    return _as_dict(reply, owner.name)


def update_reply(
    work: UnitOfWork, subject: Subject, reply_id: int, *, name: str | None, body: str | None
) -> dict[str, Any]:
    reply, group = _reply(work, subject, reply_id)
    _may_manage(subject, group)
    new_name, new_body = _checked(
        reply.name if name is None else name, reply.body if body is None else body
    )
    if new_name != reply.name:
        taken = select(CannedReply.id).where(
            CannedReply.group_id == group.id, CannedReply.name == new_name
        )
        if work.session.scalar(taken) is not None:
            raise Conflict(f"{group.name} has a canned reply named {new_name!r} already")
    before = {"name": reply.name}
    reply.name, reply.body, reply.updated_at = new_name, new_body, work.now
    work.session.flush()
    _audit(work, subject, reply, "canned_reply_changed", {"name": new_name}, before)
    return _as_dict(reply, group.name)


def remove_reply(work: UnitOfWork, subject: Subject, reply_id: int) -> None:
    reply, group = _reply(work, subject, reply_id)
    _may_manage(subject, group)
    _audit(work, subject, reply, "canned_reply_removed", None, {"name": reply.name})
    work.session.delete(reply)
    work.session.flush()


def render_reply(work: UnitOfWork, subject: Subject, user: User, reply_id: int, number: str) -> str:
    """The reply's text for a case the subject may read, ready to edit and send."""
    reply, group = _reply(work, subject, reply_id)
    case, _ = case_for_action(work, subject, number, "read")
    contact = work.session.get(Contact, case.main_contact_id) if case.main_contact_id else None
    raiser = work.session.get(User, case.raiser_id) if case.raiser_id else None
    type_name = work.session.scalar(select(CaseType.name).where(CaseType.id == case.case_type_id))
    values = {
        "case_key": case.number or "",
        "subject": case.subject,
        "case_type": type_name or "",
        "priority": case.priority,
        "status": case.status,
        "customer_name": contact.name if contact else _name(raiser),
        "customer_email": (contact.email if contact else raiser.email if raiser else None) or "",
        "agent_name": _name(user),
        "agent_username": user.username,
        "group": group.name,
    }
    try:
        return _ENV.from_string(reply.body).render(values)
    except TemplateError as exc:  # saved before a check existed, or a value it did not expect
        raise InvalidInput(
            f"canned reply {reply.id} cannot be rendered", {"body": str(exc)}
        ) from None


def _name(user: User | None) -> str:
    return (user.display_name or user.username) if user else ""


def _audit(
    work: UnitOfWork,
    subject: Subject,
    reply: CannedReply,
    action: str,
    after: dict[str, Any] | None,
    before: dict[str, Any] | None = None,
) -> None:
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="canned_reply",
        entity_id=reply.id,
        case_id=None,
        action=action,
        before=before,
        after=after,
    )
