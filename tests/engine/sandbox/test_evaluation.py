"""The restricted evaluator runs real conditions, timer values and scripts, fast and as Python."""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.errors import ExpressionError
from engine.sandbox.environment import SafeEnvironment, make_script_engine
from engine.sandbox.policy import check_expression, check_script
from tests.engine.sandbox.processes import SCRIPT_BPMN, ends_reached, route, timed, workflow_for

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
