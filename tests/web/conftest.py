"""A running web app over a fresh database: the support case type, agents and customers.

People log in with real passwords (argon2) through the API, so every test exercises
the same session, CSRF and token code a browser or a script does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casework.compose import App
from designer import deploy
from engine.clock import ManualClock
from engine.runtime import Runtime
from mail.settings import MailSettings
from people import directory
from rules.admin import permit_case_type, permit_customers, set_portal_access
from tests.conftest import PROCESSES, wired_app
from web.app import create_app

PASSWORD = "correct horse battery"
GROUPS = {
    "service-desk": ["alice", "bob"],
    "specialists": ["sam"],
    "support-leads": ["lee"],
    "support-monitors": ["mona"],
}
CUSTOMERS = {"carol": "Acme", "dave": "Globex"}


@dataclass
class Site:
    app: App
    clock: ManualClock
    client: TestClient

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime

    def login(self, username: str) -> TestClient:
        """A fresh client logged in as ``username`` with its CSRF header set."""
        client = TestClient(self.client.app)
        answer = client.post("/api/session", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client


def seed(rt: Runtime) -> None:
    with rt.unit() as work:
        directory.add_user(work, username="root", password=PASSWORD, is_admin=True)
        for group, members in GROUPS.items():
            directory.add_group(work, name=group)
            for name in members:
                directory.add_user(work, username=name, password=PASSWORD)
                directory.add_member(work, username=name, group=group)
        for name, customer in CUSTOMERS.items():
            directory.add_user(work, username=name, password=PASSWORD)
            directory.add_customer_group(work, name=customer)
            directory.add_contact(work, name=name.title(), customer_group=customer, username=name)
        config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    with rt.unit() as work:
        for name in CUSTOMERS:  # customers open support cases in the portal
            set_portal_access(
                work,
                username=name,
                view="own",
                edit="own",
                parent_visibility=False,
                case_types=["SUPPORT"],
            )
        permit_case_type(work, group="service-desk", case_type="SUPPORT", write=True)
        for group in GROUPS:  # the customers' cases name their contact: seed 002
            permit_customers(work, group=group, customer=None)


@pytest.fixture
def site(db_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Site]:
    with wired_app(db_url, clock, MailSettings(maildir=tmp_path)) as app:
        seed(app.runtime)
        with TestClient(create_app(app)) as client:
            yield Site(app, clock, client)
