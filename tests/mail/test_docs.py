"""docs/mail.md matches the CLI: every ``run.py`` command the page shows is run here, in the
order an operator would, against a real Dovecot (placeholders such as ``ID`` or
``imap.example.com`` replaced by real values), and every optional flag it lists in
``[...]`` is an option of that command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.runtime import Runtime
from engine.store.mailbox import InboundMessage
from engine.store.models import Case
from rules.admin import permit_customers
from tests.conftest import PROCESSES, ROOT, seed_directory
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import MAIL_CORPUS, build, require_corpus
from tests.mail.test_bounces import dsn
from tests.mail.test_cli import MailCli

pytestmark = pytest.mark.integration

DOC = ROOT / "docs" / "mail.md"


def shown_commands() -> list[str]:
    """Every ``python run.py …`` the page shows, continuation lines joined, comments and the
    environment prefix dropped, in page order."""
    text = re.sub(r"\\\n\s*", " ", DOC.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        for command in re.findall(r"python run\.py [^`#\n]*", line):
            found.append(" ".join(command.split()))
    return found


def optional_flags(command: str) -> list[str]:
    """The flags a command lists as optional (``[--port 993] [--a x | --b y]``)."""
    return [
        f for group in re.findall(r"\[([^\]]*)\]", command) for f in re.findall(r"--[a-z-]+", group)
    ]


def without_options(command: str) -> str:
    return " ".join(re.sub(r"\[[^\]]*\]", " ", command).split())


@pytest.fixture
def operator(db_url: str, tmp_path: Path, dovecot: Dovecot):  # type: ignore[no-untyped-def]
    rt = Runtime(db_url)
    rt.init_schema()
    seed_directory(rt)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        permit_customers(work, group="service-desk", customer=None)
    cli = MailCli(db_url, tmp_path)
    cli.env["NEW_PASSWORD"] = PASSWORD
    yield rt, cli
    rt.close()


def test_every_command_on_the_mail_page_runs(operator, dovecot: Dovecot, tmp_path: Path):
    rt, cli = operator
    require_corpus()
    user = dovecot.new_user()
    shown = shown_commands()
    assert len(shown) >= 20, "the page shows fewer commands than expected"

    def words(command: str, values: dict[str, str]) -> list[str]:
        line = without_options(command).removeprefix("python run.py ")
        for placeholder, value in values.items():
            line = re.sub(rf"(?<![\w.@-]){re.escape(placeholder)}(?![\w@-])", value, line)
        return shlex.split(line)

    def run(command: str, code: int = 0, extra: tuple[str, ...] = (), **values: str) -> str:
        """Run a command exactly as shown, with placeholders replaced; its standard output."""
        assert command in pending or command in shown, f"not on the page any more: {command}"
        pending.discard(command)
        return cli(*words(command, values), *extra, code=code).stdout

    pending = set(shown)
    for command in shown:  # every optional flag listed is an option of its command
        if flags := optional_flags(command):
            names = [w for w in words(command, {}) if not w.startswith("-")][:3]
            helptext = cli(*names, "--help").stdout
            for flag in flags:
                assert flag in helptext, f"{flag} of {command!r} is no option"
    host = {"imap.example.com": "127.0.0.1", "--user support@example.com": f"--user {user}"}
    dovecot_port = ("--port", str(dovecot.port), "--no-tls")

    run(shown[0])  # customer add customers
    cli("customer", "add", "acme")
    [add] = [c for c in shown if c.startswith("python run.py mail mailbox add support")]
    run(add, extra=dovecot_port, **host)
    run("python run.py mail domain acme.example --customer-group acme")
    assert "support" in run("python run.py mail mailbox list")
    assert "signed in" in run("python run.py mail mailbox test support")
    run("python run.py mail mailbox edit support --poll-seconds 30 --password-env NEW_PASSWORD")
    run("python run.py mail mailbox disable support")
    run("python run.py mail mailbox enable support")
    run("python run.py mail mailbox remove support")
    run(add, extra=dovecot_port, **host)  # back, for what follows
    for name in ("m365", "legacy"):
        [other] = [c for c in shown if c.startswith(f"python run.py mail mailbox add {name}")]
        run(other)

    dovecot.append(user, build("From: carla@kunden.example", "Message-ID: <doc-1@k>"))
    # the two example mailboxes point at servers that are not there: one line each, exit 9,
    # and the good mailbox is still polled
    polled = run("python run.py mail poll --once", code=9)
    assert re.search(r"support\s+ok\s+1\s+1", polled)
    for name in ("m365", "legacy"):
        cli("mail", "mailbox", "disable", name)
    message = tmp_path / "request.eml"
    message.write_bytes(build("From: dora@kunden.example", "Message-ID: <doc-2@k>"))
    run("python run.py mail import FILE.eml --mailbox support", **{"FILE.eml": str(message)})
    broken = tmp_path / "broken.eml"
    broken.write_bytes((MAIL_CORPUS / "flanker" / "false-multipart.eml").read_bytes())
    cli("mail", "import", str(broken), "--mailbox", "support", code=6)
    assert "no readable text left" in run("python run.py mail quarantine list")
    with rt.unit() as work:
        stuck = work.session.scalar(
            select(InboundMessage.id).where(InboundMessage.state == "quarantined")
        )
    # still unreadable: it stays quarantined and says why (exit code 6)
    run("python run.py mail quarantine retry ID", code=6, ID=str(stuck))

    with rt.unit() as work:  # the case the strangers' mail names
        number = work.session.scalar(
            select(Case.number)
            .join(InboundMessage, InboundMessage.case_id == Case.id)
            .where(InboundMessage.message_id == "<doc-1@k>")
        )
    assert number is not None
    cli("mail", "mailbox", "edit", "support", "--refused-match", "triage")
    held = []
    for n in (1, 2):
        stranger = tmp_path / f"stranger{n}.eml"
        stranger.write_bytes(
            build(
                f"From: mallory{n}@elsewhere.example",
                f"Message-ID: <held-{n}@elsewhere.example>",
                f"Subject: Re: [{number}] me too",
            )
        )
        held.append(cli.json("mail", "import", str(stranger), "--mailbox", "support")["id"])
    assert "mallory1" in run("python run.py mail triage list [--mailbox support]")
    run("python run.py mail triage open 42 --as alice", **{"42": str(held[0])})
    run(
        "python run.py mail triage thread 42 C-000123 --as alice",
        **{"42": str(held[1]), "C-000123": number},
    )

    for n in (1, 2):
        report = tmp_path / f"dsn{n}.eml"
        report.write_bytes(dsn("gone@kunden.example", "5.1.1", number=n))
        cli("mail", "import", str(report), "--mailbox", "support")
    assert "gone@kunden.example" in run("python run.py mail bounces list")
    run("python run.py mail bounces clear ADDRESS", ADDRESS="gone@kunden.example")

    run("python run.py worker", extra=("--once",))  # it watches until stopped; once here
    assert not pending, f"shown on the page but not run here: {sorted(pending)}"
