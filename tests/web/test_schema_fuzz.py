"""Generated requests from the OpenAPI document: every answer is one the document promises.

Every check schemathesis has runs on every answer: no server error, a documented status
code, content type and headers, a body that matches the documented schema, refused
authentication really refused, and so on.  Two runs: each operation on its own, and the
stateful run that follows the document's links (open a case, then read it, post to it,
work its tasks, close it; create a token, then revoke it; ...), each scenario on a fresh
copy of the seeded database.  Bounded to a couple of minutes on two cores: a few examples
per operation, on SQLite, as an administrator with an API token of every scope (so
requests reach the handlers instead of stopping at the sign-in).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings, strategies

from casework.compose import App, build_app
from casework.config import AppConfig
from engine.runtime import Runtime
from mail.settings import MailSettings
from people import tokens
from people.directory import user_by_name
from tests.web.conftest import seed
from web.app import create_app
from web.settings import WebSettings

# positive_data_acceptance expects every schema-valid request to succeed; the permission
# rules and the workflow (a form field's allowed values, a closed case) refuse many of
# them with a documented 403/404/409/422, which is what they are for.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
QUICK = settings(deadline=None, suppress_health_check=list(HealthCheck))


@dataclass
class Fuzzed:
    """The schema of an app over a seeded SQLite file, and a way to start it afresh."""

    schema: schemathesis.BaseSchema
    app: FastAPI
    pristine: Path
    folder: Path
    runs: int = 0

    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def reset(self) -> None:
        """Serve a fresh copy of the seeded database (a new file, a new runtime: no cache
        can carry anything over from the previous scenario)."""
        self.runs += 1
        copy = self.folder / f"run-{self.runs}.db"
        shutil.copyfile(self.pristine, copy)
        self.runtime().close()
        self.app.state.runtime = _app(copy, self.folder).runtime


def _app(path: Path, folder: Path) -> App:
    return build_app(AppConfig(database_url=f"sqlite:///{path}", mail=MailSettings(maildir=folder)))


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Fuzzed]:
    pristine = tmp_path / "seeded.db"
    with _app(pristine, tmp_path) as seeding:
        seeding.runtime.init_schema()
        seed(seeding.runtime)
    # no worker runs beside the fuzzed app: /ready checks the database and schema only
    app = create_app(_app(pristine, tmp_path), WebSettings(ready_heartbeat_seconds=0))
    found = Fuzzed(schemathesis.openapi.from_asgi("/openapi.json", app), app, pristine, tmp_path)
    found.reset()

    @found.schema.auth(refresh_interval=None)
    class LiveToken:
        """An administrator's token of every scope; generated requests revoke tokens
        (this one too, when they guess its id), so a dead one is replaced."""

        secret = ""

        def get(self, case: schemathesis.Case, context: Any) -> str:
            with found.runtime().unit() as work:
                if not self.secret or tokens.token_user(work, self.secret) is None:
                    _, self.secret = tokens.issue_token(
                        work,
                        user=user_by_name(work, "root"),
                        name="fuzz",
                        scopes=["read", "write", "admin"],
                    )
            return self.secret

        def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    @found.schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        """Half the new cases are of the deployed type, so the links from an opened case
        (read it, post, work its tasks, close it) are followed too."""
        if context.operation.label != "POST /api/cases" or not isinstance(body, dict):
            return strategies.just(body)
        return strategies.sampled_from([body, {**body, "case_type": "SUPPORT", "data": {}}])

    yield found
    found.runtime().close()


def _check(case: schemathesis.Case, response: Any) -> None:
    case.validate_response(response, excluded_checks=EXCLUDED)
    assert response.status_code < 500


def test_every_operation_answers_as_documented(fuzzed: Fuzzed) -> None:
    # one hypothesis run per operation, inside this test: schemathesis' fixture-based
    # parametrization does not work with pytest 9
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(QUICK, max_examples=15)
        def answers_as_documented(case: schemathesis.Case) -> None:
            _check(case, case.call())

        answers_as_documented()


def test_linked_operations_answer_as_documented(fuzzed: Fuzzed) -> None:
    class Linked(fuzzed.schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            fuzzed.reset()

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            _check(case, response)

    Linked.run(settings=settings(QUICK, max_examples=40, stateful_step_count=8))
