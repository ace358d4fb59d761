"""The JSON API as a client uses it: lifecycle, refusals and their status codes."""

from __future__ import annotations

from datetime import timedelta

from designer import deploy
from engine.run import attachments, posts
from engine.run.attachments import NewFile
from people import directory
from people.tokens import TOKEN_USE_PRECISION
from rules.admin import permit_case_type
from rules.levels import ACTIONS
from tests.conftest import ROOT
from tests.web.conftest import Site


def open_case(client, subject: str = "Printer on fire", **extra) -> dict:
    answer = client.post("/api/cases", json={"case_type": "SUPPORT", "subject": subject, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def my_task(client, case: str, name: str) -> dict:
    tasks = client.get("/api/tasks").json()
    found = [t for t in tasks if t["case"] == case and t["name"] == name]
    assert found, f"{name} of {case} not in {tasks}"
    return found[0]


def test_a_case_runs_its_whole_lifecycle_over_http(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    case = open_case(carol, "My printer is on fire")
    number = case["number"]
    assert case["status"] == "open"

    triage = my_task(alice, number, "Triage case")
    assert {f["id"] for f in triage["form"]} >= {"category", "needs_investigation"}
    assert alice.post(f"/api/tasks/{triage['id']}/claim").json()["task"]["claimed_by"] == "alice"
    done = alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "hardware", "needs_investigation": False}},
    )
    assert done.status_code == 200, done.text
    assert [t["name"] for t in done.json()["open_tasks"]] == ["Propose resolution"]

    propose = my_task(alice, number, "Propose resolution")
    answer = alice.post(
        f"/api/tasks/{propose['id']}/complete", json={"data": {"resolution": "Unplug it"}}
    )
    assert answer.status_code == 200, answer.text

    confirm = my_task(carol, number, "Confirm resolution")
    answer = carol.post(f"/api/tasks/{confirm['id']}/complete", json={"data": {"resolved": True}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["case_status"] == "closed"
    assert alice.get(f"/api/cases/{number}").json()["status"] == "closed"


def test_lists_searches_and_the_stream_respect_visibility(site: Site):
    carol, dave, alice = site.login("carol"), site.login("dave"), site.login("alice")
    number = open_case(carol, "Carol's secret")["number"]
    open_case(dave, "Dave's problem")
    assert [c["subject"] for c in carol.get("/api/cases").json()] == ["Carol's secret"]
    assert [c["number"] for c in alice.get("/api/cases", params={"q": "secret"}).json()] == [number]
    assert (
        alice.post(
            f"/api/cases/{number}/posts", json={"body": "agents only", "internal": True}
        ).status_code
        == 201
    )
    assert alice.post(f"/api/cases/{number}/posts", json={"body": "hello Carol"}).status_code == 201
    assert [p["body"] for p in carol.get(f"/api/cases/{number}/posts").json()] == ["hello Carol"]
    assert [p["body"] for p in alice.get(f"/api/cases/{number}/posts").json()] == [
        "agents only",
        "hello Carol",
    ]
    assert carol.get(f"/api/cases/{number}").json()["stream"][0]["body"] == "hello Carol"


def test_a_case_hidden_from_the_portal_disappears_for_its_customer(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Hide me")["number"]
    assert carol.post(f"/api/cases/{number}/portal", json={"hidden": True}).status_code == 403
    hidden = alice.post(f"/api/cases/{number}/portal", json={"hidden": True})
    assert hidden.status_code == 200
    assert carol.get(f"/api/cases/{number}").status_code == 404
    assert carol.get("/api/cases").json() == []
    alice.post(f"/api/cases/{number}/portal", json={"hidden": False})
    assert carol.get(f"/api/cases/{number}").status_code == 200


def test_invisible_and_forged_ids_answer_404(site: Site):
    carol, dave = site.login("carol"), site.login("dave")
    number = open_case(carol)["number"]
    alice = site.login("alice")
    triage = my_task(alice, number, "Triage case")
    for path in (
        f"/api/cases/{number}",
        f"/api/cases/{number}/posts",
        f"/api/tasks/{triage['id']}",
        "/api/cases/C-999999",
        "/api/tasks/999999",
    ):
        assert dave.get(path).status_code == 404, path
    assert dave.post(f"/api/cases/{number}/posts", json={"body": "hi"}).status_code == 404
    assert dave.post(f"/api/tasks/{triage['id']}/claim").status_code == 404
    assert dave.get("/api/cases/not-a-number").status_code == 422


def test_forbidden_actions_answer_403_and_change_nothing(site: Site):
    carol, alice, sam = site.login("carol"), site.login("alice"), site.login("sam")
    number = open_case(carol)["number"]
    triage = my_task(alice, number, "Triage case")
    internal = carol.post(f"/api/cases/{number}/posts", json={"body": "x", "internal": True})
    assert internal.status_code == 403
    assert carol.post(f"/api/tasks/{triage['id']}/claim").status_code == 403
    assert sam.post("/api/cases", json={"case_type": "SUPPORT", "subject": "x"}).status_code == 403
    assert carol.post("/api/groups", json={"name": "hackers"}).status_code == 403
    assert alice.get(f"/api/cases/{number}/posts").json() == []
    assert my_task(alice, number, "Triage case")["claimed_by"] is None


def test_bad_bodies_answer_422_with_field_errors(site: Site):
    alice = site.login("alice")
    answer = alice.post("/api/cases", json={"case_type": "SUPPORT", "subject": ""})
    assert answer.status_code == 422
    assert "subject" in answer.json()["errors"]
    answer = alice.post("/api/cases", json={"case_type": "SUPPORT", "priority": "whenever"})
    assert set(answer.json()["errors"]) == {"subject", "priority"}
    number = open_case(alice)["number"]
    triage = my_task(alice, number, "Triage case")
    answer = alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "no-such-category", "needs_investigation": "maybe"}},
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) >= {"category", "needs_investigation"}
    assert my_task(alice, number, "Triage case")["state"] == "open"
    nul = alice.post(f"/api/cases/{number}/posts", json={"body": "a\x00b"})
    assert nul.status_code == 422 and "body" in nul.json()["errors"]


def test_a_process_step_that_fails_answers_422_naming_it_and_changes_nothing(site: Site):
    approval = ROOT / "tests" / "engine" / "processes" / "approval.bpmn"
    with site.runtime.unit() as work:
        config = deploy.resolve_config(approval, None, "APPROVAL")
        deploy.deploy(work, bpmn_path=approval, config=config)
        permit_case_type(work, group="service-desk", case_type="APPROVAL", write=True)
    alice = site.login("alice")
    refused = alice.post("/api/cases", json={"case_type": "APPROVAL", "subject": "Laptop"})
    assert refused.status_code == 422
    assert refused.json()["errors"]["BPMN element"] == "Script_Total"
    answer = alice.post(
        "/api/cases", json={"case_type": "APPROVAL", "subject": "Laptop", "data": {"amount": 9}}
    )
    assert answer.status_code == 201, answer.text
    number = answer.json()["number"]
    review = my_task(alice, number, "Review the request")
    failed = alice.post(f"/api/tasks/{review['id']}/complete", json={"data": {}})
    assert failed.status_code == 422
    assert "the process step 'Approved?' failed" in failed.json()["detail"]
    assert failed.json()["errors"] == {
        "BPMN element": "Gateway_Approved",
        "expression": "approved == True and total < limit",
    }
    assert my_task(alice, number, "Review the request")["state"] == "open"


def test_conflicts_answer_409(site: Site):
    alice, bob = site.login("alice"), site.login("bob")
    number = open_case(alice)["number"]
    triage = my_task(alice, number, "Triage case")
    assert alice.post(f"/api/tasks/{triage['id']}/claim").status_code == 200
    taken = bob.post(f"/api/tasks/{triage['id']}/claim")
    assert taken.status_code == 409 and "alice" in taken.json()["detail"]
    still_open = alice.post(f"/api/cases/{number}/close", json={"reason": "done"})
    assert still_open.status_code == 409


def test_changes_without_the_csrf_token_are_refused(site: Site):
    alice = site.login("alice")
    del alice.headers["X-CSRF-Token"]
    answer = alice.post("/api/cases", json={"case_type": "SUPPORT", "subject": "forged"})
    assert answer.status_code == 403
    alice.headers["X-CSRF-Token"] = "guessed"
    assert (
        alice.post("/api/cases", json={"case_type": "SUPPORT", "subject": "x"}).status_code == 403
    )
    assert alice.get("/api/cases").json() == []


def test_logins_are_limited_per_user_and_address(site: Site):
    client = site.client
    for _ in range(5):
        wrong = client.post("/api/session", json={"username": "bob", "password": "guess"})
        assert wrong.status_code == 422 and "password" in wrong.json()["errors"]
    right = client.post(
        "/api/session", json={"username": "bob", "password": "correct horse battery"}
    )
    assert right.status_code == 429
    assert site.login("alice")  # other users are not locked out
    site.clock.advance(timedelta(minutes=16))
    assert site.login("bob")


def test_api_tokens_act_as_their_user_until_revoked(site: Site):
    alice = site.login("alice")
    made = alice.post("/api/tokens", json={"name": "nightly report"})
    assert made.status_code == 201
    secret = made.json()["token"]
    assert "token" not in alice.get("/api/tokens").json()[0]
    script = type(site.client)(site.client.app)
    script.headers["Authorization"] = f"Bearer {secret}"
    assert script.get("/api/me").json()["username"] == "alice"
    first_use = alice.get("/api/tokens").json()[0]["last_used_at"]
    assert first_use is not None
    site.clock.advance(TOKEN_USE_PRECISION / 2)  # noted at most every few minutes ...
    assert (
        script.post("/api/cases", json={"case_type": "SUPPORT", "subject": "from cron"}).status_code
        == 201
    )
    assert alice.get("/api/tokens").json()[0]["last_used_at"] == first_use
    site.clock.advance(TOKEN_USE_PRECISION)  # ... but noted again after that
    assert script.get("/api/me").status_code == 200
    assert alice.get("/api/tokens").json()[0]["last_used_at"] > first_use
    assert alice.delete(f"/api/tokens/{made.json()['id']}").status_code == 200
    assert script.get("/api/me").status_code == 401
    assert site.client.get("/api/cases").status_code == 401


def test_access_explain_gives_the_rule_trail(site: Site):
    carol, alice, root = site.login("carol"), site.login("alice"), site.login("root")
    number = open_case(carol)["number"]
    mine = alice.get(f"/api/cases/{number}/access", params={"action": "close"}).json()
    assert mine["allowed"] is True and mine["trail"]
    assert alice.get(f"/api/cases/{number}/access", params={"user": "dave"}).status_code == 403
    dave = root.get(f"/api/cases/{number}/access", params={"user": "dave"}).json()
    assert dave["allowed"] is False and dave["level"] == "none"
    internal = root.get(
        f"/api/cases/{number}/access", params={"user": "carol", "action": "read_internal"}
    ).json()
    assert internal["allowed"] is False


def test_access_explain_knows_every_action_of_the_rules_and_no_other(site: Site):
    alice = site.login("alice")
    number = open_case(site.login("carol"))["number"]
    for action, need in ACTIONS.items():
        answer = alice.get(f"/api/cases/{number}/access", params={"action": action})
        assert answer.status_code == 200, (action, answer.text)
        assert answer.json()["action"] == action
        # the service desk works the case; only administrators restrict and grant, and only
        # the case's assignee delegates it (this one has none)
        assert answer.json()["allowed"] is (not need.admin_only and not need.assignee), action
    unknown = alice.get(f"/api/cases/{number}/access", params={"action": "delete"})
    assert unknown.status_code == 422 and "action" in unknown.text


def test_attachments_download_only_for_those_who_may_read_their_post(site: Site):
    carol, alice, dave = site.login("carol"), site.login("alice"), site.login("dave")
    number = carol.post("/api/cases", json={"case_type": "SUPPORT", "subject": "Invoice"}).json()[
        "number"
    ]
    other = carol.post("/api/cases", json={"case_type": "SUPPORT", "subject": "Other"}).json()[
        "number"
    ]
    with site.runtime.unit() as work:  # as mail intake stores them
        users = {u.username: u for u in directory.list_users(work)}
        public = posts.add_post(
            work,
            number=number,
            author=users["carol"],
            body="see file",
            files=[NewFile("<b>x</b>.html", b"<script>1")],
        )
        [page] = attachments.attachments_of(work, [public.id])[public.id]
        note = posts.add_post(
            work,
            number=number,
            author=users["alice"],
            body="notes",
            internal=True,
            files=[NewFile("notes.txt", b"internal")],
        )
        [secret] = attachments.attachments_of(work, [note.id])[note.id]
    [listed] = carol.get(f"/api/cases/{number}/posts").json()
    assert listed["attachments"] == [
        {"id": page["id"], "filename": "<b>x<_b>.html", "content_type": "text/html", "size": 9}
    ]
    got = carol.get(f"/api/cases/{number}/attachments/{page['id']}")
    assert got.status_code == 200 and got.content == b"<script>1"
    assert got.headers["content-disposition"].startswith("attachment;")  # never rendered here
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-type"] == "application/octet-stream"  # HTML never as HTML
    page, secret = page["id"], secret["id"]
    # internal posts' files stay with the agents; other customers and other cases see nothing
    assert carol.get(f"/api/cases/{number}/attachments/{secret}").status_code == 404
    agent_copy = alice.get(f"/api/cases/{number}/attachments/{secret}")
    assert agent_copy.status_code == 200 and agent_copy.content == b"internal"
    assert agent_copy.headers["content-type"].startswith("text/plain")
    assert dave.get(f"/api/cases/{number}/attachments/{page}").status_code == 404
    assert carol.get(f"/api/cases/{other}/attachments/{page}").status_code == 404
