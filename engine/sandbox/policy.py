"""What restricted code may say: the compile-time policy of the expression sandbox.

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
runs on every engine step.  So :class:`_Policy` (a ``RestrictingNodeTransformer``, here)
and the run-time hooks of :mod:`engine.sandbox.guards` add:

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
:class:`~engine.sandbox.environment.SafeScriptEngine` keeps its message visible through
SpiffWorkflow's wrapping.  Compiled code is cached by source: a condition costs about 2 µs.

Known limits: the budget bounds steps and the size of each single operation, not
the total memory an evaluation can build: ``str()``, ``repr()``, f-strings and
``[*x, *x]`` copy without a check, so a structure holding many references to one
large string, or one doubled in a loop by those means, can still exhaust memory.
A hard cap on memory (and wall time) needs an OS limit around the worker process.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from types import CodeType
from typing import Literal, TypeVar

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    RestrictingNodeTransformer,
    copy_locations,
)

from engine.errors import ExpressionError

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
_WIDTH_DIGITS = re.compile(r"\d+")


# --- compile-time policy -------------------------------------------------------


def attribute_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"attribute names starting with '_' are not allowed: {name!r}"
    if name in DENIED_ATTRIBUTES:
        return f"attribute {name!r} is not allowed"
    return None


def width_problem(spec: str) -> str | None:
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
    return width_problem("".join(str(part.value) for part in constants))


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
        problem = attribute_problem(node.attr)
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
                problem = attribute_problem(attr.value)
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


def compiled(source: str, mode: Mode) -> CodeType:
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
