"""``run.py kb categories`` / ``kb category`` on both databases: editors nest categories,
a cycle is refused by name, a list by category takes in every category inside it, and a
customer browses only the branches holding a published article shown to their portal
role - while a draft, an archived article or another role's article answers exactly like
one that does not exist, by id, list or search."""

from __future__ import annotations

import pytest

from tests.cli.test_kb import CAROLS_ROLE, Desk, _add, as_json, desk, run  # noqa: F401 - fixture

DAVES_ROLE = "all-view/all-edit"


def _tree(
    desk: Desk,  # noqa: F811 - the fixture's name
    capsys: pytest.CaptureFixture[str],
    who: str,
) -> list[tuple[str, int]]:
    rows = as_json(desk, capsys, "kb", "categories", "--as", who)
    return [(r["path"], r["total"]) for r in rows]


def _shelf(
    desk: Desk,  # noqa: F811 - the fixture's name
    capsys: pytest.CaptureFixture[str],
) -> dict[str, str]:
    """Printers > Laser > Toner, and four articles in them."""
    for name, parent in (("Printers", None), ("Laser", "Printers"), ("Toner", "Laser")):
        extra = ["--parent", parent] if parent else []
        code, _, err = run(desk, capsys, "kb", "category", "add", name, *extra, "--as", "alice")
        assert code == 0, err
    arts = {
        "public": _add(
            desk,
            capsys,
            "Laser streaks",
            "Shake the cartridge.",
            "--category",
            "Laser",
            "--portal",
            CAROLS_ROLE,
        ),
        "draft": _add(
            desk,
            capsys,
            "Toner recall draft",
            "Not yet.",
            "--category",
            "Toner",
            "--portal",
            CAROLS_ROLE,
        ),
        "archived": _add(
            desk, capsys, "Old toner codes", "Gone.", "--category", "Toner", "--portal", CAROLS_ROLE
        ),
        "agents": _add(desk, capsys, "Printer vendor line", "Call them.", "--category", "Printers"),
    }
    for ref in (arts["public"], arts["archived"], arts["agents"]):
        assert run(desk, capsys, "kb", "publish", ref, "--as", "alice")[0] == 0
    assert run(desk, capsys, "kb", "archive", arts["archived"], "--as", "alice")[0] == 0
    return arts


def test_categories_nest_and_a_list_takes_in_every_category_inside(desk: Desk, capsys):  # noqa: F811
    arts = _shelf(desk, capsys)
    code, out, _ = run(desk, capsys, "kb", "categories", "--as", "alice")
    assert (code, out) == (0, "Printers (4)\n  Laser (3)\n    Toner (2)\n")
    listed = as_json(desk, capsys, "kb", "list", "--category", "Laser", "--as", "alice")
    assert sorted(r["id"] for r in listed) == sorted(
        [arts["public"], arts["draft"], arts["archived"]]
    )
    listed = as_json(desk, capsys, "kb", "list", "--category", "Printers", "--as", "alice")
    assert len(listed) == 4
    # a reader (sam) counts published articles only: Toner holds none he may read
    assert _tree(desk, capsys, "sam") == [("Printers", 2), ("Printers / Laser", 1)]
    # carol browses only the branch holding the one article shown to her role
    assert _tree(desk, capsys, "carol") == [("Printers", 1), ("Printers / Laser", 1)]
    listed = as_json(desk, capsys, "kb", "list", "--category", "Printers", "--as", "carol")
    assert [r["id"] for r in listed] == [arts["public"]]
    assert _tree(desk, capsys, "dave") == []
    assert as_json(desk, capsys, "kb", "list", "--category", "Toner", "--as", "carol") == []
    # a new category named on an article joins the tree at the top
    _add(desk, capsys, "Scanner glass", "Wipe it.", "--category", "Scanners")
    assert ("Scanners", 1) in _tree(desk, capsys, "alice")


def test_a_cycle_or_a_second_category_of_the_same_name_is_refused(desk: Desk, capsys):  # noqa: F811
    _shelf(desk, capsys)
    code, _, err = run(
        desk, capsys, "kb", "category", "move", "Printers", "--parent", "Toner", "--as", "alice"
    )
    assert (code, err) == (
        6,
        "error: invalid category\n  parent: Printers cannot be put inside Toner, "
        "which is inside it\n",
    )
    code, _, err = run(
        desk, capsys, "kb", "category", "move", "Laser", "--parent", "Laser", "--as", "alice"
    )
    assert code == 6 and "Laser cannot be put inside itself" in err
    code, _, err = run(desk, capsys, "kb", "category", "add", "Laser", "--as", "alice")
    assert (code, err) == (5, "error: a category 'Laser' exists already\n")
    code, _, err = run(
        desk, capsys, "kb", "category", "add", "X", "--parent", "Nope", "--as", "alice"
    )
    assert (code, err) == (3, "error: no category 'Nope'\n")
    assert _tree(desk, capsys, "alice")[:3] == [
        ("Printers", 4),
        ("Printers / Laser", 3),
        ("Printers / Laser / Toner", 2),
    ]
    moved = as_json(desk, capsys, "kb", "category", "move", "Toner", "--top", "--as", "alice")
    assert moved["path"] == "Toner" and moved["total"] == 2
    moved = as_json(
        desk, capsys, "kb", "category", "move", "Printers", "--parent", "Toner", "--as", "alice"
    )
    assert moved["path"] == "Toner / Printers"  # no cycle now: Toner left the branch
    for who in ("sam", "carol"):  # only editors shape the tree
        code, _, err = run(desk, capsys, "kb", "category", "add", "Mine", "--as", who)
        assert code == 4 and "may not edit knowledge base articles" in err, err


def test_a_customer_forging_an_id_meets_the_same_answer_as_for_no_article(desk: Desk, capsys):  # noqa: F811
    arts = _shelf(desk, capsys)
    other = _add(
        desk,
        capsys,
        "Laser for all-view customers",
        "Only them.",
        "--category",
        "Laser",
        "--portal",
        DAVES_ROLE,
    )
    assert run(desk, capsys, "kb", "publish", other, "--as", "alice")[0] == 0
    assert run(desk, capsys, "kb", "show", arts["public"], "--as", "carol")[0] == 0
    for ref in (arts["draft"], arts["archived"], arts["agents"], other, "KB-999999"):
        code, out, err = run(desk, capsys, "kb", "show", ref, "--as", "carol")
        assert (code, out, err) == (3, "", f"error: no article {ref}\n")
        code, _, err = run(desk, capsys, "kb", "reply", ref, "--as", "carol")
        assert (code, err) == (3, f"error: no article {ref}\n")
    for words in ("toner", "vendor", "laser"):
        found = as_json(desk, capsys, "kb", "search", words, "--as", "carol")["articles"]
        assert {a["id"] for a in found} <= {arts["public"]}, words
    found = as_json(desk, capsys, "kb", "search", "laser", "--as", "dave")["articles"]
    assert [a["id"] for a in found] == [other]
    # a reader may not publish, archive or return to draft what he can read
    code, _, err = run(desk, capsys, "kb", "archive", arts["public"], "--as", "sam")
    assert code == 4 and err.startswith("error: sam may not edit")
    code, _, err = run(desk, capsys, "kb", "publish", arts["draft"], "--as", "sam")
    assert (code, err) == (3, f"error: no article {arts['draft']}\n")
    state = as_json(desk, capsys, "kb", "show", arts["draft"], "--as", "alice")["state"]
    assert state == "draft"


def test_rename_carries_articles_and_remove_takes_only_an_empty_category(desk: Desk, capsys):  # noqa: F811
    arts = _shelf(desk, capsys)
    code, out, err = run(
        desk, capsys, "kb", "category", "rename", "Laser", "Laser printers", "--as", "alice"
    )
    assert (code, out) == (0, "category Laser is now Printers / Laser printers\n"), err
    shown = as_json(desk, capsys, "kb", "show", arts["public"], "--as", "alice")
    assert shown["category"] == "Laser printers"
    code, _, err = run(
        desk, capsys, "kb", "category", "rename", "Toner", "Printers", "--as", "alice"
    )
    assert (code, err) == (5, "error: a category 'Printers' exists already\n")
    code, _, err = run(desk, capsys, "kb", "category", "remove", "Laser printers", "--as", "alice")
    assert (code, err) == (
        5,
        "error: category Laser printers still holds 1 article and the category Toner; "
        "move or remove them first\n",
    )
    assert run(desk, capsys, "kb", "category", "add", "Empty", "--as", "alice")[0] == 0
    code, out, _ = run(desk, capsys, "kb", "category", "remove", "Empty", "--as", "alice")
    assert (code, out) == (0, "removed category Empty\n")
    assert "Empty" not in [p for p, _ in _tree(desk, capsys, "alice")]


def test_a_reader_or_customer_renaming_or_removing_a_category_changes_nothing(desk: Desk, capsys):  # noqa: F811
    _shelf(desk, capsys)
    before = _tree(desk, capsys, "alice")
    for who in ("sam", "carol"):
        for act in (["rename", "Toner", "Mine"], ["remove", "Toner"], ["remove", "Nope"]):
            code, out, err = run(desk, capsys, "kb", "category", *act, "--as", who)
            assert (code, out) == (4, "") and err.startswith(f"error: {who} may not edit"), err
            assert err.count("\n") == 1
    code, _, err = run(desk, capsys, "kb", "category", "remove", "Nope", "--as", "alice")
    assert (code, err) == (3, "error: no category 'Nope'\n")
    assert _tree(desk, capsys, "alice") == before
