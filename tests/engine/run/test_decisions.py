"""Business rule tasks decided by DMN tables deployed beside the BPMN file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from designer import deploy
from engine.definitions.dmn import feel_range
from engine.errors import DefinitionError
from engine.run import cases, task_queries
from engine.runtime import Runtime
from people import directory
from tests.conftest import PROCESSES

EXAMPLES = PROCESSES / "examples"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("decision.bpmn", "decision.toml", "decision.dmn"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def _deploy(rt: Runtime, folder: Path) -> deploy.DeployResult:
    path = folder / "decision.bpmn"
    with rt.unit() as work:
        return deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    with runtime.unit() as work:
        for group, member in (("accounting", "ada"), ("management", "max")):
            directory.add_group(work, name=group)
            directory.add_user(work, username=member)
            directory.add_member(work, username=member, group=group)
    return runtime


def _route(rt: Runtime, amount: int, category: str) -> list[str]:
    with rt.unit() as work:
        ada = directory.user_by_name(work, "ada")
        opened = cases.open_case(
            work,
            case_type="EXAMPLE_DECISION",
            subject="Invoice",
            raiser=ada,
            data={"amount": amount, "category": category},
        )
        return [i.task.name for i in task_queries.case_tasks(work, opened.id)]


@pytest.mark.parametrize(
    ("amount", "category", "task"),
    [
        (300, "misc", "Approve in accounting"),
        (1000, "travel", "Approve in accounting"),  # [1000..10000] includes its ends
        (10000, "misc", "Approve as management"),
        (20000, "travel", "Approve as management"),
    ],
)
def test_the_decision_table_routes_the_invoice(rt, folder, amount, category, task):
    _deploy(rt, folder)
    assert _route(rt, amount, category) == [task]


def test_a_changed_table_is_a_new_version_and_an_unchanged_one_is_not(rt, folder: Path):
    first = _deploy(rt, folder)
    assert _deploy(rt, folder).version == first.version
    table = folder / "decision.dmn"
    table.write_text(table.read_text().replace("&gt; 10000", "&gt;= 10000"))
    assert _deploy(rt, folder).version == first.version + 1


def test_a_decision_no_listed_file_holds_is_refused_with_the_fix(rt, folder: Path):
    toml = folder / "decision.toml"
    toml.write_text(toml.read_text().replace('decisions = ["decision.dmn"]\n', ""))
    with pytest.raises(DefinitionError) as refused:
        _deploy(rt, folder)
    assert (
        "business rule task 'Assign approver group' names decision 'approver_group', which "
        "no DMN file of [case_type] decisions" in str(refused.value)
    )


def test_a_missing_dmn_file_is_named(rt, folder: Path):
    (folder / "decision.dmn").unlink()
    with pytest.raises(DefinitionError) as refused:
        _deploy(rt, folder)
    assert "decisions: cannot read" in str(refused.value)


def test_feel_ranges_read_as_comparisons():
    assert feel_range("[250..1000]") == "250 <= ? <= 1000"
    assert feel_range("]1..5[") == "1 < ? < 5"
    assert feel_range("(1..5]") == "1 < ? <= 5"
    assert feel_range('"gold"') == '"gold"'
