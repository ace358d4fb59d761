"""Addresses that bounce, and keeping mail away from the ones that are gone for good.

Every failed delivery is counted on its address, and its status code (RFC 3463) decides
what it means:

* **soft** -- ``4.x.x`` (the receiving server is still trying, or will take it later) and
  the class-5 codes of a full or over-limit mailbox (``5.2.2``, ``5.2.3``, ``5.3.4``): the
  address works, the message is sent again later (:mod:`mail.delivery_failures`);
* **hard** -- every other ``5.x.x`` (``5.1.1`` no such user, ``5.1.2`` domain gone,
  ``5.2.1`` mailbox disabled): after :data:`HARD_BOUNCES_TO_SUPPRESS` of them the address is
  *suppressed*, and :func:`deliverable` drops it from every notice, reply and
  acknowledgement queued afterwards, until an operator clears it (``run.py mail bounces
  clear ADDRESS``).  One hard failure alone suppresses nothing: a server that answers
  ``550`` by mistake once does not cut a customer off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.store.outbox import BouncedAddress

#: Hard failures of one address before nothing more is sent there.
HARD_BOUNCES_TO_SUPPRESS = 2
#: Class-5 codes that say "not now" about a working address: mailbox full, message too big.
SOFT_PERMANENT = frozenset({"5.2.2", "5.2.3", "5.3.4"})

Severity = Literal["hard", "soft"]

_SUPPRESSED_AMONG = select(BouncedAddress.address).where(
    BouncedAddress.address.in_(bindparam("addresses", expanding=True)),
    BouncedAddress.suppressed_at.is_not(None),
)


def severity(status: str) -> Severity | None:
    """``hard``, ``soft``, or None for a code that reports no failure (``2.x.x``, junk)."""
    code = status.strip()
    if code.startswith("4."):
        return "soft"
    if code.startswith("5."):
        return "soft" if code in SOFT_PERMANENT else "hard"
    return None


@dataclass(frozen=True)
class Counted:
    """What one failure did to its address: ``suppressed_now`` is True the moment it tips."""

    row: BouncedAddress
    severity: Severity
    suppressed_now: bool


def record_failure(
    session: Session,
    *,
    address: str,
    status: str,
    reason: str,
    at: datetime,
    inbound_message_id: int | None,
) -> Counted | None:
    """Count a failed delivery on its address; None when it names no usable address or no
    failure."""
    address = _address(address)
    kind = severity(status)
    if "@" not in address or len(address) > 320 or kind is None:
        return None
    row = session.get(BouncedAddress, address)
    if row is None:
        row = BouncedAddress(
            address=address,
            bounces=0,
            hard_bounces=0,
            soft_bounces=0,
            first_bounced_at=at,
            suppressed_at=None,
        )
        session.add(row)
    row.status, row.reason = status.strip()[:20], reason[:2000]
    row.bounces += 1
    if kind == "hard":
        row.hard_bounces += 1
    else:
        row.soft_bounces += 1
    row.last_bounced_at, row.inbound_message_id = at, inbound_message_id
    tips = (
        kind == "hard"
        and row.suppressed_at is None
        and row.hard_bounces >= HARD_BOUNCES_TO_SUPPRESS
    )
    if tips:
        row.suppressed_at = at
    session.flush()
    return Counted(row, kind, tips)


def _address(recipient: str) -> str:
    """``Lee Lead <Lee@Example.com>`` -> ``lee@example.com``."""
    return (parseaddr(recipient)[1] or recipient).strip().lower()


def deliverable(session: Session, recipients: Sequence[str]) -> list[str]:
    """The recipients that are not suppressed, in their order (display names kept)."""
    if not recipients:
        return []
    wanted = sorted({_address(r) for r in recipients})
    blocked = set(session.scalars(_SUPPRESSED_AMONG, {"addresses": wanted}))
    return [r for r in recipients if _address(r) not in blocked]


def list_bounced(session: Session) -> list[BouncedAddress]:
    """Every address with failures on record, the latest first."""
    return list(
        session.scalars(select(BouncedAddress).order_by(BouncedAddress.last_bounced_at.desc()))
    )


def clear(session: Session, address: str) -> bool:
    """Undo: send to ``address`` again and forget its failures (it was fixed); False when
    nothing was on record for it."""
    row = session.get(BouncedAddress, _address(address))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
