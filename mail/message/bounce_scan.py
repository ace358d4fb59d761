"""Who a bounce says could not be reached, and with which status code.

An RFC 3464 delivery report names each recipient with its ``Status``; that is read first.
Many servers still write their own forms (qmail's ``#5.5.0`` lines, Lotus Domino, Exim's
``X-Failed-Recipients``, Yahoo, Microsoft's older formats): for those the maintained
detectors of GNU Mailman's ``flufl.bounce`` find the addresses, and the status code comes
from the report's text.  An address found with no code at all gets the generic code of its
class (``5.0.0`` for a permanent failure, ``4.0.0`` for a temporary one), so the decision
hard/soft is always made from a status code (:func:`mail.bounces.severity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from flufl.bounce import all_failures

from mail.message.parse import ParsedMail

#: A report naming more recipients than this is treated as naming the first ones only.
MAX_FAILURES = 20
_STATUS = re.compile(r"(?<![\w.])([245]\.\d{1,3}\.\d{1,3})(?![\w.]*\d)")
_SHAPE = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,255}")
_NOT_FAILED = {"delivered", "relayed", "expanded"}


@dataclass(frozen=True)
class Failure:
    """One recipient the report says was not reached; ``source`` says where we read it."""

    address: str
    status: str
    source: str
    diagnostic: str | None = None


def failures(
    parsed: ParsedMail, raw: bytes, bounce_address_recipient: str | None = None
) -> tuple[Failure, ...]:
    """The failed recipients of a bounce, strongest evidence first, each address once;
    ``bounce_address_recipient`` (read from our VERP address) when nothing else names one."""
    found: dict[str, Failure] = {}

    def add(address: str | None, status: str, source: str, diag: str | None) -> None:
        address = (address or "").strip().strip("<>").lower()
        if _SHAPE.fullmatch(address) and address not in found and len(found) < MAX_FAILURES:
            found[address] = Failure(address, status, source, diag)

    report = parsed.report
    for rcpt in report.recipients if report else ():
        if rcpt.action not in _NOT_FAILED:
            delayed = rcpt.action == "delayed"
            status = rcpt.status or _text_status(parsed, "4" if delayed else "5")
            add(rcpt.recipient, status, "delivery-status", rcpt.diagnostic)
    if found:
        return tuple(found.values())
    temporary, permanent = _detected(raw)
    for address in sorted(permanent):
        add(address, _text_status(parsed, "5"), "server text", None)
    for address in sorted(temporary):
        add(address, _text_status(parsed, "4"), "server text", None)
    for value in parsed.headers.get("x-failed-recipients", ()):
        for address in value.split(","):
            add(address, _text_status(parsed, "5"), "X-Failed-Recipients", None)
    if not found and bounce_address_recipient:
        add(bounce_address_recipient, _text_status(parsed, "5"), "bounce address", None)
    return tuple(found.values())


def _detected(raw: bytes) -> tuple[set[str], set[str]]:
    """(temporary, permanent) addresses by flufl.bounce's detectors; none when they fail."""
    try:
        msg: Message = message_from_bytes(raw, policy=compat32)
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector tripping over odd input costs only its answer
        return set(), set()
    return {_text(a) for a in temporary}, {_text(a) for a in permanent}


def _text(address: bytes | str) -> str:
    return address.decode("utf-8", "replace") if isinstance(address, bytes) else address


def _text_status(parsed: ParsedMail, klass: str) -> str:
    """The first status code of class ``klass`` in the report's text, else ``klass.0.0``."""
    for code in _STATUS.findall(parsed.body_text):
        if code.startswith(klass + "."):
            return str(code)
    return f"{klass}.0.0"
