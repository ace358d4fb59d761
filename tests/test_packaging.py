"""The image and the compose file start commands that exist, with the whole code base.

Docker is not needed for these checks: they read ``Dockerfile`` and ``compose.yaml`` as
an operator's tools would and hold them to the code, so a renamed option or a new
package cannot leave the packaging behind unnoticed.
"""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml

from cli.main import build_parser
from tests.conftest import ROOT


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _commands() -> list[list[str]]:
    found = [json.loads(line[4:]) for line in _dockerfile() if line.startswith("CMD ")]
    found += [s["command"] for s in _compose()["services"].values() if "command" in s]
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c[2:4]))
def test_every_command_the_packaging_starts_is_one_run_py_accepts(command: list[str]):
    assert command[:2] == ["python", "run.py"]
    build_parser().parse_args(command[2:])  # exits (fails the test) on a wrong option


def test_the_image_holds_every_package_and_runs_as_an_unprivileged_user():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {
        line.split()[1] for line in _dockerfile() if line.startswith("COPY ") and "/" not in line
    }
    assert packages | {"processes"} <= copied
    instructions = _dockerfile()
    users = [line for line in instructions if line.startswith("USER ")]
    assert users and users[-1] != "USER root"
    assert any(re.search(r"-c requirements\.lock", line) for line in instructions)


def test_compose_starts_the_schema_before_the_server_and_the_worker():
    services = _compose()["services"]
    assert services["init"]["command"][2] == "init"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["init"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["environment"]["CASEWORK_DB"].startswith("postgresql+psycopg://")
    assert "--workers" in services["web"]["command"]
