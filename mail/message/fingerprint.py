"""What identifies a message for deduplication: its Message-ID and a hash of its content.

The same message reaches a folder more than once -- fetched again after a crash between
commit and flagging it, again after a UIDVALIDITY change, or delivered twice because it was
sent to two of our addresses (zammad#1662 made two tickets of one mail).  Trace headers
(``Received``, ``Delivered-To``, ...) differ between such copies while the message does not,
so the hash leaves them out and ignores line-ending differences.  The Message-ID is read
by a lenient header scan that works even on mail the parser refuses, so a quarantined
message is deduplicated too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Headers added in transit; two deliveries of one message differ only in these.
TRACE_HEADERS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"envelope-to",
        b"x-envelope-to",
        b"x-delivered-to",
        b"x-received",
        b"received-spf",
        b"authentication-results",
        b"arc-authentication-results",
        b"arc-message-signature",
        b"arc-seal",
        b"x-spam-status",
        b"x-spam-score",
        b"x-spam-level",
        b"x-spam-flag",
        b"x-virus-scanned",
    }
)
#: Printable ASCII only: the id is stored as text, and PostgreSQL refuses NUL in text.
_MESSAGE_ID = re.compile(rb"<[\x21-\x3b\x3d\x3f-\x7e]{1,490}>")
MAX_ID = 500


@dataclass(frozen=True)
class Fingerprint:
    """``message_id`` ("" when none) and ``content_hash`` (sha256 hex)."""

    message_id: str
    content_hash: str

    @classmethod
    def of(cls, raw: bytes) -> Fingerprint:
        head, _, body = raw.replace(b"\r\n", b"\n").lstrip(b"\n").partition(b"\n\n")
        kept: list[bytes] = []
        message_id = ""
        skipping = False
        for line in head.split(b"\n"):
            if line[:1] in (b" ", b"\t"):  # continuation of the header above
                if not skipping:
                    kept.append(line)
                continue
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            skipping = name in TRACE_HEADERS
            if not skipping:
                kept.append(line)
            if name == b"message-id" and not message_id:
                found = _MESSAGE_ID.search(value)
                message_id = found.group(0).decode("ascii", "replace") if found else ""
        digest = hashlib.sha256(b"\n".join(kept) + b"\n\n" + body.rstrip()).hexdigest()
        return cls(message_id[:MAX_ID], digest)
