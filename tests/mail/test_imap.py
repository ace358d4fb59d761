"""The IMAP poller against a real Dovecot: exactly once, whatever happens between steps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.store.mailbox import InboundMessage, Mailbox, MailFolderState
from engine.store.models import Case, CaseContact, Contact
from mail.imap import DONE, QUARANTINED, SEEN, MailboxPoller, connect, fetch_again
from mail.intake import retry
from mail.reply_tokens import case_token
from tests.mail.dovecot import PASSWORD, Dovecot, spare_port
from tests.mail.helpers import build, corpus_files, manifest_kind, manifest_rows, require_corpus
from tests.mail.world import DOMAIN, Desk, make_desk

pytestmark = pytest.mark.integration


@dataclass
class ImapDesk:
    desk: Desk
    server: Dovecot
    user: str

    def poller(self) -> MailboxPoller:
        return MailboxPoller(self.desk.runtime, self.desk.mailbox_id, domain=DOMAIN)

    def poll(self):  # type: ignore[no-untyped-def]
        poller = self.poller()
        try:
            return poller.poll_once()
        finally:
            poller.close()

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        self.server.append(self.user, *raws, folder=folder)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.server.client(self.user) as client:
            client.select_folder(folder)
            return dict(client.get_flags(client.search(["ALL"])))

    def rows(self) -> list[InboundMessage]:
        with self.desk.runtime.unit() as work:
            return list(work.session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def _desk(db_url: str, dovecot: Dovecot, **mailbox: object) -> Iterator[ImapDesk]:
    user = dovecot.new_user()
    desk = make_desk(db_url, port=dovecot.port, tls=False, user=user, password=PASSWORD, **mailbox)
    yield ImapDesk(desk, dovecot, user)
    desk.runtime.close()


@pytest.fixture
def imap(db_url: str, dovecot: Dovecot) -> Iterator[ImapDesk]:
    yield from _desk(db_url, dovecot)


def request(n: int, sender: str = "carla@kunden.example", *headers: str) -> bytes:
    return build(
        f"From: {sender}",
        f"Message-ID: <req-{n}@kunden.example>",
        f"Subject: Request {n}",
        *headers,
    )


def test_new_mail_opens_cases_and_replies_thread_into_them_each_way(imap: ImapDesk):
    imap.append(request(1))
    first = imap.poll()
    assert (first.new, first.duplicates) == (1, 0)
    [opened] = first.outcomes
    number = opened.case_number
    assert opened.matched_by == "new"
    with imap.desk.runtime.unit() as work:
        token = case_token(work.session, imap.desk.case(number).id)
    imap.append(
        request(2, "carla@kunden.example", f"In-Reply-To: <case-{token}.x@{DOMAIN}>"),
        request(3, "carla@kunden.example", "References: <req-1@kunden.example>"),
        build(
            "From: carla@kunden.example",
            "Message-ID: <req-4@kunden.example>",
            f"Subject: Re: [{number}] Request 1",
        ),
        build(  # the reply address other ticket systems use: the number as plus-address
            "From: carla@kunden.example",
            "Message-ID: <req-5@kunden.example>",
            f"To: support+{number}@casework.example",
        ),
        build(  # a subject as Zammad and OTRS write it
            "From: carla@kunden.example",
            "Message-ID: <req-6@kunden.example>",
            f"Subject: AW: [Ticket#{number}] Request 1",
        ),
    )
    replies = imap.poll()
    assert [(o.case_number, o.matched_by) for o in replies.outcomes] == [
        (number, "token:in-reply-to"),
        (number, "reference:references"),
        (number, "subject:brackets"),
        (number, "address:to"),
        (number, "subject:ticket-hash"),
    ]
    assert imap.desk.cases() == 1 and len(imap.desk.posts(number)) == 6
    assert all({SEEN, DONE} <= set(flags) for flags in imap.flags().values())


def test_a_colleague_copied_in_answers_in_the_thread_and_a_stranger_does_not(
    db_url: str, dovecot: Dovecot
):
    for imap in _desk(db_url, dovecot, refused_match="triage"):
        imap.append(request(1, "carla@kunden.example", "Cc: Eve <eve@kunden.example>"))
        [opened] = imap.poll().outcomes
        number = opened.case_number
        imap.append(
            build(  # Eve was copied in: her answer joins the case, she becomes its contact
                "From: Eve <eve@kunden.example>",
                "Message-ID: <eve-1@kunden.example>",
                "References: <req-1@kunden.example>",
            ),
            build(  # now even her subject-only mail threads
                "From: eve@kunden.example",
                "Message-ID: <eve-2@kunden.example>",
                f"Subject: Re: [{number}] one more thing",
            ),
            build(  # Mallory was never on the case's mail: triage, as before
                "From: mallory@kunden.example",
                "Message-ID: <mallory-1@kunden.example>",
                "References: <req-1@kunden.example>",
                f"Subject: Re: [{number}]",
            ),
        )
        outcomes = imap.poll().outcomes
        assert [(o.state, o.case_number, o.matched_by) for o in outcomes] == [
            ("processed", number, "reference:references"),
            ("processed", number, "subject:brackets"),
            ("triage", None, None),
        ]
        assert imap.desk.cases() == 1 and len(imap.desk.posts(number)) == 3
        with imap.desk.runtime.unit() as work:
            case = work.session.scalar(select(Case).where(Case.number == number))
            contacts = work.session.scalars(
                select(Contact.email)
                .join(CaseContact, CaseContact.contact_id == Contact.id)
                .where(CaseContact.case_id == case.id)
            ).all()
        assert contacts == ["eve@kunden.example"]


def test_polling_again_takes_nothing_twice_even_when_the_flags_are_lost(imap: ImapDesk):
    imap.append(request(1), request(2))
    assert imap.poll().new == 2
    assert imap.poll().fetched == 0  # nothing new: one SELECT, no fetch
    with imap.server.client(imap.user) as client:  # an operator marks everything unread
        client.select_folder("INBOX")
        client.remove_flags(client.search(["ALL"]), [SEEN, DONE])
    with imap.desk.runtime.unit() as work:
        work.session.scalar(select(MailFolderState)).last_uid = 0
    again = imap.poll()
    assert (again.new, again.duplicates) == (0, 2)
    assert imap.desk.cases() == 2 and len(imap.rows()) == 2


def test_a_crash_between_commit_and_flagging_creates_no_duplicate(imap: ImapDesk):
    imap.append(request(1), request(2))
    poller = imap.poller()

    def crash(*args: object) -> None:
        raise ConnectionResetError("killed before the flags were set")

    poller._acknowledge = crash  # type: ignore[method-assign]
    with pytest.raises(ConnectionResetError):
        poller.poll_once()
    poller.close()
    assert imap.desk.cases() == 2  # committed ...
    assert not any(DONE in f for f in imap.flags().values())  # ... but not flagged
    after = imap.poll()
    assert (after.new, after.duplicates) == (0, 2)
    assert imap.desk.cases() == 2
    assert all(DONE in f for f in imap.flags().values())


def test_a_uidvalidity_change_rereads_the_folder_without_duplicates(imap: ImapDesk):
    imap.append(request(1), request(2))
    assert imap.poll().new == 2
    with imap.server.client(imap.user) as client:
        client.select_folder("INBOX")
        client.remove_flags(client.search(["ALL"]), [SEEN, DONE])
    # the server forgets its UID list (as after a restore): new UIDVALIDITY, new UIDs;
    # Dovecot derives UIDVALIDITY from the clock, so let a second pass
    time.sleep(1.1)
    for state in (imap.server.base / "mail" / imap.user).glob("dovecot*"):
        state.unlink()
    imap.append(request(3))
    result = imap.poll()
    assert result.resynced
    assert (result.new, result.duplicates) == (1, 2)
    assert imap.desk.cases() == 3 and len(imap.rows()) == 3


def test_taken_mail_moves_to_the_processed_folder(db_url: str, dovecot: Dovecot):
    for imap in _desk(db_url, dovecot, processed_folder="Processed"):
        imap.append(request(1), request(2))
        assert imap.poll().new == 2
        assert imap.flags() == {}
        assert len(imap.flags("Processed")) == 2
        assert imap.poll().fetched == 0


def test_oversized_and_malformed_mail_is_quarantined_and_stays_while_the_rest_goes_in(
    db_url: str, dovecot: Dovecot
):
    for imap in _desk(db_url, dovecot, max_bytes=4096):
        imap.append(
            build("Message-ID: <big@x>", body="x" * 10_000),
            b"Subject: half a message\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\x00\xff",
            request(3),
        )
        result = imap.poll()
        states = [(o.state, (o.reason or "").split(":")[0]) for o in result.outcomes]
        assert states[0] == ("quarantined", "too_large")
        assert states[2] == ("processed", "")
        assert result.quarantined == sum(s == "quarantined" for s, _ in states)
        big = imap.rows()[0]
        assert not big.raw_complete and big.raw.startswith(b"From:")
        flags = imap.flags()
        assert QUARANTINED in flags[1] and DONE in flags[3]
        assert imap.desk.cases() == 1


def test_idle_takes_mail_in_as_soon_as_it_arrives(imap: ImapDesk):
    poller = imap.poller()
    # late enough that the first poll is over even on a busy machine, so IDLE must catch it
    late = threading.Timer(2.5, imap.append, args=(request(1),))
    late.start()
    started = time.monotonic()
    try:
        result = poller.watch(6)
    finally:
        late.join()
        poller.close()
    assert result.new == 1 and imap.desk.cases() == 1
    assert time.monotonic() - started >= 5  # it kept watching until its time was up


def test_every_corpus_message_is_taken_in_or_quarantined_and_machines_open_no_case(
    imap: ImapDesk,
):
    corpus = require_corpus()
    files = corpus_files()
    expected = {p: manifest_kind(q) for p, q in manifest_rows().items()}
    imap.append(*(p.read_bytes() for p in files))
    result = imap.poll()
    assert result.fetched == len(files)
    assert len(result.outcomes) == len(files)
    for path, outcome in zip(files, result.outcomes, strict=True):
        name = str(path.relative_to(corpus))
        assert outcome.state in ("processed", "ignored", "quarantined"), name
        if outcome.state != "processed":
            assert outcome.reason, name
        if expected[name] in ("bounce", "auto_reply", "feedback", "list"):
            assert outcome.matched_by != "new", f"{name} opened a case"
    opened = [o for o in result.outcomes if o.matched_by == "new" and not o.duplicate]
    assert imap.desk.cases() == len(opened) > 0
    assert all(DONE in f or QUARANTINED in f for f in imap.flags().values())


def test_an_oversized_message_goes_in_after_the_limit_is_raised_and_it_is_retried(
    db_url: str, dovecot: Dovecot
):
    for imap in _desk(db_url, dovecot, max_bytes=4096):
        imap.append(build("From: carla@kunden.example", "Message-ID: <big@k>", body="y" * 9000))
        [stuck] = imap.poll().outcomes
        assert stuck.state == "quarantined"
        with pytest.raises(InvalidInput, match="still over"):
            fetch_again(imap.desk.runtime, stuck.inbound_id)
        with imap.desk.runtime.unit() as work:
            work.session.get(Mailbox, imap.desk.mailbox_id).max_bytes = 100_000
        raw = fetch_again(imap.desk.runtime, stuck.inbound_id)
        done = retry(imap.desk.runtime, stuck.inbound_id, domain=DOMAIN, raw=raw)
        assert done.state == "processed" and done.case_number is not None
        row = imap.rows()[0]
        assert row.raw_complete and row.raw.endswith(b"y" * 100)
        assert "y" * 100 in imap.desk.posts(done.case_number)[0].body


def test_an_unreachable_server_is_a_warning_for_the_worker_and_nothing_is_touched(
    db_url: str, caplog: pytest.LogCaptureFixture
):
    desk = make_desk(db_url, port=spare_port(), tls=False)  # nothing listens there
    try:
        poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
        with caplog.at_level("WARNING", logger="mail.imap"):
            poller.watch_logged(1)
        assert "IMAP failed, trying again later" in caplog.text
        assert desk.count(InboundMessage) == 0 and desk.count(MailFolderState) == 0
    finally:
        desk.runtime.close()


def test_a_message_the_server_did_not_send_is_fetched_on_the_next_poll(imap: ImapDesk):
    imap.append(request(1), request(2), request(3))
    dropped: list[int] = []

    def glitchy(mailbox: Mailbox) -> IMAPClient:
        client = connect(mailbox)
        fetch = client.fetch

        def fetch_dropping_one(uids, items):  # type: ignore[no-untyped-def]
            answer = fetch(uids, items)
            if "BODY.PEEK[]" in items and not dropped:
                dropped.append(sorted(answer)[1])
                del answer[dropped[0]]
            return answer

        client.fetch = fetch_dropping_one  # type: ignore[method-assign]
        return client

    poller = MailboxPoller(
        imap.desk.runtime, imap.desk.mailbox_id, domain=DOMAIN, connector=glitchy
    )
    try:
        first = poller.poll_once()
        assert (first.new, first.missing) == (2, dropped)
        second = poller.poll_once()
        assert (second.new, second.duplicates) == (1, 0)  # the others are flagged: skipped
    finally:
        poller.close()
    assert imap.desk.cases() == 3
    assert all(DONE in f for f in imap.flags().values())


def test_a_worker_told_to_stop_leaves_idle_at_once(imap: ImapDesk):
    poller = imap.poller()
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()  # SIGTERM a second into a minute's watch
    started = time.monotonic()
    try:
        poller.watch(60, stop)
    finally:
        poller.close()
    assert time.monotonic() - started < 5
