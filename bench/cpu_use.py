"""Where a scale-out bench's CPU went: the app's processes, PostgreSQL, everything else.

A scale-out ratio is bounded by the machine, not only by the app: two server or worker
processes can go at most as fast as the cores left over by the database, the mail server
and the clients allow.  The benches measure the CPU each side spent per unit of work
during the one-process rounds and print the ceiling those figures put on the ratio on
this machine, so a FAIL says whether the app or the machine stood in the way.
Linux only (reads ``/proc``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float, int] | None:
    """(command name, parent pid, CPU seconds, start time) of a live process, or None if
    it is gone.  The start time tells a reused pid apart (a kernel thread's name changes
    with its work, so the name cannot)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, int(fields[19])


def _processes() -> dict[int, tuple[str, int, float, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def _descendants(roots: Iterable[int], table: dict[int, tuple[str, int, float, int]]) -> set[int]:
    members = set(roots)
    grew = True
    while grew:
        more = {pid for pid, (_, parent, _, _) in table.items() if parent in members} - members
        members |= more
        grew = bool(more)
    return members


@dataclass
class CpuMeter:
    """CPU seconds of the app's process trees, of this bench process (its clients), of
    PostgreSQL and of all other processes between ``start`` and ``stop`` (summed over
    several windows).  A process that ends inside the window loses its
    share (the benches keep theirs alive across it)."""

    app_roots: list[int]
    spent: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("app", "bench", "postgres", "other"), 0.0)
    )
    _before: dict[int, tuple[str, int, float, int]] = field(default_factory=dict)

    def start(self) -> None:
        self._before = _processes()

    def stop(self) -> None:
        after = _processes()
        app = _descendants(self.app_roots, after)
        for pid, (name, _, cpu, started) in after.items():
            before = self._before.get(pid)
            used = cpu - (before[2] if before and before[3] == started else 0.0)
            if pid in app:
                side = "app"
            elif pid == os.getpid():
                side = "bench"
            else:
                side = "postgres" if name.startswith("postgres") else "other"
            self.spent[side] += used


def ceiling(meter: CpuMeter, units: int, rate_one: float) -> tuple[str, float]:
    """A line of CPU per unit, and the highest two-over-one ratio this machine allows:
    every core busy at the CPU cost per unit measured with one process."""
    cores = os.cpu_count() or 1
    per_unit = {side: seconds / units * 1000 for side, seconds in meter.spent.items()}
    total = sum(per_unit.values())
    best_rate = cores * 1000 / total if total else 0.0
    ratio = min(2.0, best_rate / rate_one) if rate_one else 0.0
    text = ", ".join(f"{side} {ms:.1f} ms" for side, ms in per_unit.items())
    return f"CPU per unit with one process: {text}; {cores} cores", ratio
