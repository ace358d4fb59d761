"""The canned replies page on both databases: a group's lead (and an administrator) adds,
changes and removes the group's replies there; a plain member reads them and finds no form;
a refused name or text comes back on the page, named (422, 409 for a name in use).  Forged
ids get the API's answers - another group's reply is not found, another group's form is
forbidden - and change nothing."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from people import directory
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def _names(site: Site) -> dict[str, list[tuple[str, str]]]:
    """Every stored reply by group: (name, body)."""
    root = site.login("root")
    found: dict[str, list[tuple[str, str]]] = {}
    for reply in root.get("/api/canned-replies").json():
        found.setdefault(reply["group"], []).append((reply["name"], reply["body"]))
    return found


def _post(page: TestClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(page.get("/canned").text)
    return page.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _leads(site: Site) -> None:
    """alice leads the service desk (bob is a plain member there); sam is a specialist."""
    with site.runtime.unit() as work:
        directory.add_member(work, username="alice", group="service-desk", role="lead")


def test_a_lead_adds_changes_and_removes_her_groups_replies_on_the_page(site: Site):
    _leads(site)
    alice = browser_login(site, "alice")
    empty = alice.get("/canned")
    assert empty.status_code == 200 and 'id="group-service-desk"' in empty.text
    assert "add a reply to service-desk" in empty.text
    added = _post(alice, "/canned", group="service-desk", name="received", body="Hi {{ subject }}")
    assert added.status_code == 303 and added.headers["location"] == "/canned"
    assert _names(site) == {"service-desk": [("received", "Hi {{ subject }}")]}
    reply_id = site.login("alice").get("/api/canned-replies").json()[0]["id"]
    listed = alice.get("/canned").text
    assert f'action="/canned/{reply_id}"' in listed and "Hi {{ subject }}</textarea>" in listed
    changed = _post(alice, f"/canned/{reply_id}", name="thanks", body="Thanks, {{ agent_name }}")
    assert changed.status_code == 303
    assert _names(site) == {"service-desk": [("thanks", "Thanks, {{ agent_name }}")]}
    unknown = _post(alice, f"/canned/{reply_id}", name="thanks", body="Hi {{ custmer_name }}")
    assert unknown.status_code == 422
    assert "unknown variable custmer_name" in html.unescape(unknown.text)
    _post(alice, "/canned", group="service-desk", name="other", body="Other")
    taken = _post(alice, f"/canned/{reply_id}", name="other", body="x")
    assert taken.status_code == 409
    assert "service-desk has a canned reply named 'other' already" in html.unescape(taken.text)
    assert _names(site)["service-desk"][1] == ("thanks", "Thanks, {{ agent_name }}")
    removed = _post(alice, f"/canned/{reply_id}/remove")
    assert removed.status_code == 303
    assert _names(site) == {"service-desk": [("other", "Other")]}


def test_a_plain_member_reads_them_and_forging_a_form_changes_nothing(site: Site):
    _leads(site)
    alice = browser_login(site, "alice")
    _post(alice, "/canned", group="service-desk", name="received", body="Received.")
    reply_id = site.login("alice").get("/api/canned-replies").json()[0]["id"]
    before = _names(site)
    bob = browser_login(site, "bob")  # a member of the service desk, not its lead
    page = bob.get("/canned").text
    assert "received" in page and "Received.</pre>" in page and "read only" in page
    assert f'action="/canned/{reply_id}"' not in page and 'action="/canned"' not in page
    for path, data in (
        ("/canned", {"group": "service-desk", "name": "mine", "body": "b"}),
        (f"/canned/{reply_id}", {"name": "mine", "body": "rewritten"}),
        (f"/canned/{reply_id}/remove", {}),
    ):
        refused = _post(bob, path, **data)
        assert refused.status_code == 403, (path, refused.text)
        assert "only its leads and administrators may" in html.unescape(refused.text)
    sam = browser_login(site, "sam")  # no member of the service desk: its reply is not there
    assert "Received." not in sam.get("/canned").text
    for path in (f"/canned/{reply_id}", f"/canned/{reply_id}/remove", "/canned/999999"):
        assert _post(sam, path, name="x", body="x").status_code == 404, path
    forged = _post(sam, "/canned", group="service-desk", name="x", body="x")
    assert forged.status_code == 403
    assert _post(alice, "/canned", group="no-such-group", name="x", body="x").status_code == 404
    assert _post(alice, "/canned/0").status_code == 422  # not an id at all
    carol = browser_login(site, "carol", "/portal")  # customers have no canned replies
    assert carol.get("/canned", follow_redirects=False).status_code in (303, 401)
    assert _names(site) == before


def test_an_administrator_manages_every_groups_replies(site: Site):
    root = browser_login(site, "root")
    page = root.get("/canned").text
    assert "add a reply to specialists" in page and "add a reply to service-desk" in page
    assert _post(root, "/canned", group="specialists", name="x", body="X").status_code == 303
    assert _names(site) == {"specialists": [("x", "X")]}
