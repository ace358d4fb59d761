"""The OpenID Connect provider as this app talks to it: discovery, the authorization
request (code flow with PKCE), the code exchange and the ID token's checks.

The ID token's signature is verified against the provider's published keys (JWKS), with
asymmetric algorithms only; its issuer must be the configured one, its audience our
client, its ``nonce`` the one this sign-in sent, and it must be neither expired nor
issued in the future (a minute of leeway for clocks).  Discovery and keys are cached for
an hour; a token signed by a key we do not know yet fetches the keys once more (the
provider rotated them).  Every failure is a :class:`ProviderError` (the provider is
down or answered nonsense) or a :class:`TokenRejected` (the answer fails a check), each
with a message for the person at the browser.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from .settings import OidcSettings

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY = 60  # seconds of clock difference allowed on exp and iat
CACHE_SECONDS = 3600
TIMEOUT = httpx.Timeout(10.0)


class ProviderError(Exception):
    """The provider could not be reached or gave an answer that is not what OIDC says."""


class TokenRejected(Exception):
    """The provider's ID token fails a check: it does not sign anybody in."""


class Provider:
    """One configured provider; thread-safe, shared by the app's requests."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"could not read the identity provider's {what}: {exc}") from exc
        if not isinstance(found, dict):
            raise ProviderError(f"the identity provider's {what} is not a JSON object")
        return found

    def metadata(self) -> dict[str, Any]:
        """The discovery document (``/.well-known/openid-configuration``), checked."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched_at > CACHE_SECONDS:
                url = f"{self.settings.issuer}/.well-known/openid-configuration"
                found = self._get_json(url, "discovery document")
                if found.get("issuer") != self.settings.issuer:
                    raise ProviderError(
                        f"the discovery document names the issuer {found.get('issuer')!r}, "
                        f"not {self.settings.issuer!r}"
                    )
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(key), str):
                        raise ProviderError(f"the discovery document has no {key}")
                self._metadata, self._keys = found, None
                self._fetched_at = time.monotonic()
            return self._metadata

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                found = self._get_json(metadata["jwks_uri"], "signing keys (JWKS)")
                try:
                    self._keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError, TypeError) as exc:
                    message = f"the provider's signing keys are not usable: {exc}"
                    raise ProviderError(message) from exc
            return self._keys

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        """Where to send the browser: the code flow with an S256 PKCE challenge."""
        url: str = prepare_grant_uri(
            self.metadata()["authorization_endpoint"],
            self.settings.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the authorization code (and the PKCE verifier) for the tokens."""
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: tuple[str, str] | None = None
        if "client_secret_basic" in methods:  # RFC 6749 2.3.1: form-encoded, then Basic
            auth = (quote(self.settings.client_id, safe=""), quote(self.settings.client_secret))
        else:
            form |= {"client_id": self.settings.client_id}
            form |= {"client_secret": self.settings.client_secret}
        try:
            answer = httpx.post(
                metadata["token_endpoint"],
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
                follow_redirects=False,
            )
            tokens = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            message = f"could not reach the identity provider's token endpoint: {exc}"
            raise ProviderError(message) from exc
        if not isinstance(tokens, dict):
            raise ProviderError("the token endpoint did not answer a JSON object")
        if answer.status_code != 200 or "error" in tokens:
            error = tokens.get("error_description") or tokens.get("error") or answer.status_code
            raise TokenRejected(f"the identity provider refused the sign-in code: {error}")
        if not isinstance(tokens.get("id_token"), str):
            raise TokenRejected("the identity provider sent no ID token (is 'openid' a scope?)")
        return tokens

    def verify(self, tokens: dict[str, Any], *, nonce: str, now: int) -> dict[str, Any]:
        """The ID token's claims, once its signature and claims have passed every check."""
        supported = self.metadata().get("id_token_signing_alg_values_supported")
        algorithms = [a for a in ALGORITHMS if not supported or a in supported]
        try:
            try:
                token = jwt.decode(tokens["id_token"], self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:  # a key we have not seen: the provider rotated them
                token = jwt.decode(
                    tokens["id_token"], self._key_set(refresh=True), algorithms=algorithms
                )
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": self.settings.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": tokens.get("access_token"),
                },
            )
            claims.validate(now=now, leeway=LEEWAY)
        except (JoseError, ValueError, TypeError) as exc:
            message = f"the identity provider's ID token was not accepted: {exc}"
            raise TokenRejected(message) from exc
        return dict(claims)
