"""The account and contact pages, as a browser reads them: every contact and case listed
through the one visibility decision, "not found" for the rest (forged ids included)."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_pages import browser_login
from tests.web.test_parties_api import _world


def test_account_and_contact_pages_list_only_what_the_reader_may_see(site: Site):
    wes = _world(site)
    number = open_case(site.login("carol"), "Printer jams")["number"]
    api = site.login("alice")
    api.put(f"/api/cases/{number}/contacts/{wes}")
    api.put(f"/api/cases/{number}/account", json={"account": "Acme-West"})

    alice = browser_login(site, "alice")
    listing = alice.get("/accounts")
    assert listing.status_code == 200 and 'href="/accounts/Acme-West"' in listing.text
    page = alice.get("/accounts/Acme-West")
    assert page.status_code == 200
    assert f'href="/contacts/{wes}"' in page.text and f'href="/cases/{number}"' in page.text
    assert 'href="/accounts/Holding-HQ"' in page.text  # its parent
    contact = alice.get(f"/contacts/{wes}")
    assert contact.status_code == 200 and f'href="/cases/{number}"' in contact.text

    sam = browser_login(site, "sam")  # sees the contact, may not see the case
    seen = sam.get(f"/contacts/{wes}")
    assert (
        seen.status_code == 200 and number not in seen.text and "No cases you may see" in seen.text
    )
    assert number not in sam.get("/accounts/Acme-West").text
    for url in ("/contacts/999999", "/accounts/Nope"):
        assert alice.get(url).status_code == 404, url

    paula = browser_login(site, "paula", "/portal")  # parent account: views the child's cases
    mine = paula.get("/portal/accounts/Acme-West")
    assert mine.status_code == 200 and f'href="/portal/cases/{number}"' in mine.text
    dave = browser_login(site, "dave", "/portal")
    assert dave.get("/portal/accounts/Acme-West").status_code == 404
    assert "No accounts you may see" in dave.get("/portal/accounts").text
