"""Real headless Chromium signs in through the test identity provider.

The browser clicks "Sign in with ..." on the sign-in page, goes to the provider (which
approves the configured identity at once), comes back to the callback and lands on the
inbox, signed in: the cookies, redirects and SameSite rules are a real browser's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine.clock import SystemClock
from engine.runtime import Runtime
from mail.settings import MailSettings
from people import directory
from rules.provider_users import AccountPolicy
from tests.conftest import wired_app
from tests.web.conftest import seed
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, new_key, running
from tests.web.serving import served
from tests.web.test_browser import browser, shot  # noqa: F401 - the Chromium fixture
from web.app import create_app
from web.settings import WebSettings
from web.sso.settings import OidcSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TestProvider, Runtime]]:
    folder = tmp_path_factory.mktemp("oidc-browser")
    url = f"sqlite:///{folder / 'web.db'}"
    app = wired_app(url, SystemClock(), MailSettings(maildir=folder))  # the provider's time
    rt = app.runtime
    seed(rt)
    provider = TestProvider(key=new_key("k1"), now=lambda: int(time.time()))
    with running(provider):
        settings = WebSettings(
            oidc=OidcSettings(
                issuer=provider.issuer,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                name="Test IdP",
                accounts=AccountPolicy(
                    group_map={"/support": frozenset({"service-desk"})}, agents=True
                ),
            )
        )
        with served(create_app(app, settings)) as base:
            yield base, provider, rt
    app.close()


def test_chromium_signs_in_through_the_provider_and_lands_on_the_inbox(browser: Any, site):  # noqa: F811
    base, provider, rt = site
    provider.identity = {"sub": "sub-sam", "preferred_username": "sam", "groups": ["/support"]}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.click("text=Sign in with Test IdP")
    page.wait_for_url(f"{base}/")
    assert "Inbox" in page.inner_text("main")
    assert page.locator("form.logout").count() == 1
    shot(page, "oidc-inbox.png")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["casework_session"]["httpOnly"]
    assert "casework_oidc_state" not in cookies
    with rt.unit() as work:
        assert "service-desk" in directory.groups_of(work, directory.user_by_name(work, "sam").id)
    page.close()


def test_chromium_shows_a_clear_page_when_consent_is_denied(browser: Any, site):  # noqa: F811
    base, provider, _ = site
    provider.identity = None
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.click("text=Sign in with Test IdP")
    page.wait_for_url(f"{base}/login/oidc/callback*")
    assert "Sign-in with Test IdP failed" in page.inner_text("main")
    assert "the user said no" in page.inner_text("main")
    page.click("text=Back to the sign-in page")
    page.wait_for_url(f"{base}/login")
    page.close()
