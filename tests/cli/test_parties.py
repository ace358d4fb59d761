"""Accounts, contacts and leads from the command line: who sees which account, contact and
case (the one visibility decision), linking them to a case as an audited edit, the parent
account's view of its child accounts' cases (seed 003) and the all-or-nothing CSV import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from rules.admin import set_portal_access
from tests.conftest import wired_app
from tests.web.conftest import seed


@dataclass
class Desk:
    url: str
    case: str  # carol's case (customer group Acme)
    wes: int  # contact id of Wes, on the account Acme-West


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        opened = case_acts.open_case(
            work, load_subject(work, carol), carol, case_type="SUPPORT", title="Printer jams"
        )
        directory.add_customer_group(work, name="Holding")
        for name in ("paula", "wes"):
            directory.add_user(work, username=name)
    rt.close()
    desk = Desk(db_url, opened.number, 0)
    steps = [
        ("account", "add", "Holding-HQ", "--customer", "Holding"),
        ("account", "add", "Acme-West", "--customer", "Acme", "--parent", "Holding-HQ"),
        ("contact", "add", "Paula", "--account", "Holding-HQ", "--email", "paula@holding.example",
         "--user", "paula"),
    ]  # fmt: skip
    for step in steps:
        assert main(["--db", db_url, *step]) == 0, step
    rt = wired_app(db_url).runtime
    with rt.unit() as work:
        wes = directory.add_contact(
            work, name="Wes", account="Acme-West", email="wes@acme.example", username="wes"
        )
        for name in ("paula", "wes"):
            set_portal_access(work, username=name, view="all", edit="all", parent_visibility=True)
        desk.wes = wes.id
    rt.close()
    yield desk


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def answer(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> dict | list:
    code, out, err = run(desk, capsys, "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_accounts_list_their_contacts_and_the_cases_linked_to_them(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    rows = answer(desk, capsys, "account", "list", "--as", "alice")
    assert [(r["name"], r["customer"], r["parent"]) for r in rows] == [
        ("Acme-West", "Acme", "Holding-HQ"),
        ("Holding-HQ", "Holding", None),
    ]
    assert run(desk, capsys, "account", "add", "Acme-West", "--customer", "Acme")[0] == 5
    code, _, err = run(desk, capsys, "account", "add", "Orphan")
    assert code == 6 and "customer" in err and "Traceback" not in err
    assert run(desk, capsys, "account", "add", "X", "--parent", "Nope")[0] == 3
    code, out, _ = run(desk, capsys, "case", "account", desk.case, "--set", "Acme-West",
                       "--as", "alice")  # fmt: skip
    assert code == 0 and "Acme-West" in out
    page = answer(desk, capsys, "account", "show", "Acme-West", "--as", "alice")
    assert page["parent"] == "Holding-HQ" and [c["name"] for c in page["contacts"]] == ["Wes"]
    assert [c["number"] for c in page["cases"]] == [desk.case]
    assert answer(desk, capsys, "account", "show", "Holding-HQ", "--as", "alice")["children"] == [
        "Acme-West"
    ]
    # a specialist sees the account (customer groups) but not the case: it is not listed
    assert answer(desk, capsys, "account", "show", "Acme-West", "--as", "sam")["cases"] == []
    # a customer of another account: "not found", as an account that does not exist
    for name in ("Acme-West", "Nope"):
        code, _, err = run(desk, capsys, "account", "show", name, "--as", "dave")
        assert code == 3 and f"no account '{name}'" in err
    assert answer(desk, capsys, "account", "list", "--as", "dave") == []


def test_a_contact_page_lists_only_the_cases_the_user_may_see(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    wes = str(desk.wes)
    assert run(desk, capsys, "case", "contacts", desk.case, "--add", wes, "--as", "alice")[0] == 0
    names = [
        c["name"]
        for c in answer(desk, capsys, "case", "parties", desk.case, "--as", "alice")["contacts"]
    ]
    assert names == ["Carol", "Wes"]
    page = answer(desk, capsys, "contact", "show", wes, "--as", "alice")
    assert page["account"] == "Acme-West" and [c["number"] for c in page["cases"]] == [desk.case]
    # sam may see the contact but not the case; the page says nothing of it
    assert answer(desk, capsys, "contact", "show", wes, "--as", "sam")["cases"] == []
    # dave (Globex) may not see the contact at all; a forged id answers the same
    for contact in (wes, "999999"):
        code, _, err = run(desk, capsys, "contact", "show", contact, "--as", "dave")
        assert code == 3 and f"no contact {contact}" in err
    assert [c["name"] for c in answer(desk, capsys, "contact", "list", "--as", "dave")] == ["Dave"]
    # Wes, now a contact of the case, sees it in the portal (seed 003: cases naming them)
    assert run(desk, capsys, "case", "show", desk.case, "--as", "wes")[0] == 0
    # only managers change a case's contacts; the case is "not found" to those who may not see it
    for who, code_ in (("mona", 4), ("carol", 4), ("dave", 3), ("sam", 3)):
        code, _, err = run(desk, capsys, "case", "contacts", desk.case, "--remove", wes,
                           "--as", who)  # fmt: skip
        assert code == code_, (who, err)
    code, _, err = run(desk, capsys, "case", "contacts", desk.case, "--add", "999999",
                       "--as", "alice")  # fmt: skip
    assert code == 3 and "no contact 999999" in err
    code, _, err = run(
        desk, capsys, "case", "contacts", desk.case, "--remove", "1", "--as", "alice"
    )
    assert code == 6 and "main contact" in err
    assert (
        run(desk, capsys, "case", "contacts", desk.case, "--remove", wes, "--as", "alice")[0] == 0
    )
    assert answer(desk, capsys, "contact", "show", wes, "--as", "alice")["cases"] == []
    history = answer(desk, capsys, "case", "show", desk.case, "--as", "alice")["history"]
    actions = [h["action"] for h in history]
    assert "contact_added" in actions and "contact_removed" in actions


def test_the_account_and_the_lead_of_a_case_are_audited_and_the_lead_is_for_agents(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    assert run(desk, capsys, "case", "account", desk.case, "--set", "Nope", "--as", "alice")[0] == 3
    assert (
        run(desk, capsys, "case", "account", desk.case, "--set", "Acme-West", "--as", "mona")[0]
        == 4
    )
    assert (
        run(desk, capsys, "case", "account", desk.case, "--set", "Acme-West", "--as", "alice")[0]
        == 0
    )
    code, _, err = run(desk, capsys, "case", "lead", desk.case, "--email", "not-an-address",
                       "--name", "Lee", "--as", "alice")  # fmt: skip
    assert code == 6 and "email: 'not-an-address' is not an email address" in err
    code, _, err = run(desk, capsys, "case", "lead", desk.case, "--email", "nina@new.example",
                       "--as", "alice")  # fmt: skip
    assert code == 6 and "name: is required for a new lead" in err
    run_ = ("case", "lead", desk.case, "--email", "nina@new.example", "--name", "Nina",
            "--company", "New Co", "--status", "contacted", "--as", "alice")  # fmt: skip
    page = answer(desk, capsys, *run_)
    assert page["changed"] is True and page["account"] == "Acme-West"
    assert page["lead"] == {
        "name": "Nina", "email": "nina@new.example", "company": "New Co", "status": "contacted"
    }  # fmt: skip
    assert answer(desk, capsys, *run_)["changed"] is False  # the same again: nothing changes
    # the customer reads the case, its account and their own contact, never the lead
    mine = answer(desk, capsys, "case", "parties", desk.case, "--as", "carol")
    assert "lead" not in mine and mine["account"] is None  # Acme-West is not carol's account
    history = answer(desk, capsys, "case", "show", desk.case, "--as", "alice")["history"]
    [linked] = [h for h in history if h["action"] == "account_set"]
    assert (linked["actor"], linked["before"], linked["after"]) == (
        "alice", {"account": None}, {"account": "Acme-West"}
    )  # fmt: skip
    [lead] = [h for h in history if h["action"] == "lead_set"]
    assert lead["after"] == {"lead": "Nina", "email": "nina@new.example"}
    assert (
        answer(desk, capsys, "case", "lead", desk.case, "--none", "--as", "alice")["lead"] is None
    )


def test_parent_account_contacts_view_but_never_edit_child_account_cases_seed_003(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    # paula (Holding-HQ, another customer group) sees nothing of Acme's case until it is
    # linked to Acme-West, a child account of hers
    assert run(desk, capsys, "case", "show", desk.case, "--as", "paula")[0] == 3
    assert (
        run(desk, capsys, "case", "account", desk.case, "--set", "Acme-West", "--as", "alice")[0]
        == 0
    )
    assert answer(desk, capsys, "case", "show", desk.case, "--as", "paula")["number"] == desk.case
    assert [c["number"] for c in answer(desk, capsys, "case", "list", "--as", "paula")] == [
        desk.case
    ]
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "hi", "--as", "paula")
    assert code == 4, err  # view only
    names = [a["name"] for a in answer(desk, capsys, "account", "list", "--as", "paula")]
    assert names == ["Acme-West", "Holding-HQ"]
    # wes, of the child account, sees its cases (view and edit "all") but not the parent's
    assert run(desk, capsys, "case", "post", desk.case, "--body", "hi", "--as", "wes")[0] == 0
    assert [a["name"] for a in answer(desk, capsys, "account", "list", "--as", "wes")] == [
        "Acme-West"
    ]
    assert run(desk, capsys, "account", "show", "Holding-HQ", "--as", "wes")[0] == 3
    # without the parent toggle, and once the case leaves the account, paula sees nothing
    rt = wired_app(desk.url).runtime
    with rt.unit() as work:
        set_portal_access(work, username="paula", view="all", edit="all", parent_visibility=False)
    rt.close()
    assert run(desk, capsys, "case", "show", desk.case, "--as", "paula")[0] == 3
    assert run(desk, capsys, "account", "show", "Acme-West", "--as", "paula")[0] == 3
    rt = wired_app(desk.url).runtime
    with rt.unit() as work:
        set_portal_access(work, username="paula", view="all", edit="all", parent_visibility=True)
    rt.close()
    assert run(desk, capsys, "case", "account", desk.case, "--none", "--as", "alice")[0] == 0
    assert run(desk, capsys, "case", "show", desk.case, "--as", "paula")[0] == 3


def test_importing_contacts_is_all_or_nothing_and_idempotent_by_email(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    good = tmp_path / "good.csv"
    good.write_text(
        "name,email,account,customer\n"
        "Ann,ann@acme.example,Acme-West,\n"
        "Ben,ben@acme.example,,Acme\n"
        "Wes Renamed,WES@acme.example,Acme-West,\n"
    )
    before = len(answer(desk, capsys, "contact", "list", "--as", "alice"))
    imported = answer(desk, capsys, "contact", "import", str(good))
    assert imported == {
        "created": 2, "updated": 1, "unchanged": 0,
        "created_emails": ["ann@acme.example", "ben@acme.example"],
    }  # fmt: skip
    assert run(desk, capsys, "contact", "import", str(good))[1].strip() == (
        "0 created, 0 updated, 3 unchanged"
    )
    rows = answer(desk, capsys, "contact", "list", "--account", "Acme-West", "--as", "alice")
    assert sorted(r["name"] for r in rows) == ["Ann", "Wes Renamed"]
    assert len(answer(desk, capsys, "contact", "list", "--as", "alice")) == before + 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,account\n"
        "Cid,cid@acme.example,Acme-West\n"
        "Dee,dee-at-acme,Acme-West\n"
        ",eve@acme.example,Acme-West\n"
        "Fay,fay@acme.example,Nope\n"
    )
    code, _, err = run(desk, capsys, "contact", "import", str(bad))
    assert code == 6 and "nothing imported" in err and "Traceback" not in err
    assert "line 3: email: 'dee-at-acme' is not an email address" in err
    assert "line 4: name: is required" in err
    assert "line 5: account: no account 'Nope'" in err
    assert len(answer(desk, capsys, "contact", "list", "--as", "alice")) == before + 2  # no Cid
    header = tmp_path / "header.csv"
    header.write_text("email,phone\nx@y.example,1\n")
    code, _, err = run(desk, capsys, "contact", "import", str(header))
    assert code == 6 and "missing column 'name'" in err and "unknown column 'phone'" in err
    assert run(desk, capsys, "contact", "import", str(tmp_path / "none.csv"))[0] == 6
    broken = tmp_path / "broken.csv"
    broken.write_text('name,email,account\n"Gil,gil@acme.example,Acme-West\n')
    code, _, err = run(desk, capsys, "contact", "import", str(broken))
    assert code == 6 and "not CSV" in err and "Traceback" not in err
