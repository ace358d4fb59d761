"""The category tree on both databases: a category inside another, every category below
one, and no cycle - not by one move, nor by two editors moving two categories under each
other at the same moment (the second waits for the first and is then refused).  A name is
taken once: adding or renaming to it is a conflict, also when two editors race for it on
an empty tree; only an empty category is removed, and renaming carries its articles."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import Conflict, InvalidInput
from engine.run import kb, kb_categories
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
        except Conflict as exc:
            outcome.append(str(exc))

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


def _race(runtime: Runtime, first, second) -> list[str]:  # type: ignore[no-untyped-def]
    """Run ``first`` in an open unit, ``second`` in another while the first has not yet
    committed; what the second met."""
    outcome: list[str] = []

    def other() -> None:
        try:
            with runtime.unit() as work:
                second(work)
            outcome.append("done")
        except Conflict as exc:
            outcome.append(str(exc))

    with runtime.unit() as work:
        first(work)
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(1.0)
        assert outcome == []  # the second waits for the first
    thread.join(timeout=60)
    return outcome


def test_the_first_category_raced_for_by_two_editors_is_one_category_and_a_conflict(
    runtime: Runtime,
):
    """An empty tree has no row to lock: the unique index decides, answered as a conflict."""
    outcome = _race(
        runtime,
        lambda work: kb_categories.add(work, "Printers", actor_id=None),
        lambda work: kb_categories.add(work, "Printers", actor_id=None),
    )
    assert outcome == ["a category 'Printers' exists already"]
    with runtime.unit() as work:
        assert [n.path for n in kb_categories.tree(work)] == ["Printers"]


def test_two_renames_to_one_name_at_once_leave_one_and_refuse_the_other(runtime: Runtime):
    _shelf(runtime)
    outcome = _race(
        runtime,
        lambda work: kb_categories.rename(work, "Toner", "Supplies", actor_id=None),
        lambda work: kb_categories.rename(work, "Scanners", "Supplies", actor_id=None),
    )
    assert outcome == ["a category 'Supplies' exists already"]
    with runtime.unit() as work:
        assert [n.path for n in kb_categories.tree(work)] == [
            "Printers",
            "Printers / Laser",
            "Printers / Laser / Supplies",
            "Scanners",
        ]


def test_a_rename_carries_the_articles_and_only_an_empty_category_goes(runtime: Runtime):
    _shelf(runtime)
    with runtime.unit() as work:
        article = kb.create(
            work, title="Streaks", body="Shake it.", category="Laser", actor_id=None
        )
        ref = article.id
    with runtime.unit() as work:
        with pytest.raises(Conflict) as taken:
            kb_categories.rename(work, "Laser", "Scanners", actor_id=None)
        assert str(taken.value) == "a category 'Scanners' exists already"
        kb_categories.rename(work, "Laser", "Laser printers", actor_id=None)
    with runtime.unit() as work:
        moved = kb.article_by_ref(work, str(ref))
        assert (moved.category, moved.row_version) == ("Laser printers", 2)
        with pytest.raises(Conflict) as held:
            kb_categories.remove(work, "Laser printers", actor_id=None)
        assert str(held.value) == (
            "category Laser printers still holds 1 article and the category Toner; "
            "move or remove them first"
        )
        kb_categories.remove(work, "Scanners", actor_id=None)
    with runtime.unit() as work:
        assert [n.name for n in kb_categories.tree(work)] == ["Printers", "Laser printers", "Toner"]


def test_two_articles_bringing_in_one_new_category_at_once_both_keep_it(runtime: Runtime):
    """An article naming a new category adds it; the one that loses the race finds it
    there and is stored all the same."""

    def article(title: str):  # type: ignore[no-untyped-def]
        return lambda work: kb.create(
            work, title=title, body="Text.", category="Inkjet", actor_id=None
        )

    assert _race(runtime, article("First"), article("Second")) == ["done"]
    with runtime.unit() as work:
        assert [n.path for n in kb_categories.tree(work)] == ["Inkjet"]
        assert kb.article_by_ref(work, "2").category == "Inkjet"
