"""Camunda's expression language (JUEL), the common subset, read as Python.

Camunda Modeler users write conditions as ``${approved}`` or
``${amount > 1000 && !urgent}``.  Refusing those would make most real modeler files
undeployable, and their meaning is unambiguous for the subset used in gateway
conditions: variables, literals, comparisons, logic and arithmetic.  We translate
that subset token by token into the Python the restricted evaluator runs, and
refuse anything else (method calls, ternaries, indexing) with a message saying what
to write instead.  Nothing is executed here.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
      | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%()])
    )""",
    re.VERBOSE,
)
_WORDS = {
    "and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "div": "/", "mod": "%", "true": "True", "false": "False",
    "null": "None", "empty": "not",
}  # fmt: skip
_OPS = {"&&": "and", "||": "or", "!": "not"}


class JuelError(ValueError):
    """The expression uses JUEL beyond the subset we translate."""


def is_juel(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("${", "#{")) and stripped.endswith("}")


def to_python(text: str) -> str:
    """Translate ``${...}`` to an equivalent Python expression, or raise JuelError."""
    body = text.strip()[2:-1]
    out: list[str] = []
    position = 0
    while position < len(body):
        if not body[position:].strip():
            break
        match = _TOKEN.match(body, position)
        if match is None:
            raise JuelError(f"cannot read {body[position:].strip()!r}")
        position = match.end()
        kind = match.lastgroup
        token = match.group(kind or "")
        if kind == "name":
            if body[position:].lstrip().startswith("("):
                raise JuelError(f"method and function calls such as {token}(...) are not supported")
            out.append(_WORDS.get(token, _name(token)))
        elif kind == "op":
            out.append(_OPS.get(token, token))
        else:
            out.append(token)
    if not out:
        raise JuelError("the expression is empty")
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def _name(dotted: str) -> str:
    """``order.amount`` reads a map entry in JUEL; task data holds dicts, so subscript it."""
    first, *rest = dotted.split(".")
    return first + "".join(f"[{part!r}]" for part in rest)
