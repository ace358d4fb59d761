"""A customer's mail reply as a BPMN message: "wait for the customer" works by mail.

The case type names the message (``[messages] mail_reply = "customer_replied"``); a reply
threaded to a case that waits for it delivers it, and the process moves on.  The reply
is posted whatever happens: when the step after the message fails, the failure becomes an
incident on the case for its managers and the mail is still taken in.
"""

from __future__ import annotations

import logging

from engine.errors import Conflict, ProcessError
from engine.run import incidents, messages
from engine.runtime import UnitOfWork
from engine.store.models import Case

log = logging.getLogger(__name__)


def reply_message(
    work: UnitOfWork, case: Case, *, body: str, post_id: int, actor_id: int | None
) -> str | None:
    """Deliver the case type's reply message if the case waits for it; the name delivered,
    else ``None``."""
    try:
        delivery = messages.deliver_mail_reply(
            work, case, body=body, post_id=post_id, actor_id=actor_id
        )
    except ProcessError as exc:  # the reply stays a post; the failed step is an incident
        incidents.record(work, exc)
        log.warning("mail reply to %s delivered no message: %s", case.number, exc)
        return None
    except Conflict as exc:  # changed by someone else at the same moment: a post as ever
        log.warning("mail reply to %s delivered no message: %s", case.number, exc)
        return None
    return delivery.name if delivery else None
