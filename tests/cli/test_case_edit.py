"""Editing a case from the command line: who may change what, the audit trail with before
and after, collaborators' access (seed 000), moving a case between types, and closing,
cancelling and reopening under the case type's ``[closing]`` policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from designer import deploy
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from rules.admin import permit_case_type
from tests.conftest import PROCESSES, support_toml, wired_app
from tests.web.conftest import seed

CLOSING = """
[closing]
replies = "reopen"
grace_days = 7
outcomes = ["solved", "duplicate"]
"""


def _toml(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.replace('bpmn = "support.bpmn"', ""))
    return path


@dataclass
class Desk:
    url: str
    case: str  # carol's case, open, with its first task open


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    billing = (
        support_toml()
        .replace('key = "SUPPORT"', 'key = "BILLING"')
        .replace('prefix = "C"', 'prefix = "B"')
        .replace('manager = ["service-desk"]', 'manager = ["specialists"]')
        .replace('monitor = ["support-monitors"]', "")
    )
    with rt.unit() as work:
        for key, text in (("SUPPORT", support_toml(CLOSING)), ("BILLING", billing)):
            path = _toml(tmp_path, f"{key.lower()}.toml", text)
            config = deploy.resolve_config(PROCESSES / "support.bpmn", path, key)
            deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        directory.add_user(work, username="nobody")  # no group, no role at all
        directory.add_group(work, name="contractors")
        directory.add_user(work, username="cora")
        directory.add_member(work, username="cora", group="contractors")
    with rt.unit() as work:
        permit_case_type(work, group="contractors", case_type="SUPPORT", level="no")
        carol = directory.user_by_name(work, "carol")
        opened = case_acts.open_case(
            work, load_subject(work, carol), carol, case_type="SUPPORT", title="Printer jams"
        )
    rt.close()
    yield Desk(db_url, opened.number)


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def show(desk: Desk, capsys: pytest.CaptureFixture[str], who: str) -> dict:
    code, out, err = run(desk, capsys, "--json", "case", "show", desk.case, "--as", who)
    assert code == 0, err
    return json.loads(out)


def history(desk: Desk, capsys: pytest.CaptureFixture[str], action: str) -> list[dict]:
    return [h for h in show(desk, capsys, "alice")["history"] if h["action"] == action]


def test_managers_edit_subject_and_priority_and_the_audit_keeps_before_and_after(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    code, out, _ = run(
        desk, capsys, "case", "edit", desk.case, "--subject", "Printer on fire",
        "--priority", "urgent", "--as", "alice",
    )  # fmt: skip
    assert code == 0 and "priority 'urgent'" in out
    page = show(desk, capsys, "alice")
    assert (page["subject"], page["priority"]) == ("Printer on fire", "urgent")
    [entry] = history(desk, capsys, "edited")
    assert entry["actor"] == "alice"
    assert entry["before"] == {"subject": "Printer jams", "priority": "normal"}
    assert entry["after"] == {"subject": "Printer on fire", "priority": "urgent"}
    # the owner (stream access), a monitor (read) and a customer who may not see it: refused
    for who, code_ in (("carol", 4), ("mona", 4), ("dave", 3)):
        code, _, err = run(
            desk, capsys, "case", "edit", desk.case, "--priority", "low", "--as", who
        )
        assert code == code_, (who, err)
    code, _, err = run(desk, capsys, "case", "edit", desk.case, "--subject", "  ", "--as", "alice")
    assert code == 6 and "subject: is required" in err and "Traceback" not in err
    assert show(desk, capsys, "alice")["priority"] == "urgent"  # nothing stored by refusals


def test_reassigning_and_delegating_are_audited_and_make_the_assignee_a_collaborator(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    assert run(desk, capsys, "case", "assign", desk.case, "--to", "bob", "--as", "alice")[0] == 0
    page = show(desk, capsys, "alice")
    assert page["assignee"] == "bob" and "bob" in page["collaborators"]
    # the owner may not reassign; only the assignee delegates
    code, _, err = run(desk, capsys, "case", "assign", desk.case, "--to", "alice", "--as", "carol")
    assert code == 4 and "may not assign the case" in err
    code, _, err = run(desk, capsys, "case", "delegate", desk.case, "--to", "sam", "--as", "alice")
    assert code == 4 and "only the case's assignee delegates it" in err
    code, _, err = run(desk, capsys, "case", "delegate", desk.case, "--to", "sam", "--as", "bob")
    assert code == 0, err
    page = show(desk, capsys, "alice")
    assert page["assignee"] == "sam" and {"bob", "sam"} <= set(page["collaborators"])
    assert [(h["actor"], h["before"], h["after"]) for h in history(desk, capsys, "delegated")] == [
        ("bob", {"assignee": "bob"}, {"assignee": "sam"})
    ]
    [reassigned] = history(desk, capsys, "reassigned")
    assert reassigned["before"] == {"assignee": None} and reassigned["after"] == {"assignee": "bob"}
    # sam had only a task user's summary: as a collaborator he now reads and posts
    assert run(desk, capsys, "case", "post", desk.case, "--body", "on it", "--as", "sam")[0] == 0
    # a customer, or someone whose level for the type is "no", cannot be given the case
    for who in ("dave", "cora"):
        code, _, err = run(desk, capsys, "case", "assign", desk.case, "--to", who, "--as", "alice")
        assert code == 6 and f"{who} " in err, err
    assert run(desk, capsys, "case", "assign", desk.case, "--nobody", "--as", "alice")[0] == 0
    assert show(desk, capsys, "alice")["assignee"] is None


def test_collaboration_alone_gives_read_and_stream_unless_the_level_is_no_seed_000(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    for who in ("nobody", "cora"):
        assert run(desk, capsys, "case", "show", desk.case, "--as", who)[0] == 3
    code, out, _ = run(
        desk, capsys, "case", "collaborators", desk.case, "--add", "nobody", "--add", "cora",
        "--as", "alice",
    )  # fmt: skip
    assert code == 0 and "carol, cora, nobody" in out  # the creator was added when it opened
    # nobody has no role at all: collaboration alone lets them read, post and list it
    assert show(desk, capsys, "nobody")["number"] == desk.case
    assert run(desk, capsys, "case", "post", desk.case, "--body", "hi", "--as", "nobody")[0] == 0
    code, out, _ = run(desk, capsys, "--json", "case", "list", "--as", "nobody")
    assert [c["number"] for c in json.loads(out)] == [desk.case]
    # cora's group says "no" for SUPPORT: being a collaborator gives her nothing
    assert run(desk, capsys, "case", "show", desk.case, "--as", "cora")[0] == 3
    code, out, _ = run(desk, capsys, "--json", "case", "list", "--as", "cora")
    assert json.loads(out) == []
    # collaborators may not manage collaborators; customers are never added
    code, _, err = run(desk, capsys, "case", "collaborators", desk.case, "--add", "sam",
                       "--as", "nobody")  # fmt: skip
    assert code == 4
    code, _, err = run(desk, capsys, "case", "collaborators", desk.case, "--add", "dave",
                       "--as", "alice")  # fmt: skip
    assert code == 6 and "dave is a portal customer" in err
    assert run(desk, capsys, "case", "collaborators", desk.case, "--remove", "nobody",
               "--as", "alice")[0] == 0  # fmt: skip
    assert run(desk, capsys, "case", "show", desk.case, "--as", "nobody")[0] == 3
    assert [h["before"] for h in history(desk, capsys, "collaborator_removed")] == [
        {"user": "nobody"}
    ]


def test_moving_a_case_to_another_type_moves_its_permissions_at_once(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    # alice manages SUPPORT but may not open BILLING cases: she may not move one there
    code, _, err = run(
        desk, capsys, "case", "move", desk.case, "--type", "BILLING", "--as", "alice"
    )
    assert code == 4 and "may not open BILLING" in err
    code, _, _ = run(desk, capsys, "case", "move", desk.case, "--type", "NOPE", "--as", "root")
    assert code == 3
    assert run(desk, capsys, "case", "move", desk.case, "--type", "BILLING", "--as", "root")[0] == 0
    assert show(desk, capsys, "sam")["type"] == "BILLING"  # BILLING's managers work it now
    assert "edit" in show(desk, capsys, "sam")["allowed"]
    for who in ("alice", "mona"):  # SUPPORT's managers and monitors no longer see it
        assert run(desk, capsys, "case", "show", desk.case, "--as", who)[0] == 3
    assert show(desk, capsys, "carol")["number"] == desk.case  # still the owner's own case
    code, out, _ = run(desk, capsys, "--json", "case", "list", "--as", "alice")
    assert desk.case not in [c["number"] for c in json.loads(out)]


def test_close_with_an_outcome_cancel_and_reopen_within_the_grace_period(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    code, _, err = run(desk, capsys, "case", "close", desk.case, "--outcome", "solved",
                       "--as", "alice")  # fmt: skip
    assert code == 5 and "open task" in err  # closing waits for the tasks; cancelling does not
    for who in ("carol", "mona"):
        assert run(desk, capsys, "case", "cancel", desk.case, "--as", who)[0] == 4
    code, out, _ = run(desk, capsys, "--json", "case", "cancel", desk.case, "--reason", "dup",
                       "--as", "alice")  # fmt: skip
    assert code == 0 and json.loads(out)["outcome"] == "cancelled"
    page = show(desk, capsys, "alice")
    assert page["status"] == "closed" and all(t["state"] != "open" for t in page["tasks"])
    assert run(desk, capsys, "case", "reopen", desk.case, "--as", "carol")[0] == 4
    assert run(desk, capsys, "case", "reopen", desk.case, "--as", "alice")[0] == 0
    page = show(desk, capsys, "alice")
    assert (page["status"], page["outcome"]) == ("open", None)
    code, _, err = run(desk, capsys, "case", "close", desk.case, "--outcome", "fixed",
                       "--as", "alice")  # fmt: skip
    assert code == 6 and "one of: solved, duplicate" in err
    code, _, _ = run(desk, capsys, "case", "close", desk.case, "--outcome", "duplicate",
                     "--as", "alice")  # fmt: skip
    assert code == 0 and show(desk, capsys, "alice")["outcome"] == "duplicate"
    # eight days later the seven days of grace are over: the case is final
    later = "2099-01-01T00:00:00Z"
    code, _, err = run(desk, capsys, "--clock", later, "case", "reopen", desk.case, "--as", "alice")
    assert code == 5 and "final 7 day(s) after closing" in err
    code, _, err = run(desk, capsys, "case", "reopen", desk.case, "--as", "alice")
    assert code == 0, err
    code, _, err = run(desk, capsys, "case", "reopen", desk.case, "--as", "alice")
    assert code == 5 and "is not closed" in err
