"""The case page's account, contacts and lead card and its child-records card, as a browser
posts their forms: every change through the same rules as the API, forms only for those
allowed (and why not for the rest), a refusal shown in the card with the page around it,
and a forged post from someone who may not see the case or the record answered 403 or 404
with nothing changed."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.test_child_records import deploy_types, open_cases
from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_pages import browser_login, csrf_of
from tests.web.test_parties_api import _world


@dataclass
class Browser:
    """A signed-in browser: its pages and its forms, posted with its own CSRF token."""

    client: TestClient
    token: str

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, **data: str):
        return self.client.post(
            url, data={"csrf_token": self.token, **data}, follow_redirects=False
        )


def signed_in(site: Site, username: str, area: str = "") -> Browser:
    client = browser_login(site, username, area)
    return Browser(client, csrf_of(client.get(area or "/").text))


def card(page: str, name: str) -> str:
    """The HTML of one card of the case page, entities unescaped ('' when it has none)."""
    found = re.search(rf'<section class="card[^"]*" id="{name}">(.*?)</section>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_agents_see_and_change_a_cases_parties_on_its_page(site: Site):
    wes = _world(site)
    number = open_case(site.login("carol"), "Printer jams")["number"]
    url = f"/cases/{number}"
    alice = signed_in(site, "alice")
    page = alice.get(url).text
    parties = card(page, "parties")
    assert "Carol" in parties and "main contact" in parties and "No account." in parties
    assert f'<option value="{wes}">Wes' in parties  # a contact she may add
    assert "Lead" in parties and "No lead." in parties  # the lead: agents only
    # the card comes after the stream (the task form and the stream stay first)
    assert page.index('id="task-') < page.index('class="card stream"') < page.index('id="parties"')

    done = alice.post(f"{url}/parties/contacts", op="add", contact=str(wes))
    assert done.status_code == 303 and done.headers["location"] == f"{url}#parties"
    done = alice.post(f"{url}/parties/account", op="set", account="Acme-West")
    assert done.status_code == 303
    done = alice.post(f"{url}/parties/lead", op="set", email="nina@new.example", name="Nina",
        company="New Co", status="contacted",
    )  # fmt: skip
    assert done.status_code == 303
    parties = card(alice.get(url).text, "parties")
    assert f'<a href="/contacts/{wes}">Wes</a>' in parties
    assert '<a href="/accounts/Acme-West">Acme-West</a>' in parties
    assert '<a href="/accounts/Holding-HQ">Holding-HQ</a>' in parties  # the parent account
    assert "Nina <nina@new.example> · New Co" in parties and "contacted" in parties
    assert site.login("alice").get(f"/api/cases/{number}/parties").json()["account_parent"] == (
        "Holding-HQ"
    )

    # refusals the agent can act on: the page again, the reason in the card, nothing stored
    refused = alice.post(f"{url}/parties/lead", op="set", email="new@new.example")
    assert refused.status_code == 422
    assert "name: is required for a new lead" in card(refused.text, "parties")
    main = site.login("alice").get(f"/api/cases/{number}/parties").json()["contacts"][0]["id"]
    refused = alice.post(f"{url}/parties/contacts", op="remove", contact=str(main))
    assert refused.status_code == 422 and "is the main contact" in refused.text
    refused = alice.post(f"{url}/parties/contacts", op="add", contact="999999")
    assert refused.status_code == 404 and "no contact 999999" in card(refused.text, "parties")
    refused = alice.post(f"{url}/parties/account", op="set", account="")
    assert refused.status_code == 422 and "account: choose an account" in refused.text

    # mona reads the case, does not edit it: the card without forms, and why
    mona = signed_in(site, "mona")
    seen = card(mona.get(url).text, "parties")
    assert "Wes" in seen and "/parties/" not in seen
    assert "Your roles may not change this case's account, contacts or lead." in seen
    # forged posts: mona 403, sam (may not see the case) 404, no CSRF token 403
    assert mona.post(f"{url}/parties/account", op="clear").status_code == 403
    sam = signed_in(site, "sam")
    assert sam.get(url).status_code == 404
    assert sam.post(f"{url}/parties/account", op="clear").status_code == 404
    assert sam.post(f"{url}/parties/lead", op="clear").status_code == 404
    forged = alice.client.post(
        f"{url}/parties/account", data={"op": "clear"}, follow_redirects=False
    )
    assert forged.status_code == 403
    after = site.login("alice").get(f"/api/cases/{number}/parties").json()
    assert after["account"] == "Acme-West" and after["lead"]["name"] == "Nina"
    assert [c["name"] for c in after["contacts"]] == ["Carol", "Wes"]

    # the customer's portal page shows none of it, and the agents' forms are not theirs
    carol = signed_in(site, "carol", "/portal")
    mine = carol.get(f"/portal/cases/{number}").text
    assert 'id="parties"' not in mine and "Nina" not in mine and "Acme-West" not in mine
    forged = carol.post(f"{url}/parties/account", op="clear")
    assert forged.status_code == 303 and forged.headers["location"] == "/login"
    assert site.login("alice").get(f"/api/cases/{number}/parties").json()["account"] == "Acme-West"

    assert alice.post(f"{url}/parties/account", op="clear").is_redirect
    assert alice.post(f"{url}/parties/contacts", op="remove", contact=str(wes)).is_redirect
    assert alice.post(f"{url}/parties/lead", op="clear").is_redirect
    cleared = card(alice.get(url).text, "parties")
    assert "No account." in cleared and "No lead." in cleared
    assert f'href="/contacts/{wes}"' not in cleared and f'<option value="{wes}">Wes' in cleared


@pytest.fixture
def numbers(site: Site, tmp_path: Path) -> list[str]:
    with site.runtime.unit() as work:
        deploy_types(work, tmp_path)
    with site.runtime.unit() as work:
        return open_cases(work)


def test_agents_add_records_and_administrators_restrict_them_on_the_case_page(
    site: Site, numbers: list[str]
):
    first, second = numbers[:2]
    url = f"/cases/{first}"
    alice, root = signed_in(site, "alice"), signed_in(site, "root")
    page = alice.get(url).text
    records = card(page, "records")
    assert 'id="add-record"' in records and "None shared with you." in records
    assert page.index('class="card stream"') < page.index('id="records"')

    done = alice.post(f"{url}/records", kind="call", title="Called the vendor", ref="+44 20 1",
        users="mona", groups="",
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"{url}#records"
    records = card(alice.get(url).text, "records")
    assert "call" in records and "Called the vendor" in records and "+44 20 1" in records
    assert "shared with alice, mona" in records
    assert "only administrators restrict a record" in records and "/restrict" not in records
    assert "Called the vendor" in card(signed_in(site, "mona").get(url).text, "records")
    bob = signed_in(site, "bob")
    assert "Called the vendor" not in bob.get(url).text  # works the case, not on the list
    [call] = site.login("alice").get(f"/api/cases/{first}/records").json()

    refused = alice.post(f"{url}/records", kind="fax", title="x")
    assert refused.status_code == 422 and "kind: one of note, call, todo" in refused.text
    refused = alice.post(f"{url}/records", kind="note", title="x", users="nobody")
    assert refused.status_code == 404 and "no user 'nobody'" in card(refused.text, "records")
    assert len(site.login("alice").get(f"/api/cases/{first}/records").json()) == 1

    # an administrator restricts it to alice: mona no longer sees it, alice still does
    admin_page = root.get(url).text
    assert f'action="{url}/records/{call["id"]}/restrict"' in admin_page
    done = root.post(f"{url}/records/{call['id']}/restrict", users="alice")
    assert done.status_code == 303
    assert "restricted" in card(alice.get(url).text, "records")
    assert "Called the vendor" not in signed_in(site, "mona").get(url).text
    # forged: alice may not lift it (403), bob does not see it (404), nor on another case
    restrict = f"{url}/records/{call['id']}/restrict"
    assert alice.post(restrict, op="lift").status_code == 403
    assert bob.post(restrict, op="lift").status_code == 404
    elsewhere = root.post(f"/cases/{second}/records/{call['id']}/restrict", op="lift")
    assert elsewhere.status_code == 404
    assert site.login("root").get(f"/api/records/{call['id']}").json()["restricted"] is True

    # a record on two cases cannot be restricted: the page says so, a forged post is refused
    # with the conflict named in the card (409) and the record stays as it was
    api = site.login("alice")
    note = api.post(f"/api/cases/{first}/records", json={"kind": "note", "title": "Shared"}).json()
    assert api.post(f"/api/records/{note['id']}/links", json={"case": second}).status_code == 200
    admin_page = root.get(url).text
    assert f"Cannot be restricted: record {note['id']} is linked to 1 other case(s): {second}" in (
        card(admin_page, "records")
    )
    assert f'action="{url}/records/{note["id"]}/restrict"' not in admin_page
    refused = root.post(f"{url}/records/{note['id']}/restrict", users="bob")
    assert refused.status_code == 409
    assert f"linked to 1 other case(s): {second}" in card(refused.text, "records")
    assert site.login("root").get(f"/api/records/{note['id']}").json()["restricted"] is False

    # lifting: the restriction's names stay, and mona (off the list) still does not see it
    assert root.post(restrict, op="lift").status_code == 303
    assert "Called the vendor" in alice.get(url).text
    assert "Called the vendor" not in signed_in(site, "mona").get(url).text

    # monitors may not add records; customers get no card and no way in
    mona = signed_in(site, "mona")
    seen = card(mona.get(url).text, "records")
    assert "Add: your roles may not post internal notes on this case." in seen
    assert mona.post(f"{url}/records", kind="note", title="x").status_code == 403
    carol = signed_in(site, "carol", "/portal")
    mine = carol.get(f"/portal/cases/{first}").text
    assert 'id="records"' not in mine and "Called the vendor" not in mine
    assert carol.post(f"{url}/records", kind="note", title="x").status_code == 303
    assert len(site.login("root").get(f"/api/cases/{first}/records").json()) == 2
