"""Mail configuration, read once from the environment when a process starts.

``CASEWORK_SMTP_HOST`` (with ``_PORT``, ``_USER``, ``_PASSWORD``, ``_STARTTLS``)
sends through an SMTP server; without it mail goes to the local Maildir
``CASEWORK_MAILDIR`` (default ``mail-outbox``), the embedded default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput
from engine.numbers import whole_number

from .smtp import MaildirTransport, SmtpSettings, SmtpTransport, Transport


@dataclass(frozen=True)
class MailSettings:
    domain: str = "casework.local"
    sender: str = "casework@casework.local"
    base_url: str = "http://localhost:8000"
    smtp: SmtpSettings | None = None
    maildir: Path = Path("mail-outbox")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MailSettings:
        env = dict(os.environ if env is None else env)
        domain = env.get("CASEWORK_MAIL_DOMAIN", "casework.local")
        smtp = None
        if env.get("CASEWORK_SMTP_HOST"):
            smtp = SmtpSettings(
                host=env["CASEWORK_SMTP_HOST"],
                port=_port(env.get("CASEWORK_SMTP_PORT", "25")),
                starttls=env.get("CASEWORK_SMTP_STARTTLS", "") in ("1", "true", "yes"),
                username=env.get("CASEWORK_SMTP_USER") or None,
                password=env.get("CASEWORK_SMTP_PASSWORD") or None,
            )
        return cls(
            domain=domain,
            sender=env.get("CASEWORK_MAIL_FROM", f"casework@{domain}"),
            base_url=env.get("CASEWORK_URL", "http://localhost:8000").rstrip("/"),
            smtp=smtp,
            maildir=Path(env.get("CASEWORK_MAILDIR", "mail-outbox")),
        )

    def transport(self) -> Transport:
        return SmtpTransport(self.smtp) if self.smtp else MaildirTransport(self.maildir)


def _port(text: str) -> int:
    """``CASEWORK_SMTP_PORT``; a value that is no port is named, not a ValueError."""
    port = whole_number(text, high=65535)
    if port is not None:
        return port
    raise InvalidInput(
        "invalid mail settings", {"CASEWORK_SMTP_PORT": f"must be a port number, not {text!r}"}
    )
