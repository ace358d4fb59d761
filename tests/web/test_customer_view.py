"""What customers see and may do: only the case type's public fields, no internal post,
history or staff name, on the portal page, in the API's customer view and in their mail;
they open cases only as themselves, of the types their portal role lists, with only the
fields opened to them and never a priority."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.store.models import Contact
from engine.store.outbox import OutboxMessage
from people import directory
from rules.admin import set_portal_access
from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case
from tests.web.test_pages import browser_login

INTERNAL = ("Check the driver logs", "driver 4.2 is broken", "hours_spent", "triage_note")


def _worked_case(site: Site) -> str:
    """A case carol opened, triaged and investigated with internal notes, now proposed."""
    carol, alice, sam = site.login("carol"), site.login("alice"), site.login("sam")
    number = open_case(carol, "Printer on fire", data={"product": "LaserJet 5"})["number"]
    triage = my_task(alice, number, "Triage case")
    alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={
            "data": {
                "category": "hardware",
                "needs_investigation": True,
                "triage_note": "Check the driver logs",
            }
        },
    ).raise_for_status()
    investigate = my_task(sam, number, "Investigate")
    sam.post(
        f"/api/tasks/{investigate['id']}/complete",
        json={"data": {"findings": "driver 4.2 is broken", "hours_spent": 3}},
    ).raise_for_status()
    alice.post(
        f"/api/cases/{number}/posts", json={"body": "internal: blame the vendor", "internal": True}
    )
    alice.post(f"/api/cases/{number}/posts", json={"body": "We are on it"})
    propose = my_task(alice, number, "Propose resolution")
    alice.post(
        f"/api/tasks/{propose['id']}/complete", json={"data": {"resolution": "Install driver 4.3"}}
    ).raise_for_status()
    return number


def test_the_api_shows_customers_only_public_fields_and_no_staff(site: Site):
    number = _worked_case(site)
    mine = site.login("carol").get(f"/api/cases/{number}").json()
    assert mine["data"] == {
        "resolution": "Install driver 4.3",
        "category": "hardware",
        "product": "LaserJet 5",
    }
    assert {f["label"]: f["display"] for f in mine["fields"]} == {
        "Resolution for the customer": "Install driver 4.3",
        "Category": "Hardware",
        "Product": "LaserJet 5",
    }
    assert mine["sections"] == ["case_details", "communications"]
    assert mine["history"] == []
    customer_actions = {"summary", "read", "post", "claim", "release", "complete", "explain"}
    assert set(mine["allowed"]) == customer_actions
    assert [(p["author"], p["body"]) for p in mine["stream"]] == [("Support team", "We are on it")]
    assert [t["name"] for t in mine["tasks"]] == ["Confirm resolution"]
    text = json.dumps(mine)
    for secret in (*INTERNAL, "alice", "sam", "blame", "service-desk"):
        assert secret not in text, secret
    # the agents see everything their sections allow
    theirs = site.login("alice").get(f"/api/cases/{number}").json()
    assert theirs["data"]["triage_note"] == "Check the driver logs"
    assert theirs["data"]["hours_spent"] == 3 and theirs["history"]
    assert {"write", "close", "post_internal", "hide"} <= set(theirs["allowed"])


def test_the_portal_page_shows_public_fields_with_labels_and_nothing_internal(site: Site):
    number = _worked_case(site)
    page = browser_login(site, "carol", "/portal").get(f"/portal/cases/{number}").text
    assert "Resolution for the customer" in page and "Install driver 4.3" in page
    assert "<dt>Category</dt><dd>Hardware</dd>" in page
    for secret in (*INTERNAL, "alice", "blame the vendor", "History"):
        assert secret not in page, secret
    assert "Support team" in page


def test_customers_hear_of_public_posts_with_the_staff_name_and_public_fields(site: Site):
    with site.runtime.unit() as work:
        directory.user_by_name(work, "carol").email = "carol@acme.example"
    number = _worked_case(site)
    with site.runtime.unit() as work:
        mails = work.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        to_carol = [m for m in mails if m.recipients == ["carol@acme.example"]]
    # the public answer itself, from the default sender (the case type has no mailbox):
    # never the internal note, never her own case's opening
    assert [(m.kind, m.subject) for m in to_carol] == [
        ("case_reply", f"[{number}] Printer on fire")
    ]
    body = to_carol[0].body_text
    assert "We are on it" in body and "Support team" in body  # the staff name, no agent's
    assert "Category: Hardware" in body and "Product: LaserJet 5" in body
    for secret in (*INTERNAL, "alice", "blame"):
        assert secret not in body, secret


def test_customers_open_cases_only_as_themselves_with_fields_opened_to_them(site: Site):
    carol = site.login("carol")
    with site.runtime.unit() as work:
        theirs = directory.add_contact(work, name="Gus", customer_group="Globex")
        colleague = directory.add_contact(work, name="Cora", customer_group="Acme")
        ids = (theirs.id, colleague.id)
    base = {"case_type": "SUPPORT", "subject": "x"}
    foreign = carol.post("/api/cases", json={**base, "contact": ids[0]})
    missing = carol.post("/api/cases", json={**base, "contact": 999999})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(str(ids[0]), "N") == missing.json()["detail"].replace(
        "999999", "N"
    )
    assert carol.post("/api/cases", json={**base, "contact": ids[1]}).status_code == 404
    priority = carol.post("/api/cases", json={**base, "priority": "urgent"})
    assert priority.status_code == 422 and "priority" in priority.json()["errors"]
    sneaky = carol.post("/api/cases", json={**base, "data": {"triage_note": "VIP", "product": "X"}})
    assert sneaky.status_code == 422 and set(sneaky.json()["errors"]) == {"triage_note"}
    assert carol.get("/api/cases").json() == []  # nothing was opened by any of it
    # with the "all" edit level, for a contact of her own customer (never another's)
    with site.runtime.unit() as work:
        set_portal_access(
            work,
            username="carol",
            view="all",
            edit="all",
            parent_visibility=False,
            case_types=["SUPPORT"],
        )
    assert carol.post("/api/cases", json={**base, "contact": ids[1]}).status_code == 201
    assert carol.post("/api/cases", json={**base, "contact": ids[0]}).status_code == 404
    # and only the case types her portal role lists
    with site.runtime.unit() as work:
        set_portal_access(work, username="carol", view="own", edit="own", parent_visibility=False)
    refused = carol.post("/api/cases", json=base)
    assert refused.status_code == 403 and "may not open SUPPORT" in refused.json()["detail"]
    assert site.login("carol").get("/api/case-types").json() == []


def test_a_portal_case_names_its_customer_so_the_customer_group_rule_applies(site: Site):
    number = open_case(site.login("carol"), "Mine")["number"]
    with site.runtime.unit() as work:
        from engine.run.cases import case_by_number

        case = case_by_number(work, number)
        contact = work.session.get(Contact, case.main_contact_id)
        assert contact is not None and contact.name == "Carol"
    # seed 002: agents who may write the type but not read Acme's customer group never see it
    with site.runtime.unit() as work:
        directory.add_group(work, name="globex-desk")
        directory.add_user(work, username="gina", password="correct horse battery")
        directory.add_member(work, username="gina", group="globex-desk")
        from rules.admin import permit_case_type, permit_customers

        permit_case_type(work, group="globex-desk", case_type="SUPPORT", write=True)
        permit_customers(work, group="globex-desk", customer="Globex")
    gina = site.login("gina")
    assert gina.get("/api/cases").json() == []
    assert gina.get(f"/api/cases/{number}").status_code == 404


def test_sections_decide_who_sees_contacts_and_linked_cases_seed_001_002(site: Site):
    from engine.run import cases as engine_cases
    from rules.admin import permit_case_type, permit_customers

    carol = site.login("carol")
    mine = open_case(carol, "Mine")["number"]
    other = open_case(site.login("dave"), "Dave's")["number"]
    with site.runtime.unit() as work:
        gus = directory.add_contact(work, name="Gus", customer_group="Globex")
        case = engine_cases.case_by_number(work, mine)
        engine_cases.add_case_contact(work, case, gus.id, actor_id=None)
        engine_cases.link_cases(
            work, case.id, engine_cases.case_by_number(work, other).id, actor_id=None, reason="x"
        )
        directory.add_group(work, name="acme-desk")
        directory.add_user(work, username="ada", password="correct horse battery")
        directory.add_member(work, username="ada", group="acme-desk")
        permit_case_type(work, group="acme-desk", case_type="SUPPORT", write=True)
        permit_customers(work, group="acme-desk", customer="Acme")
    seen = {
        who: site.login(who).get(f"/api/cases/{mine}").json() for who in ("alice", "ada", "carol")
    }
    assert [(c["name"], c["main"]) for c in seen["alice"]["contacts"]] == [
        ("Carol", True),
        ("Gus", False),
    ]
    assert [c["name"] for c in seen["ada"]["contacts"]] == ["Carol"]  # not Globex's Gus
    assert [r["number"] for r in seen["alice"]["related"]] == [other]
    assert seen["ada"]["related"] == []  # Dave's case is Globex's: not shown to her
    assert seen["carol"]["contacts"] == [] and seen["carol"]["related"] == []  # owner sections
    page = browser_login(site, "carol", "/portal").get(f"/portal/cases/{mine}").text
    assert "Gus" not in page and other not in page
