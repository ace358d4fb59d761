"""The category tree over JSON and on the pages, on both databases: editors add a category
inside another and move it, a cycle answers 422 naming it, listing a category takes in
the categories inside it, and a customer sees only the branches holding an article
published to their portal role - a draft, an archived article or another role's article
answers 404 exactly like a missing one, and never shows up in a list or a search."""

from __future__ import annotations

import html

from rules import kb
from rules.admin import set_portal_access
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of

CAROLS_ROLE = "own-view/own-edit/open:SUPPORT"


def _ok(answer, status: int = 200):  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    return answer.json()


def _shelf(site: Site):  # type: ignore[no-untyped-def]
    """Printers > Laser > Toner; in Laser one published article for carol's role, in
    Toner a draft and an archived one for her role, and one published for dave's role."""
    with site.runtime.unit() as work:
        kb.permit(work, group="service-desk", level="edit")
        kb.permit(work, group="specialists", level="read")
        set_portal_access(work, username="dave", view="all", edit="all", parent_visibility=False)
    alice = site.login("alice")
    _ok(alice.post("/api/kb/categories", json={"name": "Printers"}))
    _ok(alice.post("/api/kb/categories", json={"name": "Laser", "parent": "Printers"}))
    toner = _ok(alice.post("/api/kb/categories", json={"name": "Toner", "parent": "Laser"}))
    assert toner["path"] == "Printers / Laser / Toner" and toner["depth"] == 2

    def article(title: str, category: str, roles: list[str], state: str | None) -> str:
        ref = _ok(
            alice.post(
                "/api/kb",
                json={
                    "title": title,
                    "body": f"{title} text",
                    "category": category,
                    "portal_roles": roles,
                },
            )
        )["id"]
        steps = {None: [], "published": ["published"], "archived": ["published", "archived"]}
        for step in steps[state]:
            _ok(alice.post(f"/api/kb/{ref}/state", json={"state": step}))
        return str(ref)

    arts = {
        "public": article("Laser streaks", "Laser", [CAROLS_ROLE], "published"),
        "draft": article("Toner recall", "Toner", [CAROLS_ROLE], None),
        "archived": article("Old toner codes", "Toner", [CAROLS_ROLE], "archived"),
        "other": article("Laser for partners", "Laser", ["all-view/all-edit"], "published"),
    }
    return alice, arts


def test_the_api_nests_lists_by_subtree_and_refuses_a_cycle(site: Site):
    alice, arts = _shelf(site)
    tree = _ok(alice.get("/api/kb/categories"))["categories"]
    assert [(c["path"], c["total"]) for c in tree] == [
        ("Printers", 4),
        ("Printers / Laser", 4),
        ("Printers / Laser / Toner", 2),
    ]
    listed = _ok(alice.get("/api/kb", params={"category": "Laser"}))["articles"]
    assert {a["id"] for a in listed} == set(arts.values())
    cycle = alice.patch("/api/kb/categories/Printers", json={"parent": "Toner"})
    assert cycle.status_code == 422
    assert "Printers cannot be put inside Toner, which is inside it" in cycle.text
    assert alice.patch("/api/kb/categories/Nope", json={"parent": None}).status_code == 404
    moved = _ok(alice.patch("/api/kb/categories/Toner", json={"parent": None}))
    assert moved["path"] == "Toner" and moved["parent"] is None
    sam = site.login("sam")  # reads, does not edit
    assert sam.post("/api/kb/categories", json={"name": "Mine"}).status_code == 403
    assert sam.patch("/api/kb/categories/Toner", json={"parent": "Laser"}).status_code == 403
    assert (
        sam.post(f"/api/kb/{arts['public']}/state", json={"state": "archived"}).status_code == 403
    )
    assert (
        sam.post(f"/api/kb/{arts['draft']}/state", json={"state": "published"}).status_code == 404
    )
    assert _ok(alice.get(f"/api/kb/{arts['draft']}"))["state"] == "draft"


def test_a_customer_meets_only_her_branch_and_a_forged_id_is_a_missing_one(site: Site):
    _, arts = _shelf(site)
    carol = site.login("carol")
    tree = _ok(carol.get("/api/kb/categories"))["categories"]
    assert [(c["path"], c["total"]) for c in tree] == [("Printers", 1), ("Printers / Laser", 1)]
    assert [
        a["id"] for a in _ok(carol.get("/api/kb", params={"category": "Printers"}))["articles"]
    ] == [arts["public"]]
    assert _ok(carol.get("/api/kb", params={"category": "Toner"}))["articles"] == []
    missing = carol.get("/api/kb/KB-999999")
    for ref in (arts["draft"], arts["archived"], arts["other"]):
        forged = carol.get(f"/api/kb/{ref}")
        assert forged.status_code == missing.status_code == 404
        assert forged.json()["detail"] == f"no article {ref}"
        assert carol.get(f"/api/kb/{ref}/reply").status_code == 404
    for words in ("toner", "laser", "codes", "partners"):
        found = _ok(carol.get("/api/kb/search", params={"q": words}))["articles"]
        assert {a["id"] for a in found} <= {arts["public"]}, words
    # the pages: the same tree, the same refusals
    page = browser_login(site, "carol", "/portal")
    listed = page.get("/portal/kb", params={"category": "Printers"})
    assert "Laser streaks" in listed.text and 'id="kb-category">Printers<' in listed.text
    assert "Toner" not in listed.text and "partners" not in listed.text
    for ref in (arts["draft"], arts["archived"], arts["other"], "KB-999999"):
        assert page.get(f"/portal/kb/{ref}").status_code == 404
    found = page.get("/portal/kb", params={"q": "toner"})
    assert "Nothing found" in found.text
    dave = browser_login(site, "dave", "/portal")
    assert "Laser for partners" in dave.get("/portal/kb").text
    assert "Laser streaks" not in dave.get("/portal/kb").text


def test_the_list_page_adds_and_moves_categories_and_names_a_cycle(site: Site):
    alice, arts = _shelf(site)
    page = browser_login(site, "alice")
    listed = page.get("/kb", params={"category": "Laser"})
    assert 'id="kb-category">Printers / Laser<' in listed.text
    assert all(f'href="/kb/{ref}"' in listed.text for ref in arts.values())
    token = csrf_of(listed.text)
    added = page.post(
        "/kb/categories",
        data={"csrf_token": token, "op": "add", "name": "Inkjet", "parent": "Printers"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/kb?category=Inkjet"
    cycle = page.post(
        "/kb/categories",
        data={"csrf_token": token, "op": "move", "name": "Printers", "parent": "Inkjet"},
    )
    assert cycle.status_code == 422
    assert "Printers cannot be put inside Inkjet, which is inside it" in html.unescape(cycle.text)
    moved = page.post(
        "/kb/categories",
        data={"csrf_token": token, "op": "move", "name": "Inkjet", "parent": ""},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert [c["path"] for c in _ok(alice.get("/api/kb/categories"))["categories"]][:1] == ["Inkjet"]
    sam = browser_login(site, "sam")
    refused = sam.post(
        "/kb/categories",
        data={"csrf_token": csrf_of(sam.get("/kb").text), "op": "add", "name": "Mine"},
    )
    assert refused.status_code == 403 and "Mine" not in alice.get("/api/kb/categories").text


def _paths(alice) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["path"] for c in _ok(alice.get("/api/kb/categories"))["categories"]]


def test_the_api_renames_and_removes_and_answers_409_for_a_name_taken_or_a_full_category(
    site: Site,
):
    alice, arts = _shelf(site)
    renamed = _ok(alice.patch("/api/kb/categories/Laser", json={"name": "Laser printers"}))
    assert renamed["path"] == "Printers / Laser printers"
    assert _ok(alice.get(f"/api/kb/{arts['public']}"))["category"] == "Laser printers"
    taken = alice.patch("/api/kb/categories/Toner", json={"name": "Printers"})
    assert taken.status_code == 409
    assert taken.json()["detail"] == "a category 'Printers' exists already"
    assert alice.post("/api/kb/categories", json={"name": "Toner"}).status_code == 409
    full = alice.delete("/api/kb/categories/Laser printers")
    assert full.status_code == 409
    assert full.json()["detail"] == (
        "category Laser printers still holds 2 articles and the category Toner; "
        "move or remove them first"
    )
    both = _ok(alice.patch("/api/kb/categories/Toner", json={"name": "Ink", "parent": None}))
    assert (both["path"], both["total"]) == ("Ink", 2)
    assert alice.patch("/api/kb/categories/Ink", json={}).status_code == 422
    _ok(alice.post("/api/kb/categories", json={"name": "Empty"}))
    assert _ok(alice.delete("/api/kb/categories/Empty")) == {"name": "Empty", "removed": True}
    assert alice.delete("/api/kb/categories/Empty").status_code == 404
    assert alice.patch("/api/kb/categories/Nope", json={"name": "X"}).status_code == 404
    assert _paths(alice) == ["Ink", "Printers", "Printers / Laser printers"]


def test_a_reader_or_customer_forging_a_rename_or_removal_changes_nothing(site: Site):
    alice, _ = _shelf(site)
    before = _paths(alice)
    for who in ("sam", "carol"):
        client = site.login(who)
        for name in ("Toner", "Nope"):
            assert client.patch(f"/api/kb/categories/{name}", json={"name": "X"}).status_code == 403
            assert client.delete(f"/api/kb/categories/{name}").status_code == 403
    page = browser_login(site, "sam")
    token = csrf_of(page.get("/kb").text)
    forged = ({"op": "rename", "name": "Toner", "new_name": "X"}, {"op": "remove", "name": "Toner"})
    for data in forged:
        assert page.post("/kb/categories", data={"csrf_token": token, **data}).status_code == 403
    assert _paths(alice) == before


def test_the_list_page_renames_and_removes_and_names_what_a_category_holds(site: Site):
    alice, _ = _shelf(site)
    page = browser_login(site, "alice")
    token = csrf_of(page.get("/kb").text)

    def post(**data: str):  # type: ignore[no-untyped-def]
        return page.post(
            "/kb/categories", data={"csrf_token": token, **data}, follow_redirects=False
        )

    renamed = post(op="rename", name="Toner", new_name="Ink")
    assert renamed.status_code == 303 and renamed.headers["location"] == "/kb?category=Ink"
    taken = post(op="rename", name="Ink", new_name="Laser")
    assert taken.status_code == 409
    assert "a category 'Laser' exists already" in html.unescape(taken.text)
    full = post(op="remove", name="Printers")
    assert full.status_code == 409
    assert "still holds the category Laser" in html.unescape(full.text)
    _ok(alice.post("/api/kb/categories", json={"name": "Empty"}))
    gone = post(op="remove", name="Empty")
    assert gone.status_code == 303 and gone.headers["location"] == "/kb"
    for forged in ({"op": "remove", "name": "Empty"}, {"op": "rename", "name": "Nope"}):
        missing = post(**forged, new_name="X")
        assert missing.status_code == 404 and "no category" in html.unescape(missing.text)
    assert _paths(alice) == ["Printers", "Printers / Laser", "Printers / Laser / Ink"]
