"""Files in mail: a mail's attachments are stored on the post it makes (outside the
database rows), a file the virus scanner flags is left out and named to the agents, and an
agent's public answer with files carries them to the customer."""

from __future__ import annotations

import base64
import mailbox
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.run import attachments, posts
from engine.run.attachments import NewFile
from engine.store.models import PostAttachment
from engine.store.outbox import OutboxMessage
from mail.smtp import MaildirTransport, send_due
from people.directory import user_by_name
from tests.mail.helpers import build
from tests.mail.world import Desk, make_desk

PDF = b"%PDF-1.4 the invoice\n"
VIRUS = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def desk(db_url: str) -> Desk:
    desk = make_desk(db_url)
    yield desk
    desk.runtime.close()


def _part(name: str, kind: str, data: bytes) -> bytes:
    return (
        f"--B\r\nContent-Type: {kind}\r\n"
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n".encode()
        + base64.encodebytes(data)
    )


def test_a_mail_s_files_are_stored_and_an_infected_one_is_left_out_and_named(
    desk: Desk, tmp_path: Path
):
    scanner = tmp_path / "scan.sh"
    scanner.write_text(
        "#!/bin/sh\ngrep -q EICAR && { echo 'stdin: Eicar FOUND'; exit 1; }\nexit 0\n"
    )
    scanner.chmod(0o755)
    desk.runtime.files = replace(desk.runtime.files, scan_command=str(scanner))
    outcome = desk.take(
        build(
            "From: carla@kunden.example",
            "Message-ID: <files@k>",
            'Content-Type: multipart/mixed; boundary="B"',
            body=b"--B\r\nContent-Type: text/plain\r\n\r\nInvoice and a surprise.\r\n"
            + _part("invoice.pdf", "application/pdf", PDF)
            + _part("../../etc/passwd", "application/pdf", VIRUS)
            + b"--B--\r\n",
        )
    )
    post, note = desk.posts(outcome.case_number or "")
    assert not post.internal and note.internal
    assert "stored: passwd: the virus scanner found it infected (stdin: Eicar FOUND)" in note.body
    with desk.runtime.unit() as work:
        [stored] = attachments.attachments_of(work, [post.id])[post.id]
        row = work.session.get(PostAttachment, stored["id"])
        assert row is not None and row.content is None  # not in the row
        assert attachments.content(work, row) == PDF
    assert (stored["filename"], stored["content_type"]) == ("invoice.pdf", "application/pdf")
    assert desk.runtime.files.path(stored["sha256"]).read_bytes() == PDF


def test_an_agent_s_answer_with_files_carries_them_to_the_customer(desk: Desk, tmp_path: Path):
    opened = desk.take(build("From: Carla <carla@kunden.example>", "Message-ID: <q@k>"))
    with desk.runtime.unit() as work:
        posts.add_post(
            work,
            number=opened.case_number or "",
            author=user_by_name(work, "alice"),
            body="The manual and a page.",
            files=[NewFile("manual.pdf", PDF), NewFile("page.html", b"<html><script>x</script>")],
        )
        posts.add_post(
            work,
            number=opened.case_number or "",
            author=user_by_name(work, "alice"),
            body="notes",
            internal=True,
            files=[NewFile("secret.txt", b"internal")],
        )
    sent, failed = send_due(
        desk.runtime.sessions,
        MaildirTransport(tmp_path / "out"),
        now=desk.runtime.clock.now(),
        files=desk.runtime.files,
    )
    assert (sent, failed) == (1, 0)
    [raw] = [bytes(m) for m in mailbox.Maildir(tmp_path / "out", create=False)]
    mail = message_from_bytes(raw, policy=policy.default)
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) == {"manual.pdf", "page.html"}  # the internal note's file stays inside
    assert files["manual.pdf"].get_content() == PDF
    assert files["page.html"].get_content_type() == "application/octet-stream"


def test_an_answer_whose_file_the_store_lost_fails_and_is_retried_not_sent_without_it(
    desk: Desk, tmp_path: Path
):
    opened = desk.take(build("From: carla@kunden.example", "Message-ID: <lost@k>"))
    with desk.runtime.unit() as work:
        posts.add_post(
            work,
            number=opened.case_number or "",
            author=user_by_name(work, "alice"),
            body="Here.",
            files=[NewFile("lost-file.bin", b"\x00only once")],
        )
        digest = work.session.scalars(select(PostAttachment.sha256)).one()
    desk.runtime.files.path(digest).unlink()
    sent, failed = send_due(
        desk.runtime.sessions,
        MaildirTransport(tmp_path / "out"),
        now=desk.runtime.clock.now(),
        files=desk.runtime.files,
    )
    assert (sent, failed) == (0, 1)
    with desk.runtime.unit() as work:
        row = work.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "case_reply")
        ).one()
        assert row.state == "pending" and "FileNotFoundError" in (row.last_error or "")
