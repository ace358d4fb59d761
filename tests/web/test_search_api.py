"""Search over the API and the rules: every hit passes the visibility filter of the case
lists, so a case, post or contact the caller may not see never shows, not as a hit, a
snippet, nor as "more" hits existing (on SQLite's FTS5 and PostgreSQL's tsvector alike)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.run import cases
from engine.store.models import Case, StreamPost
from people import directory
from rules import Level, case_acts, load_subject, search_pg
from rules.checks import reads_internal_posts
from rules.facts import load_facts
from rules.restriction import restrict
from rules.search import search as rules_search
from rules.visibility import decide_level
from tests.web.conftest import Site
from tests.web.test_api import open_case


@dataclass
class Desk:
    site: Site
    own: str  # carol's case
    theirs: str  # dave's case
    hidden: str  # carol's, hidden from the portal
    locked: str  # restricted, no grant for alice


def _post(client: TestClient, number: str, body: str, internal: bool = False) -> None:
    answer = client.post(f"/api/cases/{number}/posts", json={"body": body, "internal": internal})
    assert answer.status_code == 201, answer.text


@pytest.fixture
def desk(site: Site) -> Desk:
    carol, dave, alice = site.login("carol"), site.login("dave"), site.login("alice")
    own = open_case(carol, "Toner smudges every printout")["number"]
    theirs = open_case(dave, "Globex toner invoice")["number"]
    hidden = open_case(carol, "Toner supplier audit")["number"]
    locked = open_case(alice, "Toner fraud investigation")["number"]
    _post(alice, own, "Checked the toner budget: customer is over quota", internal=True)
    _post(alice, own, "We have ordered replacement toner for you")
    _post(carol, own, "Thanks, the toner arrived")
    _post(alice, theirs, "Globex toner credit note attached")
    _post(alice, hidden, "Audit of the toner supplier started")
    _post(alice, locked, "Toner theft suspected in the warehouse", internal=True)
    with site.runtime.unit() as work:
        alice_subject = load_subject(work, directory.user_by_name(work, "alice"))
        case_acts.set_hidden(work, alice_subject, hidden, True)
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    return Desk(site, own, theirs, hidden, locked)


def search(client: TestClient, q: str, **params: object) -> dict:
    answer = client.get("/api/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def numbers(answer: dict) -> set[str]:
    return {hit["number"] for hit in answer["cases"]} | {hit["case"] for hit in answer["posts"]}


def test_an_agent_finds_subjects_posts_and_contacts_they_may_see(desk: Desk):
    alice = desk.site.login("alice")
    found = search(alice, "toner")
    assert {h["number"] for h in found["cases"]} == {desk.own, desk.theirs, desk.hidden}
    bodies = {h["snippet"] for h in found["posts"]}
    assert "Checked the toner budget: customer is over quota" in bodies  # internal: agents see
    assert desk.locked not in numbers(found)  # restricted, no grant: not even a post of it
    assert all("theft" not in h["snippet"] for h in found["posts"])
    internal = [h for h in found["posts"] if h["internal"]]
    assert [h["author"] for h in internal] == ["alice"]
    contacts = search(alice, "carol")["contacts"]
    assert [(c["name"], c["customer"]) for c in contacts] == [("Carol", "Acme")]


def test_words_are_stemmed_all_must_match_and_newest_come_first(desk: Desk):
    alice = desk.site.login("alice")
    assert {h["number"] for h in search(alice, "printouts")["cases"]} == {desk.own}
    assert search(alice, "toner invoice")["cases"][0]["number"] == desk.theirs
    assert search(alice, "toner zebra") == {
        "query": "toner zebra",
        "words": ["toner", "zebra"],
        "more": [],
        "cases": [],
        "posts": [],
        "contacts": [],
    }
    posts = search(alice, "toner", kind="posts")["posts"]
    assert [p["id"] for p in posts] == sorted((p["id"] for p in posts), reverse=True)


def test_an_administrator_finds_the_restricted_case_too(desk: Desk):
    root = desk.site.login("root")
    found = search(root, "toner")
    assert desk.locked in {h["number"] for h in found["cases"]}
    assert any("theft" in h["snippet"] for h in found["posts"])


def test_a_customer_finds_only_public_posts_of_their_own_visible_cases(desk: Desk):
    carol = desk.site.login("carol")
    found = search(carol, "toner")
    assert {h["number"] for h in found["cases"]} == {desk.own}
    assert {h["snippet"] for h in found["posts"]} == {
        "We have ordered replacement toner for you",
        "Thanks, the toner arrived",
    }
    assert {h["author"] for h in found["posts"]} == {None, "you"}  # no staff names
    assert all("internal" not in h for h in found["posts"])
    assert found["contacts"] == []  # customers never search the directory
    # the internal note's own words find nothing: no hit, no snippet, no count
    assert search(carol, "budget quota") == {
        "query": "budget quota",
        "words": ["budget", "quota"],
        "more": [],
        "cases": [],
        "posts": [],
        "contacts": [],
    }
    assert search(carol, "audit")["cases"] == []  # hidden from the portal


def test_more_counts_only_visible_hits(desk: Desk):
    """Carol sees one case about toner: with a limit of one there is no "more", although
    three other cases about toner exist."""
    found = search(desk.site.login("carol"), "toner", kind="cases", limit=1)
    assert [h["number"] for h in found["cases"]] == [desk.own]
    assert found["more"] == []
    alice = search(desk.site.login("alice"), "toner", kind="cases", limit=1)
    assert alice["more"] == ["cases"]


def test_an_agent_without_access_finds_no_case_and_no_post(desk: Desk):
    found = search(desk.site.login("sam"), "toner")  # sam may not read support cases
    assert found["cases"] == [] and found["posts"] == []


def test_search_input_is_words_only_and_bad_input_is_one_clear_422(desk: Desk):
    alice = desk.site.login("alice")
    for tricky in ('toner" OR "x', "toner*", "NEAR(toner quota)", "toner & !quota", "toner'; --"):
        answer = alice.get("/api/search", params={"q": tricky})
        assert answer.status_code == 200, (tricky, answer.text)
    answer = alice.get("/api/search", params={"q": "?!"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"q": "give at least one word"}
    assert alice.get("/api/search", params={"q": "toner", "kind": "tasks"}).status_code == 422
    assert alice.get("/api/search").status_code == 422
    assert TestClient(desk.site.client.app).get("/api/search", params={"q": "x"}).status_code == 401


def test_a_changed_subject_and_a_new_contact_are_found_at_once(desk: Desk):
    with desk.site.runtime.unit() as work:
        case = cases.case_by_number(work, desk.own)
        case.subject = "Laser unit squeaks"
        directory.add_contact(work, name="Zoltan Quist", customer_group="Acme")
    alice = desk.site.login("alice")
    assert [h["number"] for h in search(alice, "squeaks")["cases"]] == [desk.own]
    assert desk.own not in {h["number"] for h in search(alice, "smudges")["cases"]}
    assert [c["name"] for c in search(alice, "quist")["contacts"]] == ["Zoltan Quist"]


@pytest.mark.parametrize("few_cases", [0, 10_000], ids=["newest-matches", "case-by-case"])
def test_both_ways_of_searching_find_exactly_what_the_access_rules_allow(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, few_cases: int
):
    """PostgreSQL (and SQLite, for customers) searches the posts of a user who reads few
    cases case by case and the newest matches for everybody else: either way (forced here,
    and with windows and batches of one post so that every loop turns) the hits are the
    posts the access rules let the user read, newest first, and "more" means more of those."""
    monkeypatch.setattr(search_pg, "FEW_CASES", few_cases)
    monkeypatch.setattr(search_pg, "FIRST_WINDOW", 1)
    monkeypatch.setattr(search_pg, "BATCH", 1)
    for name in ("alice", "carol", "dave", "sam", "root"):
        with desk.site.runtime.unit() as work:
            subject = load_subject(work, directory.user_by_name(work, name))
            readable = {
                case.id
                for case in work.session.scalars(select(Case))
                if decide_level(subject, load_facts(work, case, subject))[0] >= Level.READ
            }
            allowed = [
                post.id
                for post in work.session.scalars(select(StreamPost).order_by(StreamPost.id.desc()))
                if post.case_id in readable
                and "toner" in post.body.lower()
                and (reads_internal_posts(subject) or not post.internal)
            ]
            found = rules_search(work, subject, "toner", kinds=["posts"], limit=100)
            first = rules_search(work, subject, "toner", kinds=["posts"], limit=1)
        assert [h["id"] for h in found["posts"]] == allowed, name
        assert [h["id"] for h in first["posts"]] == allowed[:1], name
        assert first["more"] == (["posts"] if len(allowed) > 1 else []), name
    assert allowed, "the administrator finds posts: the test searched for something"
