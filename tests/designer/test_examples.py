"""The example case types of the designer's guide (processes/examples/) pass their scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework.compose import scenario_runtimes
from casework.config import AppConfig
from designer.scenarios import load_scenario, run_scenario, scenario_files
from mail.settings import MailSettings
from tests.conftest import PROCESSES

EXAMPLES = PROCESSES / "examples"


@pytest.mark.parametrize("path", scenario_files(EXAMPLES), ids=lambda p: p.name)
def test_example_scenario(path: Path):
    lines: list[str] = []
    runtimes = scenario_runtimes(AppConfig(mail=MailSettings()))
    run_scenario(load_scenario(path), open_runtime=runtimes, report=lines.append)
    assert lines[0].startswith("start: case ") and all(
        line.endswith(": ok") for line in lines[1:]
    ), lines
