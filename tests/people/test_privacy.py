"""A person's data on request, as an administrator meets it at the command line: erasure
leaves their address nowhere in the database (every text column of every table is read
back), keeps cases, posts and audit lines, and an export holds their posts and nobody
else's.  Non-administrators are refused; an unknown person is "not found"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, func, select

from cli.main import main
from engine.runtime import Runtime
from engine.store.mailbox import InboundMessage
from engine.store.models import AuditEntry, Base, Case, StreamPost, User
from engine.store.outbox import OutboxMessage
from mail.intake import take_in
from mail.mailboxes import add_mailbox
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from tests.conftest import wired_app
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, support_mailbox
from tests.web.conftest import seed

CAROL = "Carol.Customer@Acme.example"
DAVE = "dave@globex.example"


@dataclass
class World:
    url: str
    runtime: Runtime
    carols: str  # the case carol opened in the portal
    mailed: str  # the case her mail opened


def _post(rt: Runtime, who: str, number: str, body: str) -> None:
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        case_acts.add_post(work, load_subject(work, user), user, number, body)


def _open(rt: Runtime, who: str, title: str) -> str:
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        return case_acts.open_case(
            work, load_subject(work, user), user, case_type="SUPPORT", title=title
        ).number


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    rt = wired_app(db_url, mail=MailSettings(domain=DOMAIN, maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:
        for name, email in (("carol", CAROL), ("dave", DAVE)):
            directory.user_by_name(work, name).email = email
            directory.user_by_name(work, name).display_name = f"{name.title()} Customer"
        for contact in work.session.scalars(select(directory.Contact)):
            contact.email = CAROL if contact.name == "Carol" else DAVE
        directory.add_customer_group(work, name="customers")
        box = add_mailbox(work, support_mailbox()).id
    carols = _open(rt, "carol", f"Printer of {CAROL} jams")
    _post(rt, "carol", carols, "It is the big printer, call me back, Carol Customer")
    _post(rt, "alice", carols, f"Dear Carol Customer, I wrote to {CAROL.lower()} already")
    daves = _open(rt, "dave", "Scanner")
    _post(rt, "dave", daves, "The scanner of Dave only")
    raw = build(
        f"From: Carol Customer <{CAROL}>",
        "Message-ID: <m1@acme.example>",
        body=f"Hello, this is Carol Customer ({CAROL}). My laptop broke.\n",
    )
    mailed = take_in(rt, box, raw, domain=DOMAIN).case_number
    assert mailed is not None
    yield World(db_url, rt, carols, mailed)
    rt.close()


def run(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", world.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def every_text(rt: Runtime) -> str:
    """Every text, JSON and binary column of every table, as one lower-case string."""
    parts: list[str] = []
    with rt.unit() as work:
        for table in Base.metadata.sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)
            ]
            if not columns:
                continue
            for row in work.session.execute(select(*columns)):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    elif not isinstance(value, str):
                        value = json.dumps(value)
                    parts.append(value.lower())
    return "\n".join(parts)


def test_erasure_leaves_the_address_nowhere_and_keeps_cases_posts_and_audit(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = world.runtime
    assert CAROL.lower() in every_text(rt)
    with rt.unit() as work:
        queued = work.session.scalar(select(func.count()).select_from(OutboxMessage))
        audit_lines = work.session.scalar(select(func.count()).select_from(AuditEntry))
        posts = work.session.scalar(select(func.count()).select_from(StreamPost))
    assert queued, "the agent's public answer is mailed to carol"

    code, out, err = run(world, capsys, "--json", "contact", "erase", CAROL, "--dry-run")
    assert code == 0, err
    assert json.loads(out)["dry_run"] is True
    assert CAROL.lower() in every_text(rt), "a dry run changes nothing"

    code, out, err = run(world, capsys, "contact", "erase", CAROL.upper())
    assert code == 0, err
    assert "erased as erased-" in out
    text = every_text(rt)
    assert CAROL.lower() not in text
    assert "carol customer" not in text
    assert DAVE in text and "the scanner of dave only" in text, "others stay as they were"
    with rt.unit() as work:
        carol = work.session.scalar(select(User).where(User.username.like("erased-%")))
        assert carol is not None and carol.email is None and not carol.is_active
        assert work.session.scalar(select(func.count()).select_from(StreamPost)) == posts
        # every old audit line is still there, the erasure added one
        lines = list(work.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert len(lines) == audit_lines + 1
        assert lines[-1].action == "erased" and lines[-1].entity_id == carol.username
        mail = work.session.scalar(select(InboundMessage))
        assert mail is not None and mail.from_address == "erased" and mail.case_id
        bodies = [p.body for p in work.session.scalars(select(StreamPost).order_by(StreamPost.id))]
        assert "It is the big printer, call me back, erased" in bodies
        assert work.session.scalar(select(Case.status).where(Case.number == world.carols))
    # carol's login can no longer sign in
    code, _, err = run(world, capsys, "task", "list", "--as", "carol")
    assert code == 3, err
    # erasing again finds nobody by that address
    code, _, err = run(world, capsys, "contact", "erase", CAROL)
    assert code == 3 and "no contact or user" in err


def test_export_holds_the_persons_posts_and_mail_and_nobody_elses(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "carol.json"
    code, _, err = run(world, capsys, "contact", "export", CAROL, "-o", str(target))
    assert code == 0, err
    data = json.loads(target.read_text())
    assert [c["email"] for c in data["contacts"]] == [CAROL]
    assert {c["number"] for c in data["cases"]} == {world.carols, world.mailed}
    bodies = [p["body"] for p in data["posts"]]
    assert "It is the big printer, call me back, Carol Customer" in bodies
    assert not any("Dave" in b or "Dear Carol" in b for b in bodies), "only her own posts"
    assert "My laptop broke" in data["mails_received"][0]["raw"]
    assert data["mails_sent"] and all(CAROL.lower() in m["to"] for m in data["mails_sent"])
    # by contact id as well
    with world.runtime.unit() as work:
        dave = work.session.scalar(
            select(directory.Contact.id).where(directory.Contact.email == DAVE)
        )
    code, _, err = run(world, capsys, "contact", "export", str(dave), "-o", str(target))
    assert code == 0, err
    data = json.loads(target.read_text())
    assert [p["body"] for p in data["posts"]] == ["The scanner of Dave only"]


@pytest.mark.parametrize("action", ["erase", "export"])
def test_only_administrators_erase_or_export_and_unknown_people_are_not_found(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path, action: str
) -> None:
    out = ["-o", str(tmp_path / "x.json")] if action == "export" else []
    for who in ("alice", "carol", "dave"):  # an agent, the person herself, another customer
        code, _, err = run(world, capsys, "contact", action, CAROL, *out, "--as", who)
        assert code == 4 and "only administrators" in err, (who, err)
    code, _, err = run(
        world, capsys, "contact", action, "nobody@nowhere.example", *out, "--as", "root"
    )
    assert code == 3, err
    code, _, err = run(world, capsys, "contact", action, "99999", *out, "--as", "root")
    assert code == 3, err
    code, _, err = run(world, capsys, "contact", action, "carol; drop", *out)
    assert code == 6 and "neither an email address nor a contact id" in err
    assert CAROL.lower() in every_text(world.runtime)
    assert not (tmp_path / "x.json").exists()
