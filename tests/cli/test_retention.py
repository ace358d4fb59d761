"""Purging closed cases past their case type's ``[retention]`` period, as an administrator
runs it: the old closed cases go with their posts, tasks, timers and mail, open and recently
closed ones stay, the SLA report still counts the purged ones, a second run finds nothing,
and only administrators may purge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.main import main
from designer import deploy
from engine.clock import ManualClock
from engine.errors import DefinitionError
from engine.run import case_edits, cases
from engine.runtime import Runtime
from engine.store.models import AuditEntry, Case, HumanTask, StreamPost, Timer
from engine.store.outbox import OutboxMessage
from engine.store.sla import SlaCaseFact, SlaRollup
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from tests.conftest import PROCESSES, wired_app
from tests.web.conftest import seed

RETENTION = "\n[retention]\nclosed_days = 30\n"


@dataclass
class Desk:
    url: str
    runtime: Runtime
    clock: ManualClock
    old: list[str]  # closed long ago
    recent: str  # closed yesterday
    open: str


def _toml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "support.toml"
    text = (PROCESSES / "support.toml").read_text().replace('bpmn = "support.bpmn"', "")
    path.write_text(text + extra)
    return path


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    clock = ManualClock()
    rt = wired_app(db_url, clock, MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:
        config = deploy.resolve_config(
            PROCESSES / "support.bpmn", _toml(tmp_path, RETENTION), "SUPPORT"
        )
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        directory.user_by_name(work, "carol").email = "carol@acme.example"

    def opened(title: str) -> str:
        with rt.unit() as work:
            carol = directory.user_by_name(work, "carol")
            number = case_acts.open_case(
                work, load_subject(work, carol), carol, case_type="SUPPORT", title=title
            ).number
        with rt.unit() as work:
            alice = directory.user_by_name(work, "alice")
            case_acts.add_post(work, load_subject(work, alice), alice, number, f"About {title}")
        return number

    def cancel(number: str) -> None:
        with rt.unit() as work:
            case = cases.case_by_number(work, number)
            case_edits.cancel(work, case, reason="done", actor_id=None)

    old = [opened(f"old {i}") for i in range(3)]
    for number in old:
        cancel(number)
    clock.advance(timedelta(days=40))
    recent = opened("recent")
    cancel(recent)
    still = opened("still open")
    clock.advance(timedelta(days=1))
    yield Desk(db_url, rt, clock, old, recent, still)
    rt.close()


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    now = desk.clock.now().isoformat()
    code = main(["--db", desk.url, "--clock", now, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _count(rt: Runtime, model: type, *where: object) -> int:
    with rt.unit() as work:
        return work.session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def _rollup(rt: Runtime) -> list[tuple[int, int, int]]:
    with rt.unit() as work:
        rows = work.session.execute(
            select(SlaRollup.measure, func.sum(SlaRollup.cases), func.sum(SlaRollup.breached))
            .group_by(SlaRollup.measure)
            .order_by(SlaRollup.measure)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_purge_deletes_closed_cases_past_the_period_with_what_belongs_to_them(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = desk.runtime
    with rt.unit() as work:
        old_ids = list(work.session.scalars(select(Case.id).where(Case.number.in_(desk.old))))
    mine = Case.id.in_(old_ids)
    assert _count(rt, StreamPost, StreamPost.case_id.in_(old_ids)) == 3
    assert _count(rt, HumanTask, HumanTask.case_id.in_(old_ids))
    assert _count(rt, Timer, Timer.case_id.in_(old_ids))
    assert _count(rt, OutboxMessage, OutboxMessage.case_id.in_(old_ids))
    assert _count(rt, SlaCaseFact, SlaCaseFact.case_id.in_(old_ids))
    rollup = _rollup(rt)

    code, out, err = run(desk, capsys, "--json", "retention", "purge", "--dry-run")
    assert code == 0, err
    assert json.loads(out) == [{"case_type": "SUPPORT", "closed_days": 30, "cases": 3}]
    assert _count(rt, Case, mine) == 3, "a dry run deletes nothing"

    code, out, err = run(desk, capsys, "retention", "purge", "--as", "root")
    assert code == 0, err
    assert "purged 3 closed case(s)" in out
    assert _count(rt, Case, mine) == 0
    for model in (StreamPost, HumanTask, Timer, OutboxMessage, SlaCaseFact):
        assert _count(rt, model, model.case_id.in_(old_ids)) == 0, model  # type: ignore[attr-defined]
    with rt.unit() as work:
        kept = set(work.session.scalars(select(Case.number)))
        summary = work.session.scalar(
            select(AuditEntry).where(AuditEntry.entity == "retention").order_by(AuditEntry.id)
        )
    assert kept == {desk.recent, desk.open}
    assert summary is not None and summary.action == "purged"
    assert summary.after == {"cases": 3, "closed_days": 30}, "a count, never the content"
    assert _rollup(rt) == rollup, "the SLA report still counts the purged cases"

    code, out, err = run(desk, capsys, "--json", "retention", "purge")
    assert code == 0, err
    assert json.loads(out) == [], "a second run has nothing to do"

    desk.clock.advance(timedelta(days=30))
    code, out, err = run(desk, capsys, "retention", "purge")
    assert code == 0 and "purged 1 closed case(s)" in out, err
    with rt.unit() as work:
        assert set(work.session.scalars(select(Case.number))) == {desk.open}


def test_only_administrators_purge(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    for who in ("alice", "lee", "carol"):
        for extra in ((), ("--dry-run",)):
            code, _, err = run(desk, capsys, "retention", "purge", *extra, "--as", who)
            assert code == 4 and "only administrators may purge" in err, (who, err)
    code, _, err = run(desk, capsys, "retention", "purge", "--as", "ghost")
    assert code == 3, err
    assert _count(desk.runtime, Case) == 5


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("[retention]\nclosed_days = 0\n", "retention.closed_days must be a number of days"),
        ('[retention]\nclosed_days = "a year"\n', "retention.closed_days must be a number"),
        ("[retention]\nkeep = 3\n", "[retention] has unknown key 'keep'"),
        ("[retention]\n", "retention.closed_days is missing"),
    ],
)
def test_a_bad_retention_section_is_refused_at_deploy(
    tmp_path: Path, section: str, problem: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        deploy.resolve_config(PROCESSES / "support.bpmn", _toml(tmp_path, section), "SUPPORT")
    assert problem in str(refused.value)
