"""Merging a duplicate case and linking related cases over JSON, through
``rules.case_links`` (the one access decision): a case the caller may not see - the merge's
target or the other case of a link included - is 404 exactly like a missing one, a case
they see but may not change this way 403."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Request
from pydantic import Field

from engine.run.case_links import KINDS
from rules.case_links import link_case, links_of, merge_case, unlink_case

from ..answers import Answer, RelatedCase, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict
from ..unit_routes import UnitRoute
from .params import CASE_NUMBER, CaseNumber

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/cases",
    tags=["cases"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 409, 422),
)
LinkKind = Literal["related", "duplicate-of", "duplicated-by", "parent-of", "child-of"]
assert set(get_args(LinkKind)) == set(KINDS), "LinkKind names the kinds a person may choose"


class MergeInto(Strict):
    into: Annotated[str, Field(max_length=40, pattern=CASE_NUMBER, examples=["C-000001"])]


class LinkTo(Strict):
    """How this case relates to the other: ``duplicate-of`` says this case is the duplicate."""

    kind: LinkKind = "related"


class Merged(Answer):
    number: str
    merged_into: str
    posts: int = Field(description="stream posts moved to the target")
    contacts: int = Field(description="contacts the target gained")
    collaborators: list[str] = Field(description="collaborators the target gained")
    tasks_cancelled: int


class Links(Answer):
    number: str
    links: list[RelatedCase]
    changed: bool | None = None


@router.post(
    "/{number}/merge",
    summary="Merge a duplicate case into another (managers of both)",
    response_model=Merged,
)
def merge(request: Request, number: CaseNumber, body: MergeInto) -> dict[str, Any]:
    with acting(request) as me:
        moved = merge_case(me.work, me.subject, number, body.into)
        return {"number": number, "merged_into": body.into, **moved}


@router.get(
    "/{number}/links",
    summary="The cases linked to a case that the caller may read, with how they relate",
    response_model=Links,
    response_model_exclude_unset=True,
)
def list_links(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return {"number": number, "links": links_of(me.work, me.subject, number)}


@router.put(
    "/{number}/links/{other}",
    summary="Link a case to another, or change how they are linked (managers)",
    response_model=Links,
    response_model_exclude_unset=True,
)
def add_link(
    request: Request, number: CaseNumber, other: CaseNumber, body: LinkTo
) -> dict[str, Any]:
    with acting(request) as me:
        changed = link_case(me.work, me.subject, number, other, body.kind)
        return {
            "number": number,
            "links": links_of(me.work, me.subject, number),
            "changed": changed,
        }


@router.delete(
    "/{number}/links/{other}",
    summary="Remove the link between two cases (managers; a merge stays)",
    response_model=Links,
    response_model_exclude_unset=True,
)
def remove_link(request: Request, number: CaseNumber, other: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        unlink_case(me.work, me.subject, number, other)
        return {"number": number, "links": links_of(me.work, me.subject, number), "changed": True}
