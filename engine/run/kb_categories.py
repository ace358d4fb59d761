"""The knowledge base's category tree: add a category (at the top or inside another), move
it under another parent, and read the tree.

A category may sit inside a parent; a move that would put a category inside itself or one
of its own subcategories is refused by name, so the tree never holds a cycle (a walk up
from any category always ends at the top).  Moves lock every category first, so two
editors moving two categories under each other at once cannot together make the cycle
that each alone would not.  Like :mod:`engine.run.kb` these functions
trust their caller; ``rules.kb_categories`` asks who may first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.kb import KbCategory

MAX_NAME = 100


@dataclass(frozen=True)
class Node:
    """One category in tree order: its ``path`` from the top (``Printers / Laser``)."""

    id: int
    name: str
    parent: str | None
    depth: int
    path: str


def checked_name(name: str) -> str:
    """A category name with its spaces tidied; empty, too long or holding ``/`` is refused."""
    tidy = " ".join((name or "").split())
    if not tidy:
        raise InvalidInput("invalid category", {"name": "is required"})
    if len(tidy) > MAX_NAME:
        raise InvalidInput("invalid category", {"name": f"must be at most {MAX_NAME} characters"})
    if "/" in tidy:  # a path reads "Printers / Laser", and the API names it in its address
        raise InvalidInput("invalid category", {"name": "must not hold a /"})
    return tidy


def by_name(work: UnitOfWork, name: str) -> KbCategory:
    found = work.session.scalar(select(KbCategory).where(KbCategory.name == name))
    if found is None:
        raise NotFound(f"no category {name!r}")
    return found


def _audit(work: UnitOfWork, name: str, action: str, actor_id: int | None, **after: object) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="kb_category",
        entity_id=name,
        action=action,
        after={"name": name, **after},
    )


def add(
    work: UnitOfWork, name: str, *, parent: str | None = None, actor_id: int | None
) -> KbCategory:
    """A new category at the top or inside ``parent``; a name already used is refused
    (taken in turn with moves, so two editors adding one name at once get that answer)."""
    name = checked_name(name)
    _one_move_at_a_time(work)
    above = by_name(work, checked_name(parent)) if parent else None
    if work.session.scalar(select(KbCategory.id).where(KbCategory.name == name)) is not None:
        raise InvalidInput("invalid category", {"name": f"a category {name!r} exists already"})
    row = KbCategory(name=name, parent_id=above.id if above else None, created_at=work.now)
    work.session.add(row)
    work.session.flush()
    _audit(work, name, "created", actor_id, parent=above.name if above else None)
    return row


def ensure(work: UnitOfWork, name: str, *, actor_id: int | None) -> None:
    """The category an article names exists (a new name becomes a top-level category)."""
    if name and work.session.scalar(select(KbCategory.id).where(KbCategory.name == name)) is None:
        add(work, name, actor_id=actor_id)


def move(work: UnitOfWork, name: str, *, parent: str | None, actor_id: int | None) -> KbCategory:
    """Put a category inside ``parent`` (None: at the top), refusing a cycle by name."""
    _one_move_at_a_time(work)
    row = by_name(work, checked_name(name))
    above = by_name(work, checked_name(parent)) if parent else None
    step = above
    while step is not None:
        if step.id == row.id:
            where = "itself" if step is above else f"{parent}, which is inside it"
            raise InvalidInput(
                "invalid category",
                {"parent": f"{row.name} cannot be put inside {where}"},
            )
        step = work.session.get(KbCategory, step.parent_id) if step.parent_id else None
    new_parent = above.id if above else None
    if row.parent_id != new_parent:
        row.parent_id = new_parent
        work.session.flush()
        _audit(work, row.name, "moved", actor_id, parent=above.name if above else None)
    return row


def _one_move_at_a_time(work: UnitOfWork) -> None:
    """Lock every category before reading the tree, so a move sees the one before it.
    PostgreSQL: the rows, in id order.  SQLite begins a transaction only at its first
    write, so the move writes first (changing nothing) and waits there for the other."""
    if work.session.get_bind().dialect.name == "sqlite":
        work.session.execute(update(KbCategory).values(parent_id=KbCategory.parent_id))
    else:
        list(work.session.scalars(select(KbCategory.id).order_by(KbCategory.id).with_for_update()))


def tree(work: UnitOfWork) -> list[Node]:
    """Every category, depth first, each level sorted by name."""
    rows = list(work.session.scalars(select(KbCategory).order_by(KbCategory.name)))
    names = {r.id: r.name for r in rows}
    children: dict[int | None, list[KbCategory]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r)
    out: list[Node] = []

    def walk(parent: int | None, depth: int, path: str) -> None:
        for r in children.get(parent, []):
            here = f"{path} / {r.name}" if path else r.name
            out.append(Node(r.id, r.name, names.get(r.parent_id or 0), depth, here))
            walk(r.id, depth + 1, here)

    walk(None, 0, "")
    return out


def within(work: UnitOfWork, name: str) -> list[str]:
    """The names of a category and every category inside it (unknown name: none)."""
    rows = list(work.session.execute(select(KbCategory.id, KbCategory.name, KbCategory.parent_id)))
    start = [r.id for r in rows if r.name == name]
    found = set(start)
    while start:
        start = [r.id for r in rows if r.parent_id in start and r.id not in found]
        found.update(start)
    return sorted(r.name for r in rows if r.id in found)
