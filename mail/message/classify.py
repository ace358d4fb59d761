"""Decide who wrote a message: a human, an auto-responder, a mailer daemon, a list, or us.

Every rule Zammad, Znuny and RT use (see ``shared/notes/mail-and-sla-anchors.md``) is
one row of :data:`RULES`: a name, the kind it implies and a check that returns the
evidence (a short text) or ``None``.  The rows are in priority order and the first
match decides; all matches are kept in ``signals`` so an agent can see why.  Order
matters where evidence overlaps: our own loop header beats everything (a loop must
stop), a delivery report beats ``Auto-Submitted`` and ``Precedence`` (DSNs carry both,
and a bounce must reach the case), an auto-reply beats our bounce address (responders answer
the envelope sender, RFC 3834), an ARF abuse report beats list headers (providers send
them with ``Precedence: list``), auto-replies beat list headers (an out-of-office
from a list member is still an out-of-office).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from typing import Literal

from mail.message.headers import first, message_ids
from mail.message.parse import ParsedMail
from mail.message.verp import verp_of

Kind = Literal["human", "auto_reply", "bounce", "feedback", "list", "loop"]

_DSN_SUBJECT = re.compile(
    r"undelivered mail returned to sender|delivery status notification"
    r"|mail delivery (failed|failure)|returned mail|undeliverable|undelivered mail"
    r"|delivery (has )?failed|delivery failure|failure notice|non[- ]?deliver"
    r"|could not send message|mail system error|delivery notification"
    r"|не доставлено|unzustellbar|nicht zugestellt",
    re.IGNORECASE,
)
_VACATION_SUBJECT = re.compile(
    r"\b(?:vacation|out of (?:the )?office|away|absent|abwesen|urlaub|ooo\b|congé|vacaciones"
    r"|ferie)",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic|matische)?[ -]?(reply|response|antwort|respons)|out of (the )?office"
    r"|abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica"
    r"|autosvar|automaattinen vastaus)\b",
    re.IGNORECASE,
)
_MACHINE_LOCALPARTS = {"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster"}
_BODY_MESSAGE_ID = re.compile(r"^[ \t>]*Message-I[Dd][ \t]*:[ \t]*(<[^<>\s]+>)", re.MULTILINE)
_STATUS = re.compile(r"(?<![\w.])([45]\.\d{1,3}\.\d{1,3})(?![\w.]*\d)")
_ORIGINAL_TYPES = {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}


@dataclass(frozen=True)
class Classification:
    """The decision: ``kind``, the deciding ``rule`` and its ``reason``; bounce details."""

    kind: Kind
    reason: str
    rule: str
    signals: tuple[str, ...] = ()
    original_message_id: str | None = None
    failed_recipient: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class _Facts:
    mail: ParsedMail
    our_domains: frozenset[str]
    loop_header: str

    def h(self, name: str) -> str | None:
        value = self.mail.header(name)
        return value.strip() if value is not None else None

    def lower(self, name: str) -> str:
        return (self.h(name) or "").lower()

    def ours(self, domain: str) -> bool:
        domain = domain.lower().strip(".>")
        return any(domain == d or domain.endswith("." + d) for d in self.our_domains)

    @property
    def machine_sender(self) -> bool:
        local = (self.mail.from_address or "").split("@", 1)[0]
        return local in _MACHINE_LOCALPARTS

    @property
    def null_return_path(self) -> bool:
        values = self.mail.headers.get("return-path", ())
        return any(v.strip() in ("<>", "") for v in values)


def _said(header: str, value: str | None) -> str | None:
    return f"{header}: {value}" if value is not None else None


def _report(f: _Facts) -> str | None:
    report = f.mail.report
    if f.mail.content_type != "multipart/report" or report is None:
        return None
    if report.report_type == "delivery-status" or report.has_delivery_status:
        return f"multipart/report; report-type={report.report_type or '(missing)'} (RFC 3464)"
    return None


def _dsn_heuristic(f: _Facts) -> str | None:
    if f.machine_sender:
        who = "mailer-daemon sender"
    elif f.null_return_path:
        who = "empty Return-Path"
    elif not f.mail.from_address:
        who = "empty From"  # RT: "From: <>" is a daemon too
    else:
        return None
    if _DSN_SUBJECT.search(f.mail.subject):
        return f"DSN subject {f.mail.subject[:60]!r} with {who}"
    if f.h("x-failed-recipients"):
        return f"X-Failed-Recipients with {who}"
    return None


def _own_message_id(f: _Facts) -> str | None:
    mid = f.mail.message_id or ""
    if "@" in mid and f.ours(mid.rsplit("@")[-1]):
        return f"Message-ID {mid} is from our domain"
    return None


def _own_x_loop(f: _Facts) -> str | None:
    value = f.lower("x-loop")
    return _said("X-Loop", value) if value and any(d in value for d in f.our_domains) else None


def _vacation(f: _Facts) -> str | None:
    submitted = f.lower("auto-submitted")
    if "vacation" in submitted:
        return _said("Auto-Submitted", submitted)
    if submitted.startswith("auto-") and _VACATION_SUBJECT.search(f.mail.subject):
        return f"Auto-Submitted: {submitted} with out-of-office subject {f.mail.subject[:60]!r}"
    if f.lower("x-auto-response-suppress") == "all" and f.h("x-ms-exchange-inbox-rules-loop"):
        return "Exchange out-of-office (X-Auto-Response-Suppress: All + Inbox-Rules-Loop)"
    return None


def _auto_submitted(f: _Facts) -> str | None:
    value = f.lower("auto-submitted")
    return _said("Auto-Submitted", value) if value and value != "no" else None


def _suppress(f: _Facts) -> str | None:
    tokens = {t.strip() for t in f.lower("x-auto-response-suppress").split(",")}
    return (
        _said("X-Auto-Response-Suppress", f.h("x-auto-response-suppress"))
        if ("all" in tokens or {"oof", "autoreply"} <= tokens)
        else None
    )


def _present(header: str) -> Callable[[_Facts], str | None]:
    def check(f: _Facts) -> str | None:
        value = f.h(header)
        return _said(header, value) if value is not None and value.lower() != "no" else None

    return check


def _precedence(*values: str) -> Callable[[_Facts], str | None]:
    def check(f: _Facts) -> str | None:
        value = f.lower("precedence")
        return _said("Precedence", value) if value in values else None

    return check


def _feedback(f: _Facts) -> str | None:
    """An ARF abuse report (RFC 5965): a recipient marked our mail as spam."""
    report = f.mail.report
    if report and report.report_type == "feedback-report":
        return "multipart/report; report-type=feedback-report (ARF, RFC 5965)"
    if any(a.content_type == "message/feedback-report" for a in f.mail.attachments):
        return "message/feedback-report part (ARF, RFC 5965)"
    return None


def _other_report(f: _Facts) -> str | None:
    report = f.mail.report
    if report and report.report_type == "disposition-notification":
        return "multipart/report; report-type=disposition-notification (read receipt)"
    return None


def _list_software(f: _Facts) -> str | None:
    """Mailman and friends mark what they distribute even without List-* headers (digests)."""
    for header in ("X-BeenThere", "X-Mailman-Version", "X-Mailing-List", "X-ML-Name"):
        if (value := f.h(header)) is not None:
            return _said(header, value)
    return None


def _own_loop_header(f: _Facts) -> str | None:
    return _said(f.loop_header, f.h(f.loop_header))


def _machine_generated(f: _Facts) -> str | None:
    value = f.h("x-fc-machinegenerated")
    return _said("X-FC-Machinegenerated", value) if (value or "").lower() == "true" else None


def _auto_reply_subject(f: _Facts) -> str | None:
    subject = f.mail.subject
    return f"auto-reply subject {subject[:60]!r}" if _AUTO_SUBJECT.search(subject) else None


def _machine_sender(f: _Facts) -> str | None:
    return f"sent by {f.mail.from_address}" if f.machine_sender else None


def _null_return_path(f: _Facts) -> str | None:
    return "Return-Path: <> (automatic sender, RFC 3834)" if f.null_return_path else None


def _verp(f: _Facts) -> str | None:
    """Sent to the envelope sender of a message of ours: only mail servers write there."""
    found = verp_of(f.mail)
    return f"sent to the bounce address of our message {found[0]}" if found else None


def _no_sender(f: _Facts) -> str | None:
    return None if f.mail.from_address else "no From address to answer"


RULES: tuple[tuple[str, Kind, Callable[[_Facts], str | None]], ...] = (
    ("own_loop_header", "loop", _own_loop_header),
    ("delivery_report", "bounce", _report),
    ("dsn_heuristic", "bounce", _dsn_heuristic),
    ("feedback_report", "feedback", _feedback),
    ("own_message_id", "loop", _own_message_id),
    ("own_x_loop", "loop", _own_x_loop),
    ("out_of_office", "auto_reply", _vacation),
    ("auto_submitted", "auto_reply", _auto_submitted),
    ("exchange_rules_loop", "auto_reply", _present("X-MS-Exchange-Inbox-Rules-Loop")),
    ("auto_response_suppress", "auto_reply", _suppress),
    ("x_autoreply", "auto_reply", _present("X-Autoreply")),
    ("x_autorespond", "auto_reply", _present("X-Autorespond")),
    ("precedence_auto_reply", "auto_reply", _precedence("auto_reply", "auto-reply")),
    ("machine_generated", "auto_reply", _machine_generated),
    ("auto_reply_subject", "auto_reply", _auto_reply_subject),
    ("machine_sender", "auto_reply", _machine_sender),
    ("null_return_path", "auto_reply", _null_return_path),
    ("no_sender", "auto_reply", _no_sender),
    ("verp_bounce", "bounce", _verp),
    ("precedence_bulk", "list", _precedence("bulk", "junk", "list")),
    ("list_id", "list", _present("List-Id")),
    ("list_unsubscribe", "list", _present("List-Unsubscribe")),
    ("mailing_list", "list", _present("Mailing-List")),
    ("x_loop", "list", _present("X-Loop")),
    ("list_software", "list", _list_software),
    ("other_report", "auto_reply", _other_report),
)
"""(name, kind, check) in priority order; the first check returning evidence decides."""


def classify(
    parsed: ParsedMail, *, our_domains: set[str], loop_header: str = "X-Casework-Loop"
) -> Classification:
    """Classify ``parsed``; ``our_domains`` are the domains of the Message-IDs we generate."""
    facts = _Facts(parsed, frozenset(d.lower().strip(".") for d in our_domains if d), loop_header)
    matches = [(name, kind, detail) for name, kind, check in RULES if (detail := check(facts))]
    signals = tuple(f"{name}: {detail}" for name, _, detail in matches)
    if not matches:
        return Classification("human", "no automatic-mail header or pattern found", "none")
    name, kind, detail = matches[0]
    if kind != "bounce":
        return Classification(kind, detail, name, signals)
    original, recipient, status = _bounce_details(parsed)
    return Classification(kind, detail, name, signals, original, recipient, status)


def _bounce_details(parsed: ParsedMail) -> tuple[str | None, str | None, str | None]:
    """(original Message-ID, failed recipient, status code) from the report, else the text."""
    report = parsed.report
    original = report.original_message_id if report else None
    recipient = status = None
    if report and report.recipients:
        failed = [r for r in report.recipients if r.action == "failed"] or list(report.recipients)
        recipient, status = failed[0].recipient, failed[0].status
    for att in parsed.attachments:
        if original:
            break
        if att.content_type in _ORIGINAL_TYPES:
            try:
                headers = BytesParser(policy=compat32).parsebytes(att.data, headersonly=True)
                ids = message_ids(first(headers, "message-id"))
            except Exception:  # a broken attached original only costs us its id
                ids = []
            original = ids[0] if ids else None
    body = parsed.body_text
    if not original and (found := _BODY_MESSAGE_ID.search(body)):
        original = found.group(1)
    if not recipient and (failed_header := parsed.header("x-failed-recipients")):
        recipient = failed_header.split(",")[0].strip().strip("<>").lower() or None
    if not status and (code := _STATUS.search(body)):
        status = code.group(1)
    return original, recipient, status
