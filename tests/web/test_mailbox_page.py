"""The admin page shows each mailbox's health -- its last error, when it is tried next --
and disables or enables it; agents do not get there.  On both databases."""

from __future__ import annotations

from mail import mailbox_health
from mail.mailboxes import add_mailbox
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
