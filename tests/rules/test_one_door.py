"""The CLI and the web app reach the engine's changing functions only through the rules.

Every user action goes through ``rules.case_acts``, ``rules.task_acts``,
``rules.child_records`` or ``rules.restriction``, which ask the one access decision
first.  A handler that called the engine directly would be a door the decision does not
guard; this test reads the source of ``cli/`` and ``web/`` and names any such call.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

#: engine module -> functions that change cases or tasks (or list tasks unfiltered)
GUARDED = {
    "engine.run.cases": {"open_case", "close_case", "add_case_contact", "link_cases"},
    "engine.run.posts": {"add_post"},
    "engine.run.attachments": {"attach", "content"},
    "engine.run.case_edits": {
        "edit",
        "assign",
        "move",
        "close",
        "cancel",
        "reopen",
        "add_collaborator",
        "remove_collaborator",
    },
    "engine.run.child_records": {
        "create",
        "link",
        "share",
        "unshare",
        "restrict",
        "unrestrict",
        "check_out",
        "check_in",
        "attach",
    },
    "engine.run.case_links": {"link", "unlink", "write_link"},
    "engine.run.case_merge": {"merge"},
    "engine.run.tasks": {"claim", "release", "reassign", "delegate", "complete"},
    "engine.run.task_queries": {"inbox", "get_task"},
    "engine.sla.clocks": {"set_waiting"},
    "engine.run.messages": {"deliver", "deliver_mail_reply"},
    "engine.run.incidents": {"retry", "open_incidents", "get"},
    "engine.run.retention": {"due", "purge_batch"},
    "people.privacy": {"find_person", "erase", "export"},
}


def _direct_calls(source: str, where: str) -> list[str]:
    tree = ast.parse(source, filename=where)
    modules: dict[str, str] = {}  # local name -> engine module
    functions: dict[str, str] = {}  # local name -> "module.function"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in GUARDED:
                    modules[alias.asname or alias.name] = full
                elif node.module in GUARDED and alias.name in GUARDED[node.module]:
                    functions[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in GUARDED:
                    modules[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = modules.get(func.value.id)
            if module and func.attr in GUARDED[module]:
                found.append(f"{where}:{node.lineno}: {module}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id in functions:
            found.append(f"{where}:{node.lineno}: {functions[func.id]}")
    return found


def test_cli_and_web_never_call_the_engines_changing_functions_directly():
    sources = sorted((ROOT / "cli").rglob("*.py")) + sorted((ROOT / "web").rglob("*.py"))
    assert len(sources) > 20
    offenders = [
        call
        for path in sources
        for call in _direct_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert offenders == [], "call rules.case_acts / rules.task_acts instead:\n" + "\n".join(
        offenders
    )


def test_the_check_finds_a_direct_call():
    """The scan itself works: a handler calling the engine is named with its line."""
    source = (
        "from engine.run import tasks\nfrom engine.run.cases import close_case as shut\n"
        "def h(work, user):\n    tasks.complete(work, task_id=1, user=user)\n    shut(work)\n"
    )
    assert _direct_calls(source, "cli/sample.py") == [
        "cli/sample.py:4: engine.run.tasks.complete",
        "cli/sample.py:5: engine.run.cases.close_case",
    ]
