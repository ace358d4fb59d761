"""Watch a group mailbox over IMAP and hand every new message to the intake, exactly once.

The order of steps is what makes a crash harmless at any point:

1. ``SELECT`` the folder; a UIDVALIDITY other than the stored one restarts at UID 0 (the
   old UIDs mean nothing now) -- safe, because intake deduplicates by Message-ID + hash;
2. fetch the UIDs above ``last_uid`` in batches (``BODY.PEEK``: nothing is marked read
   yet); a message over the size limit is fetched as headers only and quarantined;
3. take each message in -- its row and its case or post commit together;
4. only then flag it (``\\Seen`` + ``$CaseworkDone``) or move it to the processed folder;
5. only then store the new ``last_uid``.

Killed after 3, the next poll fetches the message again, intake answers "duplicate" and the
message is flagged; killed after 4, the same.  Nothing is lost because nothing is removed
from the server before its row is committed.  Quarantined mail stays in the folder, flagged
``$CaseworkQuarantined``, so the original is never gone.

Where the server offers IDLE, :meth:`MailboxPoller.watch` waits in IDLE (with a timeout)
and polls as soon as the server reports new mail; otherwise it polls once per call and the
worker's schedule sets the interval.

With several worker processes each watches every mailbox, but a poll first claims its
mailbox (``engine.store.claims``): the others skip a mailbox being read and read another, and
a process reads one mailbox at a time, so the mailboxes it waits for stay free for the others.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.runtime import Runtime
from engine.store.claims import claimed
from engine.store.mailbox import InboundMessage, Mailbox, MailFolderState
from mail import mailbox_health
from mail.credentials import reveal
from mail.imap_errors import IMAP_FAILURES, imap_problem, server_errors, server_name
from mail.intake import Outcome, Source, take_in

log = logging.getLogger(__name__)

DONE = b"$CaseworkDone"
QUARANTINED = b"$CaseworkQuarantined"
SEEN = b"\\Seen"
#: Messages fetched per round trip; each is still committed on its own.
BATCH = 100
#: The longest single IDLE wait: servers drop idle connections after about 30 minutes.
IDLE_SLICE = 300.0
#: How often a worker waiting in IDLE looks whether it is asked to stop (SIGTERM).
STOP_CHECK = 0.5
#: ``progress(done, total)``: messages of this poll taken in so far.
Progress = Callable[[int, int], None]
#: Held by the thread of this process that is reading a mailbox (see :meth:`poll_claimed`).
_READING = threading.Lock()


@dataclass
class PollResult:
    """What one poll did: messages seen and what became of them."""

    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    resynced: bool = False
    outcomes: list[Outcome] = field(default_factory=list, repr=False)
    #: UIDs the search listed but the fetch did not return (expunged meanwhile, or a glitch)
    missing: list[int] = field(default_factory=list, repr=False)
    #: why this mailbox could not be polled (server down, login refused, TLS failed)
    error: str | None = None

    def add(self, other: PollResult) -> PollResult:
        self.fetched += other.fetched
        self.new += other.new
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.resynced = self.resynced or other.resynced
        self.outcomes.extend(other.outcomes)
        self.missing.extend(other.missing)
        return self


def _folder_state(session: Session, mailbox: Mailbox) -> MailFolderState | None:
    return session.scalar(
        select(MailFolderState).where(
            MailFolderState.mailbox_id == mailbox.id, MailFolderState.folder == mailbox.folder
        )
    )


def connect(mailbox: Mailbox, timeout: float = 60.0) -> IMAPClient:
    """Log in to the mailbox's server, with a password or (``xoauth2``) an access token."""
    secret = reveal(mailbox.imap_password)
    client = IMAPClient(
        mailbox.imap_host, port=mailbox.imap_port, ssl=mailbox.imap_tls, timeout=timeout
    )
    try:
        if mailbox.imap_auth == "xoauth2":  # Microsoft 365, Gmail: an OAuth2 access token
            client.oauth2_login(mailbox.imap_user, secret)
        else:
            client.login(mailbox.imap_user, secret)
    except Exception:
        with contextlib.suppress(*IMAP_FAILURES):
            client.shutdown()
        raise
    return client


class MailboxPoller:
    """One mailbox's watcher; keeps its IMAP connection between polls."""

    def __init__(
        self,
        rt: Runtime,
        mailbox_id: int,
        *,
        domain: str,
        batch: int = BATCH,
        connector: Callable[[Mailbox], IMAPClient] = connect,
    ) -> None:
        self.rt = rt
        self.mailbox_id = mailbox_id
        self.domain = domain
        self.batch = batch
        self._connector = connector
        self._client: IMAPClient | None = None
        self._keywords = True

    # --- connection ---------------------------------------------------------------------

    def _mailbox(self) -> Mailbox:
        with self.rt.unit() as work:
            mailbox = work.session.get(Mailbox, self.mailbox_id)
        if mailbox is None:
            raise LookupError(f"mailbox {self.mailbox_id} does not exist")
        return mailbox

    def _connection(self, mailbox: Mailbox) -> IMAPClient:
        if self._client is None:
            self._client = self._connector(mailbox)
        return self._client

    def close(self) -> None:
        """Log out (quietly: the connection may be gone already)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*IMAP_FAILURES):
                client.logout()

    # --- polling ------------------------------------------------------------------------

    def poll_once(self, progress: Progress | None = None) -> PollResult:
        """Take in everything new in the folder; on any IMAP error drop the connection."""
        mailbox = self._mailbox()
        try:
            return self._poll(mailbox, self._connection(mailbox), progress)
        except IMAP_FAILURES:
            self.close()
            raise

    def poll_claimed(self) -> PollResult:
        """:meth:`poll_once`, unless another worker process reads this mailbox right now
        (then an empty result: that one takes the mail in).

        One mailbox at a time per process: taking mail in is Python work that more threads
        of one process do not speed up, and a thread waiting here has claimed nothing, so
        the mailbox it waits for can be read by a worker process that is free."""
        with _READING, claimed(self.rt.db, "mailbox", self.mailbox_id) as mine:
            return self.poll_once() if mine else PollResult()

    def watch(self, seconds: float, stop: threading.Event | None = None) -> PollResult:
        """Poll, then wait in IDLE for up to ``seconds`` and poll again whenever mail arrives.

        Without IDLE this is one poll: the caller's schedule is the poll interval.  ``stop``
        set (the worker is shutting down) ends the wait within :data:`STOP_CHECK` seconds:
        a worker told to stop never sits out the rest of a minute in IDLE."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + seconds
        result = self.poll_claimed()
        while self._client is not None and self._client.has_capability("IDLE"):
            remaining = deadline - time.monotonic()
            if remaining <= 0.5 or stop.is_set():
                break
            client = self._client
            slice_ends = time.monotonic() + min(remaining, IDLE_SLICE)
            try:
                client.idle()
                responses: list[Any] = []
                while not responses and not stop.is_set():
                    left = slice_ends - time.monotonic()
                    if left <= 0:
                        break
                    responses = client.idle_check(timeout=min(left, STOP_CHECK))
                client.idle_done()
            except IMAP_FAILURES:
                self.close()
                raise
            if responses:
                result.add(self.poll_claimed())
        return result

    def watch_logged(self, seconds: float, stop: threading.Event | None = None) -> None:
        """:meth:`watch` for the worker: a server that is down or refuses the login is one
        warning per attempt (the next interval tries again), not a traceback."""
        if not mailbox_health.due(self.rt, self.mailbox_id, self.rt.clock.now()):
            return  # backing off after failures
        try:
            result = self.watch(seconds, stop)
        except IMAP_FAILURES as exc:
            log.warning("%s: IMAP failed, trying again later: %s", self.name(), imap_problem(exc))
            mailbox_health.failed(self.rt, self.mailbox_id, imap_problem(exc))
            return
        mailbox_health.worked(self.rt, self.mailbox_id)
        if result.fetched:
            log.info(
                "%s: %d new, %d duplicate(s), %d quarantined",
                self.name(),
                result.new,
                result.duplicates,
                result.quarantined,
            )

    def name(self) -> str:
        """``mailbox support (imap.example:993)``, for messages to the operator."""
        try:
            return server_name(self._mailbox())
        except LookupError:
            return f"mailbox {self.mailbox_id}"

    def _poll(
        self, mailbox: Mailbox, client: IMAPClient, progress: Progress | None = None
    ) -> PollResult:
        info = client.select_folder(mailbox.folder)
        # a server that keeps no keywords (no \* in PERMANENTFLAGS) gets \Seen alone
        self._keywords = b"\\*" in info.get(b"PERMANENTFLAGS", (b"\\*",))
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info[b"UIDNEXT"]) if info.get(b"UIDNEXT") else None
        result = PollResult()
        last_uid, result.resynced = self._start(mailbox, uidvalidity)
        if uidnext is not None and uidnext <= last_uid + 1:
            return result  # nothing new: one SELECT and one read of our state
        criteria = ["UID", f"{last_uid + 1}:*", "UNKEYWORD", DONE, "UNKEYWORD", QUARANTINED]
        uids = sorted(u for u in client.search(criteria) if u > last_uid)
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            result.add(self._batch(mailbox, client, uidvalidity, chunk))
            if progress is not None:
                progress(start + len(chunk), len(uids))
        # never step over a message that was listed but not fetched: the next search shows
        # whether it is gone (then it is not listed again) or still waiting to be taken in
        safe = [u for u in uids if not result.missing or u < min(result.missing)]
        if safe:
            self._advance(mailbox, uidvalidity, safe[-1])
        return result

    def _start(self, mailbox: Mailbox, uidvalidity: int) -> tuple[int, bool]:
        """The last UID taken in; resets to 0 (and says so) when UIDVALIDITY changed."""
        with self.rt.unit() as work:
            state = _folder_state(work.session, mailbox)
            if state is None:
                state = MailFolderState(mailbox_id=mailbox.id, folder=mailbox.folder, last_uid=0)
                work.session.add(state)
            elif state.uidvalidity == uidvalidity:
                return state.last_uid, False
            resync = state.uidvalidity is not None
            if resync:
                log.warning(
                    "mailbox %s: UIDVALIDITY of %s changed from %s to %s; re-reading the "
                    "folder (messages taken in before are recognised and skipped)",
                    mailbox.name,
                    mailbox.folder,
                    state.uidvalidity,
                    uidvalidity,
                )
            state.uidvalidity, state.last_uid = uidvalidity, 0
            return 0, resync

    def _batch(
        self, mailbox: Mailbox, client: IMAPClient, uidvalidity: int, uids: list[int]
    ) -> PollResult:
        sizes = {
            uid: int(data.get(b"RFC822.SIZE", 0))
            for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()
        }
        small = [u for u in uids if u in sizes and sizes[u] <= mailbox.max_bytes]
        large = [u for u in uids if u in sizes and sizes[u] > mailbox.max_bytes]
        bodies = {u: d.get(b"BODY[]") for u, d in client.fetch(small, ["BODY.PEEK[]"]).items()}
        if large:
            heads = client.fetch(large, ["BODY.PEEK[HEADER]"])
            bodies.update({u: d.get(b"BODY[HEADER]") for u, d in heads.items()})
        result = PollResult(fetched=len(bodies))
        done: list[int] = []
        quarantined: list[int] = []
        try:
            for uid in uids:
                raw = bodies.get(uid)
                if raw is None:  # expunged by someone else meanwhile, or not sent
                    result.missing.append(uid)
                    continue
                source = Source(mailbox.folder, uidvalidity, uid, uid not in large, sizes[uid])
                outcome = take_in(
                    self.rt, mailbox.id, bytes(raw), domain=self.domain, source=source
                )
                result.outcomes.append(outcome)
                result.duplicates += outcome.duplicate
                result.new += not outcome.duplicate
                is_quarantined = outcome.state == "quarantined"
                result.quarantined += is_quarantined and not outcome.duplicate
                (quarantined if is_quarantined else done).append(uid)
        finally:  # what is committed is acknowledged, even when a later message failed
            self._acknowledge(mailbox, client, done, quarantined)
        return result

    def _acknowledge(
        self, mailbox: Mailbox, client: IMAPClient, done: list[int], quarantined: list[int]
    ) -> None:
        if quarantined:
            client.add_flags(quarantined, self._flags(QUARANTINED))
        if not done:
            return
        target = mailbox.processed_folder
        if not target:
            client.add_flags(done, self._flags(DONE))
            return
        if not client.folder_exists(target):
            client.create_folder(target)
        if client.has_capability("MOVE"):
            client.move(done, target)
        else:
            client.copy(done, target)
            client.delete_messages(done)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(done)
            else:
                client.expunge()

    def _flags(self, keyword: bytes) -> list[bytes]:
        return [SEEN, keyword] if self._keywords else [SEEN]

    def _advance(self, mailbox: Mailbox, uidvalidity: int, uid: int) -> None:
        with self.rt.unit() as work:
            state = _folder_state(work.session, mailbox)
            if state is not None and state.uidvalidity == uidvalidity and uid > state.last_uid:
                state.last_uid = uid
                state.last_poll_at = work.now


def poll_all(
    rt: Runtime,
    *,
    domain: str,
    progress: Callable[[str], Progress | None] | None = None,
) -> dict[str, PollResult]:
    """``mail poll --once``: every active mailbox once, each with its own connection.

    A mailbox whose server is down, refuses the login or fails TLS does not stop the
    others: its result carries the ``error`` and the next mailbox is polled.
    ``progress(name)`` may hand out a progress callback per mailbox.
    """
    with rt.unit() as work:
        ids = list(
            work.session.execute(
                select(Mailbox.id, Mailbox.name).where(Mailbox.active).order_by(Mailbox.id)
            ).tuples()
        )
    results: dict[str, PollResult] = {}
    for mailbox_id, name in ids:
        poller = MailboxPoller(rt, mailbox_id, domain=domain)
        try:
            results[name] = poller.poll_once(progress(name) if progress else None)
        except IMAP_FAILURES as exc:
            results[name] = PollResult(error=f"{poller.name()}: {imap_problem(exc)}")
            mailbox_health.failed(rt, mailbox_id, imap_problem(exc))
        else:
            mailbox_health.worked(rt, mailbox_id)
        finally:
            poller.close()
    return results


def fetch_again(rt: Runtime, inbound_id: int) -> bytes:
    """The full message behind a headers-only quarantine row, from the folder it stayed in."""
    with rt.unit() as work:
        row = work.session.get(InboundMessage, inbound_id)
        mailbox = work.session.get(Mailbox, row.mailbox_id) if row else None
    if row is None or mailbox is None:
        raise NotFound(f"message {inbound_id} did not come from an IMAP folder")
    return fetch_full(mailbox, row)


def fetch_full(mailbox: Mailbox, row: InboundMessage) -> bytes:
    """The full message of ``row`` from its mailbox's server (no database work, so a caller
    inside a unit of work may ask)."""
    inbound_id = row.id
    if row.uid is None or row.folder is None:
        raise NotFound(f"message {inbound_id} did not come from an IMAP folder")
    with server_errors(mailbox):
        client = connect(mailbox)
        try:
            info = client.select_folder(row.folder, readonly=True)
            if int(info[b"UIDVALIDITY"]) != row.uidvalidity:
                raise NotFound(
                    f"the folder {row.folder} was renumbered since (UIDVALIDITY changed); "
                    "find the message there and import it with `mail import`"
                )
            data = client.fetch([row.uid], ["RFC822.SIZE", "BODY.PEEK[]"]).get(row.uid)
        finally:
            with contextlib.suppress(*IMAP_FAILURES):
                client.logout()
    if not data:
        raise NotFound(f"message {inbound_id} is no longer in {row.folder}")
    if int(data[b"RFC822.SIZE"]) > mailbox.max_bytes:
        raise InvalidInput(
            f"message {inbound_id} is still over the mailbox's limit",
            {"max_bytes": f"{mailbox.max_bytes:,} < {int(data[b'RFC822.SIZE']):,} bytes"},
        )
    return bytes(data[b"BODY[]"])


def watchers(rt: Runtime, *, domain: str) -> list[tuple[str, MailboxPoller, int]]:
    """One poller per active mailbox with its poll interval, for the worker's scheduler."""
    with rt.unit() as work:
        rows = list(
            work.session.execute(
                select(Mailbox.id, Mailbox.name, Mailbox.poll_seconds).where(Mailbox.active)
            ).tuples()
        )
    return [(name, MailboxPoller(rt, i, domain=domain), seconds) for i, name, seconds in rows]
