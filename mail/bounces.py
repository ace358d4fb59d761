"""Addresses that bounced for good, and keeping mail away from them.

A delivery report with a permanent status (``5.x.x``: no such user, domain gone, mailbox
disabled) marks the failed recipient as bounced; :func:`deliverable` then drops it from
every notice, reply and acknowledgement queued afterwards, until an operator clears it
(``run.py mail bounces clear ADDRESS``).  A temporary failure (``4.x.x``) changes nothing:
the receiving server is still trying.  Reports without a status are not trusted to block
an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.store.outbox import BouncedAddress

_BOUNCED_AMONG = select(BouncedAddress.address).where(
    BouncedAddress.address.in_(bindparam("addresses", expanding=True))
)


def is_permanent(status: str | None) -> bool:
    """An RFC 3463 status class 5: the address will not start working by itself."""
    return status is not None and status.strip().startswith("5.")


def record_bounce(
    session: Session,
    *,
    address: str,
    status: str | None,
    reason: str,
    at: datetime,
    inbound_message_id: int | None,
) -> BouncedAddress | None:
    """Note a failed delivery; returns the row when the address is now blocked."""
    address = _address(address)
    if "@" not in address or len(address) > 320 or not is_permanent(status):
        return None  # a report naming no usable address blocks nothing
    assert status is not None
    row = session.get(BouncedAddress, address)
    if row is None:
        row = BouncedAddress(
            address=address,
            status=status.strip()[:20],
            reason=reason[:2000],
            bounces=1,
            first_bounced_at=at,
            last_bounced_at=at,
            inbound_message_id=inbound_message_id,
        )
        session.add(row)
    else:
        row.status, row.reason = status.strip()[:20], reason[:2000]
        row.bounces += 1
        row.last_bounced_at, row.inbound_message_id = at, inbound_message_id
    session.flush()
    return row


def _address(recipient: str) -> str:
    """``Lee Lead <Lee@Example.com>`` -> ``lee@example.com``."""
    return (parseaddr(recipient)[1] or recipient).strip().lower()


def deliverable(session: Session, recipients: Sequence[str]) -> list[str]:
    """The recipients that have not bounced for good, in their order (display names kept)."""
    if not recipients:
        return []
    wanted = sorted({_address(r) for r in recipients})
    blocked = set(session.scalars(_BOUNCED_AMONG, {"addresses": wanted}))
    return [r for r in recipients if _address(r) not in blocked]


def list_bounced(session: Session) -> list[BouncedAddress]:
    return list(
        session.scalars(select(BouncedAddress).order_by(BouncedAddress.last_bounced_at.desc()))
    )


def clear(session: Session, address: str) -> bool:
    """Let mail go to ``address`` again (it was fixed); False when it was not blocked."""
    row = session.get(BouncedAddress, address.strip().lower())
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
