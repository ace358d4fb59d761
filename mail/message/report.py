"""Read an RFC 3464 delivery status notification (and its RFC 6522 report container).

A bounce is only useful if it can be filed on the case whose mail bounced: Zammad does
that through the Message-ID of the original, which the report attaches either whole
(``message/rfc822``) or as headers only (``text/rfc822-headers``).  The per-recipient
fields of ``message/delivery-status`` say who failed and how (``5.1.1`` = no such user,
after which notifications to that address should stop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from mail.message.charsets import clean_text, decode_bytes
from mail.message.headers import first, message_ids

_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ORIGINAL_TYPES = {
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "text/rfc822-header",
    "message/rfc822-headers",
    "message/global-headers",
}
_STATUS_TYPES = {"message/delivery-status", "message/global-delivery-status"}


@dataclass(frozen=True)
class DeliveryRecipient:
    """One per-recipient block of a delivery-status part."""

    recipient: str | None
    action: str | None
    status: str | None
    diagnostic: str | None


@dataclass(frozen=True)
class DeliveryReport:
    """What a ``multipart/report`` (or a stray delivery-status part) says."""

    report_type: str | None
    recipients: tuple[DeliveryRecipient, ...]
    original_message_id: str | None
    has_delivery_status: bool


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return decode_bytes(payload, part.get_content_charset())
    return ""


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """Field blocks of a delivery-status part, whether the parser split it or not."""
    if part.is_multipart():
        blocks = [sub for sub in part.get_payload() if isinstance(sub, Message)]
        text = "\n\n".join("\n".join(f"{k}: {v}" for k, v in block.raw_items()) for block in blocks)
    else:
        text = _payload_text(part)
    result = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text):
        fields: dict[str, str] = {}
        name = None
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields.setdefault(name, value.strip())
        if fields:
            result.append({key: clean_text(value) for key, value in fields.items()})
    return result


def _recipient(fields: dict[str, str]) -> DeliveryRecipient | None:
    # the address as we sent it, not where the receiving side forwarded it to
    addr = fields.get("original-recipient") or fields.get("final-recipient")
    if not addr and "action" not in fields and "status" not in fields:
        return None
    if addr and ";" in addr:
        addr = addr.split(";", 1)[1]
    status = _STATUS.search(fields.get("status", ""))
    return DeliveryRecipient(
        recipient=addr.strip().strip("<>").lower() if addr else None,
        action=(fields.get("action") or "").lower() or None,
        status=status.group(1) if status else None,
        diagnostic=fields.get("diagnostic-code") or None,
    )


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        ids = message_ids(first(payload[0], "message-id"))
    else:
        headers = HeaderParser(policy=compat32).parsestr(_payload_text(part))
        ids = message_ids(first(headers, "message-id"))
    return ids[0] if ids else None


def _children(msg: Message, depth: int = 0) -> list[Message]:
    """Parts below ``msg``, not descending into attached messages (that is the original)."""
    if depth > 8 or not msg.is_multipart() or msg.get_content_maintype() == "message":
        return []
    found = []
    for part in msg.get_payload():
        if isinstance(part, Message):
            found.append(part)
            found.extend(_children(part, depth + 1))
    return found


def read_report(msg: Message) -> DeliveryReport | None:
    """The delivery report carried by ``msg``, or ``None`` when it carries none."""
    is_report = msg.get_content_type() == "multipart/report"
    parts = _children(msg)
    status_parts = [p for p in parts if p.get_content_type() in _STATUS_TYPES]
    if not is_report and not status_parts:
        return None
    recipients = [
        rcpt
        for part in status_parts
        for block in _status_blocks(part)
        if (rcpt := _recipient(block)) is not None
    ]
    original = None
    for part in parts:
        if part.get_content_type() in _ORIGINAL_TYPES:
            original = _original_id(part)
            if original:
                break
    report_type = msg.get_param("report-type") if is_report else None
    return DeliveryReport(
        report_type=clean_text(report_type).lower() if isinstance(report_type, str) else None,
        recipients=tuple(recipients),
        original_message_id=original,
        has_delivery_status=bool(status_parts),
    )
