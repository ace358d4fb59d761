"""The lazy attribute computes once per instance, and instances never wait for each other."""

from __future__ import annotations

import threading

from engine.lazy import lazy


class Loader:
    def __init__(
        self, name: str, gate: threading.Event | None = None, opens: threading.Event | None = None
    ) -> None:
        self.name = name
        self.gate, self.opens = gate, opens
        self.calls = 0

    @lazy
    def value(self) -> str:
        """Waits for ``gate`` (if any) and then sets ``opens``: two such loaders in two
        threads deadlock if one instance's computation blocks another's."""
        self.calls += 1
        if self.opens is not None:
            self.opens.set()
        if self.gate is not None and not self.gate.wait(timeout=5):
            raise TimeoutError("the other instance never got to compute")
        return f"loaded {self.name}"


def test_computed_once_then_kept() -> None:
    loader = Loader("a")
    assert loader.value == "loaded a"
    assert loader.value == "loaded a"
    assert loader.calls == 1
    assert Loader.value.__doc__ and "gate" in Loader.value.__doc__


def test_one_instance_computing_does_not_block_another() -> None:
    """functools.cached_property on Python 3.11 holds one lock per class: a request loading
    its user's permissions held up every other request's.  Here the first instance's
    computation waits until the second one's has run; with a class-wide lock it would time
    out."""
    second_ran = threading.Event()
    first = Loader("first", gate=second_ran)
    second = Loader("second", opens=second_ran)
    results: dict[str, str] = {}

    def read_first() -> None:
        results["first"] = first.value

    thread = threading.Thread(target=read_first)
    thread.start()
    while first.calls == 0:  # the first computation is under way and waiting
        threading.Event().wait(0.01)
    assert second.value == "loaded second"
    thread.join(timeout=10)
    assert results == {"first": "loaded first"}
