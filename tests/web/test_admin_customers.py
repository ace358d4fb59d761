"""Customer groups and contacts from the admin page: listed, added and edited; an agent's
login refused as a contact next to the field; administrators only."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import Contact
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def test_customer_groups_and_contacts_are_listed_added_and_edited(site: Site):
    root = browser_login(site, "root")
    page = root.get("/admin/customers")
    assert page.status_code == 200 and "Acme" in page.text and "portal login carol" in page.text
    token = csrf_of(page.text)
    added = root.post(
        "/admin/customers/groups",
        data={"csrf_token": token, "group_name": "Acme East", "parent": "Acme"},
    )
    assert added.status_code == 200 and "in Acme" in added.text
    contact = root.post(
        "/admin/customers/contacts",
        data={
            "csrf_token": token,
            "name": "Erin",
            "email": "erin@acme.example",
            "customer_group": "Acme East",
            "username": "",
        },
    )
    assert contact.status_code == 200 and "erin@acme.example" in contact.text
    with site.runtime.unit() as work:
        erin = work.session.scalar(select(Contact.id).where(Contact.name == "Erin"))
    assert "Erin" in root.get(f"/admin/customers/contacts/{erin}").text
    bad = root.post(
        f"/admin/customers/contacts/{erin}",
        data={"csrf_token": token, "name": "", "email": "not-an-address"},
    )
    assert bad.status_code == 422 and "is required" in bad.text and "not a mail" in bad.text
    saved = root.post(
        f"/admin/customers/contacts/{erin}",
        data={"csrf_token": token, "name": "Erin E", "email": "e@acme.example"},
    )
    assert saved.status_code == 200 and "Erin E" in saved.text


def test_an_agent_login_is_refused_as_a_contact(site: Site):
    root = browser_login(site, "root")
    token = csrf_of(root.get("/admin/customers").text)
    for agent, why in (("alice", "in the agent group service-desk"), ("root", "an administrator")):
        refused = root.post(
            "/admin/customers/contacts",
            data={"csrf_token": token, "name": "Spy", "customer_group": "Acme", "username": agent},
        )
        assert refused.status_code == 422 and f"{agent} is {why}" in refused.text
    with site.runtime.unit() as work:
        assert work.session.scalar(select(Contact.id).where(Contact.name == "Spy")) is None


def test_only_administrators_reach_customers(site: Site):
    alice = browser_login(site, "alice")
    assert alice.get("/admin/customers").status_code == 403
    assert alice.get("/admin/customers/contacts/1").status_code == 403
    token = csrf_of(alice.get("/account").text)
    data = {"csrf_token": token, "name": "X", "customer_group": "Acme", "email": ""}
    assert alice.post("/admin/customers/contacts", data=data).status_code == 403
    assert alice.post("/admin/customers/contacts/1", data=data).status_code == 403
    root = browser_login(site, "root")
    token = csrf_of(root.get("/admin/customers").text)
    forged = root.post("/admin/customers/contacts/99999", data={**data, "csrf_token": token})
    assert forged.status_code == 404
    assert root.post("/admin/customers/groups", data={"group_name": "Y"}).status_code == 403
