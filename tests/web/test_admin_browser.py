"""Real Chromium: an administrator adds a mailbox and invites a user into a group picked
on the form, at a desktop width and at 360 px (a phone); the new user sets a password
through the one-time link and signs in while a sign-in form is open in another tab.
Screenshots go to ``tests/artifacts/`` like the other browser tests'."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from mail import credentials
from mail.settings import MailSettings
from tests.conftest import wired_app
from tests.web.conftest import PASSWORD, seed
from tests.web.serving import served
from tests.web.test_browser import browser, shot  # noqa: F401 - the one Chromium
from tests.web.test_inbox_browser import WIDTHS, fits, signed_in

pytestmark = pytest.mark.integration
NEW = "tangerine submarine 48 orbits"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from web.app import create_app

    os.environ.setdefault(credentials.KEY_VARIABLE, Fernet.generate_key().decode("ascii"))
    folder = tmp_path_factory.mktemp("admin-journey")
    with wired_app(f"sqlite:///{folder / 'web.db'}", mail=MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with served(create_app(app)) as base:
            yield base


@pytest.mark.parametrize("width", WIDTHS)
def test_an_administrator_adds_a_mailbox_and_a_user_who_then_signs_in(
    browser,  # noqa: F811 - the fixture
    server: str,
    width: int,
):
    root = signed_in(browser, server, "root", width)
    root.goto(f"{server}/admin")
    root.click("text=Add mailbox")
    root.wait_for_url("**/admin/mailboxes/new")
    root.fill("#mb-name", f"help-{width}")
    root.select_option("#mb-case_type", "SUPPORT")
    root.fill("#mb-group_address", f"help-{width}@casework.example")
    root.select_option("#mb-customer_group", "Acme")
    root.fill("#mb-host", "imap.casework.example")
    root.fill("#mb-port", "993")
    root.fill("#mb-user", f"help-{width}")
    root.fill("#mb-password", "imap secret of the help box")
    fits(root, "button:has-text('Add mailbox')", width)
    root.click("button:has-text('Add mailbox')")
    root.wait_for_url("**/admin#mailboxes")
    assert f"help-{width}@casework.example" in root.inner_text("#mailboxes")

    root.click("text=Invite user")
    root.wait_for_url("**/admin/users/new")
    root.fill("#invite-username", "no spaces please")
    root.click("button:has-text('Invite')")
    root.wait_for_load_state()
    assert "must start with a letter or digit" in root.inner_text(".field-error")
    username = f"nina{width}"
    root.fill("#invite-username", username)
    root.fill("#invite-display", f"Nina {width}")
    root.select_option("select[name='role:specialists']", "lead")
    fits(root, "select[name='role:specialists']", width)
    root.click("button:has-text('Invite')")
    root.wait_for_load_state()
    assert "shown only once" in root.inner_text("[role=status]")
    link = root.input_value("#password-link")
    fits(root, "#password-link", width)
    root.select_option("#user-group", "service-desk")
    root.click("button:has-text('Add')")
    root.wait_for_load_state()
    assert root.locator(f"[aria-label='remove {username} from service-desk']").count() == 1
    assert root.locator(f"[aria-label='remove {username} from specialists']").count() == 1
    shot(root, f"admin-user-{width}.png")
    root.goto(f"{server}/admin")
    assert username in root.inner_text("#users")
    fits(root, "text=Invite user", width)
    shot(root, f"admin-{width}.png")
    assert not root.errors, root.errors

    tabs = browser.new_context(viewport={"width": width, "height": 800})
    nina, other = tabs.new_page(), tabs.new_page()
    nina.goto(link)  # the link in one tab, then the sign-in form in another
    other.goto(f"{server}/login")
    nina.fill("input[name=new_password]", NEW)
    nina.click("button:has-text('Set password')")
    nina.wait_for_url(f"{server}/")  # signed in: straight to the inbox
    assert username in nina.inner_text(".who")
    other.fill("input[name=username]", "alice")
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url(f"{server}/")  # the sign-in form's token was left alone
    assert "alice" in other.inner_text(".who")
    assert "casework_password_csrf" not in {c["name"] for c in tabs.cookies()}
    nina.goto(link)
    assert "This link was used already" in nina.inner_text("main")
    tabs.close()
    root.close()
