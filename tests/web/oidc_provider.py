"""A real OpenID Connect provider for tests, in-process: discovery, JWKS, an authorization
endpoint that approves one configured identity (or denies consent), and a token endpoint
that checks the client's secret, the code and its PKCE verifier before answering a signed
ID token.  Served by uvicorn on a free loopback port like the app itself.

Each test sets :class:`TestProvider` fields to make the provider misbehave the way a
broken or hostile one would: the wrong audience or nonce, an expired token, a token
signed by a key the provider never published.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.web.serving import served
from web.settings import WebSettings

CLIENT_ID = "casework"
CLIENT_SECRET = "test-client-secret-" + "x" * 16


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


@dataclass
class TestProvider:
    """The provider's behaviour; ``identity`` is who /authorize approves (None: it denies
    consent, as a user pressing "No" would)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    key: RSAKey
    now: Callable[[], int]
    issuer: str = ""
    identity: dict[str, Any] | None = None
    sign_with: RSAKey | None = None  # a key not in the JWKS
    audience: str = CLIENT_ID
    nonce: str | None = None  # a nonce other than the one sent
    lifetime: int = 300
    issued_ago: int = 0
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def id_token(self, grant: dict[str, Any]) -> str:
        assert self.identity is not None
        now = self.now() - self.issued_ago
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.lifetime,
            "nonce": self.nonce or grant["nonce"],
            "azp": CLIENT_ID,
            **self.identity,
        }
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def provider_app(provider: TestProvider) -> Starlette:
    def discovery(request: Request) -> Response:
        base = provider.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def jwks(request: Request) -> Response:
        return JSONResponse(KeySet([provider.key]).as_dict(private=False))

    def authorize(request: Request) -> Response:
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert q["code_challenge_method"] == "S256" and "openid" in q["scope"].split()
        back = q["redirect_uri"]
        if provider.identity is None:
            answer = {"error": "access_denied", "error_description": "the user said no"}
            return RedirectResponse(f"{back}?{urlencode({**answer, 'state': q['state']})}", 302)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "nonce": q["nonce"],
            "challenge": q["code_challenge"],
            "redirect_uri": back,
        }
        return RedirectResponse(f"{back}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(request: Request) -> Response:
        provider.token_requests += 1
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = provider.codes.pop(str(form.get("code")), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or _s256(str(form.get("code_verifier"))) != grant["challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(grant),
            }
        )

    app = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )
    app.state.settings = WebSettings()  # served() reads the proxy options from it
    return app


@contextmanager
def running(provider: TestProvider) -> Iterator[TestProvider]:
    """The provider served on loopback; its ``issuer`` is set to where it listens."""
    with served(provider_app(provider)) as base:  # type: ignore[arg-type]
        provider.issuer = base
        yield provider
