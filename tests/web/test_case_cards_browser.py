"""Real headless Chromium, on a desktop and on a phone: an agent names a contact on a case
and adds a call record shared with the service desk from the case page, an administrator
restricts the call to her, and her colleague no longer finds it - each page fitting the
screen and passing axe-core (bundled, never fetched) with no serious violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mail.settings import MailSettings
from people import accounts, directory
from tests.conftest import wired_app
from tests.web.conftest import seed
from tests.web.serving import served
from tests.web.test_browser import browser, shot  # noqa: F401 - the Chromium fixture
from tests.web.test_inbox_browser import WIDTHS, portal_case, signed_in
from tests.web.test_inbox_live_browser import overflowing, serious, wide

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with one more contact at Acme besides carol: Wes, at the Acme-West account."""
    from web.app import create_app

    folder = tmp_path_factory.mktemp("cards")
    with wired_app(f"sqlite:///{folder / 'web.db'}", mail=MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with app.runtime.unit() as work:
            accounts.add_account(work, name="Acme-West", customer_group="Acme")
            directory.add_contact(work, name="Wes Li", account="Acme-West", email="w@acme.example")
        with served(create_app(app)) as base:
            yield base


def fits_and_passes_axe(page, width: int) -> list[object]:
    problems: list[object] = []
    if wide(page) > width:
        problems.append((page.url, f"{wide(page)} px wide", overflowing(page, width)))
    problems.extend((page.url, found) for found in serious(page))
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_an_agent_adds_a_contact_and_a_call_that_an_admin_restricts(browser, server, width):  # noqa: F811
    _, number = portal_case(browser, server, width, f"Boiler {width}")
    case_url = f"{server}/cases/{number}"
    alice = signed_in(browser, server, "alice", width)
    alice.goto(case_url)
    parties = alice.locator("#parties")
    parties.locator("select[name=contact]").select_option(
        label="Wes Li <w@acme.example> (Acme-West)"
    )
    parties.locator("form:has(input[name=op][value=add]) button[type=submit]").click()
    alice.wait_for_load_state()
    contacts = alice.locator("#case-contacts")
    assert "Wes Li" in contacts.inner_text() and "Carol" in contacts.inner_text()
    assert (contacts.locator("a:has-text('Wes Li')").get_attribute("href") or "").startswith(
        "/contacts/"
    )

    add = alice.locator("#add-record")
    add.locator("select[name=kind]").select_option("call")
    add.locator("input[name=title]").fill(f"Called Wes {width}")
    add.locator("input[name=groups]").fill("service-desk")
    add.locator("button[type=submit]").click()
    alice.wait_for_load_state()
    record = alice.locator("#records li", has_text=f"Called Wes {width}")
    assert "call" in record.inner_text() and "service-desk" in record.inner_text()
    problems = fits_and_passes_axe(alice, width)
    shot(alice, f"case-cards-{width}.png")

    bob = signed_in(browser, server, "bob", width)
    bob.goto(case_url)
    assert f"Called Wes {width}" in bob.locator("#records").inner_text()  # shared with his group

    root = signed_in(browser, server, "root", width)
    root.goto(case_url)
    mine = root.locator("#records li", has_text=f"Called Wes {width}")
    mine.locator("input[name=users]").fill("alice")
    mine.locator("button:has-text('Restrict')").click()
    root.wait_for_load_state()
    restricted = root.locator("#records li", has_text=f"Called Wes {width}")
    assert (
        "restricted" in restricted.inner_text() and "shared with alice" in restricted.inner_text()
    )
    problems += fits_and_passes_axe(root, width)

    bob.reload()
    assert f"Called Wes {width}" not in bob.inner_text("main")
    alice.reload()
    assert "restricted" in alice.locator("#records li", has_text=f"Called Wes {width}").inner_text()
    assert problems == []
    for page in (alice, bob, root):
        assert not page.errors, page.errors
