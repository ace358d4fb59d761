"""The knowledge base's category tree: add a category (at the top or inside another), move
it under another parent, rename it, remove an empty one, and read the tree.

A category may sit inside a parent; a move that would put a category inside itself or one
of its own subcategories is refused by name, so the tree never holds a cycle (a walk up
from any category always ends at the top).  Moves lock every category first, so two
editors moving two categories under each other at once cannot together make the cycle
that each alone would not.  A name is used once in the whole tree (an article names its
category by name alone): a name already taken is a conflict, also when two editors take it
at the same moment - the database's unique index decides then, and its refusal is answered
like the check's, never as a failure.  Like :mod:`engine.run.kb` these functions
trust their caller; ``rules.kb_categories`` asks who may first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.kb import KbArticle, KbCategory

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
    _name_free(work, name)
    row = KbCategory(name=name, parent_id=above.id if above else None, created_at=work.now)
    with _unique_name(work, name):
        work.session.add(row)
    _audit(work, name, "created", actor_id, parent=above.name if above else None)
    return row


def ensure(work: UnitOfWork, name: str, *, actor_id: int | None) -> None:
    """The category an article names exists (a new name becomes a top-level category)."""
    if name and work.session.scalar(select(KbCategory.id).where(KbCategory.name == name)) is None:
        with suppress(Conflict):  # another editor's article brought it in meanwhile: it exists
            add(work, name, actor_id=actor_id)


def rename(work: UnitOfWork, name: str, new_name: str, *, actor_id: int | None) -> KbCategory:
    """Give a category a new name; its articles follow it (their ``row_version`` moves on,
    so an editor's open form cannot put the old name back unnoticed)."""
    _one_move_at_a_time(work)
    row = by_name(work, checked_name(name))
    new_name = checked_name(new_name)
    if new_name == row.name:
        return row
    _name_free(work, new_name)
    old = row.name
    with _unique_name(work, new_name):
        row.name = new_name
    work.session.execute(
        update(KbArticle)
        .where(KbArticle.category == old)
        .values(category=new_name, row_version=KbArticle.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    _audit(work, new_name, "renamed", actor_id, renamed_from=old)
    return row


def remove(work: UnitOfWork, name: str, *, actor_id: int | None) -> None:
    """Remove an empty category; one still holding articles (in any state) or categories
    is refused, naming what it holds, so nothing is left without its category."""
    _one_move_at_a_time(work)
    row = by_name(work, checked_name(name))
    below = select(KbCategory.name).where(KbCategory.parent_id == row.id)
    inside = sorted(work.session.scalars(below))
    articles = work.session.scalar(
        select(func.count()).select_from(KbArticle).where(KbArticle.category == row.name)
    )
    held = []
    if articles:
        held.append(f"{articles} article{'s' if articles != 1 else ''}")
    if inside:
        s = "y" if len(inside) == 1 else "ies"
        held.append(f"the categor{s} {', '.join(inside)}")
    if held:
        raise Conflict(
            f"category {row.name} still holds {' and '.join(held)}; move or remove them first"
        )
    work.session.delete(row)
    work.session.flush()
    _audit(work, row.name, "removed", actor_id)


def _name_free(work: UnitOfWork, name: str) -> None:
    if work.session.scalar(select(KbCategory.id).where(KbCategory.name == name)) is not None:
        raise Conflict(f"a category {name!r} exists already")


@contextmanager
def _unique_name(work: UnitOfWork, name: str) -> Iterator[None]:
    """Make the change that takes ``name`` and write it inside a savepoint: another editor
    taking it at the same moment (on PostgreSQL an empty tree has no row to lock) meets the
    unique index, answered as a conflict while the transaction stays usable (an article
    bringing in the category goes on with the one the other editor made)."""
    try:
        with work.session.begin_nested():
            yield
            work.session.flush()
    except IntegrityError:
        raise Conflict(f"a category {name!r} exists already") from None


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
