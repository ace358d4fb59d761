"""The knowledge base pages as a browser posts and reads them (session cookie, CSRF token
in the form): the editor, the article page rendering Markdown without letting any HTML
through, the portal's help articles showing only what the customer may see, and the case
page's knowledge base card with its "Insert article into reply" button."""

from __future__ import annotations

import html

from rules import kb
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of, portal_case

CAROLS_ROLE = "own-view/own-edit/open:SUPPORT"
HOSTILE = (
    "# Paper jams\n\nOpen the **tray**. <script>alert(1)</script> "
    '<img src=x onerror="alert(2)"> [click](javascript:alert(3)) [vendor](https://example.com)'
)


def _editor(site: Site):  # type: ignore[no-untyped-def]
    with site.runtime.unit() as work:
        kb.permit(work, group="service-desk", level="edit")
    return browser_login(site, "alice")


def _new(alice, title: str, body: str, roles: list[str], publish: bool = True) -> str:  # type: ignore[no-untyped-def]
    form = alice.get("/kb/new")
    assert form.status_code == 200
    answer = alice.post(
        "/kb/new",
        data={
            "csrf_token": csrf_of(form.text),
            "title": title,
            "body": body,
            "format": "markdown",
            "category": "Printers",
            "portal_role": roles,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    ref = answer.headers["location"].rsplit("/", 1)[1]
    if publish:
        page = alice.get(f"/kb/{ref}")
        done = alice.post(
            f"/kb/{ref}/state",
            data={"csrf_token": csrf_of(page.text), "state": "published"},
            follow_redirects=False,
        )
        assert done.status_code == 303
    return ref


def test_the_editor_writes_and_the_article_page_renders_markdown_safely(site: Site):
    alice = _editor(site)
    ref = _new(alice, "Clearing paper jams", HOSTILE, [CAROLS_ROLE], publish=False)
    page = alice.get(f"/kb/{ref}")
    assert page.status_code == 200
    assert "<h1>Paper jams</h1>" in page.text and "<strong>tray</strong>" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<img" not in page.text  # raw HTML is shown as text, never as markup
    assert 'href="javascript' not in page.text
    assert 'href="https://example.com"' in page.text
    assert 'id="kb-state">draft<' in page.text
    bad = alice.post(
        f"/kb/{ref}/edit",
        data={"csrf_token": csrf_of(page.text), "title": " ", "body": "x", "format": "markdown"},
    )
    assert bad.status_code == 422 and "title: is required" in html.unescape(bad.text)
    listed = alice.get("/kb")
    assert f'href="/kb/{ref}"' in listed.text and "draft" in listed.text
    forged = alice.post(f"/kb/{ref}/state", data={"state": "published"}, follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token
    mona = browser_login(site, "mona")  # no knowledge base permission
    assert mona.get(f"/kb/{ref}").status_code == 404
    assert "Clearing paper jams" not in mona.get("/kb").text


def test_the_portal_shows_a_customer_only_published_articles_shown_to_their_role(site: Site):
    alice = _editor(site)
    public = _new(alice, "Clearing paper jams", "Pull gently.", [CAROLS_ROLE])
    internal = _new(alice, "Paper jam vendor escalation", "Call the vendor.", [])
    draft = _new(alice, "Paper jam secret draft", "Not yet.", [CAROLS_ROLE], publish=False)
    carol = browser_login(site, "carol", "/portal")
    listed = carol.get("/portal/kb")
    assert "Clearing paper jams" in listed.text
    assert "vendor" not in listed.text and "secret" not in listed.text
    assert carol.get(f"/portal/kb/{public}").status_code == 200
    for ref in (internal, draft):
        page = carol.get(f"/portal/kb/{ref}")
        assert page.status_code == 404 and "Not yet" not in page.text
    found = carol.get("/portal/kb", params={"q": "paper jam"})
    assert "Clearing paper jams" in found.text and "secret" not in found.text
    assert "Nothing found" in carol.get("/portal/kb", params={"q": "secret"}).text
    assert carol.get("/kb", follow_redirects=False).status_code == 303  # agents' pages


def test_the_case_page_suggests_links_and_inserts_articles_into_the_reply(site: Site):
    alice = _editor(site)
    public = _new(alice, "Clearing paper jams", "Pull the paper gently.", [CAROLS_ROLE])
    internal = _new(alice, "Paper jam vendor escalation", "Call the vendor.", [])
    draft = _new(alice, "Paper jam secret draft", "Not yet.", [CAROLS_ROLE], publish=False)
    carol, number = portal_case(site, "carol", "Paper jam in tray 2", "The paper jams daily")
    mine = carol.get(f"/portal/cases/{number}")
    assert "Articles that may help" in mine.text and f"/portal/kb/{public}" in mine.text
    assert internal not in mine.text and draft not in mine.text
    page = alice.get(f"/cases/{number}")
    assert 'id="knowledge-base"' in page.text
    assert f"/kb/{public}" in page.text and f"/kb/{internal}" in page.text
    assert f"/kb/{draft}" not in page.text  # drafts are never suggested
    inserted = alice.post(
        f"/cases/{number}/reply-with-article",
        data={"csrf_token": csrf_of(page.text), "article": public, "body": "Hello Carol,"},
    )
    assert inserted.status_code == 200
    assert "Hello Carol,\n\nClearing paper jams\n\nPull the paper gently.\n</textarea>" in (
        inserted.text
    )
    refused = alice.post(
        f"/cases/{number}/reply-with-article",
        data={"csrf_token": csrf_of(page.text), "article": draft, "body": ""},
    )
    assert refused.status_code == 409
    linked = alice.post(
        f"/cases/{number}/articles",
        data={"csrf_token": csrf_of(page.text), "op": "link", "article": internal},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    page = alice.get(f"/cases/{number}")
    assert 'id="kb-linked"' in page.text and f"Unlink {internal}" in page.text
    assert internal not in carol.get(f"/portal/cases/{number}").text
    forged = carol.post(
        f"/cases/{number}/articles",
        data={"csrf_token": csrf_of(mine.text), "op": "unlink", "article": internal},
        follow_redirects=False,
    )
    assert forged.status_code == 303  # customers are sent to the portal
    assert f"Unlink {internal}" in alice.get(f"/cases/{number}").text  # still linked
