"""Every failure a user can cause ends in one line naming the problem and a documented exit
code, never a traceback unless asked for with ``--debug``.

Each case runs ``run.py`` as a subprocess in a scratch folder with ``--db`` naming a scratch
database (SQLite, and PostgreSQL where the store is involved), as a person or a script
would.  The mail servers' failures are in ``tests/mail/test_cli_failures.py``.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cli.errors import EXIT_CODES
from rules.levels import ACTIONS
from tests.cli.test_run import Cli
from tests.conftest import PROCESSES, ROOT
from tests.mail.dovecot import spare_port

pytestmark = pytest.mark.integration

APPROVAL = ROOT / "tests" / "engine" / "processes" / "approval.bpmn"


class Run(Cli):
    """``run.py --db URL ...`` with no ``CASEWORK_DB`` in the environment."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        super().__init__(db_url, cwd)
        self.db = self.env.pop("CASEWORK_DB")

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return super().__call__("--db", self.db, *args, ok=ok)


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``error:`` line of standard error; no traceback beside it."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def refused(run: Run, code: int, *args: str) -> str:
    result = run(*args, ok=False)
    assert result.returncode == code, (args, result.returncode, result.stderr)
    assert result.stdout == "", result.stdout
    return one_error(result)


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Run:
    return Run(db_url, tmp_path)


@pytest.fixture
def lite(tmp_path: Path) -> Run:
    """For failures the store plays no part in."""
    return Run(f"sqlite:///{tmp_path / 'casework.db'}", tmp_path)


def test_forged_ids_name_the_missing_object(run: Run):
    run("demo")
    for code, command, named in [
        (3, "task complete 999 --as alice", "no task 999"),
        (3, "case show C-999999 --as alice", "no case C-999999"),
        (3, "task list --as mallory", "no user 'mallory'"),
        (3, "member add alice no-such-group", "no group 'no-such-group'"),
        (3, "mail quarantine list --mailbox nope", "no mailbox 'nope'"),
        (3, "case open --type SUPPORT --subject x --as carol --contact 999", "no contact 999"),
        (3, "outbox retry 999", "no outbox message 999"),
    ]:
        assert named in refused(run, code, *command.split()), command
    # a number past what the database holds names nothing: a usage error naming the argument
    for command, named in [
        ("task claim 99999999999 --as alice", "task_id: '99999999999' is not an id"),
        (f"outbox retry {'9' * 20}", "is not an id"),
        (f"migrate --type SUPPORT --to {'9' * 20}", "--to: '9999"),
    ]:
        result = run(*command.split(), ok=False)
        assert result.returncode == 2 and named in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_limit_below_one_is_a_usage_error(lite: Run):
    lite("demo")
    for limit in ("-5", "0", "ten"):
        result = lite("case", "list", "--limit", limit, "--as", "alice", ok=False)
        assert result.returncode == 2 and result.stdout == ""
        assert f"argument --limit: {limit!r} is not a row limit" in result.stderr


def test_bad_json_is_named_once(lite: Run):
    lite("demo")
    line = refused(lite, 6, "task", "complete", "1", "--as", "alice", "--data", "{bad")
    assert line == "error: --data is not valid JSON"
    result = lite("task", "complete", "1", "--as", "alice", "--data", "{bad", ok=False)
    assert result.stderr.count("Expecting property name") == 1
    assert "  --data: Expecting property name enclosed in double quotes (line 1, column 2)" in (
        result.stderr.splitlines()
    )


def test_an_unknown_action_is_a_usage_error_listing_the_valid_ones(lite: Run):
    lite("demo")
    result = lite(
        "access", "explain", "--user", "carol", "--case", "C-000001", "--action", "fly", ok=False
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice: 'fly'" in result.stderr
    assert all(repr(action) in result.stderr for action in ACTIONS)


def test_a_failing_process_step_names_it_and_leaves_the_case_as_it_was(run: Run):
    run("demo")
    assert "APPROVAL: deployed version 1" in run("deploy", str(APPROVAL)).stdout
    # the script needs ``amount``: opening without it fails and opens nothing
    line = refused(run, 8, "case", "open", "--type", "APPROVAL", "--subject", "x", "--as", "alice")
    assert "the process step 'Compute the total' failed" in line
    assert "NameError: name 'amount' is not defined" in line and "nothing was changed" in line
    failed = run("case", "open", "--type", "APPROVAL", "--subject", "x", "--as", "alice", ok=False)
    assert "  BPMN element: Script_Total" in failed.stderr.splitlines()
    assert "  script line 2: total = amount * items" in failed.stderr.splitlines()
    assert run.json("case", "list", "--type", "APPROVAL", "--as", "alice") == []

    opened = run.json("case", "open", "--type", "APPROVAL", "--subject", "Laptop", "--as",
                      "alice", "--data", '{"amount": 900}')  # fmt: skip
    number, (task,) = opened["number"], [t for t in opened["tasks"] if t["state"] == "open"]
    before = run.json("case", "show", number, "--as", "alice")
    inbox = run.json("task", "list", "--as", "alice")
    # the gateway's condition names ``approved``, which no step sets
    line = refused(run, 8, "task", "complete", str(task["id"]), "--as", "alice")
    assert line.startswith(f"error: {number}: the process step 'Approved?' failed: ")
    assert "NameError: name 'approved' is not defined" in line
    assert "nothing was changed; recorded as incident 1" in line
    failed = run("task", "complete", str(task["id"]), "--as", "alice", ok=False)
    assert "  BPMN element: Gateway_Approved" in failed.stderr.splitlines()
    assert "  expression: approved == True and total < limit" in failed.stderr.splitlines()
    # rolled back: the task is still open, no history entry, nothing else moved -- but the
    # case's managers see the incident (and `run.py incidents retry` after a fix)
    after = run.json("case", "show", number, "--as", "alice")
    [incident] = after.pop("incidents")
    assert (incident["id"], incident["element_id"], incident["attempts"]) == (
        1,
        "Gateway_Approved",
        2,
    )
    assert before.pop("incidents") == []
    assert after == before
    assert run.json("task", "list", "--as", "alice") == inbox

    debug = run("--debug", "task", "complete", str(task["id"]), "--as", "alice", ok=False)
    assert debug.returncode == 8
    assert "Traceback (most recent call last)" in debug.stderr
    assert "WorkflowTaskException" in debug.stderr
    assert debug.stderr.splitlines()[-3].startswith(f"error: {number}: the process step")
    run.env["CASEWORK_DEBUG"] = "1"
    assert "Traceback" in run("task", "complete", str(task["id"]), "--as", "alice", ok=False).stderr
    del run.env["CASEWORK_DEBUG"]

    scripted = run("--json", "task", "complete", str(task["id"]), "--as", "alice", ok=False)
    assert scripted.returncode == 8 and scripted.stdout == ""
    error = json.loads(scripted.stderr.splitlines()[-1])["error"]
    assert (error["exit_code"], error["kind"]) == (8, "process_error")
    assert error["details"] == {
        "BPMN element": "Gateway_Approved",
        "expression": "approved == True and total < limit",
    }
    last = run.json("case", "show", number, "--as", "alice")
    assert last.pop("incidents")[0]["attempts"] == 5  # one incident, every failure counted
    assert last == before


def test_a_database_that_cannot_be_used_is_exit_7(tmp_path: Path, postgres_url: str):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database " * 100)
    closed = f"postgresql://postgres@127.0.0.1:{spare_port()}/test"
    for url, named in [
        (f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", "unable to open database file"),
        (f"sqlite:///{tmp_path / 'empty.db'}", "is not set up for this version of Casework"),
        (f"sqlite:///{garbage}", "file is not a database"),
        ("no-url-at-all", "not a database URL Casework can use"),
        ("mysql://someone:secret@127.0.0.1/db", "database driver for mysql://someone:***@"),
        (closed, "Connection refused"),
        (f"{postgres_url}?schema=cw_never_made", "run `python run.py init` first"),
    ]:
        line = refused(Run(url, tmp_path), 7, "task", "list", "--as", "alice")
        assert named in line, (url, line)
        assert "secret" not in line


def test_unreadable_and_broken_files_are_named(lite: Run, tmp_path: Path):
    lite("init")
    missing, folder = tmp_path / "missing.bpmn", tmp_path / "folder.bpmn"
    folder.mkdir()
    for args, line in [
        (("deploy", str(missing)), f"{missing}: error: cannot read: no such file"),
        (("deploy", str(folder)), f"{folder}: error: cannot read: is a directory"),
        (("validate", str(missing)), f"{missing}:1:1: error: cannot read"),
        (
            ("test-process", str(missing), str(PROCESSES / "support.happy.scenario.toml")),
            f"{missing}: error: cannot read: no such file",
        ),
        (
            ("test-process", str(PROCESSES / "support.bpmn"), str(tmp_path / "gone.toml")),
            f"{tmp_path / 'gone.toml'}: error: cannot read: No such file or directory",
        ),
    ]:
        result = lite(*args, ok=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert line in result.stdout + result.stderr, (args, result.stdout, result.stderr)

    (tmp_path / "support.bpmn").write_bytes((PROCESSES / "support.bpmn").read_bytes())
    (tmp_path / "support.toml").write_text('[case_type\nkey = "SUPPORT"\n')
    broken = lite("deploy", str(tmp_path / "support.bpmn"), ok=False)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert f"{tmp_path / 'support.toml'}:1:" in broken.stderr
    assert "error: not valid TOML" in broken.stderr
    scenario = tmp_path / "broken.scenario.toml"
    scenario.write_text("[[step]\n")
    broken = lite("test-process", str(PROCESSES / "support.bpmn"), str(scenario), ok=False)
    assert broken.returncode == 1 and f"{scenario}: error: not valid TOML" in broken.stderr
    assert "Traceback" not in broken.stderr
    notxml = tmp_path / "notxml.bpmn"
    notxml.write_text("this is no BPMN")
    (tmp_path / "notxml.toml").write_text((PROCESSES / "support.toml").read_text())
    broken = lite("deploy", str(notxml), ok=False)
    assert broken.returncode == 1 and "not well-formed XML" in broken.stderr
    policy = tmp_path / "sla.toml"
    policy.write_text("[sla\n")
    assert "cannot read" in refused(lite, 6, "sla", "policy", "--type", "SUPPORT", str(policy))
    assert "cannot read" in refused(
        lite, 6, "mail", "import", str(tmp_path / "none.eml"), "--mailbox", "x"
    )


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(lite: Run):
    lite("demo")
    with sqlite3.connect(lite.db.removeprefix("sqlite:///")) as db:  # a damaged row
        db.execute("update cases set workflow_state = '{damaged' where number = 'C-000001'")
    args = ("task", "complete", "1", "--as", "alice", "--data", '{"needs_investigation": false}')
    line = refused(lite, 70, *args)
    assert line.startswith("error: internal error: JSONDecodeError: ")
    assert line.endswith("(run with --debug for the traceback)")
    debug = lite("--debug", *args, ok=False)
    assert debug.returncode == 70 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[-1].startswith("error: internal error: JSONDecodeError")


def test_json_output_is_the_document_alone_and_migrations_are_quiet(run: Run, tmp_path: Path):
    fresh = run("init")
    assert fresh.stderr == ""  # no "alembic.runtime.migration Context impl ..." lines
    assert json.loads(run("--json", "init").stdout)["ready"] is True
    assert (
        "Context impl"
        in Run(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)("--debug", "init").stderr
    )
    demo = json.loads(run("--json", "demo").stdout)
    assert demo["cases"] == ["C-000001", "C-000002", "C-000003"]
    for args in [
        ("member", "add", "mona", "specialists"),
        ("sla", "wait", "C-000001", "--as", "alice"),
        ("worker", "--once"),
        ("mail", "poll", "--once"),
        ("access", "permit", "specialists", "--type", "SUPPORT", "--level", "read"),
        ("access", "customers", "specialists", "--customer", "all"),
        ("access", "portal", "carol", "--view", "own", "--edit", "own"),
        ("access", "hide", "C-000001", "--as", "alice"),
        ("access", "restrict", "C-000002", "--grant", "user:alice:full", "--as", "admin"),
        ("access", "grant", "C-000002", "--grant", "user:bob:read", "--as", "admin"),
        ("access", "unrestrict", "C-000002", "--as", "admin"),
        ("view", "add", "mine", "--groups", "specialists"),
        ("follow", "--type", "SUPPORT", "--as", "alice"),
        ("deploy", str(PROCESSES / "support.bpmn")),
        (
            "test-process",
            str(PROCESSES / "support.bpmn"),
            str(PROCESSES / "support.happy.scenario.toml"),
        ),
    ]:
        result = run("--json", *args)
        json.loads(result.stdout)  # the whole of standard output is one document
        assert result.stderr == "", (args, result.stderr)
    refused_ = run("--json", "case", "show", "C-999999", "--as", "alice", ok=False)
    assert refused_.returncode == 3 and refused_.stdout == ""
    assert json.loads(refused_.stderr) == {
        "error": {
            "exit_code": 3,
            "kind": "not_found",
            "message": "no case C-999999",
            "details": {},
        }
    }


def test_the_documented_exit_codes_are_the_ones_the_cli_uses():
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert [int(code) for code in re.findall(r"^\| (\d+) \|", operations, re.M)] == list(EXIT_CODES)
    readme = (ROOT / "README.md").read_text()
    listed = readme[readme.index("exit codes are") :].split(";")[0]
    for code, (kind, _) in EXIT_CODES.items():
        if code not in (0, 130):
            assert f"{code} " in listed, (code, kind)


def test_serving_on_an_address_in_use_is_named(lite: Run):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = refused(lite, 6, "serve", "--port", str(port), "--no-worker")
    assert line == f"error: cannot serve on 127.0.0.1:{port}"


def test_a_thread_count_out_of_range_is_named(lite: Run):
    line = refused(lite, 6, "serve", "--threads", "0", "--no-worker")
    assert "request threads must be a whole number from 1 to 256" in line
