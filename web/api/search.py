"""Full-text search over JSON: case subjects, stream posts and contacts the caller may see
(``rules.search``); nothing hidden from them shapes the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from rules.search import MAX_LIMIT, search

from ..answers import errors
from ..auth import SIGNED_IN, acting
from ..schemas import Text
from ..unit_routes import UnitRoute
from .search_answers import SearchAnswer

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/search",
    tags=["search"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


@router.get(
    "",
    summary="Cases, posts and contacts whose words match, as I may see them, newest first",
    response_model=SearchAnswer,
    response_model_exclude_unset=True,
)
def search_all(
    request: Request,
    q: Annotated[Text, Query(max_length=200)],
    kind: Annotated[list[Literal["cases", "posts", "contacts"]] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> dict[str, Any]:
    with acting(request) as me:
        return search(me.work, me.subject, q, kinds=kind or (), limit=limit)
