"""A person's data on request over JSON: erase them, or export everything stored about
them.  Administrators only (``rules.privacy_acts``), like ``run.py contact erase|export``;
anyone else is refused with 403 whoever the person is, and a person nobody stored answers
404.  Each answer and body is declared here, beside the two routes that use them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from rules import privacy_acts

from ..answers import Answer, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/admin/people",
    tags=["privacy"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)

Person = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=320,
        description="an email address or a contact id",
        examples=["carol@acme.example"],
    ),
]


class Erase(Strict):
    person: Person
    dry_run: bool = False


class Erased(Answer):
    person: str = Field(description="how audit lines name the person from now on")
    dry_run: bool
    rows: dict[str, int] = Field(description="rows changed (or that would change), by table")


class Exported(Answer):
    contacts: list[dict[str, Any]]
    users: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    mails_received: list[dict[str, Any]]
    mails_sent: list[dict[str, Any]]


@router.post(
    "/erase",
    summary="Replace a person's name and address with 'erased' everywhere (or count it)",
    response_model=Erased,
)
def erase(request: Request, body: Erase) -> dict[str, Any]:
    with acting(request) as me:
        return privacy_acts.erase_person(me.work, me.subject, body.person, dry_run=body.dry_run)


@router.get(
    "/export",
    summary="Everything stored about a person: profile, cases, posts, mail",
    response_model=Exported,
)
def export(request: Request, person: Annotated[Person, Query()]) -> dict[str, Any]:
    with acting(request) as me:
        return privacy_acts.export_person(me.work, me.subject, person)
