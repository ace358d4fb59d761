"""The admin page shows each mailbox's health -- its last error, when it is tried next --
and disables or enables it, adds and edits mailboxes (the password never shown again) and
tests their sign-in; agents do not get there.  On both databases."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from engine.store.mailbox import Mailbox
from mail import credentials, mailbox_health
from mail.mailboxes import add_mailbox
from tests.mail.dovecot import spare_port
from tests.mail.world import support_mailbox
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def test_an_administrator_sees_a_failing_mailbox_and_disables_it(site: Site):
    with site.runtime.unit() as work:
        box = add_mailbox(work, support_mailbox(customer_group="Acme")).id
    mailbox_health.failed(site.runtime, box, "login refused (wrong user or password)")
    root = browser_login(site, "root")
    page = root.get("/admin")
    assert "support" in page.text and "failing" in page.text
    assert "login refused (wrong user or password)" in page.text
    assert "encrypted" in page.text and "secret" not in page.text
    disabled = root.post(
        "/admin/mailbox-disable", data={"csrf_token": csrf_of(page.text), "name": "support"}
    )
    assert disabled.status_code == 200 and "disabled" in disabled.text
    enabled = root.post(
        "/admin/mailbox-enable", data={"csrf_token": csrf_of(disabled.text), "name": "support"}
    )
    assert ">ok<" in enabled.text
    assert browser_login(site, "alice").post(
        "/admin/mailbox-disable", data={"csrf_token": "x", "name": "support"}
    ).status_code in (403, 400)


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key the web process encrypts mailbox passwords with."""
    monkeypatch.setenv(credentials.KEY_VARIABLE, Fernet.generate_key().decode("ascii"))


def mailbox_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "billing",
        "case_type": "SUPPORT",
        "group_address": "billing@example.com",
        "customer_group": "Acme",
        "host": "127.0.0.1",
        "port": "143",
        "user": "billing",
        "auth": "password",
        "password": "s3cret-Imap-pw",
        "password_ref": "",
        "folder": "INBOX",
        "processed_folder": "",
        "max_bytes": "10485760",
        "poll_seconds": "60",
        "refused_match": "new_case",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def stored(site: Site, name: str) -> Mailbox:
    with site.runtime.unit() as work:
        box = work.session.scalar(select(Mailbox).where(Mailbox.name == name))
        assert box is not None
        work.session.expunge(box)
        return box


def test_an_administrator_adds_a_mailbox_and_a_form_with_problems_names_each_one(site: Site):
    root = browser_login(site, "root")
    form = root.get("/admin/mailboxes/new")
    assert form.status_code == 200 and 'name="password" type="password" value=""' in form.text
    token = csrf_of(form.text)
    bad = root.post(
        "/admin/mailboxes/new",
        data=mailbox_form(csrf_token=token, port="imap", group_address="billing", case_type="NOPE"),
    )
    assert bad.status_code == 422
    assert "Port must be a whole number" in bad.text
    assert "the mailbox was not saved" in bad.text
    assert "s3cret-Imap-pw" not in bad.text  # typed, and still never sent back
    assert 'name="group_address" type="email" value="billing"' in bad.text  # the rest comes back
    fixed = root.post(
        "/admin/mailboxes/new", data=mailbox_form(csrf_token=token, group_address="x")
    )
    assert fixed.status_code == 422 and "Group address must be a plain address" in fixed.text
    with site.runtime.unit() as work:
        assert work.session.scalar(select(func.count()).select_from(Mailbox)) == 0

    added = root.post("/admin/mailboxes/new", data=mailbox_form(csrf_token=token))
    assert added.status_code == 200 and added.url.path == "/admin"
    assert "billing@example.com" in added.text and "s3cret-Imap-pw" not in added.text
    box = stored(site, "billing")
    assert box.imap_password.startswith("fernet:")
    assert credentials.reveal(box.imap_password) == "s3cret-Imap-pw"
    again = root.post("/admin/mailboxes/new", data=mailbox_form(csrf_token=token))
    assert again.status_code == 422 and "mailbox &#39;billing&#39; already exists" in again.text

    forged = root.post("/admin/mailboxes/new", data=mailbox_form(name="forged"))
    assert forged.status_code == 403  # no CSRF token: refused, nothing stored
    agent = browser_login(site, "alice")
    assert agent.get("/admin/mailboxes/new").status_code in (403, 404)
    assert agent.get("/admin/mailboxes/billing").status_code in (403, 404)
    with site.runtime.unit() as work:
        assert work.session.scalar(select(func.count()).select_from(Mailbox)) == 1


def test_editing_keeps_the_password_unless_a_new_one_is_typed_and_the_test_button_says_why(
    site: Site,
):
    root = browser_login(site, "root")
    token = csrf_of(root.get("/admin/mailboxes/new").text)
    closed = spare_port()
    root.post("/admin/mailboxes/new", data=mailbox_form(csrf_token=token, port=str(closed)))
    page = root.get("/admin/mailboxes/billing")
    assert "Now: encrypted; leave empty to keep it" in page.text
    assert (
        "s3cret-Imap-pw" not in page.text
        and 'name="password" type="password" value=""' in page.text
    )

    saved = root.post(
        "/admin/mailboxes/billing",
        data=mailbox_form(csrf_token=token, password="", poll_seconds="30", port=str(closed)),
    )
    assert saved.status_code == 200 and "Mailbox billing saved." in saved.text
    box = stored(site, "billing")
    assert box.poll_seconds == 30 and credentials.reveal(box.imap_password) == "s3cret-Imap-pw"

    bad = root.post(
        "/admin/mailboxes/billing",
        data=mailbox_form(csrf_token=token, password="new-one", poll_seconds="0"),
    )
    assert bad.status_code == 422 and "Poll every (seconds) must be at least 1" in bad.text
    assert "new-one" not in bad.text
    assert credentials.reveal(stored(site, "billing").imap_password) == "s3cret-Imap-pw"

    root.post(
        "/admin/mailboxes/billing",
        data=mailbox_form(csrf_token=token, password="", password_ref="env:BILLING_TOKEN",
                          auth="xoauth2", port=str(closed)),
    )  # fmt: skip
    assert stored(site, "billing").imap_password == "env:BILLING_TOKEN"

    tested = root.post("/admin/mailboxes/billing/test", data={"csrf_token": token})
    assert tested.status_code == 200
    assert (
        "no password to sign in with: environment variable BILLING_TOKEN is not set" in tested.text
    )
    assert root.post("/admin/mailboxes/billing/test", data={}).status_code == 403
