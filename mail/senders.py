"""Who wrote a message: the users and contacts behind a From address, or a new contact.

A stream post needs an author who is a user, and the case's raiser is a user, so an
unknown sender becomes a contact *and* a user without a password (no login until someone
gives them one), linked to each other.  The contact's customer group comes from the first
domain rule matching the sender's domain, else from the mailbox's default group.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from engine.errors import Conflict
from engine.runtime import UnitOfWork
from engine.store.claims import take_turn
from engine.store.mailbox import Mailbox, MailDomainRule
from engine.store.models import Contact, CustomerGroup, User
from people import directory

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")


@dataclass(frozen=True)
class Sender:
    """Every user and contact with the address; ``author`` writes the posts (None: unknown)."""

    address: str
    user_ids: frozenset[int]
    contact_ids: frozenset[int]
    author: User | None
    contact: Contact | None

    @property
    def known(self) -> bool:
        return self.author is not None


# Built once: every message asks them.  Both lookups use the lower(email) indexes.
_USERS_BY_EMAIL = (
    select(User).where(func.lower(User.email) == bindparam("address")).order_by(User.id)
)
_CONTACTS_BY_EMAIL = (
    select(Contact).where(func.lower(Contact.email) == bindparam("address")).order_by(Contact.id)
)
_DOMAIN_GROUP = select(MailDomainRule.customer_group_id).where(
    MailDomainRule.domain == bindparam("domain")
)


def find_sender(work: UnitOfWork, address: str, *, for_post: bool = True) -> Sender:
    """Look the address up (case-insensitively).  ``for_post``: the sender will author a
    post, so a contact without a user gets one (created and linked)."""
    address = address.strip().lower()
    users = list(work.session.scalars(_USERS_BY_EMAIL, {"address": address}))
    contacts = list(work.session.scalars(_CONTACTS_BY_EMAIL, {"address": address}))
    contact = contacts[0] if contacts else None
    author = users[0] if users else None
    if author is None and contact is not None and for_post:
        author = _user_for(work, contact)
    return Sender(
        address,
        frozenset(u.id for u in users) | frozenset({author.id} if author else set()),
        frozenset(c.id for c in contacts),
        author,
        contact,
    )


def create_sender(work: UnitOfWork, address: str, name: str | None, mailbox: Mailbox) -> Sender:
    """A new contact (and its user) for an address nobody had when the message was read.

    Another worker may be taking in a mail from the same new address right now: its turn
    is waited for, and the contact it made is used rather than a second one."""
    address = address.strip().lower()
    take_turn(work.session, "sender", address)
    made_meanwhile = find_sender(work, address)
    if made_meanwhile.known:
        return made_meanwhile
    domain = address.rpartition("@")[2]
    group_id = work.session.scalar(_DOMAIN_GROUP, {"domain": domain})
    group = work.session.get(CustomerGroup, group_id or mailbox.default_customer_group_id)
    assert group is not None  # a foreign key
    contact = directory.add_contact(
        work, name=(name or address)[:200], customer_group=group.name, email=address
    )
    user = _user_for(work, contact)
    return Sender(address, frozenset({user.id}), frozenset({contact.id}), user, contact)


def _user_for(work: UnitOfWork, contact: Contact) -> User:
    """The contact's user, created (without a password) when it has none."""
    if contact.user_id is not None:
        user = work.session.get(User, contact.user_id)
        if user is not None:
            return user
    address = (contact.email or "").lower()
    fallback = f"mail-{hashlib.sha256(address.encode()).hexdigest()[:12]}-{contact.id}"
    username = address if _USERNAME.match(address) else fallback
    try:  # the address as user name, unless taken (add_user checks that before it writes)
        user = directory.add_user(
            work, username=username, display_name=contact.name, email=contact.email
        )
    except Conflict:
        if username == fallback:
            raise
        user = directory.add_user(
            work, username=fallback, display_name=contact.name, email=contact.email
        )
    contact.user_id = user.id
    work.session.flush()
    return user
