"""Child records over JSON and on the case page: 404 for a record (or case) one may not see,
403 for an act one may not take, 409 naming the conflict when the seed-004 guards refuse a
restriction; the case page lists only the children shared with the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_child_records import deploy_types, open_cases
from tests.web.conftest import Site
from tests.web.test_pages import browser_login


@pytest.fixture
def numbers(site: Site, tmp_path: Path) -> list[str]:
    with site.runtime.unit() as work:
        deploy_types(work, tmp_path)
    with site.runtime.unit() as work:
        return open_cases(work)


def test_records_have_their_own_access_through_the_api(site: Site, numbers: list[str]):
    alice, bob, mona = site.login("alice"), site.login("bob"), site.login("mona")
    carol, dave = site.login("carol"), site.login("dave")
    case = numbers[0]
    answer = alice.post(
        f"/api/cases/{case}/records",
        json={"kind": "mail", "title": "Quote", "ref": "<q1@acme.example>", "users": ["mona"]},
    )
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert record["access"] == {"users": ["alice", "mona"], "groups": [], "propagated": []}
    url = f"/api/records/{record['id']}"
    assert bob.get(url).status_code == 404  # works the case, not on the list (seed 000)
    assert bob.get(f"/api/cases/{case}/records").json() == []
    assert mona.get(url).json()["title"] == "Quote"
    assert carol.get(f"/api/cases/{case}/records").json() == []  # customers: never
    assert carol.get(url).status_code == 404
    assert dave.get(f"/api/cases/{case}/records").status_code == 404  # not his case
    assert alice.get("/api/records/99999").status_code == 404
    assert alice.get("/api/records/0").status_code == 422
    assert alice.get(f"/api/cases/{numbers[2]}/records").status_code == 404  # BILLING
    # mona reads the case but does not work it; dave does not see the record at all
    assert mona.post(f"{url}/share", json={"users": ["bob"]}).status_code == 403
    assert dave.post(f"{url}/share", json={"users": ["bob"]}).status_code == 404
    answer = alice.post(f"{url}/share", json={"users": ["bob"]})
    assert answer.status_code == 200 and answer.json()["changed"] == ["bob"]
    assert bob.get(url).status_code == 200
    bad = alice.post(f"/api/cases/{case}/records", json={"kind": "fax", "title": "x"})
    assert bad.status_code == 422
    # SUPPORT propagates the assignee: sam gets the case and with it the record
    sam = site.login("sam")
    assert alice.post(f"/api/cases/{case}/assignee", json={"to": "sam"}).status_code == 200
    assert sam.get(url).json()["access"]["propagated"] == ["sam"]


def test_restriction_is_for_admins_and_refused_with_409_naming_the_conflict(
    site: Site, numbers: list[str]
):
    alice, root = site.login("alice"), site.login("root")
    first, second = numbers[:2]
    record = alice.post(
        f"/api/cases/{first}/records",
        json={"kind": "attachment", "title": "contract.pdf", "ref": "attachment:17"},
    ).json()
    url = f"/api/records/{record['id']}"
    assert alice.post(f"{url}/restrict", json={}).status_code == 403
    assert alice.post(f"{url}/links", json={"case": second}).status_code == 200
    answer = root.post(f"{url}/restrict", json={"users": ["bob"]})
    assert answer.status_code == 409
    assert f"linked to 1 other case(s): {second}" in answer.json()["detail"]
    other = alice.post(
        f"/api/cases/{first}/records", json={"kind": "call", "title": "Callback"}
    ).json()
    other_url = f"/api/records/{other['id']}"
    assert alice.post(f"{other_url}/checkout", json={"to": "ACME Legal"}).status_code == 200
    answer = root.post(f"{other_url}/restrict", json={})
    assert answer.status_code == 409 and "checked out to ACME Legal" in answer.json()["detail"]
    assert alice.delete(f"{other_url}/checkout").status_code == 200
    todo = alice.post(
        f"/api/cases/{first}/records", json={"kind": "todo", "title": "Review", "also": [second]}
    ).json()
    assert alice.put(f"/api/records/{todo['id']}/carries/{other['id']}").status_code == 200
    answer = root.post(f"{other_url}/restrict", json={})
    assert answer.status_code == 409 and f"also carries {second}" in answer.json()["detail"]
    lone = alice.post(f"/api/cases/{first}/records", json={"kind": "note", "title": "x"}).json()
    answer = root.post(f"/api/records/{lone['id']}/restrict", json={"users": ["bob"]})
    assert answer.status_code == 200 and answer.json()["restricted"] is True
    # the restriction's grants replace the list (seed 004, rule 3): the creator too is off
    bob = site.login("bob")
    assert alice.get(f"/api/records/{lone['id']}").status_code == 404
    assert bob.get(f"/api/records/{lone['id']}").json()["access"]["users"] == ["bob"]
    again = root.post(f"/api/records/{lone['id']}/restrict", json={})
    assert again.status_code == 409 and "already restricted" in again.json()["detail"]
    assert root.delete(f"/api/records/{lone['id']}/restrict").status_code == 200
    assert bob.get(f"/api/records/{lone['id']}").json()["restricted"] is False


def test_the_case_page_lists_only_the_children_shared_with_the_user(site: Site, numbers: list[str]):
    alice = site.login("alice")
    case = numbers[0]
    alice.post(f"/api/cases/{case}/records", json={"kind": "note", "title": "Vendor called"})
    mine = browser_login(site, "alice").get(f"/cases/{case}")
    assert mine.status_code == 200 and "Child records" in mine.text
    assert "Vendor called" in mine.text
    for who in ("bob", "mona"):  # they see the case, not the note
        page = browser_login(site, who).get(f"/cases/{case}")
        assert page.status_code == 200 and "Vendor called" not in page.text
    portal = browser_login(site, "carol", "/portal").get(f"/portal/cases/{case}")
    assert portal.status_code == 200 and "Vendor called" not in portal.text
    assert browser_login(site, "dave", "/portal").get(f"/portal/cases/{case}").status_code == 404
