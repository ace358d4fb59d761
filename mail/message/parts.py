"""Reading one MIME leaf: its transfer-decoded bytes, its charset, its file name.

Each function here copes with a specific way real mail breaks the standard and is
tested against the corpus: a charset hidden in an encoded word, ``base64;`` with a
trailing semicolon, RFC 2047 used (illegally) inside file names, names with CR/LF or
paths in them.  None of them raises on bad input; the worst case is ``b""`` or ``None``.
"""

from __future__ import annotations

import base64
import io
import quopri
import re
from email import policy
from email.generator import BytesGenerator
from email.message import Message

from mail.message.charsets import decode_bytes, decode_words
from mail.message.headers import raw_values

_META_CHARSET = re.compile(rb"<meta[^>]{0,200}charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
_RAW_NAME = re.compile(r"\b(?:file)?name\s*=\s*(?:\"([^\"]*)\"|([^\s;]+))", re.I)
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_PARAM_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)


def content_type(part: Message) -> str:
    """The lower-cased MIME type; a malformed one counts as text/plain (RFC 2045 default)."""
    value = part.get_content_type()
    return value if _MIME_TYPE.fullmatch(value) else "text/plain"


def filename(part: Message) -> str | None:
    """The attachment name, decoded (RFC 2231 and the common RFC 2047 misuse) and made safe."""
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):  # an RFC 2231 value get_param did not collapse
        name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
    if not isinstance(name, str):  # unquoted specials ("name==?utf-8?B?...?=") defeat the API
        raw = raw_values(part, "content-disposition") + raw_values(part, "content-type")
        found = next((m for value in raw if (m := _RAW_NAME.search(value))), None)
        name = (found.group(1) or found.group(2)) if found else None
    if not name:
        return None
    name = decode_words(name)
    name = re.sub(r"[\x00-\x1f\x7f]+", "", name).replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip()[:255] or None


def charset(part: Message, data: bytes, *, html: bool) -> str | None:
    """The declared charset: the parameter, one hidden in an encoded word, or an HTML meta."""
    declared = part.get_content_charset()
    if not declared:  # Content-Type: text/html; =?ISO-8859-2?Q?charset=3D"ISO-8859-2"?=
        raw = " ".join(raw_values(part, "content-type"))
        found = _PARAM_CHARSET.search(decode_words(raw)) if "=?" in raw else None
        declared = found.group(1) if found else None
    if not declared and html:
        meta = _META_CHARSET.search(data[:4096])
        declared = meta.group(1).decode("ascii", "replace") if meta else None
    return declared


def payload_bytes(part: Message) -> bytes:
    """The raw content bytes, transfer-decoded, tolerant of "base64;" and bad base64.

    ``get_payload(decode=True)`` is the only stdlib call that returns the original
    bytes; the undecoded ``get_payload()`` has already (lossily) applied the charset.
    """
    if part.is_multipart():
        return b""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return b""
    declared = str(part.get("content-transfer-encoding", "")).lower()
    token = declared.split(";")[0].strip()
    if token == declared:  # the stdlib recognised it (or there is nothing to undo)
        return data
    if token == "base64":
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        data = data[:-1] if len(data) % 4 == 1 else data
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    if token == "quoted-printable":
        return quopri.decodestring(data)
    return data


def embedded_bytes(part: Message) -> bytes:
    """The attached message as bytes, regenerated from the parsed tree."""
    payload = part.get_payload()
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], Message):
        return payload_bytes(part)
    buffer = io.BytesIO()
    for block in payload:  # one message, or the field blocks of a delivery-status part
        if not isinstance(block, Message):
            continue
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(block)
        except Exception:  # regeneration of a broken message; keep what the parser saw
            buffer.write(str(block).encode("utf-8", "surrogateescape"))
    return buffer.getvalue()
