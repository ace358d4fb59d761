"""The outbox: rendering notices, queueing them once, claiming, backoff and retry.

Store tests run on SQLite and PostgreSQL (the ``runtime`` fixture); the table comes from the
Alembic migration 0003.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from designer import deploy
from engine.errors import InvalidInput
from engine.run import cases
from engine.runtime import Runtime
from engine.store.outbox import OutboxMessage
from mail.outbox import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    backoff,
    build_email,
    claim_due,
    list_messages,
    mark_failed,
    mark_sent,
    queue_notice,
    retry,
)
from mail.render import render_notice
from people import directory
from tests.conftest import PROCESSES

TOKEN = "k3x9q2m7w1"
DOMAIN = "cases.example.com"
DUE = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)  # 17:00 in Berlin (CET)


def notice_context(**changes: object) -> dict[str, object]:
    context: dict[str, object] = {
        "case_number": "C-000012",
        "case_subject": "Printer on fire",
        "case_url": "https://cases.example.com/cases/C-000012",
        "target": "first_response",
        "threshold": 1.0,
        "due_at": DUE,
        "time_zone": "Europe/Berlin",
    }
    context.update(changes)
    return context


def dedupe(kind: str = "breach", threshold: float = 1.0, to: str = "lee@example.com") -> str:
    return f"{kind}:case=12:timer=first_response:threshold={threshold}:cycle=0:to={to}"


def queue(session, now: datetime, **changes: object) -> OutboxMessage | None:
    arguments: dict[str, object] = {
        "case_id": None,
        "kind": "breach",
        "recipients": ["Lee Lead <lee@example.com>"],
        "sender": "Casework <noreply@cases.example.com>",
        "context": notice_context(),
        "dedupe_key": dedupe(),
        "domain": DOMAIN,
        "now": now,
        "token": TOKEN,
    }
    arguments.update(changes)
    return queue_notice(session, **arguments)  # type: ignore[arg-type]


def count(runtime: Runtime) -> int:
    with runtime.unit() as work:
        return work.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


# --- rendering (no database) ----------------------------------------------------------------


def test_it_renders_a_breach_notice_with_case_target_and_local_due_time():
    subject, text, html = render_notice("breach", notice_context())
    assert subject == "[C-000012] SLA breached: first response target – Printer on fire"
    assert "The first response target of case C-000012 has been breached." in text
    assert "breached (100 % of the target used)" in text
    assert "Mon 5 Jan 2026, 17:00 CET" in text  # 16:00 UTC in the recipient's calendar zone
    assert "https://cases.example.com/cases/C-000012" in text
    assert html is not None
    assert '<a href="https://cases.example.com/cases/C-000012">open C-000012</a>' in html
    assert "Mon 5 Jan 2026, 17:00 CET" in html


def test_it_renders_a_warning_with_the_share_of_the_target_used():
    context = notice_context(target="next_update", threshold=0.75, time_zone="America/New_York")
    subject, text, html = render_notice("warning", context)
    assert subject == (
        "[C-000012] SLA warning: 75 % of the next update target used – Printer on fire"
    )
    assert "Case C-000012 has used 75 % of its next update target." in text
    assert "Mon 5 Jan 2026, 11:00 EST" in text
    assert "breached" not in subject
    assert html is not None and "<strong>75 %</strong>" in html


def test_it_escapes_a_hostile_case_subject_in_html_but_keeps_it_readable_in_text():
    hostile = '<script>alert("x")</script> & more'
    subject, text, html = render_notice("breach", notice_context(case_subject=hostile))
    assert html is not None
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert hostile in text
    assert subject.endswith(hostile)


def test_it_keeps_a_subject_on_one_line():
    subject, _, _ = render_notice("breach", notice_context(case_subject="one\r\nBcc: evil@x"))
    assert "\n" not in subject and "\r" not in subject


def test_it_prefers_a_case_type_override_template(tmp_path: Path):
    (tmp_path / "breach.subject.txt").write_text("Facilities: {{ case_number }} is overdue\n")
    (tmp_path / "breach.txt").write_text("Facilities desk: {{ target_name }} overdue.\n")
    subject, text, html = render_notice("breach", notice_context(), override_dir=tmp_path)
    assert subject == "Facilities: C-000012 is overdue"
    assert text == "Facilities desk: first response overdue.\n"
    assert html is not None and "has been <strong" in html  # not overridden: the default


def test_it_refuses_to_render_with_a_missing_value():
    context = notice_context()
    del context["case_url"]
    with pytest.raises(Exception, match="case_url"):
        render_notice("breach", context)


# --- queueing -------------------------------------------------------------------------------


def test_it_queues_a_notice_with_a_stable_message_id_and_loop_prevention_headers(
    runtime: Runtime,
):
    now = runtime.clock.now()
    with runtime.unit() as work:
        message = queue(work.session, now)
    assert message is not None
    assert message.state == "pending" and message.attempts == 0
    assert message.next_attempt_at == now and message.created_at == now
    assert message.recipients == ["Lee Lead <lee@example.com>"]
    assert message.message_id.startswith(f"<case-{TOKEN}.breach.")
    assert message.message_id.endswith("@cases.example.com>")

    email = build_email(message)
    assert email["Message-ID"] == message.message_id
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["X-Auto-Response-Suppress"] == "All"
    assert email["Precedence"] == "bulk"
    assert email["X-Casework-Loop"] == DOMAIN
    assert email["Date"] == "Mon, 05 Jan 2026 09:00:00 +0000"
    assert email["To"] == "Lee Lead <lee@example.com>"
    assert email.get_content_type() == "multipart/alternative"
    parsed = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert "C-000012" in parsed.get_body(("plain",)).get_content()
    assert "first response" in parsed.get_body(("html",)).get_content()


def test_it_queues_the_same_notice_only_once(runtime: Runtime):
    now = runtime.clock.now()
    with runtime.unit() as work:
        first = queue(work.session, now)
    with runtime.unit() as work:
        again = queue(work.session, now + timedelta(minutes=5))
    with runtime.unit() as work:  # another recipient is another notice
        other = queue(work.session, now, dedupe_key=dedupe(to="mona@example.com"))
    assert first is not None and again is None
    assert other is not None and other.message_id != first.message_id
    assert count(runtime) == 2


def test_it_gives_the_same_notice_the_same_message_id_in_every_installation_run(
    runtime: Runtime,
):
    now = runtime.clock.now()
    with runtime.unit() as work:
        message = queue(work.session, now)
        work.session.delete(message)
    with runtime.unit() as work:
        requeued = queue(work.session, now)
    assert requeued is not None and message is not None
    assert requeued.message_id == message.message_id


def test_it_refuses_a_notice_without_recipients_or_with_a_bad_token(runtime: Runtime):
    now = runtime.clock.now()
    with pytest.raises(InvalidInput), runtime.unit() as work:
        queue(work.session, now, recipients=[])
    with pytest.raises(InvalidInput), runtime.unit() as work:
        queue(work.session, now, token="NOT A TOKEN")
    assert count(runtime) == 0


def test_it_links_a_notice_to_its_case(runtime: Runtime):
    with runtime.unit() as work:
        for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
            directory.add_group(work, name=group)
        raiser = directory.add_user(work, username="carol")
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    with runtime.unit() as work:
        case = cases.open_case(work, case_type="SUPPORT", subject="Printer on fire", raiser=raiser)
        message = queue(
            work.session,
            work.now,
            case_id=case.id,
            context=notice_context(case_number=case.number),
        )
    assert message is not None and message.case_id == case.id
    assert message.subject.startswith(f"[{case.number}] ")


# --- claiming, backoff, retry ---------------------------------------------------------------


def test_it_claims_a_due_message_once_until_its_lease_runs_out(runtime: Runtime):
    now = runtime.clock.now()
    with runtime.unit() as work:
        queue(work.session, now)
        queue(work.session, now + timedelta(hours=1), dedupe_key=dedupe(to="later@example.com"))
    with runtime.unit() as work:
        claimed = claim_due(work.session, now=now, limit=10, worker="w1")
        assert [m.claimed_by for m in claimed] == ["w1"]
        assert claimed[0].next_attempt_at == now + CLAIM_LEASE
    with runtime.unit() as work:
        assert claim_due(work.session, now=now + timedelta(minutes=1), limit=10, worker="w2") == []
    with runtime.unit() as work:  # the first worker died: after the lease it is due again
        again = claim_due(work.session, now=now + CLAIM_LEASE, limit=1, worker="w2")
        assert [m.id for m in again] == [claimed[0].id]


def test_it_backs_off_exponentially_then_gives_up_and_can_be_retried(runtime: Runtime):
    now = runtime.clock.now()
    with runtime.unit() as work:
        message = queue(work.session, now)
        assert message is not None
        waits = []
        for _ in range(MAX_ATTEMPTS - 1):
            mark_failed(work.session, message, now, "421 try later", permanent=False)
            waits.append(message.next_attempt_at - now)
        assert message.state == "pending" and message.attempts == MAX_ATTEMPTS - 1
        mark_failed(work.session, message, now, "421 try later", permanent=False)
        assert message.state == "failed" and message.attempts == MAX_ATTEMPTS
    assert [int(w.total_seconds()) for w in waits] == [30, 60, 120, 240, 480, 960, 1920]
    with runtime.unit() as work:
        assert [m.id for m in list_messages(work.session, "failed")] == [message.id]
        retried = retry(work.session, message.message_id, now=now + timedelta(hours=2))
        assert retried.state == "pending" and retried.attempts == 0
        assert retried.next_attempt_at == now + timedelta(hours=2)
        with pytest.raises(InvalidInput):
            retry(work.session, message.id)  # pending already


def test_it_caps_the_backoff_at_an_hour_and_fails_a_permanent_error_at_once(runtime: Runtime):
    now = runtime.clock.now()
    with runtime.unit() as work:
        slow = queue(work.session, now)
        assert slow is not None
        slow.attempts = 6
        mark_failed(work.session, slow, now, "451 greylisted", permanent=False)
        assert slow.next_attempt_at - now == timedelta(seconds=1920)
        assert backoff(8) == backoff(20) == timedelta(hours=1)
        rejected = queue(work.session, now, dedupe_key=dedupe(to="nobody@example.com"))
        assert rejected is not None
        mark_failed(work.session, rejected, now, "550 no such user", permanent=True)
        assert rejected.state == "failed" and rejected.last_error == "550 no such user"
        mark_sent(work.session, slow, now)
        mark_failed(work.session, slow, now, "late report", permanent=True)
        assert slow.state == "sent" and slow.sent_at == now
