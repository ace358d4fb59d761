"""The case page's account and contact pickers on both databases, with thousands of
contacts: the picker offers the first matches of what was typed, searched in the database
through the visibility filter, so any contact the agent may see can be picked - and none
they may not, by search or by a forged id.  The same search on the API and the CLI."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import insert, select

from cli.main import main
from engine.store.models import Account, Contact, CustomerGroup
from people import directory
from rules.admin import permit_customers
from tests.web.conftest import PASSWORD, Site
from tests.web.test_api import open_case
from tests.web.test_pages import browser_login, csrf_of

MANY = 10_000


def _crowd(site: Site) -> int:
    """MANY contacts and 60 accounts of Acme, one more contact named to sort after them
    all (its id), and vic: an agent who sees Acme's contacts only."""
    with site.runtime.unit() as work:
        acme = work.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Acme"))
        work.session.execute(
            insert(Contact),
            [
                {"name": f"Person {i:05}", "email": f"p{i}@acme.example", "customer_group_id": acme}
                for i in range(MANY)
            ],
        )
        work.session.execute(
            insert(Account),
            [{"name": f"Acme branch {i:02}", "customer_group_id": acme} for i in range(60)],
        )
        zelda = directory.add_contact(
            work, name="Zelda Quartz", customer_group="Acme", email="zelda_q@acme.example"
        )
        directory.add_group(work, name="acme-desk")
        directory.add_user(work, username="vic", password=PASSWORD)
        directory.add_member(work, username="vic", group="acme-desk")
        permit_customers(work, group="acme-desk", customer="Acme")
        return zelda.id


def _contacts_of(site: Site, number: str) -> list[str]:
    parties = site.login("alice").get(f"/api/cases/{number}/parties").json()
    return [c["name"] for c in parties["contacts"]]


def test_any_of_ten_thousand_contacts_is_picked_by_typing_part_of_its_name(site: Site):
    zelda = _crowd(site)
    number = open_case(site.login("carol"), "Printer jams")["number"]
    alice = browser_login(site, "alice")
    page = alice.get(f"/cases/{number}")
    assert page.status_code == 200 and 'id="find-contact"' in page.text
    assert "Showing the first 50 contacts: type more" in html.unescape(page.text)
    assert f'<option value="{zelda}">' not in page.text  # far beyond the first 50
    found = alice.get(f"/cases/{number}", params={"contact_q": "zelda QUARTZ"})
    assert f'<option value="{zelda}">Zelda Quartz' in found.text
    assert 'id="more-contacts"' not in found.text
    by_mail = alice.get(f"/cases/{number}", params={"contact_q": "zelda_q@"})
    assert f'<option value="{zelda}">' in by_mail.text
    added = alice.post(
        f"/cases/{number}/parties/contacts",
        data={"csrf_token": csrf_of(found.text), "op": "add", "contact": str(zelda)},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert _contacts_of(site, number) == ["Carol", "Zelda Quartz"]
    # % and _ are letters here: neither matches everything
    for typed in ("%", "_", "Person%0"):
        nothing = alice.get(f"/cases/{number}", params={"contact_q": typed})
        assert "No other contact you may see matches" in html.unescape(nothing.text), typed
    accounts = alice.get(f"/cases/{number}", params={"account_q": "branch 59"})
    assert '<option value="Acme branch 59"' in accounts.text
    assert '<option value="Acme branch 58"' not in accounts.text
    assert "Showing the first 50 accounts" in alice.get(f"/cases/{number}").text


def test_a_forged_contact_id_or_a_search_beyond_the_filter_finds_nothing(
    site: Site, db_url: str, capsys: pytest.CaptureFixture[str]
):
    zelda = _crowd(site)
    number = open_case(site.login("carol"), "Printer jams")["number"]
    alice = browser_login(site, "alice")
    token = csrf_of(alice.get(f"/cases/{number}").text)
    for forged in ("999999999", "0", "x"):
        answer = alice.post(
            f"/cases/{number}/parties/contacts",
            data={"csrf_token": token, "op": "add", "contact": forged},
        )
        assert answer.status_code in (404, 422), (forged, answer.text)
    assert _contacts_of(site, number) == ["Carol"]
    # vic sees Acme's contacts only: Dave (Globex) is found by neither door
    vic, api = site.login("vic"), site.login("alice")
    assert [c["name"] for c in api.get("/api/contacts", params={"q": "dave"}).json()] == ["Dave"]
    assert vic.get("/api/contacts", params={"q": "dave"}).json() == []
    assert [c["id"] for c in vic.get("/api/contacts", params={"q": "quartz"}).json()] == [zelda]
    assert vic.get("/api/accounts", params={"q": "globex"}).json() == []
    branch = vic.get("/api/accounts", params={"q": "acme 07"}).json()
    assert [a["name"] for a in branch] == ["Acme branch 07"]  # every word, anywhere
    assert site.login("carol").get("/api/contacts", params={"q": "dave"}).json() == []
    assert vic.get("/api/contacts", params={"q": "x" * 201}).status_code == 422
    for who, expected in (("vic", []), ("alice", ["Dave"])):
        assert (
            main(["--db", db_url, "--json", "contact", "list", "--search", "DAVE", "--as", who])
            == 0
        )
        assert [c["name"] for c in json.loads(capsys.readouterr().out)] == expected
    code = main(
        ["--db", db_url, "--json", "account", "list", "--search", "branch 07", "--as", "vic"]
    )
    assert code == 0 and [a["name"] for a in json.loads(capsys.readouterr().out)] == [
        "Acme branch 07"
    ]
