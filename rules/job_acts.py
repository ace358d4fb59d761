"""Who may see and act on failed background work (timers, outbox mail, mail intake).

Failed jobs show recipients, subjects and error texts across every case type, and a retry
or discard changes what the installation does next: that is administration.  The operator
at the command line (no ``--as``) is trusted, as for every other command; a user named
with ``--as`` or signed in on the web must be an administrator.
"""

from __future__ import annotations

from engine.errors import Forbidden

from .subject import Subject

#: What can be done with failed jobs.
ACTIONS = ("list", "retry", "discard")


def require_job_admin(subject: Subject | None, action: str) -> None:
    """Refuse ``action`` on failed jobs to anyone but an administrator (or the operator)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown job action {action!r}")
    if subject is None or subject.is_admin:
        return
    verb = {"list": "see", "retry": "retry", "discard": "discard"}[action]
    raise Forbidden(f"only administrators may {verb} failed jobs")
