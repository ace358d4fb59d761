"""Accounts, contacts and a case's parties over JSON: 404 for what the caller may not see
(forged ids and names included), 403 for a link one may not make, the parent account's
view-only access (seed 003), and the all-or-nothing import for administrators."""

from __future__ import annotations

from people import directory
from rules.admin import set_portal_access
from tests.web.conftest import PASSWORD, Site
from tests.web.test_api import open_case


def _world(site: Site) -> int:
    root = site.login("root")
    with site.runtime.unit() as work:
        directory.add_customer_group(work, name="Holding")
    for body in (
        {"name": "Holding-HQ", "customer": "Holding"},
        {"name": "Acme-West", "customer": "Acme", "parent": "Holding-HQ"},
    ):
        answer = root.post("/api/accounts", json=body)
        assert answer.status_code == 201, answer.text
    with site.runtime.unit() as work:
        directory.add_user(work, username="paula", password=PASSWORD)
        directory.add_contact(work, name="Paula", account="Holding-HQ", username="paula")
        wes = directory.add_contact(work, name="Wes", account="Acme-West", email="w@acme.example")
        set_portal_access(work, username="paula", view="all", edit="all", parent_visibility=True)
        return wes.id


def test_accounts_and_contact_pages_show_only_what_the_caller_may_see(site: Site):
    wes = _world(site)
    carol, dave, alice, sam = (site.login(n) for n in ("carol", "dave", "alice", "sam"))
    number = open_case(carol, "Printer jams")["number"]
    assert [a["name"] for a in alice.get("/api/accounts").json()] == ["Acme-West", "Holding-HQ"]
    assert alice.post("/api/accounts", json={"name": "X", "customer": "Acme"}).status_code == 403
    assert site.login("root").post("/api/accounts", json={"name": "Acme-West"}).status_code == 409

    answer = alice.put(f"/api/cases/{number}/contacts/{wes}")
    assert answer.status_code == 200, answer.text
    assert [(c["name"], c["main"]) for c in answer.json()["contacts"]] == [
        ("Carol", True), ("Wes", False)
    ]  # fmt: skip
    assert answer.json()["changed"] == [wes]
    assert (
        alice.put(f"/api/cases/{number}/account", json={"account": "Acme-West"}).status_code == 200
    )
    page = alice.get("/api/accounts/Acme-West").json()
    assert [c["number"] for c in page["cases"]] == [number] and page["parent"] == "Holding-HQ"
    assert [c["number"] for c in alice.get(f"/api/contacts/{wes}/cases").json()["cases"]] == [
        number
    ]
    # sam sees the contact and the account but not the case: neither page lists it
    assert sam.get(f"/api/contacts/{wes}/cases").json()["cases"] == []
    assert sam.get("/api/accounts/Acme-West").json()["cases"] == []
    # dave (Globex): the contact, the account and the case are "not found", as forged ones
    for url in (
        f"/api/contacts/{wes}/cases",
        "/api/contacts/999999/cases",
        "/api/accounts/Acme-West",
        "/api/accounts/Nope",
        f"/api/cases/{number}/parties",
    ):
        assert dave.get(url).status_code == 404, url
    assert dave.get("/api/accounts").json() == []
    # linking: managers only (403 for the owner), 404 for what one may not see
    assert carol.put(f"/api/cases/{number}/account", json={"account": None}).status_code == 403
    assert dave.put(f"/api/cases/{number}/contacts/{wes}").status_code == 404
    assert alice.put(f"/api/cases/{number}/contacts/999999").status_code == 404
    assert alice.put(f"/api/cases/{number}/account", json={"account": "Nope"}).status_code == 404
    assert alice.delete(f"/api/cases/{number}/contacts/1").status_code == 422  # main contact


def test_the_lead_is_set_by_address_and_shown_to_agents_only(site: Site):
    _world(site)
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Printer jams")["number"]
    url = f"/api/cases/{number}/lead"
    assert alice.put(url, json={"email": "nina@new.example"}).json()["errors"] == {
        "name": "is required for a new lead"
    }
    assert alice.put(url, json={"email": "nina@new.example", "status": "hot"}).status_code == 422
    body = {"email": "nina@new.example", "name": "Nina", "company": "New Co"}
    answer = alice.put(url, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["lead"] == {
        "name": "Nina", "email": "nina@new.example", "company": "New Co", "status": "new"
    }  # fmt: skip
    assert (
        alice.put(url, json={"email": "NINA@new.example", "status": "qualified"}).json()["lead"][
            "status"
        ]
        == "qualified"
    )  # the same lead, found by its address
    assert "lead" not in carol.get(f"/api/cases/{number}/parties").json()
    assert carol.put(url, json=body).status_code == 403
    assert alice.delete(url).json()["lead"] is None
    history = [h["action"] for h in alice.get(f"/api/cases/{number}").json()["history"]]
    assert history.count("lead_set") == 2


def test_parent_account_contacts_view_child_account_cases_seed_003(site: Site):
    _world(site)
    carol, alice, paula = site.login("carol"), site.login("alice"), site.login("paula")
    number = open_case(carol, "Printer jams")["number"]
    assert paula.get(f"/api/cases/{number}").status_code == 404
    alice.put(f"/api/cases/{number}/account", json={"account": "Acme-West"})
    assert paula.get(f"/api/cases/{number}").status_code == 200
    assert [c["number"] for c in paula.get("/api/accounts/Acme-West").json()["cases"]] == [number]
    answer = paula.post(f"/api/cases/{number}/posts", json={"body": "hello"})
    assert answer.status_code == 403  # view only


def test_administrators_import_contacts_all_or_nothing(site: Site):
    _world(site)
    root, alice = site.login("root"), site.login("alice")
    good = "name,email,account\nAnn,ann@acme.example,Acme-West\nBen,ben@acme.example,Acme-West\n"
    assert alice.post("/api/contacts/import", json={"csv": good}).status_code == 403
    assert root.post("/api/contacts/import", json={"csv": good}).json() == {
        "created": 2, "updated": 0, "unchanged": 0
    }  # fmt: skip
    assert root.post("/api/contacts/import", json={"csv": good}).json()["unchanged"] == 2
    bad = "name,email,account\nCid,cid@acme.example,Acme-West\nDee,nope,Acme-West\n"
    answer = root.post("/api/contacts/import", json={"csv": bad})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"line 3: email": "'nope' is not an email address"}
    names = {c["name"] for c in alice.get("/api/accounts/Acme-West").json()["contacts"]}
    assert names == {"Ann", "Ben", "Wes"}
