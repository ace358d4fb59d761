"""An administrator adds and edits a group mailbox in real Chromium and tests its sign-in
against the real Dovecot: the form names each problem beside its field, the password is
never sent back to the browser, and the *Test sign-in* button says what the server said."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from mail import credentials
from mail.settings import MailSettings
from tests.conftest import wired_app
from tests.mail.dovecot import DOVECOT, PASSWORD, Dovecot, start
from tests.mail.helpers import build
from tests.real_parts import missing
from tests.web.conftest import seed
from tests.web.serving import served
from tests.web.test_browser import browser, session, shot

__all__ = ["browser"]  # the module's Chromium, shared with the other browser tests
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def imap_server() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        missing("Dovecot", f"not installed at {DOVECOT}", "apt-get install dovecot-imapd")
    yield from start()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from web.app import create_app

    os.environ.setdefault(credentials.KEY_VARIABLE, Fernet.generate_key().decode("ascii"))
    folder = tmp_path_factory.mktemp("mailbox-admin")
    with wired_app(f"sqlite:///{folder / 'web.db'}", mail=MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with served(create_app(app)) as base:
            yield base


def test_an_administrator_adds_a_mailbox_edits_it_and_tests_its_sign_in(
    browser, server: str, imap_server: Dovecot
):
    user = imap_server.new_user()
    imap_server.append(user, build("From: carla@kunden.example", "Message-ID: <web-1@k>"))
    dialogs: list[str] = []
    page = session(browser, server, "root", dialogs)
    page.goto(f"{server}/admin")
    page.click("text=Add mailbox")
    page.wait_for_url("**/admin/mailboxes/new")
    page.fill("#mb-name", "support")
    page.select_option("#mb-case_type", "SUPPORT")
    page.fill("#mb-group_address", "support@casework.example")
    page.select_option("#mb-customer_group", "Acme")
    page.fill("#mb-host", "127.0.0.1")
    page.fill("#mb-port", "")  # left empty by mistake
    page.uncheck("input[name=tls]")
    page.fill("#mb-user", user)
    page.fill("#mb-password", PASSWORD)
    page.click("button:has-text('Add mailbox')")
    page.wait_for_load_state()
    assert page.locator(".field-error").all_inner_texts() == ["Port must be a whole number"]
    assert page.input_value("#mb-password") == "" and PASSWORD not in page.content()
    assert page.input_value("#mb-user") == user  # the rest is as typed

    page.fill("#mb-port", str(imap_server.port))
    page.fill("#mb-password", PASSWORD)
    page.click("button:has-text('Add mailbox')")
    page.wait_for_url("**/admin#mailboxes")
    row = page.locator("#mailboxes tr", has_text="support@casework.example")
    assert "encrypted" in row.inner_text() and PASSWORD not in page.content()
    shot(page, "admin-mailboxes.png")

    row.locator("a", has_text="support").click()
    page.wait_for_url("**/admin/mailboxes/support")
    assert page.input_value("#mb-password") == "" and PASSWORD not in page.content()
    page.click("button:has-text('Test sign-in')")
    page.wait_for_load_state()
    result = page.inner_text("#test-result")
    assert f"mailbox support (127.0.0.1:{imap_server.port}): signed in" in result
    assert "INBOX holds 1 message(s)" in result

    page.fill("#mb-password", "not-the-password")
    page.fill("#mb-poll_seconds", "30")
    page.click("button:has-text('Save')")
    page.wait_for_load_state()
    assert "Mailbox support saved." in page.inner_text("[role=status]")
    assert page.input_value("#mb-poll_seconds") == "30"
    assert "not-the-password" not in page.content()
    page.click("button:has-text('Test sign-in')")
    page.wait_for_load_state()
    assert "login refused ([AUTHENTICATIONFAILED] Authentication failed.)" in page.inner_text(
        "#test-result"
    )
    shot(page, "admin-mailbox-test.png")
    assert dialogs == []
    page.close()
