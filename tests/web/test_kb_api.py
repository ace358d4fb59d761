"""The knowledge base over the API, on both databases: editors write and publish, a
customer gets only published articles shown to their portal role - not by id, list,
search, suggestion, a case's links or reply text - and forged ids answer 404 like missing
ones."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.run import cases
from engine.store.models import AuditEntry
from people import directory
from rules import kb, load_subject
from rules.admin import set_portal_access
from rules.restriction import restrict
from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_forged_ids import MISSING_CASE, Forged, _same, forged  # noqa: F401 - a fixture

CAROLS_ROLE = "own-view/own-edit/open:SUPPORT"


@dataclass
class Desk:
    site: Site
    alice: TestClient  # editor (service-desk)
    sam: TestClient  # reader (specialists)
    carol: TestClient  # customer, shown the public article
    dave: TestClient  # customer of another portal role
    case: str  # carol's
    locked: str  # restricted: administrators only
    public: str
    internal: str
    draft: str


def _ok(answer, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    return answer.json()


def _add(client: TestClient, title: str, body: str, roles: list[str]) -> str:
    article = _ok(
        client.post("/api/kb", json={"title": title, "body": body, "portal_roles": roles})
    )
    return str(article["id"])


@pytest.fixture
def desk(site: Site) -> Desk:
    with site.runtime.unit() as work:
        kb.permit(work, group="service-desk", level="edit")
        kb.permit(work, group="specialists", level="read")
        set_portal_access(work, username="dave", view="all", edit="all", parent_visibility=False)
    alice, sam = site.login("alice"), site.login("sam")
    carol, dave = site.login("carol"), site.login("dave")
    case = open_case(carol, "Printer jams on glossy paper")["number"]
    locked = open_case(alice, "Printer jams in the vault")["number"]
    with site.runtime.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    public = _add(alice, "Clearing paper jams", "Open the **tray** and pull gently.", [CAROLS_ROLE])
    internal = _add(alice, "Printer jams: vendor escalation", "Call the vendor.", [])
    draft = _add(alice, "Printer jams secret draft", "Not yet.", [CAROLS_ROLE])
    for ref in (public, internal):
        _ok(alice.post(f"/api/kb/{ref}/state", json={"state": "published"}))
    return Desk(site, alice, sam, carol, dave, case, locked, public, internal, draft)


def test_editors_write_publish_and_archive_along_valid_transitions(desk: Desk):
    article = _ok(desk.alice.get(f"/api/kb/{desk.draft}"))
    assert (article["state"], article["portal_roles"], article["author"]) == (
        "draft",
        [CAROLS_ROLE],
        "alice",
    )
    answer = desk.alice.post(f"/api/kb/{desk.draft}/state", json={"state": "archived"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == f"article {desk.draft} is draft; it can only become published"
    edited = _ok(desk.alice.patch(f"/api/kb/{desk.draft}", json={"category": "Printers"}))
    assert edited["changed"] == ["category"]
    assert _ok(desk.alice.post(f"/api/kb/{desk.draft}/state", json={"state": "published"}))[
        "next_states"
    ] == ["archived", "draft"]
    answer = desk.alice.post("/api/kb", json={"title": "x", "body": "y", "format": "html"})
    assert answer.status_code == 422
    answer = desk.alice.post("/api/kb", json={"title": "x", "body": "y", "portal_roles": ["vip"]})
    assert answer.status_code == 422 and "no portal role 'vip'" in answer.text
    # a reader reads published articles, changes nothing
    assert {a["id"] for a in _ok(desk.sam.get("/api/kb"))["articles"]} == {
        desk.public,
        desk.internal,
        desk.draft,
    }
    assert desk.sam.patch(f"/api/kb/{desk.public}", json={"title": "Mine"}).status_code == 403
    assert desk.sam.post("/api/kb", json={"title": "x", "body": "y"}).status_code == 403


def test_a_customer_never_sees_a_draft_or_an_article_not_shown_to_their_role(desk: Desk):
    listed = _ok(desk.carol.get("/api/kb"))["articles"]
    assert [a["id"] for a in listed] == [desk.public] and "state" not in listed[0]
    article = _ok(desk.carol.get(f"/api/kb/{desk.public}"))
    assert article["body"] == "Open the **tray** and pull gently."
    assert not {"state", "author", "portal_roles", "cases"} & set(article)
    missing = desk.carol.get("/api/kb/KB-99999")
    assert missing.status_code == 404
    for ref in (desk.internal, desk.draft, desk.internal.removeprefix("KB-")):
        for path in (f"/api/kb/{ref}", f"/api/kb/{ref}/reply"):
            answer = desk.carol.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["detail"] == f"no article {ref}"
    found = _ok(desk.carol.get("/api/kb/search", params={"q": "printer jams"}))
    assert [a["id"] for a in found["articles"]] == []  # "printer" is only in hidden articles
    found = _ok(desk.carol.get("/api/kb/search", params={"q": "jams"}))
    assert [a["id"] for a in found["articles"]] == [desk.public] and found["more"] is False
    for q in ("secret", "vendor"):
        assert _ok(desk.carol.get("/api/kb/search", params={"q": q}))["articles"] == []
    suggested = _ok(desk.carol.get(f"/api/cases/{desk.case}/suggestions"))["articles"]
    assert [a["id"] for a in suggested] == [desk.public]
    # an agent links the internal article: the customer does not learn of it
    _ok(desk.alice.put(f"/api/cases/{desk.case}/articles/{desk.internal}"))
    assert _ok(desk.carol.get(f"/api/cases/{desk.case}/articles"))["articles"] == []
    # dave's role is shown nothing, and carol's case is not his
    assert _ok(desk.dave.get("/api/kb"))["articles"] == []
    assert desk.dave.get(f"/api/kb/{desk.public}").status_code == 404
    assert desk.dave.get(f"/api/cases/{desk.case}/suggestions").status_code == 404
    assert desk.dave.get(f"/api/cases/{desk.case}/articles").status_code == 404


def test_agents_link_articles_to_cases_they_work_and_insert_them_into_replies(desk: Desk):
    suggested = _ok(desk.alice.get(f"/api/cases/{desk.case}/suggestions"))["articles"]
    assert {a["id"] for a in suggested} == {desk.public, desk.internal}  # never the draft
    linked = _ok(desk.alice.put(f"/api/cases/{desk.case}/articles/{desk.public}"))
    assert linked["changed"] and [a["id"] for a in linked["articles"]] == [desk.public]
    assert _ok(desk.alice.put(f"/api/cases/{desk.case}/articles/{desk.public}"))["changed"] is False
    assert (
        _ok(desk.carol.get(f"/api/cases/{desk.case}/articles"))["articles"][0]["id"] == desk.public
    )
    suggested = _ok(desk.alice.get(f"/api/cases/{desk.case}/suggestions"))["articles"]
    assert [a["id"] for a in suggested] == [desk.internal]
    assert _ok(desk.alice.get(f"/api/kb/{desk.public}"))["cases"] == [desk.case]
    # customers may not link; nobody links to a case they may not see or an article they may not
    answer = desk.carol.put(f"/api/cases/{desk.case}/articles/{desk.public}")
    assert answer.status_code == 403
    assert desk.alice.put(f"/api/cases/{desk.locked}/articles/{desk.public}").status_code == 404
    assert desk.alice.put(f"/api/cases/C-999999/articles/{desk.public}").status_code == 404
    assert desk.alice.put(f"/api/cases/{desk.case}/articles/KB-99999").status_code == 404
    assert desk.alice.put(f"/api/cases/{desk.case}/articles/12x").status_code == 422
    unlinked = _ok(desk.alice.delete(f"/api/cases/{desk.case}/articles/{desk.public}"))
    assert unlinked["changed"] and unlinked["articles"] == []
    with desk.site.runtime.unit() as work:
        trail = work.session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.after)
            .where(AuditEntry.entity_id == desk.case, AuditEntry.action.like("article_%"))
            .order_by(AuditEntry.id)
        ).all()
        alice = directory.user_by_name(work, "alice").id
    assert [(a, who, after["article"]) for a, who, after in trail] == [
        ("article_linked", alice, desk.public),
        ("article_unlinked", alice, desk.public),
    ]
    reply = _ok(desk.alice.get(f"/api/kb/{desk.public}/reply"))
    assert reply["text"] == "Clearing paper jams\n\nOpen the **tray** and pull gently.\n"
    assert desk.alice.get(f"/api/kb/{desk.draft}/reply").status_code == 409
    assert _ok(desk.carol.get(f"/api/kb/{desk.public}/reply"))["id"] == desk.public


KB_CASE_PATHS = [
    ("get", "/api/cases/{}/articles"),
    ("get", "/api/cases/{}/suggestions"),
    ("put", "/api/cases/{}/articles/KB-1"),
    ("delete", "/api/cases/{}/articles/KB-1"),
]


@pytest.mark.parametrize("who", ["carol", "sam", "alice"])
def test_a_forged_case_answers_as_a_missing_one_on_the_kb_routes(
    site: Site,
    forged: Forged,  # noqa: F811 - the fixture imported above
    who: str,
):
    client = site.login(who)
    with site.runtime.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        kb.add(work, root, title="Printer help", body="Printer.", portal_roles=["all"])
        kb.set_state(work, root, "KB-1", "published")
    invisible = ["restricted"] if who == "alice" else list(forged.cases)
    for why in invisible:
        number = forged.cases[why]
        for method, path in KB_CASE_PATHS:
            answer = getattr(client, method)(path.format(number))
            missing = getattr(client, method)(path.format(MISSING_CASE))
            _same(answer, missing, number, MISSING_CASE)
