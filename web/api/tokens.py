"""API tokens for scripts: create, list and revoke (one's own; administrators everyone's).

Scripts send ``Authorization: Bearer <token>`` (no CSRF needed: a browser never adds
that header by itself).  A token made with another token becomes its child (see
``engine/tokens.py``): never wider, never longer-lived, revoked with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from engine.errors import Forbidden
from people import tokens

from ..answers import NewTokenAnswer, Revoked, Token, errors, links
from ..auth import SIGNED_IN, acting
from ..schemas import NewToken
from ..unit_routes import UnitRoute
from .params import Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/tokens",
    tags=["authentication"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


@router.get(
    "",
    summary="My API tokens (never their secrets); administrators: everyone's",
    response_model=list[Token],
)
def list_tokens(
    request: Request,
    everyone: Annotated[bool, Query(description="all users' tokens (administrators)")] = False,
) -> list[dict[str, Any]]:
    with acting(request) as me:
        if everyone and not me.user.is_admin:
            raise Forbidden("only administrators may list everyone's tokens")
        return tokens.token_rows(me.work, user_id=None if everyone else me.user.id)


@router.post(
    "",
    status_code=201,
    summary="Create an API token; the secret is shown once",
    response_model=NewTokenAnswer,
    responses=links(201, Revoke=("revoke_token", {"token_id": "$response.body#/id"})),
)
def create_token(request: Request, body: NewToken) -> dict[str, Any]:
    with acting(request) as me:
        row, secret = tokens.issue_token(
            me.work,
            user=me.user,
            name=body.name,
            scopes=list(body.scopes) if body.scopes is not None else None,
            lifetime=timedelta(days=body.expires_in_days) if body.expires_in_days else None,
            parent_id=me.token_id,
        )
        [shown] = tokens.token_rows(me.work, user_id=me.user.id, token_id=row.id)
        return {**shown, "token": secret}


@router.delete(
    "/{token_id}",
    summary="Revoke a token and every token made with it",
    responses=errors(404),
)
def revoke_token(request: Request, token_id: Id) -> Revoked:
    with acting(request) as me:
        return Revoked(revoked=tokens.revoke_token(me.work, actor=me.user, token_id=token_id))
