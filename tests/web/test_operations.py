"""/health, /ready and /metrics as a load balancer, an orchestrator and Prometheus use them."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from starlette.testclient import TestClient

from engine.store import health
from mail.mailboxes import MailboxSpec, add_mailbox
from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def worker_beats(site: Site, name: str = "host:1:start") -> None:
    with site.runtime.unit() as work:
        now = site.clock.now()
        health.beat(work.session, name, now, now)


def test_health_answers_without_sign_in(site: Site):
    answer = TestClient(site.client.app).get("/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_ready_needs_a_recent_worker_heartbeat(site: Site):
    anyone = TestClient(site.client.app)
    first = anyone.get("/ready")
    assert first.status_code == 503
    checks = {c["name"]: c for c in first.json()["checks"]}
    assert checks["database"]["ok"] and checks["schema"]["ok"]
    assert checks["worker"] == {
        "name": "worker",
        "ok": False,
        "detail": "no worker has ever beaten",
    }

    worker_beats(site)
    assert anyone.get("/ready").json()["ready"] is True

    site.clock.advance(timedelta(seconds=61))  # the default limit is 60 s
    stale = anyone.get("/ready")
    assert stale.status_code == 503
    assert "newest heartbeat 61 s ago (limit 60 s)" in stale.text

    worker_beats(site)  # the same worker beats again: still one row, fresh
    assert anyone.get("/ready").status_code == 200
    with site.runtime.unit() as work:
        assert work.session.execute(text("select count(*) from worker_heartbeats")).scalar() == 1


def test_ready_fails_on_a_schema_the_code_does_not_know(site: Site):
    worker_beats(site)
    with site.runtime.unit() as work:
        work.session.execute(text("update alembic_version set version_num = '0001'"))
    answer = TestClient(site.client.app).get("/ready")
    assert answer.status_code == 503
    schema = next(c for c in answer.json()["checks"] if c["name"] == "schema")
    assert schema["ok"] is False and schema["detail"].startswith("at 0001, the code needs ")


def test_metrics_are_for_administrators_and_count_the_workload(site: Site):
    carol = site.login("carol")
    for subject in ("Printer on fire", "VPN down", "Invoice wrong"):
        open_case(carol, subject)
    assert TestClient(site.client.app).get("/metrics").status_code == 401
    assert site.login("alice").get("/metrics").status_code == 403
    assert carol.get("/metrics").status_code == 403

    root = site.login("root")
    root.get("/api/cases")
    scrape = root.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    seen = samples(scrape.text)
    assert seen[("casework_cases", (("status", "open"),))] == 3
    assert seen[("casework_open_tasks", ())] == 3  # each new support case waits for triage
    assert seen[("casework_timers_late", ())] == 0
    # latency is filed under the route's template, not the concrete path
    opened = (
        "casework_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "/api/cases"), ("status", "201")),
    )
    assert seen[opened] == 3
    assert not any("C-0000" in dict(labels).get("route", "") for _, labels in seen)


def test_late_timers_show_in_the_metrics(site: Site):
    open_case(site.login("carol"))
    site.clock.advance(timedelta(days=30))  # past every SLA timer of the support process
    seen = samples(site.login("root").get("/metrics").text)
    assert seen[("casework_timers_late", ())] >= 1
    assert seen[("casework_timers_waiting", ())] >= seen[("casework_timers_late", ())]


def test_metrics_count_completed_tasks_incidents_and_how_long_each_mailbox_waits(site: Site):
    carol, alice, root = site.login("carol"), site.login("alice"), site.login("root")
    number = open_case(carol, "Printer on fire")["number"]
    triage = my_task(alice, number, "Triage case")
    done = alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "hardware", "needs_investigation": False}},
    )
    assert done.status_code == 200, done.text
    with site.runtime.unit() as work:
        add_mailbox(
            work,
            MailboxSpec(
                name="support",
                case_type="SUPPORT",
                group_address="support@example.com",
                host="imap.example.com",
                user="support",
                password="env:SUPPORT_IMAP_PASSWORD",  # a reference: no key to encrypt with
                customer_group="Acme",
            ),
        )
    site.clock.advance(timedelta(minutes=5))  # and no worker has read it since
    seen = samples(root.get("/metrics").text)
    assert seen[("casework_tasks_completed_total", ())] == 1
    assert seen[("casework_open_tasks", ())] == 1
    assert seen[("casework_open_incidents", ())] == 0
    assert seen[("casework_mail_poll_lag_seconds", (("mailbox", "support"),))] == 300
