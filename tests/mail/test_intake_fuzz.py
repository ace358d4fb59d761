"""Property: whatever bytes arrive, intake stores them and answers with a state -- on both
databases -- and the next ordinary message still goes in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from tests.mail.message.test_fuzz import HEADER_NAMES, SEEDS
from tests.mail.world import Desk, make_desk


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_desk(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    """One desk for all examples (a fresh database per example would take minutes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'casework.db'}"
    else:
        schema = f"cw_fuzz_{uuid.uuid4().hex[:12]}"
        url = f"{request.getfixturevalue('postgres_url')}?schema={schema}"
    desk = make_desk(url)
    yield desk
    desk.runtime.close()
    if request.param == "postgresql":
        engine = create_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as connection:
            connection.execute(text(f'drop schema if exists "{schema}" cascade'))
        engine.dispose()


header = st.tuples(
    st.sampled_from(HEADER_NAMES), st.text(max_size=120) | st.binary(max_size=60).map(repr)
).map(lambda pair: f"{pair[0]}: {pair[1]}".encode("utf-8", "surrogatepass"))
message = st.one_of(
    st.binary(max_size=600),
    st.tuples(st.lists(header, max_size=6), st.binary(max_size=300)).map(
        lambda parts: b"\r\n".join(parts[0]) + b"\r\n\r\n" + parts[1]
    ),
    st.tuples(st.sampled_from(SEEDS), st.integers(0, 400), st.binary(min_size=1, max_size=8)).map(
        lambda parts: parts[0][: parts[1]] + parts[2] + parts[0][parts[1] :]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=message)
@example(raw=b"Message-ID: <a\x00b@x>\r\nFrom: \x00@x\r\n\r\n\x00")
def test_any_bytes_get_a_state_and_never_block_the_next_message(shared_desk: Desk, raw: bytes):
    outcome = shared_desk.take(raw)
    assert outcome.state in ("processed", "ignored", "quarantined")
    assert outcome.state == "processed" or outcome.reason
    assert shared_desk.inbound(outcome.inbound_id).raw == raw or outcome.duplicate
