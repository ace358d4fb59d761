"""Configuring group mailboxes and the domain rules that file new contacts.

The password is stored as given (the poller must present it to the server); it is never
printed back.  A mailbox points at a case type by key and at a default customer group by
name, both checked when it is added, so a typo fails here and not at the first mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.mailbox import REFUSED_MATCH, Mailbox, MailDomainRule
from engine.store.models import CaseType, CustomerGroup
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


def add_mailbox(work: UnitOfWork, spec: MailboxSpec, *, actor_id: int | None = None) -> Mailbox:
    """Store a mailbox after checking every field; all problems are reported at once."""
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
        raise InvalidInput("cannot add the mailbox", errors)
    if work.session.scalar(select(Mailbox.id).where(Mailbox.name == spec.name)):
        raise Conflict(f"mailbox '{spec.name}' already exists")
    assert group_id is not None
    mailbox = Mailbox(
        name=spec.name,
        case_type_key=spec.case_type,
        group_address=spec.group_address.strip().lower(),
        imap_host=spec.host.strip(),
        imap_port=spec.port,
        imap_tls=spec.tls,
        imap_user=spec.user,
        imap_password=spec.password,
        folder=spec.folder,
        processed_folder=spec.processed_folder,
        default_customer_group_id=group_id,
        max_bytes=spec.max_bytes,
        poll_seconds=spec.poll_seconds,
        acknowledge=spec.acknowledge,
        refused_match=spec.refused_match,
        subject_patterns=(
            [list(p) for p in spec.subject_patterns] if spec.subject_patterns is not None else None
        ),
        active=True,
        created_at=work.now,
    )
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
