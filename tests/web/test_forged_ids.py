"""Forged ids on every entry point: another customer's case, a restricted case, a case
hidden from the portal, and a task of each, answer exactly what a missing id answers -
the same status and the same message but for the id - on the API and the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from engine.run import cases
from people.directory import user_by_name
from rules import case_acts, load_subject
from rules.restriction import restrict
from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_pages import browser_login, csrf_of

MISSING_CASE, MISSING_TASK = "C-999999", 999999


@dataclass
class Forged:
    """Cases and tasks of other people, by what makes them invisible."""

    cases: dict[str, str]  # why -> number
    tasks: dict[str, int]  # why -> task id


def _triage(site: Site, number: str) -> int:
    alice = site.login("alice")
    return next(t["id"] for t in alice.get("/api/tasks").json() if t["case"] == number)


@pytest.fixture
def forged(site: Site) -> Forged:
    carol, dave, alice = site.login("carol"), site.login("dave"), site.login("alice")
    theirs = open_case(dave, "Dave's invoice")["number"]
    hidden = open_case(carol, "Hidden one")["number"]
    locked = open_case(alice, "Locked away")["number"]
    numbers = {"another customer's": theirs, "hidden": hidden, "restricted": locked}
    task_ids = {why: _triage(site, n) for why, n in numbers.items()}
    with site.runtime.unit() as work:
        alice_subject = load_subject(work, user_by_name(work, "alice"))
        case_acts.set_hidden(work, alice_subject, hidden, True)
        root = load_subject(work, user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    return Forged(numbers, task_ids)


def _same(answer, missing, forged_id: object, missing_id: object) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == missing.status_code == 404, (answer.text, missing.text)
    body = answer.text.replace(str(forged_id), "ID")
    assert body == missing.text.replace(str(missing_id), "ID")


API_CASE_PATHS = [
    ("get", "/api/cases/{}", None),
    ("get", "/api/cases/{}/posts", None),
    ("post", "/api/cases/{}/posts", {"body": "hello"}),
    ("post", "/api/cases/{}/close", {"reason": "x"}),
    ("post", "/api/cases/{}/portal", {"hidden": False}),
    ("get", "/api/cases/{}/access?action=edit", None),
    ("get", "/api/cases/{}/attachments/1", None),
    ("post", "/api/cases/{}/grants", {"users": [{"name": "carol", "level": "read"}]}),
    ("delete", "/api/cases/{}/restriction", None),
    ("patch", "/api/cases/{}", {"priority": "high"}),
    ("post", "/api/cases/{}/assignee", {"to": "bob"}),
    ("post", "/api/cases/{}/assignee", {"to": "bob", "delegate": True}),
    ("post", "/api/cases/{}/move", {"case_type": "SUPPORT"}),
    ("post", "/api/cases/{}/cancel", {}),
    ("post", "/api/cases/{}/reopen", None),
    ("get", "/api/cases/{}/collaborators", None),
    ("put", "/api/cases/{}/collaborators/bob", None),
    ("delete", "/api/cases/{}/collaborators/bob", None),
    ("post", "/api/cases/{}/merge", {"into": "C-999998"}),
    ("get", "/api/cases/{}/links", None),
    ("put", "/api/cases/{}/links/C-999998", {}),
    ("delete", "/api/cases/{}/links/C-999998", None),
    ("get", "/api/cases/{}/parties", None),
    ("put", "/api/cases/{}/account", {"account": None}),
    ("put", "/api/cases/{}/contacts/1", None),
    ("delete", "/api/cases/{}/contacts/1", None),
    ("put", "/api/cases/{}/lead", {"email": "nina@new.example", "name": "Nina"}),
    ("delete", "/api/cases/{}/lead", None),
]
API_TASK_PATHS = [
    ("get", "/api/tasks/{}", None),
    ("post", "/api/tasks/{}/claim", None),
    ("post", "/api/tasks/{}/release", None),
    ("post", "/api/tasks/{}/complete", {"data": {}}),
]


def _call(client: TestClient, method: str, path: str, body: dict | None):  # type: ignore[no-untyped-def]
    return getattr(client, method)(path, **({"json": body} if body is not None else {}))


@pytest.mark.parametrize("who", ["carol", "sam", "alice"])
def test_the_api_answers_a_forged_id_as_a_missing_one(site: Site, forged: Forged, who: str):
    client = site.login(who)
    invisible = {
        "carol": ["another customer's", "hidden", "restricted"],  # a customer
        "sam": ["another customer's", "hidden", "restricted"],  # in no lane of these
        "alice": ["restricted"],  # the service desk, without a grant
    }[who]
    for why in invisible:
        number, task_id = forged.cases[why], forged.tasks[why]
        for method, path, body in API_CASE_PATHS:
            answer = _call(client, method, path.format(number), body)
            missing = _call(client, method, path.format(MISSING_CASE), body)
            _same(answer, missing, number, MISSING_CASE)
        for method, path, body in API_TASK_PATHS:
            answer = _call(client, method, path.format(task_id), body)
            missing = _call(client, method, path.format(MISSING_TASK), body)
            _same(answer, missing, task_id, MISSING_TASK)
    # and nothing was changed by any of it
    alice = site.login("alice")
    assert alice.get(f"/api/cases/{forged.cases['hidden']}").json()["stream"] == []
    assert all(t["claimed_by"] is None for t in alice.get("/api/tasks").json())


def _page_message(html: str) -> str:
    found = re.search(r'<p class="error">(.*?)</p>', html)
    assert found, html
    return found.group(1)


def test_the_pages_answer_a_forged_id_as_a_missing_one(site: Site, forged: Forged):
    for who, area, whys in (
        ("carol", "/portal", ["another customer's", "hidden", "restricted"]),
        ("alice", "", ["restricted"]),
        ("sam", "", ["another customer's", "restricted"]),
    ):
        client = browser_login(site, who, area)
        token = csrf_of(client.get(area or "/").text)
        base = f"{area}/cases"
        for why in whys:
            number, task_id = forged.cases[why], forged.tasks[why]
            pairs = [
                ("get", f"{base}/{number}", f"{base}/{MISSING_CASE}", number, MISSING_CASE),
                (
                    "post",
                    f"{base}/{number}/posts",
                    f"{base}/{MISSING_CASE}/posts",
                    number,
                    MISSING_CASE,
                ),
            ]
            if not area:
                for action in (
                    "close", "portal", "edit", "assign", "delegate", "move", "cancel", "reopen",
                    "outcome", "collaborators",
                ):  # fmt: skip
                    pairs.append(
                        (
                            "post",
                            f"{base}/{number}/{action}",
                            f"{base}/{MISSING_CASE}/{action}",
                            number,
                            MISSING_CASE,
                        )
                    )
            for verb in ("claim", "release", "complete"):
                pairs.append(
                    (
                        "post",
                        f"{base}/tasks/{task_id}/{verb}",
                        f"{base}/tasks/{MISSING_TASK}/{verb}",
                        task_id,
                        MISSING_TASK,
                    )
                )
            for method, path, missing_path, forged_id, missing_id in pairs:
                form = {"data": {"csrf_token": token, "body": "x"}} if method == "post" else {}
                answer = getattr(client, method)(path, **form)
                missing = getattr(client, method)(missing_path, **form)
                assert answer.status_code == missing.status_code == 404, (who, path)
                assert _page_message(answer.text).replace(str(forged_id), "ID") == (
                    _page_message(missing.text).replace(str(missing_id), "ID")
                ), (who, path)
