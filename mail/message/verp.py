"""VERP: the envelope sender of each message we send names the message and its recipient.

``support+bounce-42-lee=example.com@casework.example`` is where a bounce of outbox message
42 to ``lee@example.com`` goes back to: the group mailbox itself, so the bounce comes back to
the intake.  Reading that address tells which message failed for whom, even when the report
is in no standard form and quotes nothing of the original.
"""

from __future__ import annotations

import re

from mail.message.parse import ParsedMail

_MAX_LOCAL = 64  # RFC 5321: a longer local part is not deliverable everywhere
_TAG = re.compile(r"bounce-(\d{1,18})(?:-([^@=+\s]{1,64})=([A-Za-z0-9.-]{1,255}))?")


def verp_address(base: str, message_id: int, recipient: str | None) -> str:
    """The envelope sender for ``message_id`` to ``recipient`` (None: several recipients)."""
    local, _, domain = base.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    tag = f"bounce-{message_id}"
    if recipient and recipient.count("@") == 1:
        rlocal, rdomain = recipient.strip().lower().split("@")
        candidate = f"{local}+{tag}-{rlocal}={rdomain}"
        if len(candidate) <= _MAX_LOCAL and "=" not in rlocal and "+" not in rlocal:
            return f"{candidate}@{domain}"
    return f"{local}+{tag}@{domain}"


def read_verp(address: str) -> tuple[int, str | None] | None:
    """(outbox message id, recipient or None) from a VERP address; None when it is none."""
    local = address.strip().strip("<>").lower().rpartition("@")[0]
    if "+" not in local:
        return None
    found = _TAG.fullmatch(local.split("+", 1)[1])
    if not found:
        return None
    recipient = f"{found.group(2)}@{found.group(3)}" if found.group(2) else None
    return int(found.group(1)), recipient


def verp_of(parsed: ParsedMail) -> tuple[int, str | None] | None:
    """The VERP address a message was sent to (To, Cc or the delivery headers), read."""
    addresses = [*parsed.to, *parsed.cc]
    for header in ("delivered-to", "x-original-to", "envelope-to"):
        addresses.extend(parsed.headers.get(header, ()))
    for address in addresses:
        if (found := read_verp(address)) is not None:
            return found
    return None
