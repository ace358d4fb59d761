"""Child records from the command line: a mail, call, note, attachment or to-do linked to
cases has its own access list (seed 000: seeing the case is not seeing its children), the
case type's ``[children]`` switch propagates the assignee and teams, and restricting a
record is refused, naming the conflict, by the seed-004 guards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from designer import deploy
from engine.runtime import UnitOfWork
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from tests.conftest import PROCESSES, support_toml, wired_app
from tests.web.conftest import seed


@dataclass
class Desk:
    url: str
    cases: list[str]  # two SUPPORT cases of carol's, then a BILLING case


def deploy_types(work: UnitOfWork, tmp_path: Path) -> None:
    """SUPPORT propagates the assignee to its children, BILLING its teams (specialists)."""
    billing = (
        support_toml('[children]\npropagate = ["teams"]\n')
        .replace('key = "SUPPORT"', 'key = "BILLING"')
        .replace('prefix = "C"', 'prefix = "B"')
        .replace('manager = ["service-desk"]', 'manager = ["specialists"]')
    )
    support = support_toml('[children]\npropagate = ["assignee"]\n')
    for key, text in (("SUPPORT", support), ("BILLING", billing)):
        path = tmp_path / f"{key.lower()}.toml"
        path.write_text(text.replace('bpmn = "support.bpmn"', ""))
        config = deploy.resolve_config(PROCESSES / "support.bpmn", path, key)
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)


def open_cases(work: UnitOfWork) -> list[str]:
    carol = directory.user_by_name(work, "carol")
    root = directory.user_by_name(work, "root")
    numbers = [
        case_acts.open_case(
            work, load_subject(work, carol), carol, case_type="SUPPORT", title=title
        ).number
        for title in ("Printer jams", "Toner empty")
    ]
    billing = case_acts.open_case(
        work, load_subject(work, root), root, case_type="BILLING", title="Invoice twice"
    )
    return [*numbers, billing.number]


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:
        deploy_types(work, tmp_path)
    with rt.unit() as work:
        numbers = open_cases(work)
    rt.close()
    yield Desk(db_url, numbers)


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def add(desk: Desk, capsys: pytest.CaptureFixture[str], who: str, *args: str) -> dict:
    code, out, err = run(desk, capsys, "--json", "record", "add", *args, "--as", who)
    assert code == 0, err
    return json.loads(out)


def listed(desk: Desk, capsys: pytest.CaptureFixture[str], number: str, who: str) -> list[str]:
    code, out, err = run(desk, capsys, "--json", "record", "list", number, "--as", who)
    assert code == 0, err
    return [r["title"] for r in json.loads(out)]


def sees(desk: Desk, capsys: pytest.CaptureFixture[str], record: int, who: str) -> bool:
    code, _, err = run(desk, capsys, "record", "show", str(record), "--as", who)
    assert code in (0, 3), err
    return code == 0


def test_seeing_the_case_is_not_seeing_its_children_seed_000(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    case = desk.cases[0]
    note = add(desk, capsys, "alice", case, "--kind", "note", "--title", "Called the vendor")
    assert note["cases"] == [case] and note["access"]["users"] == ["alice"]
    mail = add(desk, capsys, "alice", case, "--kind", "mail", "--title", "Quote",
               "--ref", "<q1@acme.example>", "--user", "mona")  # fmt: skip
    # bob works the case as alice does, but neither record names him
    assert listed(desk, capsys, case, "alice") == ["Called the vendor", "Quote"]
    assert listed(desk, capsys, case, "bob") == []
    assert not sees(desk, capsys, note["id"], "bob")
    assert listed(desk, capsys, case, "mona") == ["Quote"]  # the monitor was named on the mail
    assert listed(desk, capsys, case, "root") == ["Called the vendor", "Quote"]  # admin
    # the customer who owns the case never sees child records; another customer: no case
    assert listed(desk, capsys, case, "carol") == []
    assert not sees(desk, capsys, mail["id"], "carol")
    assert run(desk, capsys, "record", "list", case, "--as", "dave")[0] == 3
    # forged and malformed ids are "not found", like a record bob may not see
    for forged in ("99999", "abc", "-1"):
        code, _, err = run(desk, capsys, "record", "show", forged, "--as", "alice")
        assert code == 3 and "no record" in err and "Traceback" not in err
    # sharing puts bob on the list; taking him off hides it again
    code, out, _ = run(desk, capsys, "record", "share", str(note["id"]), "--user", "bob",
                       "--as", "alice")  # fmt: skip
    assert code == 0 and "shared with bob" in out
    assert sees(desk, capsys, note["id"], "bob")
    assert run(desk, capsys, "record", "share", str(note["id"]), "--user", "bob", "--remove",
               "--as", "alice")[0] == 0  # fmt: skip
    assert not sees(desk, capsys, note["id"], "bob")
    # the record keeps its own history; the case's history (bob reads it) says nothing of it
    _, out, _ = run(desk, capsys, "--json", "record", "show", str(note["id"]), "--as", "alice")
    assert [(h["actor"], h["action"]) for h in json.loads(out)["history"]] == [
        ("alice", "record_added"),
        ("alice", "record_shared"),
        ("alice", "record_unshared"),
    ]
    _, out, _ = run(desk, capsys, "--json", "case", "show", case, "--as", "bob")
    assert "Called the vendor" not in out and "record" not in {
        h["entity"] for h in json.loads(out)["history"]
    }
    # mona reads the case but does not work it: she may not share; dave sees nothing
    code, _, err = run(desk, capsys, "record", "share", str(mail["id"]), "--user", "bob",
                       "--as", "mona")  # fmt: skip
    assert code == 4 and "do not work its case" in err
    assert run(desk, capsys, "record", "share", str(mail["id"]), "--user", "bob",
               "--as", "dave")[0] == 3  # fmt: skip
    # customers cannot be put on a list; unknown kinds and names are bad input
    code, _, err = run(desk, capsys, "record", "share", str(mail["id"]), "--user", "carol",
                       "--as", "alice")  # fmt: skip
    assert code == 6 and "carol is a portal customer" in err
    code, _, err = run(desk, capsys, "record", "add", case, "--kind", "note", "--title", "  ",
                       "--as", "alice")  # fmt: skip
    assert code == 6 and "title: is required" in err
    # a customer may not add records to their own case; an unseen case is not found
    assert run(desk, capsys, "record", "add", case, "--kind", "note", "--title", "x",
               "--as", "carol")[0] == 4  # fmt: skip
    assert run(desk, capsys, "record", "add", desk.cases[2], "--kind", "note", "--title", "x",
               "--as", "alice")[0] == 3  # fmt: skip


def test_the_case_type_propagates_its_assignee_and_teams_to_the_children(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    case, billing = desk.cases[0], desk.cases[2]
    note = add(desk, capsys, "alice", case, "--kind", "call", "--title", "Callback")
    assert not sees(desk, capsys, note["id"], "bob")
    # SUPPORT propagates the assignee: assigning bob puts him on the list, and off again
    assert run(desk, capsys, "case", "assign", case, "--to", "bob", "--as", "alice")[0] == 0
    assert sees(desk, capsys, note["id"], "bob")
    _, out, _ = run(desk, capsys, "--json", "record", "show", str(note["id"]), "--as", "bob")
    assert json.loads(out)["access"] == {"users": ["alice"], "groups": [], "propagated": ["bob"]}
    assert run(desk, capsys, "case", "assign", case, "--to", "alice", "--as", "root")[0] == 0
    assert not sees(desk, capsys, note["id"], "bob")
    # BILLING propagates its teams: the specialists see what root adds
    todo = add(desk, capsys, "root", billing, "--kind", "todo", "--title", "Refund")
    assert todo["access"]["propagated"] == ["group:specialists"]
    assert sees(desk, capsys, todo["id"], "sam")
    assert not sees(desk, capsys, todo["id"], "alice")  # she cannot see the case at all
    # a restricted record keeps only its own grants: propagation no longer reaches it
    assert run(desk, capsys, "record", "restrict", str(todo["id"]), "--as", "root")[0] == 0
    assert not sees(desk, capsys, todo["id"], "sam")
    assert run(desk, capsys, "record", "unrestrict", str(todo["id"]), "--as", "root")[0] == 0
    assert sees(desk, capsys, todo["id"], "sam")


@pytest.mark.parametrize("obstacle", ["two cases", "restricted", "checked out", "to-do"])
def test_restricting_a_record_is_refused_naming_the_conflict_seed_004(
    desk: Desk, capsys: pytest.CaptureFixture[str], obstacle: str
):
    first, second = desk.cases[:2]
    doc = add(desk, capsys, "alice", first, "--kind", "attachment", "--title", "contract.pdf",
              "--ref", "attachment:17")  # fmt: skip
    rid = str(doc["id"])
    expected = {
        "two cases": f"record {rid} is linked to 1 other case(s): {second}",
        "restricted": f"record {rid} is already restricted",
        "checked out": f"record {rid} is checked out to ACME Legal",
        "to-do": f"also carries {second}",
    }[obstacle]
    if obstacle == "two cases":
        assert run(desk, capsys, "record", "link", rid, second, "--as", "alice")[0] == 0
    if obstacle == "restricted":
        assert run(desk, capsys, "record", "restrict", rid, "--as", "root")[0] == 0
    if obstacle == "checked out":
        code, out, _ = run(desk, capsys, "record", "checkout", rid, "--to", "ACME Legal",
                           "--as", "alice")  # fmt: skip
        assert code == 0 and "checked out to ACME Legal" in out
    if obstacle == "to-do":
        todo = add(desk, capsys, "alice", first, second, "--kind", "todo", "--title", "Review")
        assert run(desk, capsys, "record", "attach", str(todo["id"]), rid, "--as", "alice")[0] == 0
    # only administrators restrict (seed 004, rule 1); once restricted, alice sees nothing
    code, _, err = run(desk, capsys, "record", "restrict", rid, "--as", "alice")
    if obstacle == "restricted":
        assert code == 3 and f"no record {rid}" in err
    else:
        assert code == 4 and "only administrators" in err
    code, _, err = run(desk, capsys, "record", "restrict", rid, "--user", "bob", "--as", "root")
    assert code == 5 and expected in err and "Traceback" not in err, err
    # the case itself cannot be restricted either while the item would leak
    if obstacle in ("two cases", "checked out", "to-do"):
        code, _, err = run(desk, capsys, "access", "restrict", first, "--as", "root")
        assert code == 5, err
    if obstacle == "checked out":  # checked in, the restriction goes through
        assert run(desk, capsys, "record", "checkin", rid, "--as", "alice")[0] == 0
        code, _, err = run(desk, capsys, "record", "restrict", rid, "--user", "bob",
                           "--as", "root")  # fmt: skip
        assert code == 0, err
        assert sees(desk, capsys, doc["id"], "bob")  # named by the restriction
        # the restriction replaced the list: alice is off it; and a restricted record
        # belongs to one case, linking it elsewhere is refused
        assert not sees(desk, capsys, doc["id"], "alice")
        code, _, err = run(desk, capsys, "record", "link", rid, second, "--as", "root")
        assert code == 5 and "restricted" in err
