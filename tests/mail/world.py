"""A support desk that takes mail in: the shipped case type, agents, a customer group and
one group mailbox, on a fresh database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from designer import deploy
from engine.clock import ManualClock
from engine.runtime import Runtime
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import Case, StreamPost
from mail.intake import Outcome, Source, take_in
from mail.mailboxes import MailboxSpec, add_mailbox
from mail.settings import MailSettings
from people import directory
from rules.admin import permit_customers
from tests.conftest import PROCESSES, seed_directory, wired_app

# mailbox passwords are stored encrypted: one key for this test process and its subprocesses
os.environ.setdefault("CASEWORK_SECRET_KEY", Fernet.generate_key().decode("ascii"))

DOMAIN = "casework.example"
GROUP_ADDRESS = "support@casework.example"


@dataclass
class Desk:
    runtime: Runtime
    mailbox_id: int
    settings: MailSettings

    def take(self, raw: bytes, source: Source | None = None) -> Outcome:
        return take_in(self.runtime, self.mailbox_id, raw, domain=DOMAIN, source=source)

    def count(self, model: type, *where: Any) -> int:
        with self.runtime.unit() as work:
            return work.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def cases(self) -> int:
        return self.count(Case)

    def posts(self, number: str) -> list[StreamPost]:
        with self.runtime.unit() as work:
            case_id = work.session.scalar(select(Case.id).where(Case.number == number))
            return list(
                work.session.scalars(
                    select(StreamPost).where(StreamPost.case_id == case_id).order_by(StreamPost.id)
                )
            )

    def inbound(self, inbound_id: int) -> InboundMessage:
        with self.runtime.unit() as work:
            row = work.session.get(InboundMessage, inbound_id)
            assert row is not None
            return row

    def case(self, number: str) -> Case:
        with self.runtime.unit() as work:
            case = work.session.scalar(select(Case).where(Case.number == number))
            assert case is not None
            return case


def support_mailbox(**fields: object) -> MailboxSpec:
    """The SUPPORT mailbox the tests use, with ``fields`` changed."""
    values: dict[str, object] = {
        "name": "support",
        "case_type": "SUPPORT",
        "group_address": GROUP_ADDRESS,
        "host": "127.0.0.1",
        "user": "support",
        "password": "secret",
        "customer_group": "customers",
        **fields,
    }
    return MailboxSpec(**values)  # type: ignore[arg-type]


def make_desk(
    db_url: str,
    clock: ManualClock | None = None,
    *,
    with_mailbox: bool = True,
    sender: str = GROUP_ADDRESS,
    **mailbox: object,
) -> Desk:
    """Runtime with the real rules, seeded people, the support case type and a mailbox
    (``with_mailbox=False``: none yet, its id is 0); ``sender`` is the default sender."""
    settings = MailSettings(domain=DOMAIN, sender=sender)
    rt = wired_app(db_url, clock, settings).runtime
    seed_directory(rt)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
        directory.add_customer_group(work, name="customers")
        directory.add_customer_group(work, name="acme")
        permit_customers(work, group="service-desk", customer=None)
        for name in ("alice", "bob"):
            directory.user_by_name(work, name).email = f"{name}@casework.example"
        if not with_mailbox:
            return Desk(rt, 0, settings)
        box: Mailbox = add_mailbox(work, support_mailbox(**mailbox))
        box_id = box.id
    return Desk(rt, box_id, settings)
