"""Signing in through an OpenID Connect provider, over HTTP against a real provider.

Casework and the test provider (``oidc_provider.py``) both run under uvicorn on loopback;
an httpx client follows the redirects as a browser would: the sign-in link, the provider's
authorization endpoint, the callback, the start page.  The provider is made to misbehave
the ways a broken or hostile one would, and each time the sign-in ends on a clear page
with no session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from casework.compose import App
from engine.clock import ManualClock
from engine.runtime import Runtime
from engine.store.credentials import WebSession
from engine.store.models import AuditEntry, User
from mail.settings import MailSettings
from people import directory
from people.throttle import LoginLimits
from rules.provider_users import AccountPolicy
from tests.conftest import wired_app
from tests.web.conftest import seed
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, new_key, running
from tests.web.serving import served
from web.app import create_app
from web.settings import WebSettings
from web.sso.settings import OidcSettings

GROUP_MAP = {
    "/support": frozenset({"service-desk"}),
    "/readers": frozenset({"newsletter"}),
    "/gone": frozenset({"no-such-group"}),
}


@pytest.fixture(scope="session")
def keys() -> dict[str, Any]:
    """RSA keys made once per test session: the provider's, and two it never published."""
    return {"provider": new_key("k1"), "forger": new_key("k1"), "stranger": new_key("k2")}


@dataclasses.dataclass
class Sso:
    runtime: Runtime
    provider: TestProvider
    base: str
    client: httpx.Client
    app: App

    def sign_in(self, **identity: Any) -> httpx.Response:
        """Follow the whole sign-in as a browser would, approving ``identity``."""
        self.provider.identity = {"sub": f"sub-{identity['preferred_username']}", **identity}
        return self.client.get(f"{self.base}/login/oidc")

    def groups(self, username: str) -> list[str]:
        with self.runtime.unit() as work:
            return directory.groups_of(work, directory.user_by_name(work, username).id)

    def sessions(self) -> int:
        with self.runtime.unit() as work:
            return work.session.scalar(select(func.count()).select_from(WebSession)) or 0


@pytest.fixture
def make_sso(
    db_url: str, clock: ManualClock, tmp_path: Path, keys: dict[str, Any]
) -> Iterator[Callable[..., Sso]]:
    """Start Casework configured for the test provider, with ``AccountPolicy`` fields."""
    app = wired_app(db_url, clock, MailSettings(maildir=tmp_path))
    rt = app.runtime
    seed(rt)
    with rt.unit() as work:
        directory.add_group(work, name="newsletter")  # gives no access: not an agent group
    provider = TestProvider(key=keys["provider"], now=lambda: int(clock.now().timestamp()))
    opened: list[Any] = []

    def make(limits: LoginLimits | None = None, **policy: Any) -> Sso:
        settings = WebSettings(
            login_limits=limits or LoginLimits(),
            oidc=OidcSettings(
                issuer=provider.issuer,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                name="Test IdP",
                accounts=AccountPolicy(group_map=GROUP_MAP, **policy),
            ),
        )
        serving = served(create_app(app, settings))
        base = serving.__enter__()
        client = httpx.Client(follow_redirects=True, timeout=30)
        opened.append((serving, client))
        return Sso(rt, provider, base, client, app)

    with running(provider):
        yield make
        for serving, client in opened:
            client.close()
            serving.__exit__(None, None, None)
    app.close()


def refused(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert "Sign-in with Test IdP failed" in answer.text
    assert words.lower() in answer.text.lower()
    assert "Traceback" not in answer.text
    assert "casework_session" not in answer.cookies


def test_it_signs_an_agent_in_to_the_inbox_with_the_mapped_groups(make_sso):
    sso = make_sso(agents=True)
    assert "Sign in with Test IdP" in sso.client.get(f"{sso.base}/login").text
    assert "Sign in with Test IdP" in sso.client.get(f"{sso.base}/portal/login").text
    answer = sso.sign_in(preferred_username="sam", groups=["/support", "/readers", "/other"])
    assert answer.status_code == 200
    assert urlsplit(str(answer.url)).path == "/"
    assert "Inbox" in answer.text and 'href="/cases/new"' in answer.text
    # the mapped groups joined, the unmapped membership kept, nothing else touched
    assert sso.groups("sam") == ["newsletter", "service-desk", "specialists"]
    # the same session as a password gives: the API reads it, and its CSRF token works
    me = sso.client.get(f"{sso.base}/api/cases")
    assert me.status_code == 200
    assert sso.sessions() == 1
    with sso.runtime.unit() as work:
        entry = work.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "signed in")
        ).one()
        assert entry.after["method"] == "identity provider"
        assert entry.after["joined"] == ["newsletter", "service-desk"]
    # the provider drops a group: the next sign-in leaves it
    sso.client.cookies.clear()
    sso.sign_in(preferred_username="sam", groups=["/readers"])
    assert sso.groups("sam") == ["newsletter", "specialists"]


def test_a_password_sign_in_is_audited_in_the_same_form(make_sso):
    sso = make_sso(agents=True)
    answer = sso.client.post(
        f"{sso.base}/api/session", json={"username": "bob", "password": "correct horse battery"}
    )
    assert answer.status_code == 200
    with sso.runtime.unit() as work:
        entry = work.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "signed in")
        ).one()
        assert entry.after == {"method": "password"}


def _started(sso: Sso) -> dict[str, str]:
    """Start a sign-in and stop at the provider's answer: the callback's parameters."""
    sso.provider.identity = {"sub": "sub-sam", "preferred_username": "sam"}
    to_provider = sso.client.get(f"{sso.base}/login/oidc", follow_redirects=False)
    back = sso.client.get(to_provider.headers["location"], follow_redirects=False)
    query = parse_qs(urlsplit(back.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


def test_a_forged_missing_or_foreign_state_is_refused(make_sso):
    sso = make_sso(agents=True)
    callback = f"{sso.base}/login/oidc/callback"
    params = _started(sso)
    forged = sso.client.get(callback, params={**params, "state": "forged" + params["state"]})
    refused(forged, 400, "did not start in this browser")
    params = _started(sso)
    refused(sso.client.get(callback, params={"code": params["code"]}), 400, "did not start")
    refused(sso.client.get(callback, params={**params, "state": "état"}), 400, "did not start")
    # the victim's browser, sent an attacker's callback: the state is not in its cookie
    params = _started(sso)
    with httpx.Client(follow_redirects=True) as victim:
        refused(victim.get(callback, params=params), 400, "did not start in this browser")
    # a callback is used once
    params = _started(sso)
    assert sso.client.get(callback, params=params).status_code == 200
    refused(sso.client.get(callback, params=params), 400, "used already")
    assert sso.sessions() == 1


MISBEHAVIOURS = [
    ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
    ({"sign_with": "forger"}, "ID token was not accepted"),  # same key id, another key
    ({"sign_with": "stranger"}, "ID token was not accepted"),  # a key never published
    ({"audience": "another-client"}, "aud"),
    ({"issued_ago": 3600, "lifetime": 600}, "expired"),
    ({"issued_ago": -3600}, "issued in the future"),
]


def test_an_id_token_failing_a_check_signs_nobody_in(make_sso, keys):
    sso = make_sso(agents=True)
    honest = dataclasses.replace(sso.provider)
    for misbehaviour, words in MISBEHAVIOURS:
        for name, value in misbehaviour.items():
            setattr(sso.provider, name, keys[value] if name == "sign_with" else value)
        refused(sso.sign_in(preferred_username="sam", groups=["/support"]), 403, words)
        for name in misbehaviour:
            setattr(sso.provider, name, getattr(honest, name))
    assert sso.groups("sam") == ["specialists"] and sso.sessions() == 0
    assert sso.sign_in(preferred_username="sam").status_code == 200  # honest again


def test_a_deactivated_user_is_refused(make_sso):
    sso = make_sso(agents=True)
    with sso.runtime.unit() as work:
        directory.user_by_name(work, "bob").is_active = False
    refused(sso.sign_in(preferred_username="bob"), 403, "deactivated")
    assert sso.sessions() == 0


def test_an_unknown_user_is_refused_unless_users_are_created(make_sso):
    sso = make_sso(agents=True)
    refused(sso.sign_in(preferred_username="erin", groups=["/readers"]), 403, "no Casework user")
    with sso.runtime.unit() as work:
        assert work.session.scalar(select(User).where(User.username == "erin")) is None
    sso = make_sso(agents=True, create_users=True)
    answer = sso.sign_in(
        preferred_username="erin", name="Erin Example", groups=["/readers", "/other"]
    )
    assert urlsplit(str(answer.url)).path == "/" and answer.status_code == 200
    assert sso.groups("erin") == ["newsletter"]
    with sso.runtime.unit() as work:
        erin = directory.user_by_name(work, "erin")
        assert erin.password_hash is None and erin.display_name == "Erin Example"
    # no usable local password: the password sign-in refuses whatever is typed
    for password in ("", "correct horse battery"):
        answer = sso.client.post(
            f"{sso.base}/api/session", json={"username": "erin", "password": password}
        )
        assert answer.status_code == 422


def test_new_customers_get_portal_access_and_no_agent_group(make_sso):
    sso = make_sso(create_users=True, customer_group="Acme", portal_case_types=("SUPPORT",))
    answer = sso.sign_in(preferred_username="fay", groups=["/support", "/readers"])
    assert answer.status_code == 200 and urlsplit(str(answer.url)).path == "/portal"
    assert sso.groups("fay") == ["newsletter"]
    assert sso.client.get(f"{sso.base}/portal/new").status_code == 200


def test_a_portal_user_never_becomes_an_agent_through_a_mapped_group(make_sso):
    sso = make_sso(agents=True)
    answer = sso.sign_in(preferred_username="carol", groups=["/support", "/readers"])
    assert answer.status_code == 200 and urlsplit(str(answer.url)).path == "/portal"
    assert sso.groups("carol") == ["newsletter"]
    with sso.runtime.unit() as work:
        entry = work.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "signed in")
        ).one()
        assert entry.after["not_for_customers"] == ["service-desk"]


def test_agents_are_refused_when_the_provider_signs_in_customers_only(make_sso):
    sso = make_sso()  # customers only: the default
    refused(sso.sign_in(preferred_username="alice", groups=["/support"]), 403, "customers only")
    answer = sso.sign_in(preferred_username="dave", groups=["/readers"])
    assert urlsplit(str(answer.url)).path == "/portal"


def test_a_renamed_provider_account_keeps_its_user_and_cannot_take_over_another(make_sso):
    sso = make_sso(agents=True)
    sso.sign_in(preferred_username="sam")
    sso.client.cookies.clear()
    # the same account (sub) now calls itself bob: it is still sam
    sso.provider.identity = {"sub": "sub-sam", "preferred_username": "bob"}
    assert sso.client.get(f"{sso.base}/login/oidc").status_code == 200
    with sso.runtime.unit() as work:
        signed = work.session.scalars(
            select(AuditEntry.actor_id).where(AuditEntry.action == "signed in")
        ).all()
        assert set(signed) == {directory.user_by_name(work, "sam").id}
    # another account calling itself sam is not let in as sam
    sso.client.cookies.clear()
    sso.provider.identity = {"sub": "sub-impostor", "preferred_username": "sam"}
    refused(sso.client.get(f"{sso.base}/login/oidc"), 403, "linked to another account")


def test_denied_consent_and_a_provider_that_is_down_end_on_a_clear_page(make_sso):
    sso = make_sso(agents=True)
    sso.provider.identity = None  # the user says no at the provider
    refused(sso.client.get(f"{sso.base}/login/oidc"), 403, "the user said no")
    nobody_listens = "http://127.0.0.1:9"
    settings = WebSettings(
        oidc=OidcSettings(
            issuer=nobody_listens, client_id=CLIENT_ID, client_secret="s", name="Test IdP"
        )
    )
    with served(create_app(sso.app, settings)) as base, httpx.Client() as client:
        refused(client.get(f"{base}/login/oidc"), 502, "ould not read the identity provider")


def test_the_callback_is_throttled_per_client_address(make_sso):
    sso = make_sso(agents=True, limits=LoginLimits(address_failures=2))
    callback = f"{sso.base}/login/oidc/callback"
    for _ in range(2):
        refused(sso.client.get(callback, params={"state": "x", "code": "y"}), 400, "did not")
    answer = sso.sign_in(preferred_username="sam")
    refused(answer, 429, "too many failed sign-ins for this address")
    assert answer.headers["retry-after"]
    assert sso.provider.token_requests == 0  # refused before the provider was asked
