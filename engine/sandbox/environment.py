"""The sandbox plugged into SpiffWorkflow: an environment and a script engine.

:class:`SafeEnvironment` replaces SpiffWorkflow's ``TaskDataEnvironment``: it compiles
through the policy, runs with the guards and a fresh step budget per evaluation, and
writes a script's variables back into the task data.  :class:`SafeScriptEngine` keeps
the reason of a refusal in the message SpiffWorkflow shows.
"""

from __future__ import annotations

from types import CodeType, ModuleType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import ExpressionError
from engine.sandbox.guards import ACTIVE_BUDGET, HOOKS, Budget
from engine.sandbox.policy import DENIED_NAMES, compiled


def _namespace(context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
    namespace = dict(external_context or {})
    namespace.update(context)
    namespace.update(HOOKS)
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
        return self._run(compiled(expression, "eval"), _namespace(context, external_context))

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        if not self.scripts_enabled:
            raise ExpressionError(
                "script tasks are disabled for this case type; set "
                "scripts_enabled = true in its configuration to allow them"
            )
        code = compiled(script, "exec")
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
        token = ACTIVE_BUDGET.set(Budget(self.max_iterations))
        try:
            return eval(code, namespace)
        except NameError as exc:
            if exc.name in DENIED_NAMES:
                raise ExpressionError(f"name {exc.name!r} is not allowed") from exc
            raise
        finally:
            ACTIVE_BUDGET.reset(token)


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
