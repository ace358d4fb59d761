"""SLA notices wait out each recipient's own night: their setting, else their group's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.errors import InvalidInput
from engine.run import cases, timers
from engine.runtime import Runtime
from engine.sla import SlaOptions
from engine.sla.quiet import deliver_at
from engine.store.outbox import OutboxMessage
from mail.settings import MailSettings
from people import directory
from rules.notice_hours import set_hours
from tests.conftest import PROCESSES, seed_directory, support_toml, wired_app

SLA = """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.resolution]
within = "PT12H"
[sla.notices]
urgent_priorities = ["urgent"]
"""


def test_two_leads_in_two_zones_get_the_same_breach_at_the_start_of_their_own_day(
    db_url: str, tmp_path: Path
):
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # Monday
    rt = wired_app(db_url, clock, MailSettings()).runtime
    users = seed_directory(rt)
    with rt.unit() as work:
        directory.user_by_name(work, "lee").email = "lee@example.com"
        directory.add_user(work, username="lena", email="lena@example.com")
        directory.add_member(work, username="lena", group="support-leads")
        # the leads work from New York by default; lee from Berlin
        set_hours(
            work,
            user=None,
            group="support-leads",
            time_zone="America/New_York",
            quiet_from="20:00",
            quiet_to="08:00",
        )
        set_hours(
            work,
            user="lee",
            group=None,
            time_zone="Europe/Berlin",
            quiet_from="22:00",
            quiet_to="07:00",
        )
    path = tmp_path / "support.toml"
    path.write_text(support_toml() + SLA)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        normal = cases.open_case(work, case_type="SUPPORT", subject="n", raiser=users["carol"])
        urgent = cases.open_case(
            work, case_type="SUPPORT", subject="u", raiser=users["carol"], priority="urgent"
        )
    clock.advance(timedelta(hours=12))  # 21:00 UTC: 22:00 in Berlin, 16:00 in New York
    timers.sweep(rt)
    with rt.unit() as work:
        held = {
            (m.case_id, m.recipients[0]): m.next_attempt_at
            for m in work.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "breach")
            )
        }
    rt.close()
    assert held == {
        (normal.id, "lee@example.com"): datetime(2026, 1, 6, 6, 0, tzinfo=UTC),  # 07:00 Berlin
        (normal.id, "lena@example.com"): clock.now(),  # New York's afternoon
        (urgent.id, "lee@example.com"): clock.now(),  # urgent: past everyone's night
        (urgent.id, "lena@example.com"): clock.now(),
    }


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 1, 5, 23, 30, tzinfo=UTC), datetime(2026, 1, 6, 12, 0, tzinfo=UTC)),
        (datetime(2026, 1, 6, 2, 0, tzinfo=UTC), datetime(2026, 1, 6, 12, 0, tzinfo=UTC)),
        (datetime(2026, 1, 6, 15, 0, tzinfo=UTC), datetime(2026, 1, 6, 15, 0, tzinfo=UTC)),
    ],
)
def test_a_night_that_spans_midnight_ends_at_the_local_morning(now, expected):
    # New York 18:30 -> next 07:00 (12:00 UTC); 21:00 -> 07:00; 10:00 is daytime
    assert deliver_at(now, "America/New_York", "18:00", "07:00") == expected


def test_unknown_zones_and_bad_times_are_refused(runtime: Runtime):
    with runtime.unit() as work:
        directory.add_user(work, username="x")
        for zone, start in (("Mars/Olympus", "22:00"), ("UTC", "25:00"), ("UTC", "9")):
            with pytest.raises(InvalidInput):
                set_hours(
                    work, user="x", group=None, time_zone=zone, quiet_from=start, quiet_to="07:00"
                )


def test_a_policy_may_mark_targets_urgent():
    options = SlaOptions.from_dict({"notices": {"urgent_targets": ["first_response"]}})
    assert options.urgent_targets == frozenset({"first_response"})
