"""``run.py sla report``: the table, ``--csv`` and ``--json``, for what the user may read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cli.main import main
from tests.engine.sla.reporting import build


@pytest.fixture
def url(db_url: str, tmp_path: Path) -> str:
    build(db_url, tmp_path).runtime.close()
    return db_url


def run(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_it_prints_a_table_csv_and_json_of_the_same_figures(url, capsys):
    code, table, _ = run(url, capsys, "sla", "report", "--as", "alice")
    assert code == 0
    header, line = table.splitlines()[:2]
    assert header.split()[:6] == ["MONTH", "CASE_TYPE", "GROUP", "PRIORITY", "OPENED", "CLOSED"]
    assert line.split()[:6] == ["2026-01", "SUPPORT", "service-desk", "normal", "3", "2"]
    assert "at risk now" in table

    code, text, _ = run(url, capsys, "sla", "report", "--csv", "--from", "2026-01")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (row["targets_met"], row["targets_breached"]) == ("2", "2")
    assert abs(float(row["resolution_p90"]) - 36_000) < 900

    code, text, _ = run(url, capsys, "--json", "sla", "report", "--at-risk-hours", "2")
    data = json.loads(text)
    assert data["rows"][0]["opened"] == 3 and data["at_risk"][0]["cases"] == 1


def test_a_type_the_user_may_not_read_is_not_found_and_bad_months_are_invalid(url, capsys):
    code, _, err = run(url, capsys, "sla", "report", "--as", "sam", "--type", "SUPPORT")
    assert code == 3 and err.startswith("error: no case type 'SUPPORT'")
    code, out, _ = run(url, capsys, "--json", "sla", "report", "--as", "sam")
    assert code == 0 and json.loads(out)["rows"] == []
    code, _, err = run(url, capsys, "sla", "report", "--from", "2026-13")
    assert code == 6 and err.startswith("error: the month range") and "Traceback" not in err


def test_whatif_shows_targets_side_by_side_and_the_cases_that_change(url, capsys, tmp_path):
    policy = tmp_path / "looser.toml"
    policy.write_text(
        '[sla.calendar]\ntimezone = "UTC"\nhours = "24/7"\n'
        '[sla.targets.first_response]\nwithin = "PT3H"\n'
        '[sla.targets.resolution]\nwithin = "PT12H"\n'
    )
    period = ["--case-type", "SUPPORT", "--from", "2026-01-01", "--to", "2026-02-01"]
    code, out, _ = run(url, capsys, "--json", "sla", "whatif", "--policy", str(policy), *period)
    data = json.loads(out)
    assert code == 0 and (data["cases"], data["changed_cases"]) == (3, 1)
    assert {(c["case"], c["target"], c["now"], c["proposed"]) for c in data["changes"]} == {
        ("C-000002", "first_response", "breached", "met"),
        ("C-000002", "resolution", "breached", "met"),
    }
    code, out, _ = run(url, capsys, "sla", "whatif", "--policy", str(policy), *period)
    assert code == 0 and out.startswith("3 case(s) replayed; 1 would end differently")
    code, _, err = run(
        url, capsys, "sla", "whatif", "--policy", str(policy), "--as", "sam", *period
    )
    assert code == 3
    policy.write_text('[sla.targets.resolution]\nwithin = "soon"\n')
    code, _, err = run(url, capsys, "sla", "whatif", "--policy", str(policy), *period)
    assert code == 6 and err.startswith("error: the SLA policy is not valid")
