"""Personal inbox views and bulk actions from the command line (``run.py views``,
``run.py cases bulk``): each case on its own, every refusal named with its reason, a case
the user may not see refused as "not found" and left as it was."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_case_edit import Desk, desk, run, show  # noqa: F401 - the desk fixture


def _open(desk: Desk, capsys: pytest.CaptureFixture[str], subject: str) -> str:  # noqa: F811
    code, out, err = run(
        desk, capsys, "--json", "case", "open", "--type", "SUPPORT", "--subject", subject,
        "--as", "carol",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)["number"]


def test_bulk_acts_on_each_case_and_names_each_refusal(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    second = _open(desk, capsys, "Toner")
    code, out, err = run(
        desk, capsys, "--json", "cases", "bulk", "--priority", "high", desk.case, second,
        "C-999999", "--as", "alice",
    )  # fmt: skip
    assert code == 3, err  # the first refusal's kind: not found
    rows = json.loads(out)
    assert [(r["case"], r["done"]) for r in rows] == [
        (desk.case, True),
        (second, True),
        ("C-999999", False),
    ]
    assert rows[2]["reason"] == "not found" and rows[2]["kind"] == "not_found"
    assert show(desk, capsys, "alice")["priority"] == "high"
    code, out, _ = run(desk, capsys, "cases", "bulk", "--close", desk.case, "--as", "alice")
    assert code == 5 and f"{desk.case}: refused: 1 open task" in out
    assert "0 done, 1 refused" in out
    code, out, _ = run(desk, capsys, "case", "bulk", "--assign", "bob", desk.case, "--as", "alice")
    assert code == 0 and f"{desk.case}: done" in out
    assert show(desk, capsys, "alice")["assignee"] == "bob"


def test_bulk_on_cases_the_user_may_not_see_changes_nothing(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    second = _open(desk, capsys, "Toner")
    for who in ("nobody", "dave"):  # no access at all; another customer
        code, out, _ = run(
            desk, capsys, "--json", "cases", "bulk", "--priority", "urgent", desk.case, second,
            "--as", who,
        )  # fmt: skip
        assert code == 3
        assert [(r["case"], r["reason"]) for r in json.loads(out)] == [
            (desk.case, "not found"),
            (second, "not found"),
        ]
    code, out, _ = run(desk, capsys, "cases", "bulk", "--unassign", desk.case, "--as", "mona")
    assert code == 4 and "you may not" in out  # a monitor sees the case but may not assign
    assert show(desk, capsys, "alice")["priority"] == "normal"
    bulk = ("cases", "bulk", "--as", "alice")
    code, _, err = run(desk, capsys, *bulk, "--assign", "ghost", desk.case)
    assert code == 6 and "no user 'ghost'" in err  # refused before touching any case
    with pytest.raises(SystemExit) as usage:
        run(desk, capsys, *bulk, "--priority", "whenever", desk.case)
    assert usage.value.code == 2


def test_personal_views_are_saved_listed_and_deleted_by_their_owner_only(
    desk: Desk,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run(
        desk, capsys, "--json", "views", "save", "My urgent", "--show", "mine", "--sort",
        "priority", "--dir", "desc", "--as", "alice",
    )  # fmt: skip
    assert code == 0, err
    saved = json.loads(out)
    assert saved["params"] == {"show": "mine", "sort": "priority", "dir": "desc"}
    code, out, _ = run(desk, capsys, "--json", "views", "list", "--as", "alice")
    assert [v["name"] for v in json.loads(out)] == ["My urgent"]
    code, out, _ = run(desk, capsys, "views", "list", "--as", "bob")
    assert code == 0 and "(none)" in out
    code, _, err = run(desk, capsys, "views", "delete", str(saved["id"]), "--as", "bob")
    assert code == 3 and "no personal view" in err
    code, _, err = run(desk, capsys, "views", "save", "X", "--view", "no-such", "--as", "alice")
    assert code == 3 and "no view 'no-such'" in err
    code, _, err = run(desk, capsys, "views", "save", " ", "--as", "alice")
    assert code == 6 and "name" in err
    code, out, _ = run(desk, capsys, "views", "delete", "My urgent", "--as", "alice")
    assert code == 0 and "deleted view" in out
    code, out, _ = run(desk, capsys, "--json", "views", "list", "--as", "alice")
    assert json.loads(out) == []
