"""Warnings reach the assignee before the breach, and managers get one digest a day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, timers
from engine.store.models import Case
from engine.store.outbox import OutboxMessage
from mail.settings import MailSettings
from mail.sla_digest import queue_digests
from people import directory
from tests.conftest import PROCESSES, seed_directory, support_toml, wired_app

SLA = """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
warn_at = [0.75]
[sla.targets.resolution]
within = "PT12H"
[sla.notices]
digest_groups = ["support-leads"]
"""


def test_the_assignee_is_warned_at_75_percent_and_the_leads_get_a_daily_digest(
    db_url: str, tmp_path: Path
):
    clock = ManualClock()
    mail = MailSettings()
    rt = wired_app(db_url, clock, mail).runtime
    users = seed_directory(rt)
    with rt.unit() as work:
        for name in ("alice", "lee", "mona"):
            directory.user_by_name(work, name).email = f"{name}@example.com"
    path = tmp_path / "support.toml"
    path.write_text(support_toml() + SLA)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        case = cases.open_case(work, case_type="SUPPORT", subject="Printer", raiser=users["carol"])
        work.session.execute(
            update(Case).where(Case.id == case.id).values(assignee_id=users["alice"].id)
        )
    clock.advance(timedelta(minutes=45))
    timers.sweep(rt)
    with rt.unit() as work:
        warned = {
            m.recipients[0]
            for m in work.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "warning")
            )
        }
    assert warned == {"alice@example.com", "lee@example.com"}

    clock.advance(timedelta(minutes=20))  # first response breached
    timers.sweep(rt)
    with rt.unit() as work:
        assert queue_digests(work, mail) == 1
        assert queue_digests(work, mail) == 0  # once a day
        (digest,) = work.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest")
        )
    rt.close()
    assert digest.recipients == ["lee@example.com"]  # mona monitors; no digest for her
    assert digest.subject == f"SLA digest {clock.now().date()}: 1 breached, 1 at risk"
    breached, at_risk = digest.body_text.split("Due to breach")
    assert case.number in breached and "first response" in breached
    assert case.number in at_risk and "resolution" in at_risk
