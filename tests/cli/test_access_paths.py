"""Every ``--as`` command asks the same decision as the API: a forged case number or task id
(another customer's case, a restricted case, a hidden case, a task of one) answers exactly
as a missing one - exit code 3 and the same message but for the id - and the commands
that change something are refused by the rules, not the engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from engine.run import cases
from engine.runtime import Runtime
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from rules.restriction import restrict
from tests.conftest import wired_app
from tests.web.conftest import seed

MISSING_CASE, MISSING_TASK = "C-999999", "999999"


@dataclass
class Desk:
    url: str
    numbers: dict[str, str]  # why it is invisible -> case number
    tasks: dict[str, str]  # why -> task id of that case
    own: str  # carol's own case


def _open(rt: Runtime, who: str, title: str) -> tuple[str, str]:
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        opened = case_acts.open_case(
            work, load_subject(work, user), user, case_type="SUPPORT", title=title
        )
        return opened.number, str(opened.task_ids[0])


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    own, _ = _open(rt, "carol", "Carol's printer")
    theirs, their_task = _open(rt, "dave", "Dave's invoice")
    hidden, hidden_task = _open(rt, "carol", "Hidden one")
    locked, locked_task = _open(rt, "alice", "Locked away")
    with rt.unit() as work:
        alice = load_subject(work, directory.user_by_name(work, "alice"))
        case_acts.set_hidden(work, alice, hidden, True)
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    rt.close()
    yield Desk(
        db_url,
        {"another customer's": theirs, "hidden": hidden, "restricted": locked},
        {"another customer's": their_task, "hidden": hidden_task, "restricted": locked_task},
        own,
    )


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--db", desk.url, *args])
    return code, capsys.readouterr().err


CASE_COMMANDS = [
    ("case", "show", "{}"),
    ("case", "post", "{}", "--body", "hello"),
    ("case", "close", "{}"),
    ("case", "close", "{}", "--outcome", "solved"),
    ("case", "edit", "{}", "--priority", "high"),
    ("case", "assign", "{}", "--to", "bob"),
    ("case", "delegate", "{}", "--to", "bob"),
    ("case", "move", "{}", "--type", "SUPPORT"),
    ("case", "cancel", "{}"),
    ("case", "reopen", "{}"),
    ("case", "collaborators", "{}"),
    ("case", "collaborators", "{}", "--add", "bob"),
    ("sla", "show", "{}"),
    ("sla", "wait", "{}"),
    ("access", "hide", "{}"),
    ("access", "restrict", "{}"),
    ("access", "grant", "{}", "--grant", "user:carol:read"),
    ("access", "unrestrict", "{}"),
    ("access", "explain", "--user", "{as}", "--case", "{}", "--action", "edit"),
]
TASK_COMMANDS = [
    ("task", "show", "{}"),
    ("task", "claim", "{}"),
    ("task", "release", "{}"),
    ("task", "complete", "{}", "--data", "{{}}"),
    ("task", "reassign", "{}", "--to", "bob"),
    ("task", "delegate", "{}", "--to", "bob"),
]


@pytest.mark.parametrize(
    ("who", "invisible"),
    [
        ("carol", ("another customer's", "hidden", "restricted")),
        ("sam", ("another customer's", "hidden", "restricted")),
        ("alice", ("restricted",)),
    ],
)
def test_every_as_command_answers_a_forged_id_as_a_missing_one(
    desk: Desk, capsys: pytest.CaptureFixture[str], who: str, invisible: tuple[str, ...]
):
    for why in invisible:
        for commands, forged, missing in (
            (CASE_COMMANDS, desk.numbers[why], MISSING_CASE),
            (TASK_COMMANDS, desk.tasks[why], MISSING_TASK),
        ):
            for command in commands:
                args = [a.replace("{as}", who) for a in command]
                seen = run(desk, capsys, *(a.format(forged) for a in args), "--as", who)
                gone = run(desk, capsys, *(a.format(missing) for a in args), "--as", who)
                assert seen[0] == gone[0] == 3, (who, why, command, seen, gone)
                assert seen[1].replace(forged, "ID") == gone[1].replace(missing, "ID"), (
                    who,
                    why,
                    command,
                )


def test_closing_a_case_one_may_not_see_reveals_no_open_tasks(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    """The issue's finding: a portal user closed a case not visible to them, and "has open
    tasks" told them it existed.  Now the case is simply not found; the refusal about open
    tasks only reaches someone who may close it."""
    code, err = run(
        desk, capsys, "case", "close", desk.numbers["another customer's"], "--as", "carol"
    )
    assert code == 3 and "open task" not in err
    code, err = run(desk, capsys, "case", "close", desk.own, "--as", "carol")
    assert code == 4 and "carol may not close the case (" in err and "needs write" in err
    code, err = run(desk, capsys, "case", "close", desk.own, "--as", "alice")
    assert code == 5 and "open task" in err


def test_opening_a_case_asks_who_may_open_which_type(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    code, err = run(
        desk, capsys, "case", "open", "--type", "SUPPORT", "--subject", "x", "--as", "sam"
    )
    assert code == 4 and "sam may not open SUPPORT cases" in err
    code, err = run(
        desk, capsys, "case", "open", "--type", "SUPPORT", "--subject", "x", "--priority", "urgent",
        "--as", "carol",
    )  # fmt: skip
    assert code == 6 and "customers cannot choose a priority" in err
    code, err = run(
        desk, capsys, "case", "open", "--type", "SUPPORT", "--subject", "x",
        "--data", '{"triage_note": "skip the queue"}', "--as", "carol",
    )  # fmt: skip
    assert code == 6 and "triage_note: is not a field customers may set" in err
    code, _ = run(
        desk, capsys, "--json", "case", "open", "--type", "SUPPORT", "--subject", "x",
        "--data", '{"product": "Printer 5"}', "--as", "carol",
    )  # fmt: skip
    assert code == 0


def test_explain_covers_every_action_and_says_which_rule_decided(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    code = main(["--db", desk.url, "access", "explain", "--user", "mona", "--case", desk.own,
                 "--action", "post", "--section", "communications"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 4
    assert (
        out.splitlines()[0] == "DENIED: post in section communications needs stream, access is read"
    )
    assert "decided by system:" in out
    code = main(["--db", desk.url, "access", "explain", "--user", "alice", "--case", desk.own,
                 "--action", "edit"])  # fmt: skip
    assert code == 0 and "decided by system" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:  # a usage error, listing the known actions
        run(desk, capsys, "access", "explain", "--user", "alice", "--case", desk.own,
            "--action", "fly")  # fmt: skip
    err = capsys.readouterr().err
    assert usage.value.code == 2 and "invalid choice: 'fly'" in err and "Traceback" not in err
    # a customer asks about someone else: only administrators may
    code, err = run(desk, capsys, "access", "explain", "--user", "alice", "--case", desk.own,
                    "--as", "carol")  # fmt: skip
    assert code == 4 and "only administrators" in err


def test_service_levels_are_for_agents(desk: Desk, capsys: pytest.CaptureFixture[str]):
    code, err = run(desk, capsys, "sla", "show", desk.own, "--as", "carol")
    assert code == 4 and "customers never read the case's internal posts" in err
    assert run(desk, capsys, "sla", "show", desk.own, "--as", "alice")[0] == 0
