"""Invitations and password resets by mail: the administrator's act and its mail, at once.

``rules.user_admin`` decides (administrators only, the nonsense refused) and makes the
one-time link; here its secret goes to the user's own address through the outbox, queued
in the same transaction, so an invitation whose user was not created is never mailed and
a created user always has their mail on its way.  A user without an address (or one that
bounced for good) gets no mail: the caller shows the link once for the administrator to
hand over instead.  The link points at ``CASEWORK_URL``, like every other mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.runtime import UnitOfWork
from engine.store.models import User
from people import logins, user_access
from rules import user_admin
from rules.subject import Subject

from .outbox import queue_notice
from .settings import MailSettings

#: The notice template of each link purpose (``mail/templates``).
KINDS = {"invite": "invite", "reset": "password_reset"}


@dataclass(frozen=True)
class Issued:
    """A new link: whose it is, where it leads, and the address it was mailed to (None:
    not mailed, hand it over)."""

    user: User
    url: str
    mailed_to: str | None


def link_url(settings: MailSettings, secret: str) -> str:
    return f"{settings.base_url}/password/{secret}"


def invite(
    work: UnitOfWork,
    subject: Subject | None,
    settings: MailSettings,
    *,
    username: str,
    display_name: str,
    email: str | None,
    groups: Sequence[str] = (),
    leads: Sequence[str] = (),
) -> Issued:
    """Invite a user (``rules.user_admin.invite``) and mail them their link."""
    user, secret = user_admin.invite(
        work,
        subject,
        username=username,
        display_name=display_name,
        email=email,
        groups=groups,
        leads=leads,
    )
    return _mail(work, subject, settings, user, secret, "invite")


def reset_password(
    work: UnitOfWork, subject: Subject | None, settings: MailSettings, *, username: str
) -> Issued:
    """Reset a user's password (``rules.user_admin.reset_password``) and mail them the
    link to set a new one."""
    user, secret = user_admin.reset_password(work, subject, username=username)
    return _mail(work, subject, settings, user, secret, "reset")


def _mail(
    work: UnitOfWork,
    subject: Subject | None,
    settings: MailSettings,
    user: User,
    secret: str,
    purpose: str,
) -> Issued:
    url = link_url(settings, secret)
    if not user.email:
        return Issued(user, url, None)
    expires = work.now + user_access.LINK_LIFETIME
    queued = queue_notice(
        work.session,
        case_id=None,
        kind=KINDS[purpose],
        recipients=[user.email],
        sender=settings.sender,
        context={
            "name": user.display_name or user.username,
            "username": user.username,
            "by": subject.username if subject is not None else None,
            "link": url,
            "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
        },
        dedupe_key=f"password_link:{logins.digest(secret)}",
        domain=settings.domain,
        now=work.now,
        token=f"user{user.id:08d}",
    )
    return Issued(user, url, user.email if queued is not None else None)
