"""``/admin/jobs`` as an administrator uses it: the failed jobs, Retry and Discard forms
(with the CSRF token), the count in ``/metrics``; nobody else gets in."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.run import timers
from engine.store.models import AuditEntry, Timer
from tests.cli.test_jobs import fail_a_timer
from tests.web.conftest import Site
from tests.web.test_operations import samples
from tests.web.test_pages import browser_login as page_login
from tests.web.test_pages import csrf_of


def test_an_administrator_sees_counts_retries_and_discards_failed_timers(site: Site):
    rt = site.runtime
    first, _, first_timer = fail_a_timer(rt, site.clock)
    _, _, second_timer = fail_a_timer(rt, site.clock)
    root = page_login(site, "root")

    page = root.get("/admin/jobs")
    assert page.status_code == 200
    assert f'data-job="timer:{first_timer}"' in page.text and first in page.text
    assert "JSONDecodeError" in page.text
    assert 'href="/admin/jobs"' in root.get("/admin").text

    scrape = samples(site.login("root").get("/metrics").text)
    assert scrape[("casework_failed_jobs", (("kind", "timer"),))] == 2
    assert scrape[("casework_failed_jobs", (("kind", "outbox"),))] == 0
    assert scrape[("casework_failed_jobs", (("kind", "intake"),))] == 0

    # a form without the page's token is refused and changes nothing
    forged = root.post(f"/admin/jobs/timer:{first_timer}/discard", data={"csrf_token": "x"})
    assert forged.status_code == 403
    token = csrf_of(page.text)
    done = root.post(
        f"/admin/jobs/timer:{first_timer}/discard",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/jobs")
    retried = root.post(
        f"/admin/jobs/timer:{second_timer}/retry",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    after = root.get("/admin/jobs").text
    assert "No failed jobs." in after
    with rt.unit() as work:
        states = {
            t.id: (t.state, t.attempts)
            for t in work.session.scalars(
                select(Timer).where(Timer.id.in_([first_timer, second_timer]))
            )
        }
        actions = work.session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "job").order_by(AuditEntry.id)
        ).all()
    assert states == {first_timer: ("discarded", timers.MAX_ATTEMPTS), second_timer: ("waiting", 0)}
    assert actions == ["job_discarded", "job_retried"]
    site.clock.advance(timedelta(seconds=1))
    scrape = samples(site.login("root").get("/metrics").text)
    assert scrape[("casework_failed_jobs", (("kind", "timer"),))] == 0
    # an unknown job, or one not failed, answers as the CLI does
    again = root.post(f"/admin/jobs/timer:{first_timer}/retry", data={"csrf_token": token})
    assert again.status_code == 409
    assert root.post("/admin/jobs/nonsense/retry", data={"csrf_token": token}).status_code == 404


def test_only_administrators_reach_the_failed_jobs(site: Site):
    _, _, timer_id = fail_a_timer(site.runtime, site.clock)
    alice = site.login("alice")  # her session's CSRF token in the header: only the role fails
    assert alice.get("/admin/jobs").status_code == 403
    assert alice.post(f"/admin/jobs/timer:{timer_id}/retry").status_code == 403
    assert alice.post(f"/admin/jobs/timer:{timer_id}/discard").status_code == 403
    assert TestClient(site.client.app).get("/admin/jobs", follow_redirects=False).status_code in (
        303,
        401,
    )
    with site.runtime.unit() as work:
        assert work.session.get(Timer, timer_id).state == "failed"


def test_each_answer_carries_its_request_id(site: Site):
    anyone = TestClient(site.client.app)
    sent = anyone.get("/health", headers={"X-Request-ID": "lb-7f3a.42"})
    assert sent.headers["X-Request-ID"] == "lb-7f3a.42"
    made = anyone.get("/health").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    # something that is no sensible id (a line break, far too long) is replaced
    odd = anyone.get("/health", headers={"X-Request-ID": "x" * 500})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])
    assert anyone.get("/nope").headers["X-Request-ID"]  # on errors too
