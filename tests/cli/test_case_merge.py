"""Merging a duplicate case and linking related cases from the command line: what moves,
what stops, the audit on both cases, and what every other user (a customer, a monitor, a
manager of another case type, a forged number) is refused without learning anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.main import main
from designer import deploy
from engine.runtime import Runtime
from engine.store.access import CaseFollower
from engine.store.models import Case, Timer
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from tests.conftest import PROCESSES, support_toml, wired_app
from tests.web.conftest import seed


@dataclass
class Desk:
    url: str
    runtime: Runtime
    source: str  # carol's duplicate, with a post, an internal note and sam collaborating
    target: str  # carol's first case about it
    globex: str  # dave's case
    billing: str  # a BILLING case: only its managers (sam's specialists) see it


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
        .replace('bpmn = "support.bpmn"', "")
    )
    path = tmp_path / "billing.toml"
    path.write_text(billing)
    numbers: list[str] = []
    with rt.unit() as work:
        config = deploy.resolve_config(PROCESSES / "support.bpmn", path, "BILLING")
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    for who, kind, title in (
        ("carol", "SUPPORT", "Printer jams"),
        ("carol", "SUPPORT", "Printer jams again"),
        ("dave", "SUPPORT", "VPN down"),
        ("sam", "BILLING", "Invoice wrong"),
    ):
        with rt.unit() as work:
            user = directory.user_by_name(work, who)
            opened = case_acts.open_case(
                work, load_subject(work, user), user, case_type=kind, title=title
            )
            numbers.append(opened.number)
    target, source, globex, bill = numbers
    with rt.unit() as work:
        carol, alice = (directory.user_by_name(work, n) for n in ("carol", "alice"))
        case_acts.add_post(work, load_subject(work, carol), carol, source, "It jams on page 2")
        case_acts.add_post(work, load_subject(work, alice), alice, source, "same as C-1", True)
        sam = directory.user_by_name(work, "sam")
        case_acts.set_collaborator(work, load_subject(work, alice), source, sam, present=True)
    yield Desk(db_url, rt, source, target, globex, bill)
    rt.close()


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def show(desk: Desk, capsys: pytest.CaptureFixture[str], number: str, who: str) -> dict:
    code, out, err = run(desk, capsys, "--json", "case", "show", number, "--as", who)
    assert code == 0, err
    return json.loads(out)


def _waiting_timers(desk: Desk, number: str) -> int:
    with desk.runtime.unit() as work:
        return (
            work.session.scalar(
                select(func.count())
                .select_from(Timer)
                .join(Case, Case.id == Timer.case_id)
                .where(Case.number == number, Timer.state == "waiting")
            )
            or 0
        )


def test_merging_moves_the_stream_and_people_closes_the_source_and_audits_both(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    assert _waiting_timers(desk, desk.source) > 0  # its service-level clocks run
    before = show(desk, capsys, desk.source, "alice")
    assert [t["state"] for t in before["tasks"]] == ["open"]
    code, out, err = run(desk, capsys, "case", "merge", desk.source, "into", desk.target,
                         "--as", "alice")  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        f"merged {desk.source} into {desk.target}: 2 post(s) moved, 1 open task(s) cancelled"
    )
    source = show(desk, capsys, desk.source, "alice")
    assert (source["status"], source["outcome"]) == ("closed", f"merged into {desk.target}")
    assert source["stream"] == [] and [t["state"] for t in source["tasks"]] == ["cancelled"]
    assert [(r["number"], r["link"]) for r in source["related"]] == [(desk.target, "merged-into")]
    assert _waiting_timers(desk, desk.source) == 0  # its SLA timers stopped
    target = show(desk, capsys, desk.target, "alice")
    assert [p["body"] for p in target["stream"]] == ["It jams on page 2", "same as C-1"]
    assert "sam" in target["collaborators"]
    assert [(r["number"], r["link"]) for r in target["related"]] == [(desk.source, "merged-from")]
    [merged] = [h for h in source["history"] if h["action"] == "merged"]
    [merged_from] = [h for h in target["history"] if h["action"] == "merged_from"]
    assert merged["actor"] == merged_from["actor"] == "alice"
    assert merged["after"]["into"] == desk.target and merged_from["after"]["case"] == desk.source
    assert merged["after"]["posts"] == 2 and merged["after"]["tasks_cancelled"] == 1
    # the customer still reads her public post, now in the target, and no internal note
    carol = show(desk, capsys, desk.target, "carol")
    assert [p["body"] for p in carol["stream"]] == ["It jams on page 2"]
    with desk.runtime.unit() as work:
        followers = work.session.scalars(
            select(CaseFollower.user_id).join(Case, Case.id == CaseFollower.case_id)
            .where(Case.number == desk.target)
        ).all()  # fmt: skip
        assert directory.user_by_name(work, "carol").id in followers
    # sam collaborated on the duplicate: now he reads and posts on the target
    code, _, err = run(desk, capsys, "case", "post", desk.target, "--body", "on it", "--as", "sam")
    assert code == 0, err
    # a merge stays: the source is neither reopened nor unlinked
    code, _, err = run(desk, capsys, "case", "reopen", desk.source, "--as", "alice")
    assert code == 5 and f"was merged into {desk.target}" in err
    code, _, err = run(desk, capsys, "case", "unlink", desk.source, desk.target, "--as", "alice")
    assert code == 5 and "a merge stays" in err


def test_merging_is_refused_to_whoever_may_not_manage_both_cases_revealing_nothing(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    def merge(source: str, target: str, who: str) -> tuple[int, str]:
        code, _, err = run(desk, capsys, "case", "merge", source, "into", target, "--as", who)
        assert "Traceback" not in err
        return code, err.strip()

    # the owner (stream), a monitor (read): forbidden; a customer of another case: not found
    assert merge(desk.source, desk.target, "carol")[0] == 4
    assert merge(desk.source, desk.target, "mona")[0] == 4
    assert merge(desk.source, desk.target, "dave") == (3, f"error: no case {desk.source}")
    # a target the manager may not see answers exactly as a number that does not exist
    invisible = merge(desk.source, desk.billing, "alice")
    missing = merge(desk.source, "B-999999", "alice")
    assert invisible == (3, f"error: no case {desk.billing}")
    assert missing == (3, "error: no case B-999999")
    # sam manages BILLING and only collaborates on the SUPPORT case: he may not merge it
    code, err = merge(desk.billing, desk.source, "sam")
    assert code == 4 and "may not merge cases" in err
    assert merge(desk.billing, desk.globex, "sam") == (3, f"error: no case {desk.globex}")
    # into itself: invalid; bad syntax: usage
    code, err = merge(desk.source, desk.source, "alice")
    assert code == 6 and "into: is the same case" in err
    with pytest.raises(SystemExit) as usage:
        run(desk, capsys, "case", "merge", desk.source, "onto", desk.target, "--as", "alice")
    assert usage.value.code == 2 and "choose from 'into'" in capsys.readouterr().err
    assert show(desk, capsys, desk.source, "alice")["status"] == "open"  # nothing stored
    # into a closed case: conflict; back into the case merged into it: a cycle
    assert run(desk, capsys, "case", "cancel", desk.globex, "--as", "alice")[0] == 0
    code, err = merge(desk.source, desk.globex, "alice")
    assert code == 5 and f"{desk.globex} is closed" in err
    assert merge(desk.source, desk.target, "alice")[0] == 0
    code, err = merge(desk.target, desk.source, "alice")
    assert code == 5 and "would make a cycle" in err
    code, err = merge(desk.source, desk.target, "alice")
    assert code == 5 and f"already merged into {desk.target}" in err


def test_links_have_a_kind_show_on_both_cases_and_only_to_those_who_see_the_other(
    desk: Desk, capsys: pytest.CaptureFixture[str]
):
    def links(number: str, who: str) -> list[tuple[str, str]]:
        code, out, err = run(desk, capsys, "--json", "case", "links", number, "--as", who)
        assert code == 0, err
        return [(r["number"], r["link"]) for r in json.loads(out)]

    code, out, err = run(desk, capsys, "case", "link", desk.source, desk.target,
                         "--kind", "duplicate-of", "--as", "alice")  # fmt: skip
    assert code == 0 and out.strip() == f"{desk.source} duplicate-of {desk.target}", err
    assert links(desk.source, "alice") == [(desk.target, "duplicate-of")]
    assert links(desk.target, "mona") == [(desk.source, "duplicated-by")]  # monitors see links
    assert links(desk.target, "carol") == []  # the owner's sections show no linked cases
    # changing the kind rewrites both sides; both cases record it
    run(desk, capsys, "case", "link", desk.target, desk.source, "--kind", "parent-of",
        "--as", "bob")  # fmt: skip
    assert links(desk.source, "alice") == [(desk.target, "child-of")]
    page = show(desk, capsys, desk.source, "alice")
    assert [h["after"] for h in page["history"] if h["action"] == "linked"] == [
        {"case": desk.target, "kind": "duplicate-of"},
        {"case": desk.target, "kind": "child-of"},
    ]
    # an administrator links a BILLING case: SUPPORT's managers never see it listed, and
    # BILLING's managers never see the SUPPORT case (sam's task there shows him a summary,
    # not the case: seed 002)
    code, _, err = run(desk, capsys, "case", "link", desk.globex, desk.billing, "--as", "root")
    assert code == 0, err
    assert links(desk.globex, "root") == [(desk.billing, "related")]
    assert links(desk.globex, "alice") == []
    assert show(desk, capsys, desk.globex, "alice")["related"] == []
    assert links(desk.billing, "sam") == []
    # nobody links to, or unlinks, a case they cannot see: not found, like a missing one
    for args in (("link", desk.source, desk.billing), ("unlink", desk.source, desk.billing)):
        code, _, err = run(desk, capsys, "case", *args, "--as", "alice")
        assert (code, err.strip()) == (3, f"error: no case {desk.billing}")
    # monitors and owners may not link; a customer of another case learns nothing
    assert run(desk, capsys, "case", "link", desk.target, desk.globex, "--as", "mona")[0] == 4
    assert run(desk, capsys, "case", "link", desk.target, desk.globex, "--as", "carol")[0] == 4
    assert run(desk, capsys, "case", "links", desk.target, "--as", "dave")[0] == 3
    code, _, err = run(desk, capsys, "case", "link", desk.target, desk.target, "--as", "alice")
    assert code == 6 and "case: is the same case" in err
    with pytest.raises(SystemExit) as usage:
        run(desk, capsys, "case", "link", desk.target, desk.globex, "--kind", "twin",
            "--as", "alice")  # fmt: skip
    assert usage.value.code == 2 and "'twin'" in capsys.readouterr().err
    code, out, err = run(desk, capsys, "case", "unlink", desk.target, desk.source, "--as", "bob")
    assert code == 0 and out.strip() == f"{desk.target} no longer parent-of {desk.source}", err
    assert links(desk.source, "alice") == []
    code, _, err = run(desk, capsys, "case", "unlink", desk.target, desk.source, "--as", "bob")
    assert code == 3 and "is not linked to" in err
