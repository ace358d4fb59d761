"""The case stream: posts by agents and customers.

Who may read which posts (internal ones never reach the portal) is decided by
``rules.posts_query``; the engine only appends.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import audit
from engine.errors import InvalidInput
from engine.run import attachments
from engine.run.attachments import NewFile
from engine.run.cases import case_by_number
from engine.runtime import UnitOfWork
from engine.store.models import StreamPost, User

MAX_BODY = 100_000


def add_post(
    work: UnitOfWork,
    *,
    number: str,
    author: User,
    body: str,
    internal: bool = False,
    case_id: int | None = None,
    files: Sequence[NewFile] = (),
    files_checked: bool = False,
) -> StreamPost:
    """Append a post to a case's stream (posts are never edited, only added).

    ``case_id``: the caller holds the case already (mail intake, which just opened or
    matched it), so it is not looked up again by its number.  ``files`` are checked (size,
    virus scan) before anything is stored and attached before the hooks run, so the mail a
    public post causes carries them.  ``files_checked``: the caller checked them already
    (mail intake checks each on its own, to leave out only the refused ones)."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("cannot post", {"body": "is required"})
    if len(body) > MAX_BODY:
        raise InvalidInput("cannot post", {"body": f"must be at most {MAX_BODY} characters"})
    if not files_checked:
        attachments.check(work, files)
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
    for file in files:
        attachments.attach(work, post, file)
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
