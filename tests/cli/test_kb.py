"""``run.py kb`` on both databases: editors write and publish along the valid transitions
only, readers read published articles, customers see only published articles shown to their
portal role - by id, list, search, suggestion or reply text - and case links are audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.main import main
from engine.run import cases
from engine.store.models import AuditEntry
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from rules.admin import set_portal_access
from rules.restriction import restrict
from tests.conftest import wired_app
from tests.web.conftest import seed

CAROLS_ROLE = "own-view/own-edit/open:SUPPORT"


@dataclass
class Desk:
    url: str
    case: str  # carol's case, "My router reboots all the time"
    locked: str  # restricted to administrators


def _act(rt, who: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        return fn(work, load_subject(work, user), user, *args, **kwargs)


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def as_json(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str):  # type: ignore[no-untyped-def]
    code, out, err = run(desk, capsys, "--json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:  # dave is in another portal role than carol
        set_portal_access(work, username="dave", view="all", edit="all", parent_visibility=False)
    case = _act(
        rt, "carol", case_acts.open_case, case_type="SUPPORT", title="My router reboots"
    ).number
    _act(rt, "carol", case_acts.add_post, case, "It restarts whenever the firmware checks")
    locked = _act(rt, "alice", case_acts.open_case, case_type="SUPPORT", title="Router tap").number
    with rt.unit() as work:
        root = load_subject(work, directory.user_by_name(work, "root"))
        restrict(work, root, cases.case_by_number(work, locked))
    rt.close()
    d = Desk(db_url, case, locked)
    assert main(["--db", db_url, "kb", "permit", "service-desk", "--level", "edit"]) == 0
    assert main(["--db", db_url, "kb", "permit", "specialists", "--level", "read"]) == 0
    yield d


def _add(desk: Desk, capsys, title: str, body: str, *extra: str) -> str:  # type: ignore[no-untyped-def]
    return str(
        as_json(
            desk, capsys, "kb", "add", "--title", title, "--body", body, *extra, "--as", "alice"
        )["id"]
    )


@pytest.fixture
def articles(desk: Desk, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """public: published, shown to carol's role; internal: published, no customer;
    draft: shown to carol's role but a draft; archived: shown to carol's role, archived."""
    portal = ("--portal", CAROLS_ROLE)
    made = {
        "public": _add(
            desk, capsys, "Router reboots after firmware check", "Update the firmware.", *portal
        ),
        "internal": _add(desk, capsys, "Router reboot escalation", "Call the vendor hotline."),
        "draft": _add(desk, capsys, "Router firmware secrets", "Not ready.", *portal),
        "archived": _add(desk, capsys, "Old router firmware", "Gone.", *portal),
    }
    for name in ("public", "internal", "archived"):
        as_json(desk, capsys, "kb", "publish", made[name], "--as", "alice")
    as_json(desk, capsys, "kb", "archive", made["archived"], "--as", "alice")
    return made


def test_editors_move_articles_only_along_valid_transitions(desk: Desk, capsys):
    ref = _add(desk, capsys, "Printer jams", "# Jams\n\nOpen the *tray*.", "--category", "Printers")
    shown = as_json(desk, capsys, "kb", "show", ref, "--as", "alice")
    assert (shown["state"], shown["category"], shown["next_states"]) == (
        "draft",
        "Printers",
        ["published"],
    )
    code, _, err = run(desk, capsys, "kb", "archive", ref, "--as", "alice")
    assert (
        code == 5 and err.strip() == f"error: article {ref} is draft; it can only become published"
    )
    assert as_json(desk, capsys, "kb", "publish", ref, "--as", "bob")["state"] == "published"
    assert as_json(desk, capsys, "kb", "archive", ref, "--as", "bob")["state"] == "archived"
    code, _, err = run(desk, capsys, "kb", "publish", ref, "--as", "bob")
    assert code == 5 and "can only become draft" in err
    assert as_json(desk, capsys, "kb", "draft", ref, "--as", "bob")["state"] == "draft"
    edited = as_json(
        desk, capsys, "kb", "edit", ref, "--title", "Printer paper jams", "--as", "bob"
    )
    assert edited["changed"] == ["title"] and edited["title"] == "Printer paper jams"
    code, out, _ = run(desk, capsys, "kb", "list", "--category", "Printers", "--as", "alice")
    assert code == 0 and "Printer paper jams" in out and "draft" in out


def test_bad_input_and_who_may_edit(desk: Desk, capsys, articles):
    code, _, err = run(desk, capsys, "kb", "add", "--title", " ", "--body", "x", "--as", "alice")
    assert (code, err) == (6, "error: invalid article\n  title: is required\n")
    code, _, err = run(
        desk, capsys, "kb", "add", "--title", "T", "--body", "x", "--portal", "vip", "--as", "alice"
    )
    assert code == 6 and "no portal role 'vip'" in err
    # sam reads published articles, edits nothing, and never sees drafts
    code, _, err = run(desk, capsys, "kb", "add", "--title", "T", "--body", "x", "--as", "sam")
    assert code == 4 and err.startswith("error: sam may not edit")
    code, _, err = run(
        desk, capsys, "kb", "edit", articles["public"], "--title", "Mine", "--as", "sam"
    )
    assert code == 4
    code, _, err = run(desk, capsys, "kb", "publish", articles["draft"], "--as", "sam")
    assert (code, err) == (3, f"error: no article {articles['draft']}\n")
    listed = {a["id"] for a in as_json(desk, capsys, "kb", "list", "--as", "sam")}
    assert listed == {articles["public"], articles["internal"]}
    # mona has no KB permission at all
    assert as_json(desk, capsys, "kb", "list", "--as", "mona") == []
    code, _, _ = run(desk, capsys, "kb", "show", articles["public"], "--as", "mona")
    assert code == 3


def test_a_customer_sees_only_published_articles_shown_to_their_role(desk: Desk, capsys, articles):
    listed = as_json(desk, capsys, "kb", "list", "--as", "carol")
    assert [a["id"] for a in listed] == [articles["public"]]
    assert "state" not in listed[0]
    shown = as_json(desk, capsys, "kb", "show", articles["public"], "--as", "carol")
    assert (
        shown["body"] == "Update the firmware."
        and "portal_roles" not in shown
        and "author" not in shown
    )
    _, _, missing = run(desk, capsys, "kb", "show", "KB-999999", "--as", "carol")
    for name in ("internal", "draft", "archived"):
        code, _, err = run(desk, capsys, "kb", "show", articles[name], "--as", "carol")
        assert (code, err) == (3, f"error: no article {articles[name]}\n")
        code, _, _ = run(desk, capsys, "kb", "reply", articles[name], "--as", "carol")
        assert code == 3
    assert missing == "error: no article KB-999999\n"
    found = as_json(desk, capsys, "kb", "search", "router", "--as", "carol")
    assert [a["id"] for a in found["articles"]] == [articles["public"]] and not found["more"]
    assert as_json(desk, capsys, "kb", "search", "secrets", "--as", "carol")["articles"] == []
    assert as_json(desk, capsys, "kb", "search", "vendor", "--as", "carol")["articles"] == []
    # dave's portal role is shown nothing
    assert as_json(desk, capsys, "kb", "list", "--as", "dave") == []
    assert as_json(desk, capsys, "kb", "search", "router", "--as", "dave")["articles"] == []
    code, _, _ = run(desk, capsys, "kb", "show", articles["public"], "--as", "dave")
    assert code == 3
    # an editor sees every state, and searches them all
    found = as_json(desk, capsys, "kb", "search", "router", "--as", "alice")
    assert {a["id"] for a in found["articles"]} == set(articles.values())
    code, _, err = run(desk, capsys, "kb", "search", "?!", "--as", "alice")
    assert code == 6 and err.startswith("error: nothing to search for")


def test_suggestions_follow_what_each_user_may_see(desk: Desk, capsys, articles):
    mine = as_json(desk, capsys, "kb", "suggest", desk.case, "--as", "carol")["articles"]
    assert [a["id"] for a in mine] == [articles["public"]]
    theirs = as_json(desk, capsys, "kb", "suggest", desk.case, "--as", "alice")["articles"]
    assert {a["id"] for a in theirs} == {articles["public"], articles["internal"]}
    assert theirs[0]["id"] == articles["public"]  # reboots + firmware: the better match
    code, _, err = run(desk, capsys, "kb", "suggest", desk.case, "--as", "dave")
    assert (code, err) == (3, f"error: no case {desk.case}\n")
    code, _, _ = run(desk, capsys, "kb", "suggest", desk.locked, "--as", "alice")
    assert code == 3


def test_links_are_audited_and_reply_text_is_published_only(desk: Desk, capsys, articles):
    answer = as_json(desk, capsys, "kb", "link", desk.case, articles["internal"], "--as", "alice")
    assert answer["changed"] and [a["id"] for a in answer["articles"]] == [articles["internal"]]
    code, out, _ = run(desk, capsys, "kb", "link", desk.case, articles["internal"], "--as", "alice")
    assert code == 0 and "(already)" in out
    assert as_json(desk, capsys, "kb", "show", articles["internal"], "--as", "sam")["cases"] == []
    assert as_json(desk, capsys, "kb", "show", articles["internal"], "--as", "alice")["cases"] == [
        desk.case
    ]
    # the customer sees no link to an article not shown to them, and may not link
    assert as_json(desk, capsys, "kb", "link", desk.case, "--as", "carol")["articles"] == []
    code, _, err = run(desk, capsys, "kb", "link", desk.case, articles["public"], "--as", "carol")
    assert code == 4
    code, _, _ = run(desk, capsys, "kb", "link", desk.locked, articles["public"], "--as", "alice")
    assert code == 3
    code, _, _ = run(desk, capsys, "kb", "link", desk.case, articles["draft"], "--as", "sam")
    assert code == 3
    linked = as_json(desk, capsys, "kb", "suggest", desk.case, "--as", "alice")["articles"]
    assert articles["internal"] not in {a["id"] for a in linked}  # linked: no longer suggested
    answer = as_json(
        desk, capsys, "kb", "link", desk.case, articles["internal"], "--remove", "--as", "bob"
    )
    assert answer["changed"] and answer["articles"] == []
    rt = wired_app(desk.url).runtime
    with rt.unit() as work:
        case_id = cases.case_by_number(work, desk.case).id
        trail = work.session.execute(
            select(AuditEntry.action, AuditEntry.after)
            .where(AuditEntry.case_id == case_id, AuditEntry.action.like("article_%"))
            .order_by(AuditEntry.id)
        ).all()
    rt.close()
    assert [a for a, _ in trail] == ["article_linked", "article_unlinked"]
    assert trail[0][1]["article"] == articles["internal"]
    code, out, _ = run(desk, capsys, "kb", "reply", articles["public"], "--as", "alice")
    assert (code, out) == (0, "Router reboots after firmware check\n\nUpdate the firmware.\n")
    code, _, err = run(desk, capsys, "kb", "reply", articles["draft"], "--as", "alice")
    assert code == 5 and "only published articles go into replies" in err
