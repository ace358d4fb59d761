"""The restricted evaluator behind every BPMN condition, timer value and script.

Why this exists
---------------
SpiffWorkflow evaluates gateway conditions, timer values and scripts with plain
``eval``/``exec`` and the full builtins.  In this product neither the people who
design case types nor the data that flows through a case are trusted: a designer
can write ``().__class__.__base__.__subclasses__()`` into a condition, and form
values end up in the variables those expressions read.  Plain ``eval`` hands both
the whole Python process (``os``, files, the database credentials).

What we rely on
---------------
RestrictedPython is the vetted base: its compiler refuses names and attributes
starting with ``_`` and the frame/generator introspection attributes, and routes
every attribute access, subscript, iteration, unpacking, in-place operator and
``print`` through hooks (``_getattr_``, ``_getitem_``, ``_getiter_``, ...) that we
supply.  We start from its ``safe_builtins`` and its ``safer_getattr`` and keep
its policy in force; we do not maintain a sandbox of our own.

What we add, and why
--------------------
RestrictedPython guards *access*; it does nothing about *cost*, and a condition
runs on every engine step.  So :class:`_Policy` (a ``RestrictingNodeTransformer``)
and the hooks below add:

* size checks before ``**``, ``*``, ``<<``, ``%`` and sequence ``+`` run
  (``10**10**10``, ``'a'*10**10``, ``[0]*10**10``, a string doubled in a loop), and
  before the string methods that take a size (``ljust``, ``center``, ``zfill``,
  ``expandtabs``, ``replace``, ``join``); ``pow``, ``round`` and ``sum`` are
  replaced by guarded versions;
* a step budget per evaluation (``max_iterations``): every item drawn by a ``for``
  loop or comprehension, every pass of a ``while`` loop and every call of a
  function or lambda defined in the code costs one step, and ``range()`` may not
  be larger than the budget (builtins such as ``sum`` iterate without our hook);
* a denylist of attributes that reach interpreter internals without a leading
  underscore (``gi_frame``, ``f_globals``, ``mro``, ``format``, ...), and of
  builtins that must never be called (``open``, ``eval``, ``type``, ``vars``, ...),
  with messages that name what was refused;
* no process-exiting exceptions (``SystemExit``, ``KeyboardInterrupt``), no
  classes, no imports, and f-string format specs with bounded constant widths.

``limited_builtins`` (a range cap of 1000, ``list('abc')`` refused) and
``utility_builtins`` (``math.factorial``, ``random.randbytes``) are deliberately
not used: the first is too strict for real data, the second is a DoS toolbox.

Everything refused raises :class:`~engine.errors.ExpressionError`, and
:class:`SafeScriptEngine` keeps its message visible through SpiffWorkflow's
wrapping.  Compiled code is cached by source: a condition costs about 2 µs.

Known limits: the budget bounds steps and the size of each single operation, not
the total memory an evaluation can build: ``str()``, ``repr()``, f-strings and
``[*x, *x]`` copy without a check, so a structure holding many references to one
large string, or one doubled in a loop by those means, can still exhaust memory.
A hard cap on memory (and wall time) needs an OS limit around the worker process.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import date, timedelta, timezone
from types import CodeType, ModuleType
from typing import Any, Literal, TypeVar

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .clock import ClockedDatetime
from .errors import ExpressionError

Mode = Literal["eval", "exec"]
#: What a node visitor may answer: the node (changed or not), several nodes, or none.
Visited = ast.AST | Iterable[ast.AST] | None
#: The nodes that have a place in the source, which a generated node can copy.
Positioned = ast.stmt | ast.expr
_Node = TypeVar("_Node", bound=ast.AST)

MAX_ITEMS = 1_000_000
"""Most items (characters, list elements) one operation may create."""
MAX_INT_BITS = 100_000
"""Largest integer one operation may create, in bits (about 30,000 digits)."""
MAX_FORMAT_WIDTH = 1_000
"""Largest width or precision in a format spec, ``%``-format or ``round()``."""

DENIED_NAMES = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "globals",
        "locals",
        "vars",
        "dir",
        "help",
        "breakpoint",
        "exit",
        "quit",
        "input",
        "type",
        "object",
        "super",
        "memoryview",
        "bytearray",
        "bytes",
        "setattr",
        "delattr",
        "iter",
        "format",
        "BaseException",
        "SystemExit",
        "KeyboardInterrupt",
        "GeneratorExit",
    }
)
"""Builtins never provided.  Calling one is refused when compiling; a bare name is
refused when run, unless a process variable of that name exists (``type == 'bug'``)."""

DENIED_ATTRIBUTES = INSPECT_ATTRIBUTES | {
    "format",
    "format_map",
    "mro",
    "translate",
    "maketrans",
    "to_bytes",
}
"""Attributes refused although they do not start with ``_``: frame, code and
generator internals, ``str.format`` (which can walk ``{0.__class__}``), ``mro()``
(reaches ``object``), and byte/translation helpers that allocate unboundedly."""

_SIZE_CHECKED_OPS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Pow: "_pow_",
    ast.Mult: "_mul_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}
_SEQUENCES = (str, bytes, list, tuple)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_WIDTH_DIGITS = re.compile(r"\d+")


# --- compile-time policy -------------------------------------------------------


def _attribute_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"attribute names starting with '_' are not allowed: {name!r}"
    if name in DENIED_ATTRIBUTES:
        return f"attribute {name!r} is not allowed"
    return None


def _width_problem(spec: str) -> str | None:
    for digits in _WIDTH_DIGITS.findall(spec):
        if len(digits) > 9 or int(digits) > MAX_FORMAT_WIDTH:
            return f"format width {digits} exceeds the limit of {MAX_FORMAT_WIDTH}"
    return None


def _format_spec_problem(spec: ast.expr | None) -> str | None:
    if not isinstance(spec, ast.JoinedStr):
        return None
    constants = [part for part in spec.values if isinstance(part, ast.Constant)]
    if len(constants) != len(spec.values):
        return "format specs computed at run time are not allowed in f-strings"
    return _width_problem("".join(str(part.value) for part in constants))


def _same_node(visited: Visited, node: _Node) -> _Node:
    """The node RestrictedPython's visitor returned, which must be the kind it was given.

    Our cost hooks are added to that node; if a library release ever answered with
    something else, refusing is safer than running the code without them.
    """
    if not isinstance(visited, type(node)):
        raise TypeError(f"RestrictedPython replaced a {type(node).__name__} node")
    return visited


def _hook_call(hook: str, args: list[ast.expr], like: Positioned) -> ast.Call:
    """``hook(*args)`` as an AST node placed where ``like`` is."""
    func = ast.Name(hook, ast.Load())
    call = ast.Call(func=func, args=args, keywords=[])
    copy_locations(func, like)
    copy_locations(call, like)
    return call


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus our refusals and cost hooks (see module doc)."""

    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append(f"{info.rstrip('.')} at line {getattr(node, 'lineno', '?')}")

    def visit_Expression(self, node: ast.Expression) -> Visited:
        # RestrictedPython sets up print's collector only in scripts (modules).
        if any(isinstance(n, ast.Name) and n.id in ("print", "printed") for n in ast.walk(node)):
            self.error(node.body, "print() is only available in scripts")
        return super().visit_Expression(node)

    def visit_Name(self, node: ast.Name) -> Visited:
        if node.id.startswith("_") and node.id != "_":
            self.error(node, f"name {node.id!r} is not allowed")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Visited:
        problem = _attribute_problem(node.attr)
        if problem:
            self.error(node, problem)
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> Visited:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in DENIED_NAMES:
            self.error(node, f"name {name!r} is not allowed")
            return self.node_contents_visit(node)
        if name == "getattr" and len(node.args) > 1:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                problem = _attribute_problem(attr.value)
                if problem:
                    self.error(node, problem)
        return super().visit_Call(node)

    def visit_BinOp(self, node: ast.BinOp) -> Visited:
        node = self.node_contents_visit(node)
        hook = _SIZE_CHECKED_OPS.get(type(node.op))
        return _hook_call(hook, [node.left, node.right], node) if hook else node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Visited:
        problem = _format_spec_problem(node.format_spec)
        if problem:
            self.error(node, problem)
        return super().visit_FormattedValue(node)

    def visit_While(self, node: ast.While) -> Visited:
        node = _same_node(super().visit_While(node), node)
        node.body.insert(0, self._step(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Visited:
        node = _same_node(super().visit_FunctionDef(node), node)
        node.body.insert(0, self._step(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Visited:
        node = _same_node(super().visit_Lambda(node), node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_hook_call("_step_", [], node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Visited:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> Visited:
        self.error(node, "import statements are not allowed")
        return node

    visit_ImportFrom = visit_Import

    @staticmethod
    def _step(like: Positioned) -> ast.Expr:
        statement = ast.Expr(_hook_call("_step_", [], like))
        copy_locations(statement, like)
        return statement


# --- compiling, cached ---------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> tuple[CodeType | None, str | None]:
    """The restricted code for ``source``, or why it is refused.  Never runs it."""
    if mode == "eval":
        source = source.strip()  # as eval() does; BPMN text is often indented
        if not source:
            return None, "the expression is empty"
    try:
        if mode == "eval":
            result = compile_restricted_eval(ast.parse(source, "<string>", "eval"), policy=_Policy)
        else:
            result = compile_restricted_exec(ast.parse(source, "<string>", "exec"), policy=_Policy)
    except SyntaxError as exc:
        return None, _syntax_message(exc)
    except ValueError as exc:  # null bytes, on Python versions that do not raise SyntaxError
        return None, str(exc)
    except (RecursionError, MemoryError):  # how the parser and compiler report deep nesting
        return None, "the code is nested too deeply"
    if result.errors:
        return None, result.errors[0]
    return result.code, None


def _syntax_message(exc: SyntaxError) -> str:
    if not exc.lineno:
        return exc.msg
    if exc.offset and exc.offset > 0:
        return f"{exc.msg} at line {exc.lineno}, column {exc.offset}"
    return f"{exc.msg} at the end of line {exc.lineno}"


def _code(source: str, mode: Mode) -> CodeType:
    code, problem = _compile(source, mode)
    if code is None:
        raise ExpressionError(problem)
    return code


def check_expression(source: str) -> str | None:
    """None when ``source`` is an acceptable expression, else what is wrong with it."""
    return _compile(source, "eval")[1]


def check_script(source: str) -> str | None:
    """None when ``source`` is an acceptable script, else what is wrong with it."""
    return _compile(source, "exec")[1]


# --- run-time hooks: step budget -----------------------------------------------


class _Budget:
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


_ACTIVE_BUDGET: ContextVar[_Budget] = ContextVar("casework_expression_budget")
"""The budget of the evaluation running in this thread.  Restricted code called after
its evaluation ended (a lambda handed out as a value) finds none and fails with
LookupError: closed, not open."""


def _step() -> None:
    budget = _ACTIVE_BUDGET.get()
    budget.left -= 1
    if budget.left < 0:
        raise budget.spent()


def _guarded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    return _counted(iter(iterable), _ACTIVE_BUDGET.get())


def _counted(iterator: Iterator[Any], budget: _Budget) -> Iterator[Any]:
    for item in iterator:
        budget.left -= 1
        if budget.left < 0:
            raise budget.spent()
        yield item


def _guarded_range(*args: int) -> range:
    numbers = range(*args)
    limit = _ACTIVE_BUDGET.get().limit
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
            problem = _width_problem(width)
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
    problem = _attribute_problem(name)
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

_HOOKS: dict[str, Any] = {
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


# --- the environment -----------------------------------------------------------


def _namespace(context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
    namespace = dict(external_context or {})
    namespace.update(context)
    namespace.update(_HOOKS)
    return namespace


def _write_back(
    namespace: dict[str, Any], context: dict[str, Any], external_context: dict[str, Any]
) -> None:
    """Copy a script's variables into the task data, as TaskDataEnvironment leaves
    them: without builtins, hooks, functions, modules or external context."""
    for key in [key for key in context if key not in namespace and not key.startswith("_")]:
        del context[key]
    for key, value in namespace.items():
        if key.startswith("_") or (key in external_context and key not in context):
            continue
        if callable(value) or isinstance(value, ModuleType):
            context.pop(key, None)
        else:
            context[key] = value


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """A drop-in for SpiffWorkflow's ``TaskDataEnvironment`` that runs RestrictedPython."""

    def __init__(self, *, scripts_enabled: bool = False, max_iterations: int = 100_000) -> None:
        super().__init__()
        if max_iterations < 1:
            raise ValueError("max_iterations must be at least 1")
        self.scripts_enabled = scripts_enabled
        self.max_iterations = max_iterations

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        return self._run(_code(expression, "eval"), _namespace(context, external_context))

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        if not self.scripts_enabled:
            raise ExpressionError(
                "script tasks are disabled for this case type; set "
                "scripts_enabled = true in its configuration to allow them"
            )
        code = _code(script, "exec")
        namespace = _namespace(context, external_context)
        try:
            self._run(code, namespace)
        finally:
            _write_back(namespace, context, external_context or {})
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        operation = kwargs.get("operation_name")
        raise ExpressionError(f"service tasks are not supported (operation {operation!r})")

    def _run(self, code: CodeType, namespace: dict[str, Any]) -> Any:
        token = _ACTIVE_BUDGET.set(_Budget(self.max_iterations))
        try:
            return eval(code, namespace)
        except NameError as exc:
            if exc.name in DENIED_NAMES:
                raise ExpressionError(f"name {exc.name!r} is not allowed") from exc
            raise
        finally:
            _ACTIVE_BUDGET.reset(token)


class SafeScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, with errors that say what went wrong.

    The base class wraps a failed expression in ``WorkflowTaskException("Error
    evaluating expression ...")`` and drops the reason; here the reason is part of
    the message and the ``__cause__``.  It also avoids the base ``call_service``,
    which fails with a NameError of its own instead of reporting the real error.
    """

    def evaluate(
        self, task: Any, expression: str, external_context: dict[str, Any] | None = None
    ) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {exc}",
                task=task,
                exception=exc,
                error_line=expression,
            ) from exc

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc


def make_script_engine(*, scripts_enabled: bool = False) -> PythonScriptEngine:
    """The script engine every workflow of a case type runs with."""
    return SafeScriptEngine(environment=SafeEnvironment(scripts_enabled=scripts_enabled))
