"""Mail held for triage, decided over the API and from the agents' page, on both databases."""

from __future__ import annotations

import re

from mail.intake import take_in
from mail.mailboxes import add_mailbox
from mail.settings import MailSettings
from tests.mail.helpers import build
from tests.mail.world import support_mailbox
from tests.web.conftest import Site

DOMAIN = MailSettings.from_env().domain


def _triage_mailbox(site: Site) -> int:
    """A mailbox whose mail naming a foreign case waits for an agent."""
    with site.runtime.unit() as work:
        return add_mailbox(work, support_mailbox(customer_group="Acme", refused_match="triage")).id


def _held_mail(site: Site, number: str, sender: str) -> int:
    """A message from ``sender`` naming case ``number``, held for triage."""
    mailbox_id = _triage_mailbox(site)
    outcome = take_in(
        site.runtime,
        mailbox_id,
        build(
            f"From: {sender}",
            f"Message-ID: <{abs(hash((number, sender)))}@partner.example>",
            f"Subject: Re: [{number}] Printer jams",
            body="Our printer <b>jams</b> as well.\n",
        ),
        domain=DOMAIN,
    )
    assert outcome.state == "triage" and outcome.inbound_id is not None
    return outcome.inbound_id


def _case_of_carol(site: Site) -> str:
    carol = site.login("carol")
    opened = carol.post("/api/cases", json={"case_type": "SUPPORT", "subject": "Printer jams"})
    assert opened.status_code == 201, opened.text
    return opened.json()["number"]


def test_agents_who_work_the_type_see_and_decide_held_mail_others_get_not_found(site: Site):
    number = _case_of_carol(site)
    held = _held_mail(site, number, "Otto <otto@partner.example>")
    alice, sam, carol = site.login("alice"), site.login("sam"), site.login("carol")

    (row,) = alice.get("/api/triage").json()
    assert (row["id"], row["from"], row["case_type"]) == (held, "otto@partner.example", "SUPPORT")
    assert number in row["refused"] and "jams" in row["excerpt"]
    assert sam.get("/api/triage").json() == []  # specialists do not write SUPPORT cases
    assert carol.get("/api/triage").json() == []
    assert sam.post(f"/api/triage/{held}/thread", json={"case": number}).status_code == 404
    assert alice.post(f"/api/triage/{held}/thread", json={"case": "no"}).status_code == 422
    assert alice.post(f"/api/triage/{held + 1000}/open").status_code == 404

    decided = alice.post(f"/api/triage/{held}/thread", json={"case": number})
    assert decided.status_code == 200, decided.text
    assert decided.json() == {
        "id": held,
        "state": "processed",
        "case": number,
        "matched_by": "triage:alice",
    }
    assert alice.get("/api/triage").json() == []
    assert alice.post(f"/api/triage/{held}/open").status_code == 409  # decided once
    stream = alice.get(f"/api/cases/{number}").json()["stream"]
    assert any("jams" in post["body"] for post in stream)


def test_an_agent_opens_a_case_for_held_mail_from_the_triage_page(site: Site):
    number = _case_of_carol(site)
    held = _held_mail(site, number, "Otto <otto@partner.example>")
    alice = site.login("alice")
    page = alice.get("/triage")
    assert page.status_code == 200 and "otto@partner.example" in page.text
    assert "<b>jams</b>" not in page.text  # the mail's text is escaped, never markup
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    opened = alice.post(
        f"/triage/{held}/open", data={"csrf_token": csrf.group(1)}, follow_redirects=False
    )
    assert opened.status_code == 303
    new_number = opened.headers["location"].rsplit("/", 1)[-1]
    assert new_number != number
    assert alice.get(f"/api/cases/{new_number}").json()["subject"] == f"Re: [{number}] Printer jams"
    assert "otto@partner.example" not in alice.get("/triage").text


def test_the_triage_page_adds_held_mail_to_the_case_it_names(site: Site):
    number = _case_of_carol(site)
    held = _held_mail(site, number, "Otto <otto@partner.example>")
    alice = site.login("alice")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', alice.get("/triage").text)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1)}
    refused = alice.post(f"/triage/{held}/thread", data={**form, "case": "bogus"})
    assert refused.status_code == 422 and "case number" in refused.text
    added = alice.post(
        f"/triage/{held}/thread", data={**form, "case": number}, follow_redirects=False
    )
    assert added.status_code == 303 and added.headers["location"] == f"/cases/{number}"
    assert "otto@partner.example" not in alice.get("/triage").text
    assert alice.post(f"/triage/{held}/open", data=form).status_code == 409  # decided once
    customer = site.login("carol").get("/triage", follow_redirects=False)
    assert customer.status_code != 200 and "Triage" not in customer.text  # not their page
    del alice.headers["X-CSRF-Token"]
    assert alice.post(f"/triage/{held}/open", data={}).status_code == 403  # no CSRF token
