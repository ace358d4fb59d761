"""SpiffWorkflow's run-time failures, told as :class:`~engine.errors.ProcessError`.

When a gateway condition, a script or another expression of a deployed process raises,
SpiffWorkflow throws ``WorkflowTaskException`` (or another ``WorkflowException``) with
the failing task, the script line and the original error spread over attributes,
notes and the exception chain.  Callers of the engine should not have to know that
shape: :func:`process_error` gathers it into one error naming the case, the BPMN
element, the expression or script line, and the reason.
"""

from __future__ import annotations

import difflib
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import CaseworkError, ProcessError


def process_error(exc: SpiffWorkflowException, case: str | None) -> ProcessError:
    """The engine's error for a failure SpiffWorkflow raised while running ``case``."""
    task = getattr(exc, "task", None)
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    line = getattr(exc, "line_number", None) or None
    code = getattr(exc, "error_line", None) or None
    return ProcessError(
        _reason(exc, task),
        case=case,
        element_id=getattr(spec, "bpmn_id", None),
        element_name=getattr(spec, "bpmn_name", None),
        code=code.strip() if isinstance(code, str) else None,
        line=line
        if getattr(spec, "script", None)
        else None,  # a script's line, not an expression's
    )


def _reason(exc: SpiffWorkflowException, task: Any) -> str:
    """The original error in plain words: ``NameError: name 'x' is not defined``, with a
    guess at the variable meant when a name is unknown."""
    cause = exc.__cause__ or exc.__context__
    if cause is None:  # SpiffWorkflow's own complaint (e.g. no gateway condition held)
        return str(exc.args[0]) if exc.args else type(exc).__name__
    if isinstance(cause, CaseworkError | SpiffWorkflowException):
        return str(cause.args[0]) if cause.args else type(cause).__name__
    reason = f"{type(cause).__name__}: {cause}"
    name = getattr(cause, "name", None)
    if isinstance(cause, NameError) and name and task is not None:
        known = [key for key in task.data if not key.startswith("_")]
        close = difflib.get_close_matches(name, known, n=3)
        if close:
            reason += f" (did you mean {', '.join(repr(c) for c in close)}?)"
    return reason
