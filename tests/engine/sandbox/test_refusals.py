"""The restricted evaluator refuses known escapes and runaway costs, naming what it refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from SpiffWorkflow.task import Task

from engine.errors import ExpressionError
from engine.sandbox.environment import SafeEnvironment

TOO_MANY = "would create more than 1000000 items"

ESCAPE_DATA: dict[str, Any] = {
    "x": 1,
    "obj": {"a": 1},
    "attr": "__class__",
    "items": list(range(1000)),
}

EXPRESSION_ESCAPES = [
    pytest.param(
        "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']",
        "'__subclasses__'",
        id="subclasses-walk",
    ),
    pytest.param(
        "().__class__.__bases__[0].__subclasses__()", "'__subclasses__'", id="bases-subclasses"
    ),
    pytest.param("__import__('os')", "name '__import__' is not allowed", id="dunder-import"),
    pytest.param("open('/etc/passwd')", "name 'open' is not allowed", id="open"),
    pytest.param(
        "(lambda f=open: f('/etc/passwd'))()",
        "name 'open' is not allowed",
        id="lambda-default-open",
    ),
    pytest.param(
        "getattr(x, '__class__')", "'_' are not allowed: '__class__'", id="getattr-literal"
    ),
    pytest.param("getattr(x, attr)", "'_' are not allowed: '__class__'", id="getattr-from-data"),
    pytest.param('"{0.__class__}".format(1)', "attribute 'format' is not allowed", id="str-format"),
    pytest.param(
        '"{x.__init__.__globals__}".format_map({"x": obj})',
        "attribute 'format_map' is not allowed",
        id="str-format-map",
    ),
    pytest.param('f"{().__class__}"', "'__class__'", id="f-string-dunder"),
    pytest.param("(lambda: 0).__code__", "'__code__'", id="lambda-code"),
    pytest.param(
        "(g for g in []).gi_frame.f_back.f_globals",
        "attribute 'f_globals' is not",
        id="generator-frame-walk",
    ),
    pytest.param(
        "(g for g in []).gi_code", "attribute 'gi_code' is not allowed", id="generator-code"
    ),
    pytest.param("10**10**10", "more than 100000 bits", id="power-tower"),
    pytest.param("2**99999999", "more than 100000 bits", id="huge-power"),
    pytest.param("pow(10, 10**9)", "more than 100000 bits", id="pow-builtin"),
    pytest.param("1 << 10**10", "more than 100000 bits", id="huge-shift"),
    pytest.param("'a' * 10**10", TOO_MANY, id="string-repeat"),
    pytest.param("[1] * 10**10", TOO_MANY, id="list-repeat"),
    pytest.param("str(['a' * 10**6] * 10**4)", TOO_MANY, id="nested-repeat"),
    pytest.param("'a'.ljust(10**10)", "ljust() would create", id="ljust"),
    pytest.param("('a' * 10**6).replace('', 'b' * 10**6)", "replace() would create", id="replace"),
    pytest.param("str.join('a' * 10**6, 'b' * 10**6)", "not on the str type", id="unbound-join"),
    pytest.param("round(1, -10**9)", "round() to more than 1000 digits", id="round"),
    pytest.param("f'{1:10000000000}'", "format width 10000000000", id="f-string-width"),
    pytest.param("'%10000000000d' % 1", "format width 10000000000", id="percent-width"),
    pytest.param("sum([[0] * 1000] * 999, [])", "sum() adds numbers", id="sum-of-lists"),
    pytest.param(
        "sum(range(10**12))", "range() would have more than 100000 elements", id="huge-range"
    ),
    pytest.param(
        "[i for i in items for j in items for k in items]",
        "more than 100000 loop iterations",
        id="nested-comprehension",
    ),
    pytest.param("eval('1')", "name 'eval' is not allowed", id="eval"),
    pytest.param("exec('x = 1')", "name 'exec' is not allowed", id="exec"),
    pytest.param("compile('1', 'f', 'eval')", "name 'compile' is not allowed", id="compile"),
    pytest.param("globals()", "name 'globals' is not allowed", id="globals"),
    pytest.param("locals()", "name 'locals' is not allowed", id="locals"),
    pytest.param("vars()", "name 'vars' is not allowed", id="vars"),
    pytest.param("dir()", "name 'dir' is not allowed", id="dir"),
    pytest.param("help()", "name 'help' is not allowed", id="help"),
    pytest.param("breakpoint()", "name 'breakpoint' is not allowed", id="breakpoint"),
    pytest.param("exit()", "name 'exit' is not allowed", id="exit"),
    pytest.param("quit()", "name 'quit' is not allowed", id="quit"),
    pytest.param("type(1).__mro__", "'__mro__'", id="type-mro-dunder"),
    pytest.param("type(1)", "name 'type' is not allowed", id="type"),
    pytest.param("str.mro()", "attribute 'mro' is not allowed", id="mro"),
    pytest.param("__builtins__", "name '__builtins__' is not allowed", id="builtins"),
]

SCRIPT_ESCAPES = [
    pytest.param("import os", "import statements are not allowed", id="import"),
    pytest.param("from os import system", "import statements are not allowed", id="from-import"),
    pytest.param("while True:\n    pass", "more than 100000 loop iterations", id="while-true"),
    pytest.param(
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except Exception:\n        pass",
        "more than 100000 loop iterations",
        id="while-true-swallowing-errors",
    ),
    pytest.param(
        "x = 'a'\nwhile True:\n    x = x + x", "concatenation with + would create", id="doubling"
    ),
    pytest.param("x = [0]\nx *= 10**10", TOO_MANY, id="in-place-repeat"),
    pytest.param("class A:\n    pass", "class definitions are not allowed", id="class"),
    pytest.param("raise SystemExit", "name 'SystemExit' is not allowed", id="system-exit"),
    pytest.param(
        "def gen():\n    yield 1\nframe = gen().gi_frame",
        "attribute 'gi_frame' is not allowed",
        id="generator-frame",
    ),
    pytest.param("exec('x = 1')", "name 'exec' is not allowed", id="exec"),
    pytest.param(
        "x = 1\nopen('/tmp/owned', 'w')", "name 'open' is not allowed at line 2", id="open-line-2"
    ),
]


# --- escapes ---------------------------------------------------------------------


@pytest.mark.parametrize(("source", "problem"), EXPRESSION_ESCAPES)
def test_it_refuses_expression_escapes(env: SafeEnvironment, source: str, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as refused:
        env.evaluate(source, dict(ESCAPE_DATA))
    assert time.perf_counter() - started < 1.0
    assert problem in str(refused.value)


@pytest.mark.parametrize(("source", "problem"), EXPRESSION_ESCAPES)
def test_it_shows_the_refusal_through_the_script_engine(
    gateway_task: Task, source: str, problem: str
) -> None:
    gateway_task.data.update(ESCAPE_DATA)
    started = time.perf_counter()
    with pytest.raises(Exception) as refused:
        gateway_task.workflow.script_engine.evaluate(gateway_task, source)
    assert time.perf_counter() - started < 1.0
    assert problem in str(refused.value)
    assert isinstance(refused.value.__cause__, ExpressionError)


@pytest.mark.parametrize(("source", "problem"), SCRIPT_ESCAPES)
def test_it_refuses_script_escapes(env: SafeEnvironment, source: str, problem: str) -> None:
    context: dict[str, Any] = {}
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as refused:
        env.execute(source, context)
    assert time.perf_counter() - started < 1.0
    assert problem in str(refused.value)


def test_it_counts_function_calls_against_the_step_budget() -> None:
    # A smaller budget than the default: on CPython 3.11, recursion that keeps
    # crossing a frame-stack chunk boundary costs ~15 µs a call instead of ~0.5 µs,
    # which makes the time for the full default budget depend on the stack depth.
    env = SafeEnvironment(max_iterations=10_000)
    exponential = "(lambda f: f(f, 64))(lambda g, n: n and g(g, n - 1) + g(g, n - 1))"
    with pytest.raises(ExpressionError, match="more than 10000 loop iterations or function"):
        env.evaluate(exponential, {})
    recursive = "def countdown(n):\n    return countdown(n - 1) if n else 0\nx = countdown(900)"
    with pytest.raises(ExpressionError, match="function calls"):
        SafeEnvironment(scripts_enabled=True, max_iterations=500).execute(recursive, {})


def test_it_keeps_process_variables_from_replacing_the_guards(env: SafeEnvironment) -> None:
    context = {"_getattr_": "not a function", "__builtins__": {"open": open}, "name": "ab"}
    assert env.evaluate("name.upper()", context) == "AB"
    with pytest.raises(ExpressionError, match="name 'open' is not allowed"):
        env.evaluate("(lambda f=open: f)()", context)
    env.execute("result = name.upper()", context)
    assert context["_getattr_"] == "not a function"
    assert context["result"] == "AB"
