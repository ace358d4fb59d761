"""A person's data on their request: erase it, or export everything stored about them.

A person is found by email address (every contact and user with it, and the logins and
contacts linked to those) or by contact id.  **Erasure** keeps the structure -- cases,
posts, mails, audit lines -- and replaces who they are: contacts are named "erased" and
lose their address, their login becomes ``erased-<user id>`` (the name audit lines show for
them from then on) and can no longer sign in, their words keep their text but lose their
name and address, files they sent and raw mail bytes lose their address.  Then every text
column of every table is swept for the address, audit lines included (the one update the
audit log allows, ``engine.store.privacy``).  **Export** gathers their profile, the cases
they raised or are a contact of, their posts and the mail to and from them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    LargeBinary,
    Select,
    String,
    Text,
    Unicode,
    cast,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.sql.schema import Column, Table

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.numbers import whole_number
from engine.runtime import UnitOfWork
from engine.store.credentials import ApiToken, WebSession
from engine.store.mailbox import InboundMessage
from engine.store.models import Base, Case, CaseContact, Contact, PostAttachment, StreamPost, User
from engine.store.outbox import BouncedAddress, OutboxMessage
from engine.store.privacy import AuditRedaction

ERASED = "erased"
_ERASED_FILE = ERASED.encode()


@dataclass
class Person:
    """Everyone stored for one person: their contacts, logins, addresses and names."""

    contacts: list[Contact]
    users: list[User]
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    @property
    def user_ids(self) -> list[int]:
        return [u.id for u in self.users]

    @property
    def contact_ids(self) -> list[int]:
        return [c.id for c in self.contacts]


def find_person(work: UnitOfWork, ref: str) -> Person:
    """The person an email address or contact id names; NotFound when nobody is stored."""
    ref = ref.strip()
    if "@" in ref:
        email = ref.lower()
        contacts = list(
            work.session.scalars(select(Contact).where(func.lower(Contact.email) == email))
        )
        users = list(work.session.scalars(select(User).where(func.lower(User.email) == email)))
    elif (contact_id := whole_number(ref)) is not None:
        found = work.session.get(Contact, contact_id)
        contacts, users = ([found] if found else []), []
    else:
        raise InvalidInput(f"{ref!r} is neither an email address nor a contact id")
    user_ids = {c.user_id for c in contacts if c.user_id} - {u.id for u in users}
    if user_ids:
        users += work.session.scalars(select(User).where(User.id.in_(user_ids)))
    more = select(Contact).where(
        Contact.user_id.in_([u.id for u in users]), Contact.id.not_in([c.id for c in contacts])
    )
    contacts += work.session.scalars(more)
    if not contacts and not users:
        raise NotFound(f"no contact or user {ref}")
    person = Person(contacts, users)
    person.emails = {
        e.lower() for e in [*(c.email for c in contacts), *(u.email for u in users)] if e
    }
    if "@" in ref:
        person.emails.add(ref.lower())
    names = [
        *(c.name for c in contacts),
        *(u.display_name for u in users),
        *(u.username for u in users),
    ]
    person.names = {n for n in names if n and len(n) >= 3 and n != ERASED} - person.emails
    return person


# --- erasure ---------------------------------------------------------------------------------


def erase(
    work: UnitOfWork, person: Person, *, actor_id: int | None, dry_run: bool
) -> dict[str, Any]:
    """Replace who the person is everywhere; how many rows of each table were changed."""
    ref = f"{ERASED}-{person.users[0].id}" if person.users else f"{ERASED}-c{person.contacts[0].id}"
    counts = _would_change(work, person) if dry_run else _erase(work, person)
    if not dry_run:
        audit.record(
            work,
            actor_id=actor_id,
            entity="person",
            entity_id=ref,
            action="erased",
            after={"contacts": person.contact_ids, "users": person.user_ids, "rows": counts},
        )
    return {"person": ref, "dry_run": dry_run, "rows": counts}


def _would_change(work: UnitOfWork, person: Person) -> dict[str, int]:
    counts: dict[str, int] = {"contacts": len(person.contacts), "users": len(person.users)}
    for table, column in _text_columns():
        n = work.session.scalar(
            select(func.count()).select_from(table).where(_mentions(column, person.emails))
        )
        if n:
            counts[f"{table.name}.{column.name}"] = n
    return counts


def _erase(work: UnitOfWork, person: Person) -> dict[str, int]:
    counts: dict[str, int] = {"contacts": len(person.contacts), "users": len(person.users)}
    emails, names = sorted(person.emails), sorted(person.names)
    words = emails + names  # an address is a whole word too; the longest is replaced first
    mails = select(InboundMessage.id).where(func.lower(InboundMessage.from_address).in_(emails))
    mail_posts = select(InboundMessage.post_id).where(
        InboundMessage.id.in_(mails), InboundMessage.post_id.is_not(None)
    )
    their_posts = or_(StreamPost.author_id.in_(person.user_ids), StreamPost.id.in_(mail_posts))
    # their names are replaced where they wrote or were written to: their posts, and
    # everything in the cases they raised or are a contact of
    their_cases = _cases_of(person)
    _scrub(work, Case.__table__.c.subject, words, Case.id.in_(their_cases), words=True)
    in_their_cases = or_(their_posts, StreamPost.case_id.in_(their_cases))
    counts["posts"] = _scrub(work, StreamPost.__table__.c.body, words, in_their_cases, words=True)
    files = work.session.execute(
        update(PostAttachment)
        .where(PostAttachment.post_id.in_(select(StreamPost.id).where(their_posts)))
        .values(
            filename=ERASED,
            content=_ERASED_FILE,
            size=len(_ERASED_FILE),
            sha256=hashlib.sha256(_ERASED_FILE).hexdigest(),
        )
    )
    counts["attachments"] = int(getattr(files, "rowcount", 0))
    inbound = InboundMessage.__table__.c
    for column in (inbound.subject, inbound.attempted_match):
        _scrub(work, column, words, InboundMessage.id.in_(mails), words=True)
    work.session.execute(
        update(InboundMessage).where(InboundMessage.id.in_(mails)).values(from_address=ERASED)
    )
    to_them = _mentions(OutboxMessage.__table__.c.recipients, person.emails)
    for name in ("subject", "body_text", "body_html"):
        _scrub(work, OutboxMessage.__table__.c[name], words, to_them, words=True)
    for contact in person.contacts:
        contact.name, contact.email = ERASED, None
    for user in person.users:
        user.username, user.display_name = f"{ERASED}-{user.id}", ERASED
        user.email, user.password_hash, user.is_active = None, None, False
    for model in (WebSession, ApiToken):
        work.session.execute(model.__table__.delete().where(model.user_id.in_(person.user_ids)))
    work.session.execute(
        BouncedAddress.__table__.delete().where(BouncedAddress.address.in_(emails))
    )
    work.session.flush()
    work.session.add(redaction := AuditRedaction(ref=ERASED))
    work.session.flush()
    for table, column in _text_columns():
        changed = _scrub(work, column, emails, _mentions(column, person.emails), words=False)
        if changed:
            counts[f"{table.name}.{column.name}"] = changed
    for table, column in _binary_columns():
        changed = _scrub_bytes(work, table, column, emails + names)
        if changed:
            counts[f"{table.name}.{column.name}"] = changed
    work.session.delete(redaction)
    work.session.flush()
    return counts


def _cases_of(person: Person) -> Select[tuple[int]]:
    """The ids of the cases the person raised or is a contact of."""
    contact_cases = select(CaseContact.case_id).where(
        CaseContact.contact_id.in_(person.contact_ids)
    )
    return select(Case.id).where(
        or_(
            Case.raiser_id.in_(person.user_ids),
            Case.main_contact_id.in_(person.contact_ids),
            Case.id.in_(contact_cases),
        )
    )


def _text_columns() -> Iterable[tuple[Table, Column[Any]]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | Unicode | JSON) and not column.primary_key:
                yield table, column


def _binary_columns() -> Iterable[tuple[Table, Column[Any]]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, LargeBinary):
                yield table, column


def _mentions(column: Column[Any], needles: set[str]) -> Any:
    text = func.lower(cast(column, Text)) if isinstance(column.type, JSON) else func.lower(column)
    return or_(*(text.contains(n.lower(), autoescape=True) for n in needles)) if needles else False


def _pattern(needles: list[str], words: bool) -> re.Pattern[str] | None:
    if not needles:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b" if words else alternatives, re.IGNORECASE)


def _scrub(
    work: UnitOfWork, column: Column[Any], needles: list[str], where: Any, *, words: bool
) -> int:
    """Replace ``needles`` by "erased" in ``column`` of the rows ``where`` selects."""
    pattern = _pattern(needles, words)
    table = column.table
    if pattern is None:
        return 0
    keys = list(table.primary_key.columns)
    changed = 0
    for row in work.session.execute(select(*keys, column).where(where)).all():
        value = row[-1]
        if value is None:
            continue
        if isinstance(column.type, JSON):
            new = json.loads(pattern.sub(ERASED, json.dumps(value)))
        else:
            new = pattern.sub(ERASED, value)
        if new == value:
            continue
        values: dict[str, Any] = {column.name: new}
        if "row_version" in table.c:  # a cached workflow of the old version must not be used
            values["row_version"] = table.c.row_version + 1
        work.session.execute(
            update(table)
            .where(*(k == v for k, v in zip(keys, row[:-1], strict=True)))
            .values(values)
        )
        changed += 1
    return changed


def _scrub_bytes(work: UnitOfWork, table: Table, column: Column[Any], needles: list[str]) -> int:
    """Replace ``needles`` in a binary column (raw mail, files), read in slices of rows."""
    pattern = re.compile(
        b"|".join(re.escape(n.encode()) for n in sorted(needles, key=len, reverse=True)), re.I
    )
    (key,) = table.primary_key.columns
    changed, after = 0, None
    while True:
        query = select(key, column).order_by(key).limit(200)
        rows = work.session.execute(query if after is None else query.where(key > after)).all()
        if not rows:
            return changed
        for row_id, value in rows:
            if value and pattern.search(value):
                new = pattern.sub(_ERASED_FILE, value)
                work.session.execute(update(table).where(key == row_id).values({column.name: new}))
                changed += 1
        after = rows[-1][0]


# --- export ----------------------------------------------------------------------------------


def export(work: UnitOfWork, person: Person) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data."""
    user_ids = person.user_ids
    cases = work.session.scalars(
        select(Case).where(Case.id.in_(_cases_of(person))).order_by(Case.id)
    ).all()
    mails = work.session.scalars(
        select(InboundMessage)
        .where(func.lower(InboundMessage.from_address).in_(sorted(person.emails)))
        .order_by(InboundMessage.id)
    ).all()
    mail_posts = [m.post_id for m in mails if m.post_id]
    posts = work.session.scalars(
        select(StreamPost)
        .where(or_(StreamPost.author_id.in_(user_ids), StreamPost.id.in_(mail_posts)))
        .order_by(StreamPost.id)
    ).all()
    sent = work.session.scalars(
        select(OutboxMessage)
        .where(_mentions(OutboxMessage.__table__.c.recipients, person.emails))
        .order_by(OutboxMessage.id)
    ).all()
    mentioned = {p.case_id for p in posts}
    mentioned |= {m.case_id for m in mails if m.case_id} | {m.case_id for m in sent if m.case_id}
    numbers = {
        case_id: number
        for case_id, number in work.session.execute(
            select(Case.id, Case.number).where(Case.id.in_(mentioned))
        )
    }
    return {
        "contacts": [
            {"id": c.id, "name": c.name, "email": c.email, "user": c.user_id}
            for c in person.contacts
        ],
        "users": [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "email": u.email,
                "active": u.is_active,
                "created_at": u.created_at.isoformat(),
            }
            for u in person.users
        ],
        "cases": [
            {
                "number": c.number,
                "subject": c.subject,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            }
            for c in cases
        ],
        "posts": [
            {
                "case": numbers.get(p.case_id),
                "body": p.body,
                "internal": p.internal,
                "created_at": p.created_at.isoformat(),
            }
            for p in posts
        ],
        "mails_received": [
            {
                "case": numbers.get(m.case_id) if m.case_id else None,
                "from": m.from_address,
                "subject": m.subject,
                "received_at": m.received_at.isoformat(),
                "raw": m.raw.decode("utf-8", "replace"),
            }
            for m in mails
        ],
        "mails_sent": [
            {
                "case": numbers.get(m.case_id) if m.case_id else None,
                "to": m.recipients,
                "subject": m.subject,
                "body": m.body_text,
                "state": m.state,
                "created_at": m.created_at.isoformat(),
            }
            for m in sent
        ],
    }
