"""Merging and linking cases over JSON: the merge moves the stream and closes the duplicate,
links show on both cases with their kind, and every refusal answers with the decision's
status (404 for a case one may not see - target and other case included - exactly like a
missing one, 403 for an act one may not take, 409 for a case in the wrong state)."""

from __future__ import annotations

from pathlib import Path

from designer import deploy
from engine.run import cases
from people.directory import user_by_name
from rules import load_subject
from rules.restriction import restrict
from tests.conftest import PROCESSES, support_toml
from tests.web.conftest import Site
from tests.web.test_api import open_case


def _billing_case(site: Site, tmp_path: Path) -> str:
    """A case of a type only the specialists (sam) manage: the service desk never sees it."""
    toml = tmp_path / "billing.toml"
    toml.write_text(
        support_toml()
        .replace('key = "SUPPORT"', 'key = "BILLING"')
        .replace('prefix = "C"', 'prefix = "B"')
        .replace('manager = ["service-desk"]', 'manager = ["specialists"]')
        .replace('monitor = ["support-monitors"]', "")
        .replace('bpmn = "support.bpmn"', "")
    )
    with site.runtime.unit() as work:
        config = deploy.resolve_config(PROCESSES / "support.bpmn", toml, "BILLING")
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    sam = site.login("sam")
    answer = sam.post("/api/cases", json={"case_type": "BILLING", "subject": "Invoice wrong"})
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def test_a_manager_merges_a_duplicate_and_its_customer_follows_the_stream(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    target = open_case(carol, "Printer jams")["number"]
    source = open_case(carol, "Printer jams again")["number"]
    assert carol.post(f"/api/cases/{source}/posts", json={"body": "Page 2"}).status_code == 201
    answer = alice.post(f"/api/cases/{source}/merge", json={"into": target})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "number": source,
        "merged_into": target,
        "posts": 1,
        "contacts": 0,  # the same customer: her contact is the target's already
        "collaborators": [],
        "tasks_cancelled": 1,
    }
    page = alice.get(f"/api/cases/{source}").json()
    assert (page["status"], page["outcome"]) == ("closed", f"merged into {target}")
    assert [(r["number"], r["link"]) for r in page["related"]] == [(target, "merged-into")]
    assert "reopen" in page["allowed"]  # the decision allows it; the merge refuses it:
    assert alice.post(f"/api/cases/{source}/reopen").status_code == 409
    # the customer reads her post in the target; she sees no links (not her section)
    mine = carol.get(f"/api/cases/{target}").json()
    assert [p["body"] for p in mine["stream"]] == ["Page 2"] and mine["related"] == []
    assert alice.delete(f"/api/cases/{source}/links/{target}").status_code == 409
    assert alice.post(f"/api/cases/{target}/merge", json={"into": source}).status_code == 409


def test_merging_refuses_what_the_caller_may_not_do_and_reveals_no_hidden_case(
    site: Site, tmp_path: Path
):
    carol, dave, alice, mona = (site.login(n) for n in ("carol", "dave", "alice", "mona"))
    target = open_case(carol, "Printer jams")["number"]
    source = open_case(carol, "Printer jams again")["number"]
    hidden = _billing_case(site, tmp_path)
    url = f"/api/cases/{source}/merge"
    assert carol.post(url, json={"into": target}).status_code == 403  # the owner
    assert mona.post(url, json={"into": target}).status_code == 403  # a monitor
    assert dave.post(url, json={"into": target}).status_code == 404  # not his case
    unseen = alice.post(url, json={"into": hidden})
    missing = alice.post(url, json={"into": "B-999999"})
    assert unseen.status_code == missing.status_code == 404
    assert unseen.json()["detail"] == f"no case {hidden}"
    assert missing.json()["detail"] == "no case B-999999"
    assert alice.post(url, json={"into": source}).status_code == 422
    assert alice.post(url, json={"into": "not a number"}).status_code == 422
    assert alice.post(url, json={"into": target, "force": True}).status_code == 422
    assert alice.get(f"/api/cases/{source}").json()["status"] == "open"  # nothing stored


def test_links_show_on_both_cases_only_to_those_who_may_read_the_other(site: Site, tmp_path: Path):
    carol, dave, alice, mona = (site.login(n) for n in ("carol", "dave", "alice", "mona"))
    first = open_case(carol, "Printer jams")["number"]
    second = open_case(dave, "Printer jams here too")["number"]
    hidden = _billing_case(site, tmp_path)
    answer = alice.put(f"/api/cases/{second}/links/{first}", json={"kind": "duplicate-of"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] is True
    assert [(r["number"], r["link"]) for r in answer.json()["links"]] == [(first, "duplicate-of")]
    links = mona.get(f"/api/cases/{first}/links").json()["links"]
    assert [(r["number"], r["link"]) for r in links] == [(second, "duplicated-by")]
    page = alice.get(f"/api/cases/{first}").json()
    assert [(r["number"], r["link"]) for r in page["related"]] == [(second, "duplicated-by")]
    # customers: another customer's case is never shown, nor are the links of their own
    assert carol.get(f"/api/cases/{first}/links").json()["links"] == []
    assert dave.get(f"/api/cases/{first}/links").status_code == 404
    # the hidden case: 404 to link or unlink, exactly as a missing one
    for other in (hidden, "B-999999"):
        assert alice.put(f"/api/cases/{first}/links/{other}", json={}).status_code == 404
        assert alice.delete(f"/api/cases/{first}/links/{other}").status_code == 404
    # monitors and customers may not link
    assert mona.put(f"/api/cases/{first}/links/{second}", json={}).status_code == 403
    assert carol.put(f"/api/cases/{first}/links/{second}", json={}).status_code == 403
    assert alice.put(f"/api/cases/{first}/links/{second}", json={"kind": "twin"}).status_code == 422
    assert alice.put(f"/api/cases/{first}/links/{first}", json={}).status_code == 422
    answer = alice.delete(f"/api/cases/{first}/links/{second}")
    assert answer.status_code == 200 and answer.json()["links"] == []
    assert alice.delete(f"/api/cases/{first}/links/{second}").status_code == 404


def test_a_restricted_target_answers_exactly_as_a_missing_case(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    source = open_case(carol, "Printer jams")["number"]
    locked = open_case(alice, "Locked away")["number"]
    with site.runtime.unit() as work:
        root = load_subject(work, user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    for method, path, body in (
        ("post", f"/api/cases/{source}/merge", {"into": "{}"}),
        ("put", f"/api/cases/{source}/links/{{}}", {"kind": "related"}),
        ("delete", f"/api/cases/{source}/links/{{}}", None),
    ):
        answers = []
        for number in (locked, "C-999999"):
            url = path.format(number)
            sent = {k: v.format(number) for k, v in body.items()} if body else None
            answer = getattr(alice, method)(url, **({"json": sent} if sent else {}))
            answers.append((answer.status_code, answer.text.replace(number, "ID")))
        assert answers[0] == answers[1] and answers[0][0] == 404, answers
    assert alice.get(f"/api/cases/{source}").json()["status"] == "open"


def test_a_duplicate_from_another_contact_brings_its_customer_to_the_kept_case(site: Site):
    carol, dave, alice = site.login("carol"), site.login("dave"), site.login("alice")
    kept = open_case(carol, "The office printer jams")["number"]
    duplicate = open_case(dave, "Printer in our shared office jams")["number"]
    assert dave.get(f"/api/cases/{kept}").status_code == 404
    answer = alice.post(f"/api/cases/{duplicate}/merge", json={"into": kept})
    assert answer.status_code == 200 and answer.json()["contacts"] == 1
    # dave is a contact of the kept case now: he reads it (and his mail threads there)
    assert [c["name"] for c in alice.get(f"/api/cases/{kept}").json()["contacts"]] == [
        "Carol",
        "Dave",
    ]
    assert dave.get(f"/api/cases/{kept}").status_code == 200
    assert alice.post(f"/api/cases/{kept}/posts", json={"body": "Fixed"}).status_code == 201
    assert [p["body"] for p in dave.get(f"/api/cases/{kept}").json()["stream"]] == ["Fixed"]
