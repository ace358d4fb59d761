"""The case stream: posts by agents and customers.

Who may read which posts (internal ones never reach the portal) is decided by
``rules.posts_query``; the engine only appends.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select

from engine import audit
from engine.errors import InvalidInput
from engine.run.cases import case_by_number
from engine.runtime import UnitOfWork
from engine.store.models import PostAttachment, StreamPost, User

MAX_BODY = 100_000
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:]+")
_ATTACHMENTS_OF = (
    select(
        PostAttachment.id,
        PostAttachment.post_id,
        PostAttachment.filename,
        PostAttachment.content_type,
        PostAttachment.size,
    )
    .where(PostAttachment.post_id.in_(bindparam("post_ids", expanding=True)))
    .order_by(PostAttachment.id)
)


def add_post(
    work: UnitOfWork,
    *,
    number: str,
    author: User,
    body: str,
    internal: bool = False,
    case_id: int | None = None,
) -> StreamPost:
    """Append a post to a case's stream (posts are never edited, only added).

    ``case_id``: the caller holds the case already (mail intake, which just opened or
    matched it), so it is not looked up again by its number."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("cannot post", {"body": "is required"})
    if len(body) > MAX_BODY:
        raise InvalidInput("cannot post", {"body": f"must be at most {MAX_BODY} characters"})
    case = case_by_number(work, number) if case_id is None else None
    if case is not None:  # held until the hooks are done: they read it from the session
        case_id = case.id
    assert case_id is not None
    post = StreamPost(
        case_id=case_id, author_id=author.id, body=body, internal=internal, created_at=work.now
    )
    work.session.add(post)
    work.session.flush()
    audit.record(
        work,
        actor_id=author.id,
        entity="post",
        entity_id=post.id,
        case_id=case_id,
        action="posted",
        after={"internal": internal, "length": len(body)},
    )
    work.runtime.hooks.post_added(work, case_id, post.id, internal)
    return post


def add_note(work: UnitOfWork, *, case_id: int, body: str) -> StreamPost:
    """An internal post written by the system (no author), such as a delivery failure.

    It is nobody's answer: no hook runs, so no SLA clock moves and no one is mailed.
    """
    body = body.strip()[:MAX_BODY]
    post = StreamPost(
        case_id=case_id, author_id=None, body=body, internal=True, created_at=work.now
    )
    work.session.add(post)
    work.session.flush()
    audit.record(
        work,
        actor_id=None,
        entity="post",
        entity_id=post.id,
        case_id=case_id,
        action="noted",
        after={"internal": True, "length": len(body)},
    )
    return post


def attach(
    work: UnitOfWork, post: StreamPost, *, filename: str | None, content_type: str, data: bytes
) -> PostAttachment:
    """Store a file with a post.  The name loses any path and control characters (it came
    from outside); an unrecognisable content type is stored as opaque bytes."""
    name = _UNSAFE_NAME.sub("_", (filename or "").strip()).strip(" ._")[:255] or "attachment"
    kind = (content_type or "").strip().lower()
    row = PostAttachment(
        post_id=post.id,
        filename=name,
        content_type=kind if _CONTENT_TYPE.match(kind) else "application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        created_at=work.now,
    )
    work.session.add(row)
    work.session.flush()
    return row


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
            }
        )
    return found
