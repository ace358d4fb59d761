"""The case stream: posts by agents and customers.

Who may read which posts (internal ones never reach the portal) is decided by
``rules.posts_query``; the engine only appends.
"""

from __future__ import annotations

from . import audit
from .cases import case_by_number
from .errors import InvalidInput
from .runtime import UnitOfWork
from .store.models import StreamPost, User

MAX_BODY = 100_000


def add_post(
    work: UnitOfWork, *, number: str, author: User, body: str, internal: bool = False
) -> StreamPost:
    """Append a post to a case's stream (posts are never edited, only added)."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("cannot post", {"body": "is required"})
    if len(body) > MAX_BODY:
        raise InvalidInput("cannot post", {"body": f"must be at most {MAX_BODY} characters"})
    case = case_by_number(work, number)
    post = StreamPost(
        case_id=case.id, author_id=author.id, body=body, internal=internal, created_at=work.now
    )
    work.session.add(post)
    work.session.flush()
    audit.record(
        work,
        actor_id=author.id,
        entity="post",
        entity_id=post.id,
        case_id=case.id,
        action="posted",
        after={"internal": internal, "length": len(body)},
    )
    work.runtime.policies.post_added(work, case.id, post.id, internal)
    return post
