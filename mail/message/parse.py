"""Raw RFC 5322 bytes -> :class:`ParsedMail`, or :class:`Quarantine` with a reason.

Intake is the one place where arbitrary bytes from the internet enter the product,
so this function has a single contract: it returns a complete, immutable
``ParsedMail`` or raises ``Quarantine`` -- never anything else, whatever it is fed.
The stdlib parser runs with ``policy.default``; because that policy parses lazily and
some real mail makes it raise later (``Content-Type: ;base64*`` -> IndexError), the
whole extraction is retried with ``compat32`` before giving up.  Within a message each
part falls back on its own: a part that cannot be decoded is kept as opaque bytes (and
named in ``defects``) while the rest is read.  Headers and charsets are decoded by our own
lenient code (:mod:`mail.message.headers`, :mod:`mail.message.charsets`, with charset
detection where the declared one is missing or wrong) so both policies give the same answer.

A message is quarantined for its content only when no readable text is left: it declared
parts (multipart, an encoded body) and none of them could be read.  A message that is
simply empty is not broken; the raw bytes are always kept with the inbound row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from mail.message.charsets import clean_text, decode_bytes, decode_words
from mail.message.headers import addresses, decoded_headers, first, message_ids, raw_values
from mail.message.html_text import html_to_text, sanitize_html
from mail.message.parts import charset, content_type, embedded_bytes, filename, payload_bytes
from mail.message.quarantine import Quarantine
from mail.message.quotes import Folded, fold_quotes
from mail.message.report import DeliveryReport, read_report

MAX_PARTS = 500
MAX_DEPTH = 30
MAX_HEADER_CHARS = 1_000_000
MAX_HEADERS = 5_000
_MAIL_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "sender", "received")


@dataclass(frozen=True)
class Attachment:
    """One non-body part; ``data`` is the decoded content (a whole message for message/*)."""

    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    data: bytes = field(repr=False)
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    """Everything later steps need from one message; addresses are lower-cased.

    ``text`` is the plain body ("" when the mail is HTML-only, then ``text_from_html``
    holds a rendering); ``quoted_folded`` splits ``body_text`` into new and quoted text.
    ``headers`` maps lower-cased names to decoded values; ``report`` is the parsed
    delivery report, if any; ``defects`` and ``parser`` ("default" or "compat32") say
    how broken the message was and which policy got through it.
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str | None
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date: datetime | None
    headers: dict[str, tuple[str, ...]] = field(repr=False)
    text: str = field(repr=False)
    html: str | None = field(repr=False)
    safe_html: str | None = field(repr=False)
    text_from_html: str | None = field(repr=False)
    attachments: tuple[Attachment, ...]
    quoted_folded: Folded = field(repr=False)
    content_type: str
    report: DeliveryReport | None
    defects: tuple[str, ...]
    parser: str
    size: int

    @property
    def body_text(self) -> str:
        """The plain text to show, search and fold: the text part, else the HTML rendering."""
        return self.text or self.text_from_html or ""

    def header(self, name: str) -> str | None:
        """First decoded value of header ``name`` (case-insensitive), or ``None``."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class _Limits:
    per_attachment: int
    total: int


@dataclass
class _Collected:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    #: True under the last policy tried (compat32): a part that fails is kept opaque
    last_resort: bool = False
    parts: int = 0
    attachment_bytes: int = 0


def parse_message(
    raw: bytes,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    max_attachment_bytes: int | None = None,
    max_total_attachment_bytes: int | None = None,
) -> ParsedMail:
    """Parse one message; raise :class:`Quarantine` (only) when it cannot be taken in.

    Attachment limits default to ``max_bytes``; a message over any limit is quarantined
    whole rather than stored with parts silently missing.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_message needs bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise Quarantine(
            f"message is {len(raw):,} bytes, over the limit of {max_bytes:,}", code="too_large"
        )
    if not raw.strip():
        raise Quarantine("message is empty", code="empty")
    limits = _Limits(max_attachment_bytes or max_bytes, max_total_attachment_bytes or max_bytes)
    failures = []
    for name, pol in (("default", policy.default), ("compat32", policy.compat32)):
        try:
            msg = BytesParser(policy=pol).parsebytes(raw.lstrip(b"\r\n"))
            return _extract(msg, name, len(raw), limits)
        except Quarantine:
            raise
        except Exception as exc:  # any parser failure: try the other policy, then quarantine
            failures.append(f"{name} policy: {type(exc).__name__}: {exc}"[:300])
    raise Quarantine("unparseable: " + "; ".join(failures), code="unparseable")


def _extract(msg: Message, parser: str, size: int, limits: _Limits) -> ParsedMail:
    if len(msg) > MAX_HEADERS:
        raise Quarantine(f"{len(msg):,} header fields", code="header_too_large")
    for name, value in msg.raw_items():
        if len(value) > MAX_HEADER_CHARS:  # folded References run to kilobytes, never this
            raise Quarantine(
                f"header {name[:40]!r} is {len(value):,} characters long", code="header_too_large"
            )
    headers = decoded_headers(msg)
    if not any(name in headers for name in _MAIL_HEADERS):
        raise Quarantine("no mail headers found: not an RFC 5322 message", code="no_headers")
    found = _Collected(
        defects=[type(d).__name__ for d in msg.defects], last_resort=parser == "compat32"
    )
    _visit(msg, 0, found, limits)
    text = "\n".join(t for t in found.text if t.strip())
    html = "\n".join(found.html) or None
    _require_something_readable(msg, found, text, html)
    text_from_html = html_to_text(html) if html and not text.strip() else None
    sender = addresses(raw_values(msg, "from"))
    in_reply_to = message_ids(first(msg, "in-reply-to"))
    own_id = message_ids(first(msg, "message-id"))
    return ParsedMail(
        message_id=own_id[0] if own_id else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(message_ids(" ".join(raw_values(msg, "references")))),
        subject=" ".join(decode_words(first(msg, "subject") or "").split()),
        from_address=(sender[0][1] or None) if sender else None,
        from_name=(sender[0][0] or None) if sender else None,
        to=_addrs(msg, "to"),
        cc=_addrs(msg, "cc"),
        reply_to=_addrs(msg, "reply-to"),
        date=_date(first(msg, "date")),
        headers=headers,
        text=text,
        html=html,
        safe_html=sanitize_html(html, text=text_from_html) if html else None,
        text_from_html=text_from_html,
        attachments=tuple(found.attachments),
        quoted_folded=fold_quotes(text if text.strip() else text_from_html or ""),
        content_type=content_type(msg),
        report=read_report(msg),
        defects=tuple(found.defects),
        parser=parser,
        size=size,
    )


def _addrs(msg: Message, name: str) -> tuple[str, ...]:
    return tuple(addr for _, addr in addresses(raw_values(msg, name)) if addr)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


#: Defects saying a multipart message lost its parts: no boundary, or none of it found.
_LOST_PARTS = {"StartBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect"}


def _require_something_readable(
    msg: Message, found: _Collected, text: str, html: str | None
) -> None:
    """Quarantine a message whose declared content could not be read at all."""
    if text.strip() or (html or "").strip() or found.attachments:
        return
    lost = sorted(_LOST_PARTS.intersection(found.defects))
    if not lost and not found.unreadable:
        return  # an empty message is not a broken one
    why = "; ".join([*found.unreadable, *lost])
    raise Quarantine(
        f"no readable text left: {content_type(msg)} declared content that could not be read "
        f"({why}); the raw message is kept",
        code="unreadable",
    )


def _visit(part: Message, depth: int, found: _Collected, limits: _Limits) -> None:
    found.parts += 1
    if found.parts > MAX_PARTS:
        raise Quarantine(f"more than {MAX_PARTS} MIME parts", code="too_many_parts")
    if depth > MAX_DEPTH:
        raise Quarantine(f"MIME parts nested deeper than {MAX_DEPTH}", code="too_many_parts")
    if depth:
        found.defects.extend(type(d).__name__ for d in part.defects)
    ctype = content_type(part)
    if part.is_multipart() and not ctype.startswith("message/"):
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _visit(sub, depth + 1, found, limits)
        return
    if ctype.startswith("multipart/") and (recovered := _with_found_boundary(part, ctype)):
        _visit(recovered, depth + 1, found, limits)
        return
    try:
        _leaf(part, ctype, found, limits)
    except Quarantine:
        raise
    except Exception as exc:  # this part only: keep its bytes as they are, read the rest
        if not found.last_resort:
            raise  # the next policy may read it
        found.unreadable.append(f"{ctype} part: {type(exc).__name__}")
        found.defects.append("UnreadablePartDefect")
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        if data:
            found.attachments.append(
                Attachment("unreadable-part.bin", "application/octet-stream", len(data), None, data)
            )


_DELIMITER = re.compile(r"\A\s*--([^\s]{1,70})[ \t]*\r?\n")


def _with_found_boundary(part: Message, ctype: str) -> Message | None:
    """A multipart whose declared boundary is not in its body, read again with the boundary
    its first delimiter line actually uses (a mailer that wrote one and used another)."""
    payload = part.get_payload()
    if not isinstance(payload, str) or not (found := _DELIMITER.match(payload)):
        return None
    boundary = found.group(1)
    if boundary == part.get_boundary() or '"' in boundary:
        return None
    head = f'Content-Type: {ctype}; boundary="{boundary}"\n\n'
    body = payload.encode("utf-8", "surrogateescape")
    recovered = BytesParser(policy=policy.compat32).parsebytes(head.encode("ascii") + body)
    return recovered if recovered.is_multipart() else None


def _leaf(part: Message, ctype: str, found: _Collected, limits: _Limits) -> None:
    """Read one leaf part: body text, or an attachment."""
    name = filename(part)
    disposition = part.get_content_disposition()
    is_text = ctype in ("text/plain", "text/html") or (
        ctype.startswith("multipart/") and not part.is_multipart()  # boundary missing
    )
    if is_text and disposition != "attachment" and not name:
        data = payload_bytes(part)
        target = found.html if ctype == "text/html" else found.text
        decoded = decode_bytes(data, charset(part, data, html=ctype == "text/html"))
        target.append(decoded.replace("\r\n", "\n").replace("\r", "\n"))
        return
    data = embedded_bytes(part) if ctype.startswith("message/") else payload_bytes(part)
    if len(data) > limits.per_attachment:
        raise Quarantine(
            f"attachment {name or ctype!r} is {len(data):,} bytes, over the "
            f"limit of {limits.per_attachment:,}",
            code="attachment_too_large",
        )
    found.attachment_bytes += len(data)
    if found.attachment_bytes > limits.total:
        raise Quarantine(
            f"attachments total over {limits.total:,} bytes", code="attachment_too_large"
        )
    content_id = clean_text(first(part, "content-id") or "").strip().strip("<>").strip() or None
    inline = disposition == "inline" or bool(content_id)
    found.attachments.append(Attachment(name, ctype, len(data), content_id, data, inline))
