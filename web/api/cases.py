"""Cases over JSON: open, list (views and search), show, close, the stream, access explain."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from engine.errors import Forbidden, NotFound
from engine.run import cases, posts, tasks
from engine.run import summaries as views
from engine.run.cases import case_by_number
from engine.store.models import PostAttachment, StreamPost
from people.directory import user_by_name
from rules import explain, load_subject, posts_query, visible_case
from rules.levels import Action
from rules.pages import case_for_action, case_list_query, case_page, require_openable
from rules.restriction import hide_from_portal

from ..answers import (
    CasePage,
    CaseSummary,
    Decision,
    OpenedCase,
    PortalVisibilityAnswer,
    Post,
    errors,
    links,
)
from ..auth import SIGNED_IN, acting
from ..routing import UnitRoute
from ..schemas import CloseCase, NewPost, OpenCase, PortalVisibility, Text
from .params import CaseNumber, Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/cases",
    tags=["cases"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)
SearchText = Annotated[Text, Query(max_length=200)]
_NUMBER = {"number": "$response.body#/number"}


@router.post(
    "",
    status_code=201,
    summary="Open a case; answers it with the tasks now mine",
    response_model=OpenedCase,
    responses={
        **errors(409),
        **links(
            201,
            Show=("show_case", _NUMBER),
            Posts=("list_posts", _NUMBER),
            Post=("add_post", _NUMBER),
            Close=("close_case", _NUMBER),
            Portal=("portal_visibility", _NUMBER),
            Access=("explain_access", _NUMBER),
            Claim=("claim", {"task_id": "$response.body#/tasks/0/id"}),
            Complete=("complete", {"task_id": "$response.body#/tasks/0/id"}),
        ),
    },
)
def open_case(request: Request, body: OpenCase) -> dict[str, Any]:
    with acting(request) as me:
        require_openable(me.work, me.subject, body.case_type)
        opened = cases.open_case(
            me.work,
            case_type=body.case_type,
            subject=body.subject,
            raiser=me.user,
            data=body.data,
            priority=body.priority,
            main_contact_id=body.contact,
            actor_id=me.user.id,
        )
        case = cases.case_by_number(me.work, opened.number)
        return {
            **views.case_summary(me.work, case),
            "tasks": views.task_summaries(
                me.work,
                [
                    item
                    for item in tasks.case_tasks(me.work, case.id)
                    if tasks.is_eligible(me.work, item.task.id, me.user)
                ],
            ),
        }


@router.get(
    "",
    summary="Cases I may see, newest first (a named view, or a search)",
    response_model=list[CaseSummary],
    responses=links(200, Show=("show_case", {"number": "$response.body#/0/number"})),
)
def list_cases(
    request: Request,
    q: SearchText = "",
    view: Annotated[Text | None, Query(max_length=100)] = None,
    status: Literal["open", "closed"] | None = None,
    priority: cases.Priority | None = None,
    case_type: Annotated[Text | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    with acting(request) as me:
        query = case_list_query(
            me.work,
            me.subject,
            view=view,
            text=q,
            priority=priority,
            status=status,
            case_type=case_type,
        )
        rows = me.work.session.scalars(query.limit(limit).offset(offset))
        return [views.case_summary(me.work, c) for c in rows]


@router.get(
    "/{number}",
    summary="A case with the sections, tasks and stream I may see",
    response_model=CasePage,
    response_model_exclude_unset=True,
)
def show_case(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return case_page(me.work, me.subject, me.user, number)


@router.post(
    "/{number}/close",
    summary="Close a case with no open tasks",
    response_model=CaseSummary,
    responses=errors(409),
)
def close_case(request: Request, number: CaseNumber, body: CloseCase) -> dict[str, Any]:
    with acting(request) as me:
        case_for_action(me.work, me.subject, number, "close")
        closed = cases.close_case(me.work, number=number, actor_id=me.user.id, reason=body.reason)
        return views.case_summary(me.work, closed)


@router.post(
    "/{number}/portal",
    summary="Hide a case from the customer portal, or show it",
    response_model=PortalVisibilityAnswer,
    responses=errors(409),
)
def portal_visibility(
    request: Request, number: CaseNumber, body: PortalVisibility
) -> dict[str, Any]:
    with acting(request) as me:
        case = case_for_action(me.work, me.subject, number, "write")
        hide_from_portal(me.work, me.subject, case, hidden=body.hidden)
        return {"number": number, "hidden_from_portal": body.hidden}


@router.get(
    "/{number}/posts",
    summary="The case stream (internal posts only for agents)",
    response_model=list[Post],
    responses=links(
        200,
        Download=(
            "download_attachment",
            {
                "number": "$request.path.number",
                "attachment_id": "$response.body#/0/attachments/0/id",
            },
        ),
    ),
)
def list_posts(request: Request, number: CaseNumber) -> list[dict[str, Any]]:
    with acting(request) as me:
        case = visible_case(me.work, me.subject, number, "read")
        shown = list(me.work.session.scalars(posts_query(me.subject, case.id)))
        files = posts.attachments_of(me.work, [p.id for p in shown])
        return [
            {
                "id": p.id,
                "at": p.created_at,
                "internal": p.internal,
                "body": p.body,
                "attachments": files.get(p.id, []),
            }
            for p in shown
        ]


@router.get(
    "/{number}/attachments/{attachment_id}",
    summary="Download a file of a post I may read",
    response_class=Response,
    responses={
        200: {
            "description": "The file, as a download, with the type it came with",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def download_attachment(request: Request, number: CaseNumber, attachment_id: Id) -> Response:
    with acting(request) as me:
        case = visible_case(me.work, me.subject, number, "read")
        row = me.work.session.get(PostAttachment, attachment_id)
        readable = row is not None and me.work.session.scalar(
            posts_query(me.subject, case.id)
            .where(StreamPost.id == row.post_id)
            .with_only_columns(StreamPost.id)
        )
        if row is None or not readable:  # another case's file, or an internal post's
            raise NotFound(f"no attachment {attachment_id} on {number}")
        return Response(
            content=row.content,
            media_type=row.content_type,
            headers={
                # never rendered in our origin: an HTML attachment must not run as our page
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
                "X-Content-Type-Options": "nosniff",
            },
        )


@router.post(
    "/{number}/posts",
    status_code=201,
    summary="Add a post to the case stream",
    response_model=Post,
    responses=errors(409),
)
def add_post(request: Request, number: CaseNumber, body: NewPost) -> dict[str, Any]:
    with acting(request) as me:
        case_for_action(me.work, me.subject, number, "post_internal" if body.internal else "post")
        post = posts.add_post(
            me.work, number=number, author=me.user, body=body.body, internal=body.internal
        )
        return {"id": post.id, "at": post.created_at, "internal": post.internal, "body": post.body}


@router.get(
    "/{number}/access",
    tags=["access"],
    summary="Why a user may or may not act",
    response_model=Decision,
)
def explain_access(
    request: Request,
    number: CaseNumber,
    action: Action = "read",
    user: Annotated[Text | None, Query(max_length=150)] = None,
) -> dict[str, Any]:
    """Explains the acting user's own access; administrators may ask about anyone."""
    with acting(request) as me:
        if user is None or user == me.user.username:
            case = visible_case(me.work, me.subject, number, "summary")
            decision = explain(me.work, me.subject, case, action)
        else:
            if not me.subject.is_admin:
                raise Forbidden("only administrators may explain another user's access")
            other = load_subject(me.work, user_by_name(me.work, user))
            decision = explain(me.work, other, case_by_number(me.work, number), action)
        return decision.as_dict()
