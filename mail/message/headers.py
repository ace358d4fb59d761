"""Header access that cannot fail, whatever the policy and whatever the sender wrote.

The modern ``email`` policy parses a header lazily, when it is first read, and some
malformed values make that parse raise.  Reading the raw value (``raw_items``) and
decoding it ourselves works the same on both policies, so classification and
threading never depend on which parser got through a message.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from mail.message.charsets import clean_text, decode_words

_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")
_MSG_ID = re.compile(r"<([^<>\s]{1,900})>")


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header ``name`` (unfolded, not decoded)."""
    wanted = name.lower()
    return [_FOLD.sub(" ", str(v)).strip() for k, v in msg.raw_items() if k.lower() == wanted]


def decoded_headers(msg: Message) -> dict[str, tuple[str, ...]]:
    """All headers: lower-cased name -> decoded values in message order."""
    result: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        text = decode_words(_FOLD.sub(" ", str(value)).strip())
        result.setdefault(name.lower().strip(), []).append(text)
    return {name: tuple(values) for name, values in result.items()}


def first(msg: Message, name: str) -> str | None:
    values = raw_values(msg, name)
    return values[0] if values else None


def message_ids(value: str | None) -> list[str]:
    """Message ids in a Message-ID / In-Reply-To / References value, as ``<id>``, de-duplicated.

    Bracketless ids (``abc@host``) are accepted when the value has no bracketed one, since
    some gateways write them; prose such as "your message of Monday" is ignored.
    """
    if not value:
        return []
    value = clean_text(value)
    ids = [f"<{m}>" for m in _MSG_ID.findall(value)]
    if not ids:
        ids = [f"<{tok.strip('<>')}>" for tok in value.split() if "@" in tok and "<" not in tok]
    seen: dict[str, None] = {}
    for mid in ids:
        seen.setdefault(mid, None)
    return list(seen)


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; display names RFC 2047-decoded."""
    result = []
    for name, addr in getaddresses(values):
        addr = decode_words(addr).strip().strip("<>").lower()
        if not addr and not name:
            continue
        result.append((decode_words(name).strip(), addr))
    return result
