"""The restricted evaluator: known escapes are refused, real conditions and scripts work."""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import ExpressionError
from engine.expressions import (
    SafeEnvironment,
    check_expression,
    check_script,
    make_script_engine,
)

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


ROUTE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="urn:test">
  <bpmn:process id="route" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_gateway</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="start" targetRef="gateway"/>
    <bpmn:exclusiveGateway id="gateway" default="to_normal">
      <bpmn:incoming>to_gateway</bpmn:incoming>
      <bpmn:outgoing>to_urgent</bpmn:outgoing>
      <bpmn:outgoing>to_normal</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_urgent" sourceRef="gateway" targetRef="urgent_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_normal" sourceRef="gateway" targetRef="normal_end"/>
    <bpmn:endEvent id="urgent_end"><bpmn:incoming>to_urgent</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="normal_end"><bpmn:incoming>to_normal</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SCRIPT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="urn:test">
  <bpmn:process id="add" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_script</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_script" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script">
      <bpmn:incoming>to_script</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:script>total = a + b</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="script" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def workflow_for(
    bpmn: str, process_id: str, data: dict[str, Any], engine: PythonScriptEngine
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode(), filename=f"{process_id}.bpmn")
    workflow = BpmnWorkflow(parser.get_spec(process_id), script_engine=engine)
    workflow.task_tree.data.update(data)
    return workflow


def route(
    condition: str, data: dict[str, Any], engine: PythonScriptEngine | None = None
) -> BpmnWorkflow:
    """Run the gateway process with ``condition`` on its urgent branch."""
    bpmn = ROUTE_BPMN.replace("CONDITION", escape(condition))
    workflow = workflow_for(bpmn, "route", data, engine or make_script_engine())
    workflow.do_engine_steps()
    return workflow


def ends_reached(workflow: BpmnWorkflow) -> set[str]:
    completed = workflow.get_tasks(state=TaskState.COMPLETED)
    return {task.task_spec.name for task in completed} & {"urgent_end", "normal_end"}


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@pytest.fixture
def env() -> SafeEnvironment:
    return SafeEnvironment(scripts_enabled=True)


@pytest.fixture
def gateway_task() -> Task:
    """A real task, for calling the script engine the way SpiffWorkflow does."""
    workflow = workflow_for(
        ROUTE_BPMN.replace("CONDITION", "True"), "route", {}, make_script_engine()
    )
    return workflow.get_tasks(spec_name="gateway")[0]


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


# --- legitimate use ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("priority == 'high' and not escalated", True),
        ("priority in ('high', 'urgent')", True),
        ("len(items) > 2", True),
        ("data.get('x', 1)", 5),
        ("data.get('missing', 1)", 1),
        ("data['x'] * 2 + 1", 11),
        ("name.lower().startswith('ab') and name.endswith('c')", True),
        ("name.strip().upper()", "ABC"),
        ("[i * 2 for i in items if i > 1]", [4, 6]),
        ("{str(i): i for i in items}", {"1": 1, "2": 2, "3": 3}),
        ("[k for k, v in pairs if v]", ["a"]),
        ("sum(items) / len(items)", 2.0),
        ("max(items) - min(items)", 2),
        ("sorted(items, key=lambda i: -i)", [3, 2, 1]),
        ("any(i > 2 for i in items) and all(i > 0 for i in items)", True),
        ("round(amount, 1)", 12.3),
        ("2 ** 10 + 7 % 3 + (1 << 4)", 1041),
        ("'ab' * 2 + '-' * 3", "abab---"),
        ("'%s-%03d' % (name, 7)", "Abc-007"),
        ("f'{amount:.2f} for {name!r}'", "12.35 for 'Abc'"),
        ("', '.join(str(i) for i in items)", "1, 2, 3"),
        ("list(zip(range(2), enumerate('ab')))", [(0, (0, "a")), (1, (1, "b"))]),
        ("isinstance(items, list) and str(len(items)) == '3'", True),
        ("timedelta(hours=4) == timedelta(minutes=240)", True),
        ("date(2026, 1, 5) + timedelta(days=1)", date(2026, 1, 6)),
        ('"PT4H"', "PT4H"),
        ("\n   escalated or priority == 'high'\n  ", True),
        ("type == 'bug' and open", True),
    ],
)
def test_it_evaluates_legitimate_expressions(
    env: SafeEnvironment, expression: str, expected: Any
) -> None:
    context = {
        "priority": "high",
        "escalated": False,
        "items": [1, 2, 3],
        "data": {"x": 5},
        "name": "Abc",
        "pairs": [("a", 1), ("b", 0)],
        "amount": 12.345,
        "type": "bug",
        "open": True,
    }
    assert check_expression(expression) is None
    assert env.evaluate(expression, context) == expected


def test_it_evaluates_timer_expressions_to_iso_strings(env: SafeEnvironment) -> None:
    due = env.evaluate("(datetime.now(timezone.utc) + timedelta(hours=4)).isoformat()", {})
    delay = datetime.fromisoformat(due) - datetime.now(UTC)
    assert timedelta(hours=3, minutes=59) < delay <= timedelta(hours=4)


def test_it_gives_each_evaluation_its_own_step_budget() -> None:
    env = SafeEnvironment(max_iterations=50)
    assert env.evaluate("[i for i in items]", {"items": list(range(40))}) == list(range(40))
    assert len(env.evaluate("[i for i in items]", {"items": list(range(40))})) == 40
    with pytest.raises(ExpressionError, match="more than 50 loop iterations"):
        env.evaluate("[i for i in items]", {"items": list(range(60))})


def test_it_reads_external_context_below_task_data(env: SafeEnvironment) -> None:
    assert env.evaluate("a + b", {"a": 1}, {"b": 2}) == 3
    assert env.evaluate("a", {"a": 1}, {"a": 2}) == 1


def test_it_evaluates_a_simple_condition_almost_as_fast_as_plain_eval(
    env: SafeEnvironment,
) -> None:
    context = {"priority": "high", **{f"field{i}": i for i in range(30)}}
    code = compile('priority == "high"', "<string>", "eval")
    runs = 20_000
    safe = (
        min(
            timeit.repeat(
                lambda: env.evaluate('priority == "high"', context), number=runs, repeat=3
            )
        )
        / runs
    )
    plain = min(timeit.repeat(lambda: eval(code, dict(context)), number=runs, repeat=3)) / runs
    assert safe - plain < 20e-6, f"overhead {(safe - plain) * 1e6:.1f} µs per evaluation"


@given(
    left=st.integers(-1000, 1000),
    right=st.integers(-1000, 1000),
    op=st.sampled_from(["+", "-", "*", "//", "%", "**", "<<", ">>", "==", "<", "&", "|"]),
)
def test_it_computes_arithmetic_like_python(left: int, right: int, op: str) -> None:
    assume(op not in ("//", "%") or right != 0)
    assume(op not in ("**", "<<", ">>") or 0 <= right <= 64)
    expression = f"left {op} right"
    expected = eval(expression, {"left": left, "right": right})
    assert SafeEnvironment().evaluate(expression, {"left": left, "right": right}) == expected


@given(text=st.text(max_size=20), times=st.integers(-3, 50))
def test_it_repeats_and_formats_strings_like_python(text: str, times: int) -> None:
    context = {"text": text, "times": times}
    for expression in ("text * times", "text + text", "'<%s>' % text", "f'{text!r:>30}'"):
        assert SafeEnvironment().evaluate(expression, context) == eval(expression, context)


# --- scripts -------------------------------------------------------------------------


def test_it_runs_a_script_that_writes_task_data(env: SafeEnvironment) -> None:
    context: dict[str, Any] = {"a": 1, "b": 2, "data": {}, "gone": True}
    script = (
        "total = a + b\n"
        "def double(n):\n"
        "    return n * 2\n"
        "doubled = double(total)\n"
        "data['seen'] = True\n"
        "count = 0\n"
        "while count < 3:\n"
        "    count += 1\n"
        "for i in range(2):\n"
        "    pass\n"
        "print(total)\n"
        "biggest = max\n"
        "del gone\n"
    )
    assert env.execute(script, context) is True
    assert context == {
        "a": 1,
        "b": 2,
        "data": {"seen": True},
        "total": 3,
        "doubled": 6,
        "count": 3,
        "i": 1,
    }


def test_it_leaves_no_builtins_or_external_context_in_task_data(env: SafeEnvironment) -> None:
    context: dict[str, Any] = {"a": 1, "b": 2}
    env.execute("total = a + b + offset", context, {"offset": 10})
    assert context == {"a": 1, "b": 2, "total": 13}


def test_it_refuses_scripts_unless_the_case_type_enables_them() -> None:
    context = {"a": 1}
    with pytest.raises(ExpressionError, match="script tasks are disabled for this case type"):
        SafeEnvironment().execute("a = 2", context)
    with pytest.raises(ExpressionError, match="script tasks are disabled"):
        make_script_engine().environment.execute("a = 2", context)
    assert context == {"a": 1}


def test_it_refuses_service_calls() -> None:
    with pytest.raises(ExpressionError, match="service tasks are not supported"):
        SafeEnvironment().call_service({}, operation_name="http/get")


# --- checks at deploy time -----------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "source", "message"),
    [
        (check_expression, "a ==", "invalid syntax at the end of line 1"),
        (check_expression, "priority = 'high'", "invalid syntax at line 1, column 10"),
        (check_expression, "a b", "invalid syntax at line 1, column 3"),
        (check_expression, "   ", "the expression is empty"),
        (check_script, "x = 1\ny = (1 +\n", "'(' was never closed at line 2, column 5"),
        (check_expression, "__import__('os')", "name '__import__' is not allowed at line 1"),
        (
            check_expression,
            "x.__class__",
            "attribute names starting with '_' are not allowed: '__class__' at line 1",
        ),
        (check_script, "x = 1\nimport os", "import statements are not allowed at line 2"),
        (check_expression, "-" * 100_000 + "1", "the code is nested too deeply"),
        (check_expression, "print(priority)", "print() is only available in scripts at line 1"),
    ],
)
def test_it_reports_problems_in_one_line(
    check: Callable[[str], str | None], source: str, message: str
) -> None:
    assert check(source) == message


def test_it_checks_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    assert timed(lambda: check_script("while True:\n    pass")) < 0.5
    assert check_script("while True:\n    pass") is None
    assert check_expression("sum(range(10**12)) > 10**10**10") is None
    writes = f"open({str(marker)!r}, 'w').write('ran')"
    assert check_script(writes) == "name 'open' is not allowed at line 1"
    assert check_script(f"{writes}\nbroken = (") == "'(' was never closed at line 2, column 10"
    assert not marker.exists()


# --- end to end, in a real BPMN ------------------------------------------------------


def test_it_routes_a_gateway_on_a_legitimate_condition() -> None:
    condition = "priority == 'high' and not escalated"
    urgent = route(condition, {"priority": "high", "escalated": False})
    normal = route(condition, {"priority": "low", "escalated": False})
    assert urgent.completed and ends_reached(urgent) == {"urgent_end"}
    assert normal.completed and ends_reached(normal) == {"normal_end"}


def test_it_stops_a_gateway_whose_condition_escapes(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    condition = f"open({str(marker)!r}, 'w').write('owned') > 0"

    route(condition, {}, PythonScriptEngine())  # SpiffWorkflow's own engine runs it...
    assert marker.read_text() == "owned"
    marker.unlink()

    with pytest.raises(Exception, match="name 'open' is not allowed") as refused:
        route(condition, {})
    assert isinstance(refused.value.__cause__, ExpressionError)
    assert not marker.exists()


def test_it_stops_a_gateway_whose_condition_reaches_for_internals_at_run_time() -> None:
    data = {"priority": "high", "attr": "__class__"}
    with pytest.raises(Exception, match="not allowed: '__class__'"):
        route("getattr(priority, attr) is not None", data)


def test_it_runs_script_tasks_only_when_enabled() -> None:
    enabled = workflow_for(
        SCRIPT_BPMN, "add", {"a": 1, "b": 2}, make_script_engine(scripts_enabled=True)
    )
    enabled.do_engine_steps()
    assert enabled.completed
    assert enabled.last_task.data["total"] == 3

    disabled = workflow_for(SCRIPT_BPMN, "add", {"a": 1, "b": 2}, make_script_engine())
    with pytest.raises(Exception, match="script tasks are disabled for this case type"):
        disabled.do_engine_steps()
