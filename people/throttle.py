"""The sign-in throttle: failed attempts counted per user name and per client address.

Two keys are counted for every attempt: the user name (guessing one person's password
from many addresses) and the client address (spraying one password across many names).
Each key has a number of free failures; past it, every further failure doubles a
back-off (``backoff``, ``2 × backoff``, ... up to ``max_backoff``) during which attempts
under that key are refused without looking at the password.  Refused attempts are not
counted, so nobody, whoever sends the wrong passwords, can keep a user out for longer
than ``max_backoff`` after the last counted failure; failures older than
``forget_after`` are forgotten.

An attempt is counted *before* its password is checked (and taken back when it
succeeds), so a burst of parallel attempts cannot slip past the limit while the slow
password hash runs.  The counts are rows locked for the unit's transaction, so the
limits hold across server processes on PostgreSQL and across restarts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.errors import Forbidden
from engine.runtime import UnitOfWork
from engine.store.credentials import LoginThrottle


class TooManyAttempts(Forbidden):
    """Sign-in refused without checking the password: too many recent failures."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginLimits:
    """How many failures each key may have before back-off, and how long it lasts."""

    user_failures: int = 5
    address_failures: int = 20
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LoginLimits:
        """``CASEWORK_LOGIN_USER_FAILURES``, ``_ADDRESS_FAILURES`` (counts) and
        ``_BACKOFF``, ``_MAX_BACKOFF``, ``_FORGET_AFTER`` (seconds) override the defaults."""
        env = dict(os.environ if env is None else env)
        base = cls()

        def number(name: str, default: int) -> int:
            raw = env.get(f"CASEWORK_LOGIN_{name}")
            if raw is None:
                return default
            value = int(raw)
            if value < 1:
                raise ValueError(f"CASEWORK_LOGIN_{name} must be at least 1, not {raw}")
            return value

        def seconds(name: str, default: timedelta) -> timedelta:
            return timedelta(seconds=number(name, int(default.total_seconds())))

        return cls(
            user_failures=number("USER_FAILURES", base.user_failures),
            address_failures=number("ADDRESS_FAILURES", base.address_failures),
            backoff=seconds("BACKOFF", base.backoff),
            max_backoff=seconds("MAX_BACKOFF", base.max_backoff),
            forget_after=seconds("FORGET_AFTER", base.forget_after),
        )

    def blocked_until(self, failures: int, free: int, last: datetime) -> datetime | None:
        """When a key with ``failures`` (the last at ``last``) may try again, if blocked."""
        if failures < free:
            return None
        doublings = min(failures - free, 30)  # 2**30 × any back-off is past any cap
        wait: timedelta = min(self.backoff * 2**doublings, self.max_backoff)
        return last + wait


def _keys(username: str | None, address: str) -> list[tuple[str, str]]:
    # always in this order, so two attempts lock their rows in the same order
    named = [("user", f"user:{username[:150]}")] if username is not None else []
    return [*named, ("address", f"address:{address[:64]}")]


def count_attempt(
    work: UnitOfWork, limits: LoginLimits, *, username: str | None, address: str
) -> None:
    """Count an attempt as a failure, or raise :class:`TooManyAttempts` (counting nothing:
    the caller's unit rolls back) while the user name or the address is backing off.
    ``username=None`` counts the address only: a sign-in through an identity provider
    learns the name only once the provider has vouched for it."""
    rows = []
    postgresql = work.session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgresql else sqlite_insert
    for kind, key in _keys(username, address):
        work.session.execute(
            insert(LoginThrottle)
            .values(key=key, failures=0, last_failure_at=work.now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = work.session.scalar(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        )
        assert row is not None  # inserted above, and only ever deleted under this lock
        if work.now - row.last_failure_at > limits.forget_after:
            row.failures = 0
        free = limits.user_failures if kind == "user" else limits.address_failures
        until = limits.blocked_until(row.failures, free, row.last_failure_at)
        if until is not None and work.now < until:
            wait = max(1, int((until - work.now).total_seconds() + 0.999))
            who = f"'{username}'" if kind == "user" else "this address"
            raise TooManyAttempts(
                f"too many failed sign-ins for {who}; try again in {wait} seconds", wait
            )
        rows.append(row)
    for row in rows:
        row.failures += 1
        row.last_failure_at = work.now


def forgive(work: UnitOfWork, *, username: str | None, address: str) -> None:
    """A sign-in succeeded: the user name's failures are forgotten and the attempt counted
    against the address is taken back (its earlier failures stay)."""
    *named, (_, address_key) = _keys(username, address)
    for _, user_key in named:
        work.session.execute(delete(LoginThrottle).where(LoginThrottle.key == user_key))
    row = work.session.scalar(
        select(LoginThrottle).where(LoginThrottle.key == address_key).with_for_update()
    )
    if row is not None and row.failures > 0:
        row.failures -= 1
