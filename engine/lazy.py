"""A lazily computed attribute without a lock.

``functools.cached_property`` on Python 3.11 guards every computation with one lock per
*class*, not per instance: two requests loading their own user's permissions wait for each
other, database round trips included (seen on PostgreSQL, where requests run side by side
in threads: a sixth of the server's wall time was spent waiting on that lock).  The objects
that use this are owned by one thread each, so computing twice in a race is harmless and
no lock is needed; Python 3.12 dropped the lock for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class lazy(Generic[T]):  # a decorator, lower-case like ``property``
    """Compute on first access, then keep the value in the instance's ``__dict__``."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value
