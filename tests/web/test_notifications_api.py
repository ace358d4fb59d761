"""Notifications over the API: followers get them in the app with an unread count, mailed
as they prefer (each, digest, none); internal posts never notify customers; and a case the
user may no longer see takes its notifications out of their list and count."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sqlalchemy import select

from engine.run import cases
from engine.store.outbox import OutboxMessage
from mail.notification_digest import queue_notification_digests
from people import directory
from rules import load_subject
from rules.restriction import restrict
from tests.conftest import ROOT
from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_search_api import _post


def _mail_of(site: Site, address: str) -> list[OutboxMessage]:
    with site.runtime.unit() as work:
        rows = work.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [m for m in rows if address in m.recipients]


def _emails(site: Site) -> None:
    with site.runtime.unit() as work:
        for name in ("alice", "carol"):
            directory.user_by_name(work, name).email = f"{name}@example.com"


def test_a_customer_is_notified_of_public_posts_only_and_reads_them(site: Site):
    _emails(site)
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Screen flickers")["number"]  # customers follow their cases
    _post(alice, number, "Suspect the graphics driver of the customer", internal=True)
    _post(alice, number, "Please update your graphics driver")
    listed = carol.get("/api/notifications").json()
    assert listed["unread"] == 1
    [note] = listed["notifications"]
    assert (note["case"], note["kind"], note["text"], note["author"], note["read"]) == (
        number,
        "post_added",
        "Please update your graphics driver",
        None,  # no staff name in the portal
        False,
    )
    assert "internal" not in note
    mails = _mail_of(site, "carol@example.com")
    assert all("Suspect" not in m.body_text for m in mails)  # the internal note: no mail either
    assert carol.post(f"/api/notifications/{note['id']}/read").json() == {"read": 1}
    after = carol.get("/api/notifications", params={"unread": True}).json()
    assert after == {"unread": 0, "notifications": []}
    assert carol.get("/api/notifications").json()["notifications"][0]["read"] is True


def test_an_agent_follows_a_case_and_reads_all(site: Site):
    carol, alice, bob = site.login("carol"), site.login("alice"), site.login("bob")
    number = open_case(carol, "Keyboard sticks")["number"]
    assert alice.put(f"/api/cases/{number}/follow").json() == {"case": number, "following": True}
    _post(bob, number, "Internal: spare keyboards in stock", internal=True)
    _post(carol, number, "Also the space bar")
    listed = alice.get("/api/notifications").json()
    assert listed["unread"] == 2
    assert [(n["internal"], n["author"]) for n in listed["notifications"]] == [
        (False, "carol"),
        (True, "bob"),
    ]
    assert alice.post("/api/notifications/read").json() == {"read": 2}
    assert alice.get("/api/notifications").json()["unread"] == 0
    assert alice.delete(f"/api/cases/{number}/follow").json()["following"] is False
    _post(carol, number, "And the enter key")
    assert alice.get("/api/notifications").json()["unread"] == 0


def test_a_case_that_became_restricted_leaves_no_trace_in_notifications(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Payroll data exposed")["number"]
    alice.put(f"/api/cases/{number}/follow")
    _post(carol, number, "Salary list visible to all staff")
    [note] = alice.get("/api/notifications").json()["notifications"]
    with site.runtime.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, number))
    assert alice.get("/api/notifications").json() == {"unread": 0, "notifications": []}
    gone = alice.post(f"/api/notifications/{note['id']}/read")
    missing = alice.post("/api/notifications/999999/read")
    assert (gone.status_code, missing.status_code) == (404, 404)
    assert gone.json()["detail"] == f"no notification {note['id']}"
    # someone else's notification is not found either
    carol_notes = carol.get("/api/notifications").json()["notifications"]
    assert carol_notes == []  # carol wrote the post herself: nothing to tell her
    assert alice.put("/api/cases/C-999999/follow").status_code == 404
    assert alice.put(f"/api/cases/{number}/follow").status_code == 404  # restricted: not found


def test_someone_elses_notification_is_not_found(site: Site):
    carol, alice, bob = site.login("carol"), site.login("alice"), site.login("bob")
    number = open_case(carol, "Mouse drifts")["number"]
    alice.put(f"/api/cases/{number}/follow")
    _post(carol, number, "It drifts left")
    [note] = alice.get("/api/notifications").json()["notifications"]
    assert bob.post(f"/api/notifications/{note['id']}/read").status_code == 404
    assert alice.get("/api/notifications").json()["unread"] == 1


def test_mail_follows_the_preference_each_digest_or_none(site: Site):
    _emails(site)
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Projector hums")["number"]
    alice.put(f"/api/cases/{number}/follow")
    assert alice.get("/api/notifications/mail").json() == {"mail": "each"}
    _post(carol, number, "Loud humming in room 4")
    assert len(_mail_of(site, "alice@example.com")) == 1
    assert alice.put("/api/notifications/mail", json={"mail": "digest"}).json() == {
        "mail": "digest"
    }
    _post(carol, number, "Now it smells burnt")
    _post(carol, number, "And the picture is gone")
    assert len(_mail_of(site, "alice@example.com")) == 1  # held for the digest
    with site.runtime.unit() as work:
        assert queue_notification_digests(work, site.app.mail) == 1
    with site.runtime.unit() as work:
        assert queue_notification_digests(work, site.app.mail) == 0  # nothing new
    digest = _mail_of(site, "alice@example.com")[-1]
    assert digest.kind == "notification_digest"
    assert digest.subject == "2 new notifications in Casework"
    assert "Now it smells burnt" in digest.body_text and number in digest.body_text
    alice.put("/api/notifications/mail", json={"mail": "none"})
    _post(carol, number, "Fixed itself")
    assert len(_mail_of(site, "alice@example.com")) == 2  # none: in the app only
    assert alice.get("/api/notifications").json()["unread"] == 4
    bad = alice.put("/api/notifications/mail", json={"mail": "weekly"})
    assert bad.status_code == 422


def test_a_digest_leaves_out_what_the_user_may_no_longer_see(site: Site):
    _emails(site)
    carol, alice = site.login("carol"), site.login("alice")
    kept = open_case(carol, "Printer offline")["number"]
    locked = open_case(carol, "Badge cloned")["number"]
    for number in (kept, locked):
        alice.put(f"/api/cases/{number}/follow")
    alice.put("/api/notifications/mail", json={"mail": "digest"})
    _post(carol, kept, "Printer still offline")
    _post(carol, locked, "Someone used my badge at night")
    with site.runtime.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
        assert queue_notification_digests(work, site.app.mail) == 1
    digest = _mail_of(site, "alice@example.com")[-1]
    assert "Printer still offline" in digest.body_text
    assert "badge" not in digest.body_text.lower() and locked not in digest.body_text


def _digests(site: Site, address: str) -> list[str]:
    return [m.body_text for m in _mail_of(site, address) if m.kind == "notification_digest"]


def _wait_for_digests(site: Site, address: str, count: int) -> list[str]:
    deadline = time.monotonic() + 90
    while len(_digests(site, address)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return _digests(site, address)


def test_workers_queue_the_digests_and_two_at_once_mail_each_notification_once(
    site: Site, db_url: str
):
    _emails(site)
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Scanner skips pages")["number"]
    alice.put(f"/api/cases/{number}/follow")
    alice.put("/api/notifications/mail", json={"mail": "digest"})
    _post(carol, number, "Every second page is missing")
    env = {**os.environ, "CASEWORK_DB": db_url}
    command = [sys.executable, str(ROOT / "run.py"), "worker", "--digest-every", "0.01"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        [first] = _wait_for_digests(site, "alice@example.com", 1)
        _post(carol, number, "Now it jams as well")
        later = _wait_for_digests(site, "alice@example.com", 2)
        time.sleep(2)  # both workers have built digests several times since
    finally:
        for worker in workers:
            worker.terminate()
        codes = [worker.wait(timeout=60) for worker in workers]
    assert codes == [0, 0]
    assert _digests(site, "alice@example.com") == later  # no third, duplicate digest
    assert "Every second page is missing" in first and "jams" not in first
    assert "Now it jams as well" in later[1] and "Every second page" not in later[1]
