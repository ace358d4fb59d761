"""Hot reload for designers: deploy changed process files while the server runs.

A poll loop, on purpose: it needs no extra dependency, behaves the same on every
platform and file system (editors that save by renaming included), and a process
directory holds a handful of files.  Each ``*.bpmn`` file is watched together with
the TOML beside it; when the pair's content hash changes the pair is deployed like
``run.py deploy`` would.  Deploying is idempotent (a version is identified by
content), so the first pass at start-up creates nothing new for files already
deployed.  A file that does not validate is reported with every problem and the
current version stays current: the loop never stops on a bad file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from designer.deploy import config_path_for, deploy, resolve_config
from engine.errors import CaseworkError, DefinitionError
from engine.runtime import Runtime

log = logging.getLogger(__name__)
Report = Callable[[str], None]


def _fingerprint(bpmn: Path) -> str | None:
    """Hash of the BPMN file and its TOML; None while the BPMN file cannot be read."""
    digest = hashlib.sha256()
    try:
        digest.update(bpmn.read_bytes())
    except OSError:
        return None
    try:
        digest.update(config_path_for(bpmn).read_bytes())
    except OSError:
        digest.update(b"<no toml>")
    return digest.hexdigest()


def deploy_changed(runtime: Runtime, directory: Path, seen: dict[Path, str], report: Report) -> int:
    """One pass: deploy every pair whose content changed since ``seen``; return how many
    new versions were stored."""
    created = 0
    for bpmn in sorted(directory.glob("*.bpmn")):
        fingerprint = _fingerprint(bpmn)
        if fingerprint is None or seen.get(bpmn) == fingerprint:
            continue
        seen[bpmn] = fingerprint
        try:
            config = resolve_config(bpmn, None, None)
            with runtime.unit() as work:
                result = deploy(work, bpmn_path=bpmn, config=config)
        except DefinitionError as exc:
            for problem in exc.problems:
                report(str(problem))
            report(f"{bpmn}: not deployed; the current version stays in use")
            continue
        except CaseworkError as exc:
            report(f"{bpmn}: not deployed: {exc}")
            continue
        for note in result.notes:
            if note.severity != "info":
                report(str(note))
        if result.created:
            created += 1
            report(f"{bpmn}: deployed {result.case_type} version {result.version}")
        else:
            report(f"{bpmn}: {result.case_type} version {result.version} is current")
    return created


def watch_processes(
    runtime: Runtime,
    directory: Path,
    *,
    report: Report,
    stop: threading.Event,
    interval: float = 1.0,
) -> None:
    """Poll ``directory`` every ``interval`` seconds until ``stop`` is set."""
    seen: dict[Path, str] = {}
    report(f"watching {directory} for changed processes")
    while not stop.is_set():
        try:
            deploy_changed(runtime, directory, seen, report)
        except Exception:
            log.exception("watching %s failed; trying again", directory)
        stop.wait(interval)
