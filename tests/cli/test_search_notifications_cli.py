"""``run.py search`` and ``run.py notifications`` at the command line, on both databases:
the same visibility as the API (a restricted case, another customer's case, an internal
note never show), ``--json`` output, and one ``error:`` line with a documented exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from engine.run import cases
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from rules.restriction import restrict
from tests.conftest import wired_app
from tests.web.conftest import seed


@dataclass
class Desk:
    url: str
    own: str
    theirs: str
    locked: str


def _act(rt, who: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        return fn(work, load_subject(work, user), user, *args, **kwargs)


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    own = _act(rt, "carol", case_acts.open_case, case_type="SUPPORT", title="Router reboots").number
    theirs = _act(rt, "dave", case_acts.open_case, case_type="SUPPORT", title="Router quote").number
    locked = _act(rt, "alice", case_acts.open_case, case_type="SUPPORT", title="Router tap").number
    _act(rt, "alice", case_acts.add_post, own, "Router firmware is ancient", internal=True)
    _act(rt, "alice", case_acts.add_post, own, "Please update the router firmware")
    with rt.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    rt.close()
    yield Desk(db_url, own, theirs, locked)


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_search_prints_what_the_user_may_see(desk: Desk, capsys):
    code, out, _ = run(desk, capsys, "--json", "search", "router", "--as", "alice")
    assert code == 0
    found = json.loads(out)
    assert {h["number"] for h in found["cases"]} == {desk.own, desk.theirs}
    assert {h["snippet"] for h in found["posts"]} == {
        "Router firmware is ancient",
        "Please update the router firmware",
    }
    code, out, _ = run(desk, capsys, "--json", "search", "router", "--as", "carol")
    found = json.loads(out)
    assert [h["number"] for h in found["cases"]] == [desk.own]
    assert [h["snippet"] for h in found["posts"]] == ["Please update the router firmware"]
    code, out, _ = run(desk, capsys, "search", "ancient", "--as", "carol")
    assert (code, out) == (0, "no matches\n")
    code, out, _ = run(desk, capsys, "search", "router", "--kind", "cases", "--as", "root")
    assert desk.locked in out and "posts:" not in out


def test_search_refuses_bad_input_with_one_line_and_its_exit_code(desk: Desk, capsys):
    code, _, err = run(desk, capsys, "search", "?!", "--as", "alice")
    assert code == 6 and err.strip().startswith("error: nothing to search for")
    code, _, err = run(desk, capsys, "search", "router", "--as", "nobody")
    assert code == 3 and err.strip() == "error: no user 'nobody'"
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["--db", desk.url, "search", "router", "--kind", "tasks", "--as", "alice"])
    assert exit_.value.code == 2


def test_reindex_keeps_the_same_answers(desk: Desk, capsys):
    code, out, _ = run(desk, capsys, "--json", "search-reindex")
    assert (code, json.loads(out)) == (0, {"rebuilt": True})
    _, out, _ = run(desk, capsys, "--json", "search", "firmware", "--as", "alice")
    assert len(json.loads(out)["posts"]) == 2


def test_notifications_list_read_and_follow(desk: Desk, capsys):
    code, out, _ = run(desk, capsys, "--json", "notifications", "--as", "carol")
    listed = json.loads(out)
    assert listed["unread"] == 1  # the public post; the internal note is not told to her
    [note] = listed["notifications"]
    assert (note["case"], note["text"]) == (desk.own, "Please update the router firmware")
    code, out, _ = run(desk, capsys, "notifications", "read", str(note["id"]), "--as", "carol")
    assert (code, out) == (0, f"notification {note['id']} read (1 changed)\n")
    code, out, _ = run(desk, capsys, "notifications", "--unread", "--as", "carol")
    assert out.startswith("0 unread")

    code, _, err = run(desk, capsys, "notifications", "read", str(note["id"]), "--as", "alice")
    assert code == 3 and err.strip() == f"error: no notification {note['id']}"
    code, _, err = run(desk, capsys, "notifications", "follow", desk.locked, "--as", "alice")
    assert code == 3 and err.strip() == f"error: no case {desk.locked}"  # restricted: unseen
    code, out, _ = run(desk, capsys, "notifications", "follow", desk.theirs, "--as", "alice")
    assert (code, out) == (0, f"alice follows {desk.theirs}\n")
    with wired_app(desk.url) as app:
        _act(app.runtime, "dave", case_acts.add_post, desk.theirs, "Need three routers")
    code, out, _ = run(desk, capsys, "--json", "notifications", "--as", "alice")
    assert [n["text"] for n in json.loads(out)["notifications"]] == ["Need three routers"]
    code, out, _ = run(desk, capsys, "notifications", "read", "--all", "--as", "alice")
    assert out == "all notifications read (1 changed)\n"
    code, out, _ = run(desk, capsys, "notifications", "mail", "digest", "--as", "alice")
    assert out == "alice's notifications are mailed: digest\n"
    code, out, _ = run(desk, capsys, "--json", "notifications", "digest")
    assert json.loads(out) == {"queued": 0}  # nothing new since she chose the digest
    with pytest.raises(SystemExit) as exit_:
        main(["--db", desk.url, "notifications"])
    assert exit_.value.code == 2
