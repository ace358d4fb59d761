"""Generated requests from the OpenAPI document never make the server fail (no 5xx).

Bounded: a few examples per operation, on SQLite, as an administrator with an API
token (so the requests reach the handlers instead of stopping at the login).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from engine import logins
from engine.directory import user_by_name
from engine.runtime import Runtime
from mail.settings import MailSettings
from rules.policies import RulesPolicies
from tests.web.conftest import seed
from web.app import create_app


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[schemathesis.BaseSchema]:
    rt = Runtime(
        f"sqlite:///{tmp_path / 'fuzz.db'}", policies=RulesPolicies(MailSettings(maildir=tmp_path))
    )
    rt.init_schema()
    seed(rt)
    with rt.unit() as work:
        _, secret = logins.issue_token(work, user=user_by_name(work, "root"), name="fuzz")
    app = create_app(rt)
    app.state.fuzz_token = secret
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    rt.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_fails_the_server(case: schemathesis.Case) -> None:
    token = case.operation.schema.app.state.fuzz_token
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
