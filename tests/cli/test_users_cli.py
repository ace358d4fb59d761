"""Administering users from the command line (``run.py users``): invite into groups,
deactivate (their open work is named, and they can no longer be given any), reactivate,
reset; the operator or an administrator only, and the nonsense refused as on the web."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.runtime import Runtime
from engine.store.models import Group, Membership
from people import directory
from tests.cli.test_case_edit import Desk, desk, run, show  # noqa: F401 - the desk fixture


def _users(desk: Desk, capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:  # noqa: F811
    code, out, err = run(desk, capsys, "--json", "user", "list")
    assert code == 0, err
    return {u["username"]: u for u in json.loads(out)}


def test_an_invitation_joins_its_groups_and_only_administrators_invite(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run(
        desk, capsys, "--json", "users", "invite", "nia@example.com", "--name", "Nia",
        "--group", "service-desk", "--group", "specialists", "--as", "root",
    )  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    assert answer["username"] == "nia" and answer["mailed_to"] == "nia@example.com"
    assert answer["link"] is None  # mailed, not printed
    nia = _users(desk, capsys)["nia"]
    assert nia["email"] == "nia@example.com"
    assert set(nia["groups"]) == {"service-desk", "specialists"}
    code, _, err = run(desk, capsys, "users", "invite", "eve@example.com", "--as", "alice")
    assert code == 4 and "alice is not an administrator" in err
    code, _, err = run(desk, capsys, "users", "invite", "eve@example.com", "--group", "nope")
    assert code == 3 and "nope" in err
    code, _, err = run(desk, capsys, "users", "invite", "not-an-address")
    assert code == 6 and "is not a mail address" in err
    code, _, err = run(desk, capsys, "users", "invite", "nia@example.org")
    assert code == 5 and "nia" in err  # the name is taken: --username picks another
    assert "eve" not in _users(desk, capsys)  # no refusal left a user behind


def test_a_customer_is_refused_an_agent_group_on_the_command_line(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    code, _, err = run(desk, capsys, "member", "add", "carol", "service-desk")
    assert code == 6 and "carol is a customer and may not join service-desk" in err
    assert "service-desk" not in _users(desk, capsys)["carol"]["groups"]
    code, _, err = run(desk, capsys, "member", "add", "sam", "service-desk", "--as", "alice")
    assert code == 4 and "not an administrator" in err
    assert run(desk, capsys, "member", "add", "sam", "service-desk", "--as", "root")[0] == 0
    assert "service-desk" in _users(desk, capsys)["sam"]["groups"]


def test_a_deactivated_user_keeps_their_open_work_named_and_cannot_be_given_more(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    assert run(desk, capsys, "case", "assign", desk.case, "--to", "bob", "--as", "alice")[0] == 0
    code, out, err = run(desk, capsys, "--json", "users", "deactivate", "bob", "--as", "root")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["active"] is False
    assert {"kind": "case", "case": desk.case, "what": "Printer jams"} in answer["assignments"]
    code, out, _ = run(desk, capsys, "users", "assignments", "bob")
    assert code == 0 and desk.case in out
    code, _, err = run(desk, capsys, "users", "assignments", "bob", "--as", "alice")
    assert code == 4
    code, out, err = run(
        desk, capsys, "--json", "case", "open", "--type", "SUPPORT", "--subject", "Toner",
        "--as", "carol",
    )  # fmt: skip
    second = json.loads(out)["number"]
    code, _, err = run(desk, capsys, "case", "assign", second, "--to", "bob", "--as", "alice")
    assert code == 6 and "bob is deactivated: choose someone else" in err
    code, out, _ = run(desk, capsys, "case", "show", desk.case, "--as", "alice")
    assert code == 0 and "bob (deactivated)" in out  # the assignee, marked for people
    [task] = [t for t in show(desk, capsys, "alice")["tasks"] if t["state"] == "open"]
    code, _, err = run(
        desk, capsys, "task", "reassign", str(task["id"]), "--to", "bob", "--as", "alice"
    )
    assert code == 6 and "bob is deactivated" in err
    code, _, err = run(desk, capsys, "users", "deactivate", "root")
    assert code == 6 and "the last active administrator" in err
    code, out, err = run(desk, capsys, "users", "reactivate", "bob")
    assert code == 0 and "bob is active again" in out
    assert run(desk, capsys, "case", "assign", second, "--to", "bob", "--as", "alice")[0] == 0
    assert show(desk, capsys, "alice")["assignee"] == "bob"


def test_a_reset_without_an_address_prints_the_link_and_forgets_the_password(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run(desk, capsys, "users", "reset-password", "alice", "--as", "root")
    assert code == 0, err
    assert "no address to mail" in out and "/password/" in out
    rt = Runtime(desk.url)
    try:
        with rt.unit() as work:
            assert directory.user_by_name(work, "alice").password_hash is None
    finally:
        rt.close()
    code, _, err = run(desk, capsys, "users", "reset-password", "alice", "--as", "bob")
    assert code == 4
    code, _, err = run(desk, capsys, "users", "reset-password", "ghost")
    assert code == 3 and "ghost" in err


def test_an_invitation_makes_its_leads_as_the_web_s_group_picker_does(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run(
        desk, capsys, "users", "invite", "lea@example.com", "--group", "service-desk",
        "--lead", "specialists",
    )  # fmt: skip
    assert code == 0, err
    assert "invited lea in service-desk, specialists (lead)" in out
    rt = Runtime(desk.url)
    try:
        with rt.unit() as work:
            lea = directory.user_by_name(work, "lea").id
            rows = work.session.execute(
                select(Group.name, Membership.role)
                .join(Membership, Membership.group_id == Group.id)
                .where(Membership.user_id == lea)
            )
            assert dict(rows.tuples().all()) == {"service-desk": "member", "specialists": "lead"}
    finally:
        rt.close()
    code, _, err = run(desk, capsys, "users", "invite", "max@example.com", "--lead", "nope")
    assert code == 3 and "no group 'nope'" in err
    assert "max" not in _users(desk, capsys)
