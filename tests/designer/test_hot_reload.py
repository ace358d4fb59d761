"""Hot reload: saved process files become new versions; broken ones are reported and ignored."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from designer.hot_reload import deploy_changed, watch_processes
from engine.run.case_types import current_version_id
from engine.runtime import Runtime
from engine.store.models import CaseTypeVersion
from tests.conftest import PROCESSES, seed_directory


def _current(runtime: Runtime) -> int:
    with runtime.unit() as work:
        version_id = current_version_id(work, "SUPPORT")[1]
        return work.session.get(CaseTypeVersion, version_id).number


def _copy_support(tmp_path: Path) -> Path:
    for name in ("support.bpmn", "support.toml"):
        shutil.copy(PROCESSES / name, tmp_path / name)
    return tmp_path / "support.bpmn"


def test_an_edited_file_becomes_a_new_version_and_a_broken_one_is_only_reported(
    runtime: Runtime, tmp_path: Path
):
    seed_directory(runtime)
    bpmn = _copy_support(tmp_path)
    seen: dict[Path, str] = {}
    lines: list[str] = []
    assert deploy_changed(runtime, tmp_path, seen, lines.append) == 1
    assert lines[-1] == f"{bpmn}: deployed SUPPORT version 1"
    assert deploy_changed(runtime, tmp_path, seen, lines.append) == 0  # nothing changed

    bpmn.write_text(bpmn.read_text().replace('name="Triage case"', 'name="Triage"'))
    assert deploy_changed(runtime, tmp_path, seen, lines.append) == 1
    assert lines[-1] == f"{bpmn}: deployed SUPPORT version 2" and _current(runtime) == 2

    bpmn.write_text(
        bpmn.read_text().replace("needs_investigation == True", "${needs.investigation()}")
    )
    lines.clear()
    assert deploy_changed(runtime, tmp_path, seen, lines.append) == 0
    assert any(
        line.startswith(f"{bpmn}:82:") and "Flow_NeedsSpecialist_Yes" in line for line in lines
    ), lines
    assert lines[-1] == f"{bpmn}: not deployed; the current version stays in use"
    assert _current(runtime) == 2


def test_the_watcher_thread_deploys_a_saved_toml_change_and_stops_when_told(
    runtime: Runtime, tmp_path: Path
):
    seed_directory(runtime)
    bpmn = _copy_support(tmp_path)
    lines: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_processes,
        args=(runtime, tmp_path),
        kwargs={"report": lines.append, "stop": stop, "interval": 0.05},
    )
    watcher.start()
    try:
        _wait_for(lambda: f"{bpmn}: deployed SUPPORT version 1" in lines)
        toml = tmp_path / "support.toml"
        toml.write_text(toml.read_text().replace('name = "Support case"', 'name = "Support"'))
        _wait_for(lambda: f"{bpmn}: deployed SUPPORT version 2" in lines)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert lines[0] == f"watching {tmp_path} for changed processes"


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the watcher did not react in time"
        time.sleep(0.02)
