"""``run.py sla rebuild``: cases opened before the report facts were kept get the facts the
live path would have written, and the report counts them as if they had been recorded
live."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from cli.main import main
from engine.runtime import Runtime
from engine.sla import report
from engine.store.models import Case
from engine.store.sla import SlaCaseFact, SlaRollup
from tests.engine.sla.reporting import answer, build, finish, waiting_case


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    """The report's cases (A met, B breached, C open) and D: the customer writes first,
    an agent answers late, the case waits on the customer for five hours, then closes."""
    built = build(db_url, tmp_path)
    waiting_case(built)
    yield built
    built.runtime.close()


def facts_of(rt: Runtime) -> list[tuple]:
    with rt.unit() as work:
        return [
            tuple(row)
            for row in work.session.execute(select(SlaCaseFact).order_by(SlaCaseFact.case_id))
            .scalars()
            .all()
            for row in [
                (
                    row.case_id, row.slice_id, row.opened_at, row.opened_month, row.closed_month,
                    row.first_response_s, row.response_bucket, row.resolution_s,
                    row.resolution_bucket, row.targets_met, row.targets_breached,
                )
            ]
        ]  # fmt: skip


def report_of(rt: Runtime) -> tuple[list, list]:
    with rt.unit() as work:
        built = report.build(work, case_type_ids=None, at_risk_hours=4)
    return built.rows, built.at_risk


def forget(rt: Runtime, case_ids: list[int] | None = None) -> None:
    """Remove facts (all, or of some cases) and the rollup: cases from before the upgrade."""
    with rt.unit() as work:
        query = delete(SlaCaseFact)
        if case_ids is not None:
            query = query.where(SlaCaseFact.case_id.in_(case_ids))
        work.session.execute(query)
        work.session.execute(delete(SlaRollup))


def rebuild(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["--db", url, "--json", "sla", "rebuild", *args])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_cases_without_facts_get_those_recorded_live_and_the_report_counts_them(
    world, db_url, capsys
):
    live_facts, live_report = facts_of(world.runtime), report_of(world.runtime)
    assert live_report[0][0].opened == 4 and live_report[0][0].closed == 3
    forget(world.runtime)
    assert report_of(world.runtime)[0] == []

    assert rebuild(db_url, capsys, "--dry-run") == {
        "dry_run": True, "cases": 4, "closed": 3, "answered": 3,
    }  # fmt: skip
    assert facts_of(world.runtime) == [] and report_of(world.runtime)[0] == []

    assert rebuild(db_url, capsys)["cases"] == 4
    assert facts_of(world.runtime) == live_facts
    assert report_of(world.runtime) == live_report

    assert rebuild(db_url, capsys)["cases"] == 0  # again: nothing more to do
    assert facts_of(world.runtime) == live_facts
    assert report_of(world.runtime) == live_report


def test_only_the_cases_without_facts_are_computed_the_rest_stay_as_recorded(world, db_url, capsys):
    live_facts, live_report = facts_of(world.runtime), report_of(world.runtime)
    first, second = live_facts[0][0], live_facts[1][0]
    forget(world.runtime, [first, second])
    assert main(["--db", db_url, "sla", "rebuild"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2 case(s) without report facts got them (2 closed, 2 with a first agent answer)",
        "the monthly rollup was rebuilt from every case's facts",
    ]
    assert facts_of(world.runtime) == live_facts
    assert report_of(world.runtime) == live_report


def test_an_open_case_given_facts_is_counted_when_it_closes_later(world, db_url, capsys):
    with world.runtime.unit() as work:
        case_id, open_number = work.session.execute(
            select(Case.id, Case.number).where(Case.subject == "C")
        ).one()
    forget(world.runtime, [case_id])
    assert rebuild(db_url, capsys)["cases"] == 1
    answer(world, open_number, after=timedelta(minutes=20))
    finish(world, open_number, after=timedelta(hours=1))
    rows, _ = report_of(world.runtime)
    assert (rows[0].opened, rows[0].closed) == (4, 4)
    assert rebuild(db_url, capsys)["cases"] == 0
    assert report_of(world.runtime)[0] == rows
