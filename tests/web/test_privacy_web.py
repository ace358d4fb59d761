"""A person's data on request over the web: the JSON routes and the ``/admin/people`` page.
Administrators export and erase; agents, the person herself and other customers are
refused whoever they name, a person nobody stored is "not found", a form without the
page's token or without the address typed again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from people import directory
from rules import case_acts, load_subject
from tests.people.test_privacy import every_text
from tests.web.conftest import Site
from tests.web.test_pages import browser_login as page_login
from tests.web.test_pages import csrf_of

CAROL = "carol@acme.example"


def _carol_writes(site: Site) -> str:
    with site.runtime.unit() as work:
        carol = directory.user_by_name(work, "carol")
        carol.email = CAROL
        contact = work.session.scalar(
            select(directory.Contact).where(directory.Contact.user_id == carol.id)
        )
        assert contact is not None
        contact.email = CAROL
    with site.runtime.unit() as work:
        carol = directory.user_by_name(work, "carol")
        number = case_acts.open_case(
            work, load_subject(work, carol), carol, case_type="SUPPORT", title="Printer"
        ).number
        case_acts.add_post(work, load_subject(work, carol), carol, number, "Carol writes")
    return number


def test_the_api_exports_and_erases_for_administrators_only(site: Site):
    _carol_writes(site)
    root = site.login("root")
    exported = root.get("/api/admin/people/export", params={"person": CAROL})
    assert exported.status_code == 200, exported.text
    assert [p["body"] for p in exported.json()["posts"]] == ["Carol writes"]
    assert (
        root.get("/api/admin/people/export", params={"person": "x@nowhere.example"}).status_code
        == 404
    )
    assert root.get("/api/admin/people/export", params={"person": "no one"}).status_code == 422
    for digits in ("\u00b2", "\u0663"):  # a superscript two, an Arabic-Indic three: no ids
        refused = root.post("/api/admin/people/erase", json={"person": digits, "dry_run": True})
        assert refused.status_code == 422, refused.text

    for who in ("alice", "carol", "dave"):
        client = site.login(who)
        for person in (CAROL, "x@nowhere.example"):
            answer = client.get("/api/admin/people/export", params={"person": person})
            assert answer.status_code == 403, (who, answer.text)
            answer = client.post("/api/admin/people/erase", json={"person": person})
            assert answer.status_code == 403, (who, answer.text)
    preview = root.post("/api/admin/people/erase", json={"person": CAROL, "dry_run": True})
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    assert CAROL in every_text(site.runtime)

    erased = root.post("/api/admin/people/erase", json={"person": CAROL})
    assert erased.status_code == 200, erased.text
    assert erased.json()["person"].startswith("erased-")
    assert CAROL not in every_text(site.runtime)
    assert root.post("/api/admin/people/erase", json={"person": CAROL}).status_code == 404


def test_the_admin_page_exports_previews_and_erases_with_the_address_typed_twice(site: Site):
    number = _carol_writes(site)
    assert page_login(site, "alice").get("/admin/people").status_code == 403
    carol_page = page_login(site, "carol", "/portal")
    assert carol_page.get("/admin/people").status_code == 403
    token = csrf_of(carol_page.get(f"/portal/cases/{number}").text)
    refused = carol_page.post(
        "/admin/people/erase",
        data={"csrf_token": token, "person": CAROL, "confirm": CAROL},
    )
    assert refused.status_code == 403
    root = page_login(site, "root")
    page = root.get("/admin/people")
    assert page.status_code == 200 and 'name="person"' in page.text
    assert 'href="/admin/people"' in root.get("/admin").text
    token = csrf_of(page.text)

    download = root.post("/admin/people/export", data={"csrf_token": token, "person": CAROL})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json()["posts"][0]["body"] == "Carol writes"

    forged = root.post(
        "/admin/people/erase",
        data={"csrf_token": "x", "person": CAROL, "confirm": CAROL},
    )
    assert forged.status_code == 403
    unconfirmed = root.post("/admin/people/erase", data={"csrf_token": token, "person": CAROL})
    assert unconfirmed.status_code == 422 and "type the person" in unconfirmed.text
    preview = root.post("/admin/people/preview", data={"csrf_token": token, "person": CAROL})
    assert preview.status_code == 200 and "An erasure would change" in preview.text
    assert CAROL in every_text(site.runtime)

    done = root.post(
        "/admin/people/erase",
        data={"csrf_token": token, "person": CAROL, "confirm": CAROL},
    )
    assert done.status_code == 200 and "Erased as erased-" in done.text
    assert CAROL not in every_text(site.runtime)
