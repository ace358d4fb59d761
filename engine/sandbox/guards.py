"""Run-time guards the restricted code calls: the step budget, size checks, access.

The policy (:mod:`engine.sandbox.policy`) rewrites every loop, call, attribute access and
size-prone operator into a call of one of these hooks; :data:`HOOKS` is what the compiled
code finds under those names, and :data:`BUILTINS` what it can call by name.  Each check
runs *before* the operation, so a refused one has allocated nothing.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import date, timedelta, timezone
from typing import Any

from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.PrintCollector import PrintCollector

from engine.clock import ClockedDatetime
from engine.errors import ExpressionError
from engine.sandbox.policy import (
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_ITEMS,
    attribute_problem,
    width_problem,
)

_SEQUENCES = (str, bytes, list, tuple)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")


# --- run-time hooks: step budget -----------------------------------------------


class Budget:
    """Steps left for one evaluation.  Once spent it stays spent, so catching the
    error inside a script cannot buy more loop iterations.  The hot paths below
    decrement ``left`` themselves: a method call per step would double its cost."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spent(self) -> ExpressionError:
        return ExpressionError(
            f"more than {self.limit} loop iterations or function calls in one evaluation"
        )


ACTIVE_BUDGET: ContextVar[Budget] = ContextVar("casework_expression_budget")
"""The budget of the evaluation running in this thread.  Restricted code called after
its evaluation ended (a lambda handed out as a value) finds none and fails with
LookupError: closed, not open."""


def _step() -> None:
    budget = ACTIVE_BUDGET.get()
    budget.left -= 1
    if budget.left < 0:
        raise budget.spent()


def _guarded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    return _counted(iter(iterable), ACTIVE_BUDGET.get())


def _counted(iterator: Iterator[Any], budget: Budget) -> Iterator[Any]:
    for item in iterator:
        budget.left -= 1
        if budget.left < 0:
            raise budget.spent()
        yield item


def _guarded_range(*args: int) -> range:
    numbers = range(*args)
    limit = ACTIVE_BUDGET.get().limit
    try:
        too_big = len(numbers) > limit
    except OverflowError:
        too_big = True
    if too_big:
        raise ExpressionError(f"range() would have more than {limit} elements")
    return numbers


# --- run-time hooks: result sizes ----------------------------------------------


def _check_items(size: object, what: str) -> None:
    if isinstance(size, int) and size > MAX_ITEMS:
        raise ExpressionError(f"{what} would create more than {MAX_ITEMS} items")


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise ExpressionError(f"{what} would create an integer of more than {MAX_INT_BITS} bits")


def _weight(value: object, limit: int = MAX_ITEMS) -> int:
    """Items ``value`` holds, counting into nested containers and strings (what
    printing it costs); counting stops soon after ``limit``."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if not isinstance(value, (list, tuple, set, frozenset)):
        return 1
    total = 0
    for item in value:
        if total > limit:
            break
        total += max(1, _weight(item, limit - total))
    return total


def _check_sum(left: object, right: object) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_items(len(left) + len(right), "concatenation with +")


def _check_product(left: object, right: object) -> None:
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length(), "multiplication")
    elif isinstance(right, int) and isinstance(left, _SEQUENCES):
        _check_items(_weight(left) * right, "repetition with *")
    elif isinstance(left, int) and isinstance(right, _SEQUENCES):
        _check_items(_weight(right) * left, "repetition with *")


def _check_power(base: object, exponent: object) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        _check_bits((abs(base).bit_length() - 1) * exponent, "power")


def _check_shift(value: object, shift: object) -> None:
    if isinstance(value, int) and isinstance(shift, int) and value and shift > 0:
        _check_bits(value.bit_length() + shift, "left shift")


def _check_percent_format(template: object, _values: object) -> None:
    if isinstance(template, bytes):
        template = template.decode("latin-1")
    if not isinstance(template, str):
        return
    for match in _PERCENT_SPEC.finditer(template):
        for width in match.groups(default=""):
            if width == "*":
                raise ExpressionError("'*' widths in %-formatting are not allowed")
            problem = width_problem(width)
            if problem:
                raise ExpressionError(problem)


def _checked(
    check: Callable[[Any, Any], None], apply: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    def run(left: Any, right: Any) -> Any:
        check(left, right)
        return apply(left, right)

    return run


_add = _checked(_check_sum, operator.add)
_mul = _checked(_check_product, operator.mul)
_pow = _checked(_check_power, operator.pow)
_lshift = _checked(_check_shift, operator.lshift)
_mod = _checked(_check_percent_format, operator.mod)

_IN_PLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _checked(_check_sum, operator.iadd),
    "-=": operator.isub,
    "*=": _checked(_check_product, operator.imul),
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": _checked(_check_percent_format, operator.imod),
    "**=": _checked(_check_power, operator.ipow),
    "<<=": _checked(_check_shift, operator.ilshift),
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _in_place(op: str, target: Any, value: Any) -> Any:
    return _IN_PLACE[op](target, value)


# --- run-time hooks: string methods that take a size ---------------------------


def _width_size(target: str | bytes, width: int, *_: object) -> int:
    return width


def _tabs_size(target: str | bytes, tabsize: int = 8) -> int:
    return len(target) * max(tabsize, 1)


def _replace_size(target: str | bytes, old: str | bytes, new: str | bytes, count: int = -1) -> int:
    hits = len(target) // len(old) if old else len(target) + 1
    if count >= 0:
        hits = min(hits, count)
    return len(target) + hits * len(new)


def _size_checked(name: str, estimate: Callable[..., int]) -> Callable[[Any], Callable[..., Any]]:
    def bind(target: str | bytes) -> Callable[..., Any]:
        method = getattr(target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            _check_items(estimate(target, *args, **kwargs), f"{name}()")
            return method(*args, **kwargs)

        return call

    return bind


def _checked_join(separator: str | bytes) -> Callable[[Iterable[Any]], Any]:
    def join(iterable: Iterable[Any]) -> Any:
        parts = list(iterable)
        size = len(separator) * max(len(parts) - 1, 0)
        size += sum(len(part) for part in parts if isinstance(part, (str, bytes)))
        _check_items(size, "join()")
        return separator.join(parts)

    return join


_STRING_METHOD_GUARDS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "center": _size_checked("center", _width_size),
    "ljust": _size_checked("ljust", _width_size),
    "rjust": _size_checked("rjust", _width_size),
    "zfill": _size_checked("zfill", _width_size),
    "expandtabs": _size_checked("expandtabs", _tabs_size),
    "replace": _size_checked("replace", _replace_size),
    "join": _checked_join,
}


# --- run-time hooks: access ----------------------------------------------------


def _guarded_getattr(obj: object, name: str) -> Any:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    problem = attribute_problem(name)
    if problem:
        raise ExpressionError(problem)
    value = safer_getattr_raise(obj, name)
    guard = _STRING_METHOD_GUARDS.get(name)
    if guard is None:
        return value
    if obj is str or obj is bytes:
        raise ExpressionError(f"call {name}() on a string value, not on the {obj.__name__} type")
    return guard(obj) if isinstance(obj, (str, bytes)) else value


_NO_DEFAULT = object()


def _getattr_builtin(obj: object, name: str, default: Any = _NO_DEFAULT) -> Any:
    try:
        return _guarded_getattr(obj, name)
    except AttributeError:
        if default is _NO_DEFAULT:
            raise
        return default


def _guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _guarded_write(obj: Any) -> Any:
    if type(obj) in (dict, list):
        return obj
    raise ExpressionError(f"cannot assign to items or attributes of {type(obj).__name__}")


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


# --- builtins ------------------------------------------------------------------


def _guarded_round(number: Any, ndigits: int | None = None) -> Any:
    if isinstance(ndigits, int) and abs(ndigits) > MAX_FORMAT_WIDTH:
        raise ExpressionError(f"round() to more than {MAX_FORMAT_WIDTH} digits is not allowed")
    return round(number, ndigits)


def _guarded_sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    if not isinstance(start, (int, float, complex, timedelta)):
        raise ExpressionError(
            "sum() adds numbers and timedeltas only; use a comprehension to combine sequences"
        )
    return sum(iterable, start)


def _exits_process(value: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, BaseException)
        and not issubclass(value, Exception)
    )


_REPLACED = {"pow", "range", "round", "bytes", "setattr", "delattr", "__build_class__", "_getattr_"}

BUILTINS: dict[str, Any] = {
    **{
        name: value
        for name, value in safe_builtins.items()
        if name not in _REPLACED and not _exits_process(value)
    },
    "dict": dict,
    "list": list,
    "set": set,
    "frozenset": frozenset,
    "enumerate": enumerate,
    "reversed": reversed,
    "min": min,
    "max": max,
    "any": any,
    "all": all,
    "sum": _guarded_sum,
    "range": _guarded_range,
    "round": _guarded_round,
    "pow": _pow,
    "getattr": _getattr_builtin,
    "datetime": ClockedDatetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
}
"""What restricted code can call by name, unless a process variable shadows it."""

HOOKS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": _guarded_getitem,
    "_getiter_": _guarded_iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _guarded_write,
    "_apply_": _apply,
    "_inplacevar_": _in_place,
    "_print_": PrintCollector,
    "_step_": _step,
    "_add_": _add,
    "_mul_": _mul,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_mod_": _mod,
}
"""Names the compiled code calls; set last, so process variables cannot replace them."""
