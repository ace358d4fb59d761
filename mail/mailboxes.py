"""Configuring group mailboxes and the domain rules that file new contacts.

The password (or OAuth2 token) is stored encrypted or as a reference to where it lives
(:mod:`mail.credentials`), and never printed back.  A mailbox points at a case type by key
and at a default customer group by name, both checked whenever it is added or edited, so a
typo fails here and not at the first mail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.mailbox import REFUSED_MATCH, InboundMessage, Mailbox, MailDomainRule
from engine.store.models import CaseType, CustomerGroup
from mail import credentials
from mail.message.thread_keys import DEFAULT_SUBJECT_KEYS, SubjectPattern, subject_patterns


@dataclass(frozen=True)
class MailboxSpec:
    """What ``mail mailbox add`` takes."""

    name: str
    case_type: str
    group_address: str
    host: str
    user: str
    password: str
    customer_group: str
    port: int = 993
    tls: bool = True
    folder: str = "INBOX"
    processed_folder: str | None = None
    max_bytes: int = 10 * 1024 * 1024
    poll_seconds: int = 60
    acknowledge: bool = False
    #: mail naming a case its sender takes no part in: "new_case" or "triage"
    refused_match: str = "new_case"
    #: (name, pattern) pairs finding a case number in a subject; None: the defaults
    subject_patterns: tuple[tuple[str, str], ...] | None = None
    #: "password", or "xoauth2" (``password`` is then an OAuth2 access token)
    auth: str = "password"


AUTH_METHODS = ("password", "xoauth2")


def add_mailbox(work: UnitOfWork, spec: MailboxSpec, *, actor_id: int | None = None) -> Mailbox:
    """Store a mailbox after checking every field; all problems are reported at once."""
    group_id = _check(work, spec, "cannot add the mailbox")
    if work.session.scalar(select(Mailbox.id).where(Mailbox.name == spec.name)):
        raise Conflict(f"mailbox '{spec.name}' already exists")
    mailbox = Mailbox(
        name=spec.name,
        imap_password=credentials.store(spec.password),
        active=True,
        created_at=work.now,
        failures=0,
    )
    _apply(mailbox, spec, group_id)
    work.session.add(mailbox)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="mailbox",
        entity_id=mailbox.id,
        action="created",
        after={"name": spec.name, "case_type": spec.case_type, "host": spec.host},
    )
    return mailbox


def edit_mailbox(
    work: UnitOfWork, name: str, changes: dict[str, Any], *, actor_id: int | None = None
) -> Mailbox:
    """Change some fields of a mailbox (keys of :class:`MailboxSpec`; ``password`` only when
    given), checked like a new one."""
    mailbox = mailbox_by_name(work, name)
    unknown = set(changes) - {f.name for f in dataclasses.fields(MailboxSpec)} - {"name"}
    if unknown:
        raise InvalidInput("cannot edit the mailbox", {k: "no such field" for k in unknown})
    spec = dataclasses.replace(spec_of(work, mailbox), **changes)
    group_id = _check(work, spec, "cannot edit the mailbox")
    if "password" in changes:
        mailbox.imap_password = credentials.store(spec.password)
    _apply(mailbox, spec, group_id)
    mailbox.failures, mailbox.next_poll_at = 0, None  # try the new settings at once
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="mailbox",
        entity_id=mailbox.id,
        action="edited",
        after={"name": name, "fields": sorted(changes)},
    )
    return mailbox


def set_active(work: UnitOfWork, name: str, active: bool, *, actor_id: int | None = None) -> None:
    """Disable (the worker and ``mail poll`` leave it alone) or enable a mailbox again."""
    mailbox = mailbox_by_name(work, name)
    mailbox.active = active
    mailbox.failures, mailbox.next_poll_at = 0, None
    audit.record(
        work,
        actor_id=actor_id,
        entity="mailbox",
        entity_id=mailbox.id,
        action="enabled" if active else "disabled",
    )


def remove_mailbox(work: UnitOfWork, name: str, *, actor_id: int | None = None) -> None:
    """Delete a mailbox that never took mail in; one with stored mail can only be disabled
    (its messages are the record of what became of each mail)."""
    mailbox = mailbox_by_name(work, name)
    if work.session.scalar(
        select(InboundMessage.id).where(InboundMessage.mailbox_id == mailbox.id).limit(1)
    ):
        raise Conflict(
            f"mailbox '{name}' has taken mail in; disable it instead (mail mailbox disable {name})"
        )
    audit.record(work, actor_id=actor_id, entity="mailbox", entity_id=mailbox.id, action="removed")
    work.session.delete(mailbox)
    work.session.flush()


def spec_of(work: UnitOfWork, mailbox: Mailbox) -> MailboxSpec:
    """The mailbox as a spec (its stored credential in ``password``)."""
    group = work.session.get(CustomerGroup, mailbox.default_customer_group_id)
    return MailboxSpec(
        name=mailbox.name,
        case_type=mailbox.case_type_key,
        group_address=mailbox.group_address,
        host=mailbox.imap_host,
        user=mailbox.imap_user,
        password=mailbox.imap_password,
        customer_group=group.name if group else "",
        port=mailbox.imap_port,
        tls=mailbox.imap_tls,
        folder=mailbox.folder,
        processed_folder=mailbox.processed_folder,
        max_bytes=mailbox.max_bytes,
        poll_seconds=mailbox.poll_seconds,
        acknowledge=mailbox.acknowledge,
        refused_match=mailbox.refused_match,
        subject_patterns=(
            tuple((str(n), str(p)) for n, p in mailbox.subject_patterns)
            if mailbox.subject_patterns is not None
            else None
        ),
        auth=mailbox.imap_auth,
    )


def _apply(mailbox: Mailbox, spec: MailboxSpec, group_id: int) -> None:
    mailbox.case_type_key = spec.case_type
    mailbox.group_address = spec.group_address.strip().lower()
    mailbox.imap_host, mailbox.imap_port, mailbox.imap_tls = spec.host.strip(), spec.port, spec.tls
    mailbox.imap_user, mailbox.imap_auth = spec.user, spec.auth
    mailbox.folder, mailbox.processed_folder = spec.folder, spec.processed_folder
    mailbox.default_customer_group_id = group_id
    mailbox.max_bytes, mailbox.poll_seconds = spec.max_bytes, spec.poll_seconds
    mailbox.acknowledge, mailbox.refused_match = spec.acknowledge, spec.refused_match
    mailbox.subject_patterns = (
        [list(p) for p in spec.subject_patterns] if spec.subject_patterns is not None else None
    )


def _check(work: UnitOfWork, spec: MailboxSpec, message: str) -> int:
    """Every problem of ``spec`` at once (InvalidInput); the default customer group's id."""
    errors = {}
    if not spec.name.strip() or len(spec.name) > 100:
        errors["name"] = "1 to 100 characters"
    local, at, domain = spec.group_address.strip().rpartition("@")
    if not at or not local or "." not in domain or "+" in local:
        errors["group_address"] = "must be a plain address like support@example.com"
    if not 0 < spec.port < 65536:
        errors["port"] = "must be 1-65535"
    if spec.max_bytes < 1024:
        errors["max_bytes"] = "must be at least 1024"
    if spec.poll_seconds < 1:
        errors["poll_seconds"] = "must be at least 1"
    if not spec.host.strip():
        errors["host"] = "is required"
    if spec.refused_match not in REFUSED_MATCH:
        errors["refused_match"] = f"must be one of {', '.join(REFUSED_MATCH)}"
    if spec.auth not in AUTH_METHODS:
        errors["auth"] = f"must be one of {', '.join(AUTH_METHODS)}"
    if spec.processed_folder is not None and spec.processed_folder == spec.folder:
        errors["processed_folder"] = "must differ from the folder it is taken from"
    if not work.session.scalar(select(CaseType.id).where(CaseType.key == spec.case_type)):
        errors["case_type"] = f"no case type {spec.case_type!r} is deployed"
    group_id = work.session.scalar(
        select(CustomerGroup.id).where(CustomerGroup.name == spec.customer_group)
    )
    if group_id is None:
        errors["customer_group"] = f"no customer group {spec.customer_group!r}"
    if spec.subject_patterns is not None:
        try:
            subject_patterns(spec.subject_patterns)
        except ValueError as exc:
            errors["subject_patterns"] = str(exc)
    if errors:
        raise InvalidInput(message, errors)
    assert group_id is not None
    return group_id


def subject_keys(mailbox: Mailbox) -> tuple[SubjectPattern, ...]:
    """The mailbox's subject patterns, compiled (once per distinct list)."""
    if mailbox.subject_patterns is None:
        return DEFAULT_SUBJECT_KEYS
    return _compiled(tuple((str(n), str(p)) for n, p in mailbox.subject_patterns))


@lru_cache(maxsize=64)
def _compiled(pairs: tuple[tuple[str, str], ...]) -> tuple[SubjectPattern, ...]:
    return subject_patterns(pairs)


def mailbox_by_name(work: UnitOfWork, name: str) -> Mailbox:
    mailbox = work.session.scalar(select(Mailbox).where(Mailbox.name == name))
    if mailbox is None:
        raise NotFound(f"no mailbox '{name}'")
    return mailbox


def list_mailboxes(work: UnitOfWork, *, active_only: bool = False) -> list[Mailbox]:
    statement = select(Mailbox).order_by(Mailbox.name)
    if active_only:
        statement = statement.where(Mailbox.active)
    return list(work.session.scalars(statement))


def add_domain_rule(work: UnitOfWork, *, domain: str, customer_group: str) -> MailDomainRule:
    """New contacts writing from ``domain`` join ``customer_group``."""
    domain = domain.strip().lower().lstrip("@")
    group_id = work.session.scalar(
        select(CustomerGroup.id).where(CustomerGroup.name == customer_group)
    )
    if group_id is None:
        raise NotFound(f"no customer group '{customer_group}'")
    if work.session.scalar(select(MailDomainRule.id).where(MailDomainRule.domain == domain)):
        raise Conflict(f"a rule for {domain} exists already")
    rule = MailDomainRule(domain=domain, customer_group_id=group_id)
    work.session.add(rule)
    work.session.flush()
    return rule
