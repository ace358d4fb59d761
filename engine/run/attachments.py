"""Files on posts: checked, sniffed and stored in the file store; listed and read back.

The name a file came with is kept (made safe: no path, no control characters) but its type
is read from its bytes, never taken from the sender's word: a page of HTML named
``invoice.pdf`` is ``text/html``, and is never served as something a browser renders.
Who may read a file is who may read its post (``rules.posts_query``); the engine only stores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from engine import audit
from engine.runtime import UnitOfWork
from engine.store.models import PostAttachment, StreamPost

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:]+")
#: Types a browser would render or run: always served as opaque bytes.
ACTIVE_TYPES = frozenset({"text/html", "image/svg+xml", "application/xml", "text/xml"})
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"PK\x03\x04", "application/zip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
)
_OFFICE = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_MARKUP = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe|svg"
    rb"|meta|style|a\s|img\s|div|table|title|p>)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class NewFile:
    """A file to attach, as it arrived: the name its sender gave and its bytes."""

    filename: str | None
    data: bytes


def safe_name(filename: str | None) -> str:
    """The name without path separators or control characters (``../../etc/passwd`` is
    stored as ``etc_passwd``), at most 255 characters; it never names a place on disk."""
    return _UNSAFE_NAME.sub("_", (filename or "").strip()).strip(" ._")[:255] or "attachment"


def sniff(data: bytes, filename: str = "") -> str:
    """The content type the bytes show (the name only tells the Office formats inside ZIP)."""
    head = data[:2048]
    if head[8:12] == b"WEBP" and head[:4] == b"RIFF":
        return "image/webp"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "application/zip":
                return next(
                    (t for ext, t in _OFFICE.items() if filename.lower().endswith(ext)), kind
                )
            return kind
    text = head.lstrip(b"\xef\xbb\xbf")
    if _MARKUP.match(text):
        return "image/svg+xml" if b"<svg" in text.lower()[:512] else "text/html"
    if text.lstrip().startswith(b"<?xml"):
        return "application/xml"
    if b"\x00" not in head:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def served_type(content_type: str) -> str:
    """The type a download is sent with: active content only ever as opaque bytes."""
    return "application/octet-stream" if content_type in ACTIVE_TYPES else content_type


def check(work: UnitOfWork, files: Iterable[NewFile]) -> None:
    """Refuse the first file over the size limit or flagged by the virus scanner, before
    anything is stored."""
    for file in files:
        work.runtime.files.check(safe_name(file.filename), file.data)


def attach(work: UnitOfWork, post: StreamPost, file: NewFile) -> PostAttachment:
    """Store a checked file with a post: its bytes in the file store (written before the row
    that names them, so a row never points at a half file), its metadata in a row."""
    name = safe_name(file.filename)
    digest = work.runtime.files.put(file.data)
    row = PostAttachment(
        post_id=post.id,
        filename=name,
        content_type=sniff(file.data, name),
        size=len(file.data),
        sha256=digest,
        created_at=work.now,
    )
    work.session.add(row)
    work.session.flush()
    audit.record(
        work,
        actor_id=post.author_id,
        entity="attachment",
        entity_id=row.id,
        case_id=post.case_id,
        action="attached",
        after={"post": post.id, "filename": name, "type": row.content_type, "size": row.size},
    )
    return row


def content(work: UnitOfWork, row: PostAttachment) -> bytes:
    """The file's bytes: from the row for files stored before the file store, else the store."""
    if row.content is not None:
        return row.content
    return work.runtime.files.read(row.sha256)


_ATTACHMENTS_OF = (
    select(
        PostAttachment.id,
        PostAttachment.post_id,
        PostAttachment.filename,
        PostAttachment.content_type,
        PostAttachment.size,
        PostAttachment.sha256,
    )
    .where(PostAttachment.post_id.in_(bindparam("post_ids", expanding=True)))
    .order_by(PostAttachment.id)
)


def attachments_of(work: UnitOfWork, post_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments (without their content) of each post, for listing."""
    wanted = sorted(set(post_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    if not wanted:
        return found
    for row in work.session.execute(_ATTACHMENTS_OF, {"post_ids": wanted}):
        found.setdefault(row.post_id, []).append(
            {
                "id": row.id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
            }
        )
    return found
