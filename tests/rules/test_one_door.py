"""The CLI and the web app reach the engine's running cases only through the rules.

Every user action goes through ``rules`` (``case_acts``, ``task_acts``, ``child_records``,
``restriction`` ...), which asks the one access decision first.  A handler that called the
engine directly would be a door the decision does not guard.  This test reads the source
of ``cli/`` and ``web/`` and names every call into the engine's case-running packages that
is not one of the reviewed reads below: it denies by default, so a new engine function
cannot become a door by being called from a handler before anyone looked.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util

from tests.conftest import ROOT

#: What handlers may call directly, each for a reason that needs no access decision.
READS = {
    # a lookup by number or id; the rules function the handler calls next decides
    "engine.run.cases.case_by_number",
    "engine.run.child_records.record_by_id",
    "engine.run.case_types.current_version_id",
    # facts about a case or task the handler has already been allowed to read
    "engine.run.attachments.attachments_of",
    "engine.run.case_edits.policy",
    "engine.run.case_links.merged_into",
    "engine.run.child_records.case_numbers_of",
    "engine.run.summaries.task_summary",
    "engine.run.task_queries.is_eligible",
    "engine.sla.clocks.clocks",
    # values, not actions
    "engine.run.attachments.NewFile",
    "engine.run.attachments.served_type",
    "engine.run.kb.all_roles",
    # the worker's own sweeps and the metrics scrape, which act for no user
    "engine.run.start_events.sweep",
    "engine.run.timers.sweep",
    "engine.run.timers.next_due",
    "engine.run.workload.workload",
}
#: The packages whose functions run or change cases, tasks and people's data.
GUARDED = ("engine.run", "engine.sla.clocks", "people.privacy")


def _guarded(name: str) -> bool:
    return any(name == g or name.startswith(g + ".") for g in GUARDED)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, not a module
        return False


def _direct_calls(source: str, where: str) -> list[str]:
    """Every call in ``source`` into a guarded package that is not a reviewed read."""
    tree = ast.parse(source, filename=where)
    modules: dict[str, str] = {}  # local name -> guarded module
    functions: dict[str, str] = {}  # local name -> "module.function"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                local = alias.asname or alias.name
                if _guarded(full) and _is_module(full):  # from engine.run import tasks
                    modules[local] = full
                elif _guarded(node.module):
                    functions[local] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _guarded(alias.name) and alias.asname:
                    modules[alias.asname] = alias.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, called = node.func, None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = modules.get(func.value.id)
            called = f"{module}.{func.attr}" if module else None
        elif isinstance(func, ast.Name):
            called = functions.get(func.id)
        if called and called not in READS:
            found.append(f"{where}:{node.lineno}: {called}")
    return found


def test_cli_and_web_never_call_the_engines_changing_functions_directly():
    sources = sorted((ROOT / "cli").rglob("*.py")) + sorted((ROOT / "web").rglob("*.py"))
    assert len(sources) > 20
    offenders = [
        call
        for path in sources
        for call in _direct_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert offenders == [], "call the rules function for it instead:\n" + "\n".join(offenders)


def test_the_check_finds_a_direct_call():
    """The scan itself works: a handler calling the engine is named with its line, and a
    function nobody reviewed counts as a door too; a reviewed read does not."""
    source = (
        "from engine.run import tasks\nfrom engine.run.cases import close_case as shut\n"
        "def h(work, user):\n    tasks.complete(work, task_id=1, user=user)\n    shut(work)\n"
        "from engine.run import kb as engine_kb\nimport engine.run.posts as p\n"
        "from engine.run.cases import case_by_number\n"
        "def g(work):\n    engine_kb.brand_new(work)\n    p.add_post(work)\n"
        "    case_by_number(work, 'C-1')\n"
    )
    assert _direct_calls(source, "cli/sample.py") == [
        "cli/sample.py:4: engine.run.tasks.complete",
        "cli/sample.py:5: engine.run.cases.close_case",
        "cli/sample.py:10: engine.run.kb.brand_new",
        "cli/sample.py:11: engine.run.posts.add_post",
    ]


def test_every_reviewed_read_still_exists():
    """A read removed or renamed in the engine leaves the list, so its name cannot later
    come back as a different, unreviewed function."""
    for name in sorted(READS):
        module, _, function = name.rpartition(".")
        assert hasattr(importlib.import_module(module), function), name
