"""The designer's commands through ``run.py``: validate, deploy --dry-run, migrate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from tests.cli.test_run import Cli
from tests.conftest import PROCESSES
from tests.designer.process_variants import without_investigation

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


def test_validate_prints_only_problem_lines_and_works_without_a_toml(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)
    lone = tmp_path / "lone.bpmn"
    root = etree.fromstring((PROCESSES / "support.bpmn").read_bytes())
    investigate = root.xpath("//*[@id='Task_Investigate']")[0]
    investigate.tag = investigate.tag.replace("userTask", "serviceTask")
    for timer in root.iter("{*}timeDuration"):
        timer.text = "PT4H"
    lone.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    result = cli("validate", str(lone), ok=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{lone}:1:1: warning: no lone.toml beside it: lanes and groups were not checked "
        "(pass --config FILE)"
    )
    assert any(
        line.startswith(f"{lone}:62:5: error: Task_Investigate: service task 'Investigate' has no")
        for line in lines
    ), lines
    assert any(f"{lone}:137:" in line and 'fix: write "PT4H" in quotes' in line for line in lines)
    assert "1 refused" in result.stderr
    missing = cli("validate", str(tmp_path / "gone.bpmn"), ok=False)
    assert (
        missing.stdout
        == f"{tmp_path / 'gone.bpmn'}:1:1: error: cannot read: No such file or directory\n"
    )
    shape = re.compile(r"^.+:\d+:\d+: (error|warning|info): .+$")
    assert all(shape.match(line) for line in lines), lines


def test_dry_run_deploy_then_bulk_migrate_with_a_report(cli: Cli, tmp_path: Path):
    cli("demo")
    v2 = tmp_path / "support.bpmn"
    v2.write_bytes(without_investigation())
    (tmp_path / "support.toml").write_text(
        (PROCESSES / "support.toml").read_text().replace("Support case", "Support request", 1)
    )
    preview = cli("deploy", str(v2), "--dry-run").stdout
    assert "  ~ configuration [name]" in preview
    assert "would deploy a new version after version 1" in preview
    assert "  - task Task_Investigate 'Investigate'" in preview
    assert "open case(s) run on version 1" in preview
    assert "already deployed" in cli("deploy", str(PROCESSES / "support.bpmn"), "--dry-run").stdout
    assert "deployed version 2" in cli("deploy", str(v2)).stdout

    dry = json.loads(cli("--json", "migrate", "--type", "SUPPORT", "--to", "2", "--dry-run").stdout)
    code, stdout, terminal = cli.in_terminal("migrate", "--type", "SUPPORT", "--to", "2")
    assert code == 0
    assert f"moved {dry['moved']} of {dry['total']} open case(s) to version 2" in stdout
    # a progress bar on the terminal; nothing of it when standard error is piped (below)
    assert "migrating" in terminal and f"{dry['total']}/{dry['total']}" in terminal
    piped = cli("--json", "migrate", "--type", "SUPPORT", "--to", "2")
    again = json.loads(piped.stdout)
    assert again["total"] == len(dry["blocked"]) and piped.stderr == ""

    refused = cli("migrate", "--type", "SUPPORT", "--to", "9", ok=False)
    assert refused.returncode == 3 and "case type SUPPORT has no version 9" in refused.stderr


def test_test_process_reports_each_step_and_exits_1_on_a_failed_expectation(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)  # scenarios use their own
    happy = PROCESSES / "support.happy.scenario.toml"
    passed = cli("test-process", str(PROCESSES / "support.bpmn"), str(happy))
    assert "  step 4 (complete Confirm resolution): ok\n  passed" in passed.stdout
    broken = tmp_path / "broken.scenario.toml"
    broken.write_text('[[step]]\nadvance = "PT1H"\n[step.expect]\nstatus = "closed"\n')
    failed = cli("test-process", str(PROCESSES / "support.bpmn"), str(broken), ok=False)
    assert failed.returncode == 1
    assert "FAILED step 1 (advance PT1H): expected status 'closed', got 'open'" in failed.stdout
