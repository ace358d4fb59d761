"""The category tree on both databases: a category inside another, every category below
one, and no cycle - not by one move, nor by two editors moving two categories under each
other at the same moment (the second waits for the first and is then refused)."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import InvalidInput
from engine.run import kb_categories
from engine.runtime import Runtime


def _shelf(runtime: Runtime) -> None:
    with runtime.unit() as work:
        for name, parent in (("Printers", None), ("Laser", "Printers"), ("Toner", "Laser")):
            kb_categories.add(work, name, parent=parent, actor_id=None)
        kb_categories.add(work, "Scanners", actor_id=None)


def test_the_tree_reads_depth_first_and_a_branch_takes_in_what_is_inside(runtime: Runtime):
    _shelf(runtime)
    with runtime.unit() as work:
        assert [(n.path, n.depth) for n in kb_categories.tree(work)] == [
            ("Printers", 0),
            ("Printers / Laser", 1),
            ("Printers / Laser / Toner", 2),
            ("Scanners", 0),
        ]
        assert kb_categories.within(work, "Printers") == ["Laser", "Printers", "Toner"]
        assert kb_categories.within(work, "Toner") == ["Toner"]
        assert kb_categories.within(work, "Nope") == []
        with pytest.raises(InvalidInput) as refused:
            kb_categories.move(work, "Printers", parent="Toner", actor_id=None)
        assert refused.value.errors == {
            "parent": "Printers cannot be put inside Toner, which is inside it"
        }
        with pytest.raises(InvalidInput, match="invalid category"):
            kb_categories.add(work, "Inks / Toners", actor_id=None)


def test_two_editors_moving_two_categories_under_each_other_make_no_cycle(runtime: Runtime):
    _shelf(runtime)
    outcome: list[str] = []

    def second() -> None:
        try:
            with runtime.unit() as work:
                kb_categories.move(work, "Printers", parent="Scanners", actor_id=None)
            outcome.append("moved")
        except InvalidInput as exc:
            outcome.append(exc.errors["parent"])

    with runtime.unit() as work:
        kb_categories.move(work, "Scanners", parent="Toner", actor_id=None)
        other = threading.Thread(target=second)
        other.start()
        time.sleep(1.0)
        assert outcome == []  # the second move waits for the first
    other.join(timeout=60)
    assert outcome == ["Printers cannot be put inside Scanners, which is inside it"]
    with runtime.unit() as work:
        paths = [n.path for n in kb_categories.tree(work)]
    assert paths[-1] == "Printers / Laser / Toner / Scanners"


def test_two_editors_adding_one_name_at_once_get_one_category_and_a_refusal(runtime: Runtime):
    _shelf(runtime)
    outcome: list[str] = []

    def second() -> None:
        try:
            with runtime.unit() as work:
                kb_categories.add(work, "Inkjet", actor_id=None)
            outcome.append("added")
        except InvalidInput as exc:
            outcome.append(exc.errors["name"])

    with runtime.unit() as work:
        kb_categories.add(work, "Inkjet", parent="Printers", actor_id=None)
        other = threading.Thread(target=second)
        other.start()
        time.sleep(1.0)
        assert outcome == []
    other.join(timeout=60)
    assert outcome == ["a category 'Inkjet' exists already"]
    with runtime.unit() as work:
        assert [n.path for n in kb_categories.tree(work)].count("Printers / Inkjet") == 1
