"""Signing in as an attacker would try it: guessing names, spraying passwords, forging the
client address, locking others out.

No test measures time: the sign-in answers as fast for unknown names as for known ones
because the same code runs, and that is what is checked (the password hash is verified
once for every attempt, whoever the name belongs to).  The forwarded-header tests run a
real uvicorn on loopback, where uvicorn's own default would have believed the header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from people import directory
from people.throttle import LoginLimits
from tests.web.conftest import PASSWORD, Site
from tests.web.serving import served
from web.app import create_app
from web.settings import WebSettings


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The hashes argon2 verifies passwords against, in order (argon2 still does the work)."""
    hashes: list[str] = []
    real = PasswordHasher.verify

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        hashes.append(hash if isinstance(hash, str) else hash.decode())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    yield hashes


def sign_in(client: TestClient | httpx.Client, username: str, password: str, **headers: str):
    return client.post(
        "/api/session", json={"username": username, "password": password}, headers=headers
    )


def stored_hashes(site: Site) -> set[str]:
    with site.runtime.unit() as work:
        return {u.password_hash for u in directory.list_users(work) if u.password_hash}


def test_unknown_inactive_and_known_names_all_run_the_password_hash(site: Site, verified):
    with site.runtime.unit() as work:
        directory.user_by_name(work, "mona").is_active = False
    attempts = [
        ("nobody-by-this-name", PASSWORD, 422),
        ("mona", PASSWORD, 422),  # inactive: refused like a wrong password
        ("bob", "not the password at all", 422),
        ("bob", PASSWORD, 200),
    ]
    for number, (name, password, status) in enumerate(attempts, 1):
        answer = sign_in(site.client, name, password)
        assert answer.status_code == status, answer.text
        assert len(verified) == number  # exactly one argon2 verification per attempt
    real = stored_hashes(site)
    assert verified[0] not in real and verified[1] not in real  # the dummy hash
    assert verified[0] == verified[1]
    assert verified[2] in real and verified[3] == verified[2]
    assert (
        sign_in(site.client, "nobody-by-this-name", PASSWORD).json()
        == {
            "detail": "sign-in failed: password: wrong username or password",
            "errors": {"password": "wrong username or password"},
        }
        == sign_in(site.client, "bob", "not the password at all").json()
    )


def _app(site: Site, **limits: object) -> TestClient:
    settings = WebSettings(login_limits=LoginLimits(**limits))  # type: ignore[arg-type]
    return TestClient(create_app(site.app, settings))


def test_a_name_backs_off_exponentially_but_never_longer_than_the_cap(site: Site):
    client = _app(site, user_failures=3, address_failures=1000, max_backoff=timedelta(minutes=4))
    for _ in range(3):
        assert sign_in(client, "bob", "guess").status_code == 422
    refused = sign_in(client, "bob", PASSWORD)  # the right password, but too late
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    waits = []
    for _ in range(6):  # the attacker goes on, as soon as each back-off ends
        site.clock.advance(timedelta(seconds=int(refused.headers["retry-after"])))
        assert sign_in(client, "bob", "guess").status_code == 422
        refused = sign_in(client, "bob", "guess")  # refused, and not counted
        waits.append(int(refused.headers["retry-after"]))
    assert waits == [60, 120, 240, 240, 240, 240]
    for _ in range(5):  # hammering during the back-off does not lengthen it
        assert sign_in(client, "bob", "guess").status_code == 429
    site.clock.advance(timedelta(minutes=4))
    assert sign_in(client, "bob", PASSWORD).status_code == 200
    assert sign_in(client, "bob", "guess").status_code == 422  # a success starts afresh


def test_spraying_one_password_over_many_names_is_limited_per_address(site: Site):
    client = _app(site, user_failures=100, address_failures=4)
    for name in ("alice", "bob", "sam", "lee"):
        assert sign_in(client, name, "Spring2024!").status_code == 422
    assert sign_in(client, "mona", "Spring2024!").status_code == 429
    assert sign_in(client, "mona", PASSWORD).status_code == 429
    site.clock.advance(timedelta(seconds=31))
    assert sign_in(client, "mona", PASSWORD).status_code == 200


def test_a_forged_forwarded_for_does_not_move_the_address_limit(site: Site):
    app = create_app(site.app, WebSettings(login_limits=LoginLimits(address_failures=3)))
    with served(app) as base, httpx.Client(base_url=base) as client:
        for n, name in enumerate(("alice", "bob", "sam"), 1):
            answer = sign_in(client, name, "guess", **{"X-Forwarded-For": f"203.0.113.{n}"})
            assert answer.status_code == 422
        forged = sign_in(client, "lee", PASSWORD, **{"X-Forwarded-For": "203.0.113.99"})
        assert forged.status_code == 429, forged.text


def test_behind_a_trusted_proxy_each_client_has_its_own_limit_and_names_keep_theirs(site: Site):
    settings = WebSettings(
        forwarded_allow_ips="127.0.0.1",
        login_limits=LoginLimits(user_failures=3, address_failures=3),
    )
    with served(create_app(site.app, settings)) as base, httpx.Client(base_url=base) as proxy:
        for name in ("alice", "sam", "lee"):  # one bad client behind the proxy ...
            answer = sign_in(proxy, name, "guess", **{"X-Forwarded-For": "198.51.100.66"})
            assert answer.status_code == 422
        bad = sign_in(proxy, "mona", PASSWORD, **{"X-Forwarded-For": "198.51.100.66"})
        assert bad.status_code == 429
        # ... locks out nobody else behind it
        good = sign_in(proxy, "mona", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
        assert good.status_code == 200
        # and a name's limit holds whatever address the guesses come from
        for n in range(3):
            answer = sign_in(proxy, "bob", "guess", **{"X-Forwarded-For": f"192.0.2.{n}"})
            assert answer.status_code == 422
        spread = sign_in(proxy, "bob", PASSWORD, **{"X-Forwarded-For": "192.0.2.200"})
        assert spread.status_code == 429


def test_cookies_are_secure_when_the_client_came_over_https(site: Site):
    over_https = TestClient(site.client.app, base_url="https://testserver")
    cookie = sign_in(over_https, "alice", PASSWORD).headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    cookie = sign_in(site.client, "alice", PASSWORD).headers["set-cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    https = {"X-Forwarded-Proto": "https"}
    trusting = create_app(site.app, WebSettings(forwarded_allow_ips="127.0.0.1"))
    with served(trusting) as base, httpx.Client(base_url=base) as proxy:
        assert "Secure" in sign_in(proxy, "alice", PASSWORD, **https).headers["set-cookie"]
    with served(create_app(site.app)) as base, httpx.Client(base_url=base) as stranger:
        assert "Secure" not in sign_in(stranger, "alice", PASSWORD, **https).headers["set-cookie"]
