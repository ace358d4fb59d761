"""Prepared statements give back what the ORM would: the hot path must not change values."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from engine.runtime import Runtime
from engine.store.fast import Prepared
from engine.store.models import User
from people import directory

_PEOPLE = select(User.username, User.is_admin, User.created_at).where(
    User.username.in_(["root", "agent"])
)
_BY_ROLE = Prepared(
    select(User.username, User.is_admin, User.created_at)
    .where(User.is_admin == bindparam("flag"))
    .order_by(User.username)
)


def test_rows_convert_columns_as_the_orm_does(runtime: Runtime):
    with runtime.unit() as work:
        directory.add_user(work, username="root", is_admin=True)
        directory.add_user(work, username="agent")
        opened_at = work.now
    with runtime.unit() as work:
        orm = {tuple(row) for row in work.session.execute(_PEOPLE)}
        admins = _BY_ROLE.rows(work.session, {"flag": True})
        agent = _BY_ROLE.first(work.session, {"flag": False})
    assert admins == [("root", True, opened_at)]  # a bool (not SQLite's 1), an aware time
    assert agent == ("agent", False, opened_at)
    assert {*admins, agent} == orm
    assert admins[0][2].tzinfo is not None


def test_a_prepared_statement_refuses_an_expanding_list(runtime: Runtime):
    statement = Prepared(select(User.id).where(User.id.in_(bindparam("ids", expanding=True))))
    with runtime.unit() as work, pytest.raises(TypeError, match="cannot expand IN lists"):
        statement.rows(work.session, {"ids": [1, 2]})
