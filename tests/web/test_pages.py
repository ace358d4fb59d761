"""Agents' pages and the portal through their HTML forms, as a browser submits them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from engine.run import attachments, cases, posts
from engine.run.attachments import NewFile
from engine.sla import clocks as sla_clocks
from people import directory
from tests.conftest import PROCESSES
from tests.web.conftest import PASSWORD, Site


def browser_login(site: Site, username: str, area: str = "") -> TestClient:
    client = TestClient(site.client.app)
    page = client.get(f"{area}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        f"{area}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def portal_case(site: Site, username: str, subject: str, body: str = "") -> tuple[TestClient, str]:
    client = browser_login(site, username, "/portal")
    form = client.get("/portal/new")
    answer = client.post(
        "/portal/new",
        data={
            "csrf_token": csrf_of(form.text),
            "case_type": "SUPPORT",
            "subject": subject,
            "body": body,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client, answer.headers["location"].rsplit("/", 1)[1]


def test_an_agent_works_a_task_through_its_generated_form(site: Site):
    _, number = portal_case(site, "carol", "Printer on fire", "Smoke everywhere")
    alice = browser_login(site, "alice")
    inbox = alice.get("/")
    assert number in inbox.text and "Triage case" in inbox.text
    page = alice.get(f"/cases/{number}")
    assert 'name="f_category"' in page.text and "<svg" in page.text
    assert 'class="task active"' in page.text  # the open task is marked on the diagram
    task_id = re.search(r"/cases/tasks/(\d+)/complete", page.text).group(1)
    token = csrf_of(page.text)
    bad = alice.post(
        f"/cases/tasks/{task_id}/complete",
        data={"csrf_token": token, "f_category": "nonsense", "f_needs_investigation": "false"},
    )
    assert bad.status_code == 422
    assert "Category must be one of" in bad.text
    claimed = alice.post(
        f"/cases/tasks/{task_id}/claim", data={"csrf_token": token}, follow_redirects=False
    )
    assert claimed.status_code == 303
    done = alice.post(
        f"/cases/tasks/{task_id}/complete",
        data={"csrf_token": token, "f_category": "hardware", "f_needs_investigation": "false"},
    )
    assert done.status_code == 200 and "Propose resolution" in done.text
    assert 'class="task completed"' in done.text


def test_forms_without_the_csrf_token_are_refused(site: Site):
    _, number = portal_case(site, "carol", "Help")
    alice = browser_login(site, "alice")
    answer = alice.post(f"/cases/{number}/posts", data={"body": "forged"})
    assert answer.status_code == 403
    assert "forged" not in alice.get(f"/cases/{number}").text
    login = TestClient(site.client.app).post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "x"}
    )
    assert login.status_code == 422 and "casework_session" not in login.cookies


def test_the_portal_shows_no_internal_posts_and_no_hidden_cases(site: Site):
    carol, number = portal_case(site, "carol", "Where is my invoice?")
    _, hidden = portal_case(site, "carol", "Hidden one")
    alice = browser_login(site, "alice")
    page = alice.get(f"/cases/{number}")
    token = csrf_of(page.text)
    alice.post(
        f"/cases/{number}/posts",
        data={"csrf_token": token, "body": "customer is rude", "internal": "true"},
    )
    alice.post(f"/cases/{number}/posts", data={"csrf_token": token, "body": "Invoice attached"})
    from people.directory import user_by_name
    from rules import case_acts, load_subject

    with site.runtime.unit() as work:
        subject = load_subject(work, user_by_name(work, "alice"))
        case_acts.set_hidden(work, subject, hidden, True)
    mine = carol.get("/portal")
    assert number in mine.text and hidden not in mine.text
    assert carol.get(f"/portal/cases/{hidden}").status_code == 404
    case = carol.get(f"/portal/cases/{number}")
    assert "Invoice attached" in case.text and "customer is rude" not in case.text
    assert "rude" in alice.get(f"/cases/{number}").text
    assert "rude" not in alice.get(f"/cases/{number}?internal=hide").text
    reply = carol.post(
        f"/portal/cases/{number}/posts",
        data={"csrf_token": csrf_of(case.text), "body": "Thanks", "internal": "true"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    thanks = [
        p
        for p in site.login("alice").get(f"/api/cases/{number}/posts").json()
        if p["body"] == "Thanks"
    ]
    assert thanks and thanks[0]["internal"] is False


def test_hostile_text_is_shown_escaped(site: Site):
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    carol, number = portal_case(site, "carol", payload, payload)
    for page in (carol.get("/portal").text, carol.get(f"/portal/cases/{number}").text):
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    alice = browser_login(site, "alice")
    assert (
        "&lt;img src=x onerror=alert(2)&gt;"
        in alice.get("/").text + alice.get(f"/cases/{number}").text
    )


def test_agents_and_customers_stay_in_their_areas(site: Site):
    carol = browser_login(site, "carol", "/portal")
    assert carol.get("/", follow_redirects=False).headers["location"] == "/portal"
    assert carol.get("/cases", follow_redirects=False).status_code == 303
    alice = browser_login(site, "alice")
    assert alice.get("/portal", follow_redirects=False).status_code == 303
    assert alice.get("/admin").status_code == 403
    anonymous = TestClient(site.client.app)
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"
    root = browser_login(site, "root")
    admin = root.get("/admin")
    assert "SUPPORT" in admin.text and "service-desk" in admin.text
    added = root.post(
        "/admin/members",
        data={"csrf_token": csrf_of(admin.text), "username": "sam", "group": "service-desk"},
    )
    assert added.status_code == 200 and "sam" in added.text


def test_a_start_form_is_part_of_the_new_case_page(site: Site, tmp_path):
    from designer import deploy

    source = (PROCESSES / "support.bpmn").read_text()
    start = '<bpmn:startEvent id="StartEvent_CaseRaised" name="Case raised">'
    form = (
        "<bpmn:extensionElements><camunda:formData>"
        '<camunda:formField id="amount" label="Amount" type="long">'
        '<camunda:validation><camunda:constraint name="required"/></camunda:validation>'
        "</camunda:formField></camunda:formData></bpmn:extensionElements>"
    )
    assert start in source
    (tmp_path / "support.bpmn").write_text(source.replace(start, start + form))
    # the shipped type opens "product" to customers, which a start form must then declare
    shipped = (PROCESSES / "support.toml").read_text().splitlines()
    (tmp_path / "support.toml").write_text(
        "\n".join(line for line in shipped if not line.startswith("product ="))
    )
    with site.runtime.unit() as work:
        config = deploy.resolve_config(tmp_path / "support.bpmn", None, "SUPPORT")
        deploy.deploy(work, bpmn_path=tmp_path / "support.bpmn", config=config)
    alice = browser_login(site, "alice")
    page = alice.get("/cases/new?type=SUPPORT")
    assert 'name="f_amount"' in page.text and 'type="number"' in page.text
    fields = {"csrf_token": csrf_of(page.text), "case_type": "SUPPORT", "subject": "Order"}
    bad = alice.post("/cases/new", data={**fields, "f_amount": "lots"})
    assert bad.status_code == 422 and "Amount must be a whole number" in bad.text
    assert 'value="Order"' in bad.text  # what was typed is kept
    made = alice.post("/cases/new", data={**fields, "f_amount": "12"}, follow_redirects=False)
    assert made.status_code == 303
    number = made.headers["location"].rsplit("/", 1)[1]
    assert site.login("alice").get(f"/api/cases/{number}").json()["data"]["amount"] == 12


def test_the_case_page_shows_sla_clocks_running_and_paused_while_waiting_on_the_customer(
    site: Site,
):
    _, number = portal_case(site, "carol", "Scanner offline")
    alice = browser_login(site, "alice")
    page = alice.get(f"/cases/{number}").text
    assert "first response" in page and "4h 00m business time left" in page
    with site.runtime.unit() as work:
        case = cases.case_by_number(work, number)
        sla_clocks.set_waiting(work, case.id, True, actor_id=None)
    page = alice.get(f"/cases/{number}").text
    assert "paused while waiting on the customer, 4h 00m left" in page


def test_a_post_s_files_are_links_on_the_case_page_for_those_who_may_read_it(site: Site):
    carol, number = portal_case(site, "carol", "Invoice please")
    with site.runtime.unit() as work:
        users = {u.username: u for u in directory.list_users(work)}
        posts.add_post(
            work,
            number=number,
            author=users["alice"],
            body="x",
            internal=True,
            files=[NewFile("notes.txt", b"n")],
        )
        public = posts.add_post(
            work,
            number=number,
            author=users["alice"],
            body="Here it is",
            files=[NewFile("invoice.pdf", b"%PDF")],
        )
        file_id = attachments.attachments_of(work, [public.id])[public.id][0]["id"]
    link = f'href="/api/cases/{number}/attachments/{file_id}"'
    page = carol.get(f"/portal/cases/{number}").text
    assert link in page and "invoice.pdf" in page and "notes.txt" not in page
    assert carol.get(f"/api/cases/{number}/attachments/{file_id}").content == b"%PDF"
    assert "notes.txt" in browser_login(site, "alice").get(f"/cases/{number}").text
