"""Cases over JSON: open, list (views and search), show, close, the stream, access explain."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from engine.errors import Forbidden
from engine.run import attachments, cases
from people.directory import user_by_name
from rules import case_acts, load_subject, posts_query, task_acts
from rules.case_lists import case_list_query
from rules.case_view import case_page, summary_for
from rules.levels import Action
from rules.restriction import grant, unrestrict
from rules.sections import Section

from ..answers import (
    CasePage,
    CaseSummary,
    Decision,
    Granted,
    OpenedCase,
    PortalVisibilityAnswer,
    Post,
    RestrictionLifted,
    errors,
    links,
)
from ..auth import SIGNED_IN, acting
from ..schemas import CloseCase, NewPost, OpenCase, PortalVisibility, Strict, Text
from ..unit_routes import UnitRoute
from ..uploads import attachment_response, read_upload
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


class Grant(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=150)]
    level: Literal["read", "full"]


class Grants(Strict):
    """Case-level grants: users and groups by name, each ``read`` or ``full``."""

    users: Annotated[list[Grant], Field(default_factory=list, max_length=100)]
    groups: Annotated[list[Grant], Field(default_factory=list, max_length=100)]


@router.post(
    "",
    status_code=201,
    summary="Open a case; answers it with the tasks now mine",
    response_model=OpenedCase,
    response_model_exclude_unset=True,
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
        opened = case_acts.open_case(
            me.work,
            me.subject,
            me.user,
            case_type=body.case_type,
            title=body.subject,
            data=body.data,
            # a priority only when one was sent: customers may not choose it
            priority=body.priority if "priority" in body.model_fields_set else None,
            contact=body.contact,
        )
        case = cases.case_by_number(me.work, opened.number)
        return {
            **summary_for(me.work, me.subject, case),
            "tasks": task_acts.open_tasks_for(
                me.work, me.subject, me.user, case.id, mine_only=True
            ),
        }


@router.get(
    "",
    summary="Cases I may see, newest first (a named view, or a search)",
    response_model=list[CaseSummary],
    response_model_exclude_unset=True,
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
        return [summary_for(me.work, me.subject, c) for c in rows]


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
    response_model_exclude_unset=True,
    responses=errors(409),
)
def close_case(request: Request, number: CaseNumber, body: CloseCase) -> dict[str, Any]:
    with acting(request) as me:
        if body.outcome is not None:
            closed = case_acts.close_with_outcome(me.work, me.subject, number, body.outcome)
        else:
            closed = case_acts.close_case(me.work, me.subject, me.user, number, body.reason)
        return summary_for(me.work, me.subject, closed)


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
        case_acts.set_hidden(me.work, me.subject, number, body.hidden)
        return {"number": number, "hidden_from_portal": body.hidden}


@router.post(
    "/{number}/grants",
    tags=["access"],
    summary="Grant case-level permissions (administrators); restricts the case if it is not",
    response_model=Granted,
    responses=errors(409),
)
def add_grants(request: Request, number: CaseNumber, body: Grants) -> dict[str, Any]:
    with acting(request) as me:
        case = cases.case_by_number(me.work, number)
        restricted = grant(
            me.work,
            me.subject,
            case,
            users=[(g.name, g.level) for g in body.users],
            groups=[(g.name, g.level) for g in body.groups],
        )
        return {"number": number, "restricted": True, "newly_restricted": restricted}


@router.delete(
    "/{number}/restriction",
    tags=["access"],
    summary="Lift a case's restriction (administrators); its grants are removed",
    response_model=RestrictionLifted,
    responses=errors(409),
)
def lift_restriction(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        unrestrict(me.work, me.subject, cases.case_by_number(me.work, number))
        return {"number": number, "restricted": False}


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
        case, _ = case_acts.case_for_action(me.work, me.subject, number, "read")
        shown = list(me.work.session.scalars(posts_query(me.subject, case.id)))
        files = attachments.attachments_of(me.work, [p.id for p in shown])
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
        row, data = case_acts.read_attachment(me.work, me.subject, attachment_id, number)
        return attachment_response(row.filename, row.content_type, data)


@router.post(
    "/{number}/posts",
    status_code=201,
    summary="Add a post to the case stream",
    response_model=Post,
    responses=errors(409),
)
def add_post(request: Request, number: CaseNumber, body: NewPost) -> dict[str, Any]:
    with acting(request) as me:
        post = case_acts.add_post(
            me.work, me.subject, me.user, number, body.body, internal=body.internal
        )
        return {"id": post.id, "at": post.created_at, "internal": post.internal, "body": post.body}


@router.post(
    "/{number}/posts/with-files",
    status_code=201,
    summary="Add a post with files (multipart/form-data: body, internal, files)",
    description="Each file is checked against the size limit and the virus scanner before "
    "anything is stored; its type is read from its bytes, not from the upload's declared type.",
    response_model=Post,
    responses=errors(409),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["body"],
                        "properties": {
                            "body": {"type": "string"},
                            "internal": {"type": "boolean"},
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    }
                }
            },
        }
    },
)
async def add_post_with_files(request: Request, number: CaseNumber) -> dict[str, Any]:
    form, files = await read_upload(request)

    def work() -> dict[str, Any]:
        with acting(request) as me:
            post = case_acts.add_post(
                me.work,
                me.subject,
                me.user,
                number,
                form.get("body", ""),
                internal=form.get("internal", "").lower() in ("true", "1", "yes", "on"),
                files=files,
            )
            listed = attachments.attachments_of(me.work, [post.id]).get(post.id, [])
            return {
                "id": post.id,
                "at": post.created_at,
                "internal": post.internal,
                "body": post.body,
                "attachments": listed,
            }

    return await run_in_threadpool(work)


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
    section: Section | None = None,
    user: Annotated[Text | None, Query(max_length=150)] = None,
) -> dict[str, Any]:
    """Explains the acting user's own access; administrators may ask about anyone."""
    with acting(request) as me:
        target = me.subject
        if user is not None and user != me.user.username:
            if not me.subject.is_admin:
                raise Forbidden("only administrators may explain another user's access")
            target = load_subject(me.work, user_by_name(me.work, user))
        decision = case_acts.explain_for(me.work, me.subject, target, number, action, section)
        return decision.as_dict()
