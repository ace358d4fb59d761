"""The seed documents' rules, one test each, through the decision and the rules layer.

Each test builds a small world (on SQLite and PostgreSQL), asks the same functions the
CLI, the API and the pages call, and checks that the SQL lists agree (``visible``).
``docs/permissions.md`` names the test that proves each rule.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.store.access import CaseGrant
from engine.store.models import AuditEntry, Case, Group, HumanTask, User
from rules import Level, case_acts, load_subject, task_acts
from rules.admin import set_portal_access
from rules.checks import explain
from rules.levels import ACTIONS
from rules.restriction import grant, restrict, unrestrict
from rules.sections import SECTIONS
from tests.rules.conftest import visible
from tests.rules.world import World


def _base(world: World) -> None:
    for g in ("desk", "monitors", "leads", "specialists", "legal"):
        world.group(g)
    world.customer("acme")
    world.customer("acme_child", parent="acme")
    world.customer("globex")
    world.case_type(
        "Support",
        roles={
            "manager": ("desk",),
            "monitor": ("monitors",),
            "escalation": ("leads",),
            "task_user": ("specialists",),
        },
    )
    for g in ("desk", "monitors", "leads", "specialists"):
        world.permit(g, customers=("acme", "acme_child"))


def _do(world: World, who: str, act):  # type: ignore[no-untyped-def]
    """Run ``act(work, subject, user)`` as ``who`` in one unit; what it answered."""
    with world.rt.unit() as work:
        user = work.session.get(User, world.users[who])
        return act(work, load_subject(work, user), user)


def _number(world: World, case: str) -> str:
    with world.rt.unit() as work:
        return work.session.get(Case, world.cases[case]).number


def _decision(world: World, who: str, case: str, action: str, section: str | None = None):  # type: ignore[no-untyped-def]
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users[who]))
        return explain(work, subject, work.session.get(Case, world.cases[case]), action, section)


# --- seed 001: roles -------------------------------------------------------------------


def test_monitors_read_every_section_they_are_given_but_never_post_seed_001(world: World):
    _base(world)
    world.user("mona", groups=("monitors",))
    world.contact("ann", "acme")
    world.case("c", "Support", contact="ann")
    number = _number(world, "c")
    assert visible(world, "mona", Level.READ) == {"c"}
    assert visible(world, "mona", Level.STREAM) == set()
    with pytest.raises(Forbidden, match="may not post to the stream"):
        _do(world, "mona", lambda w, s, u: case_acts.add_post(w, s, u, number, "hello"))
    decision = _decision(world, "mona", "c", "post")
    assert not decision.allowed and decision.rule == "system"
    assert _decision(world, "mona", "c", "read", "contact_details").allowed
    assert not _decision(world, "mona", "c", "read", "case_actions").allowed


def test_owners_read_and_post_on_the_case_they_raised_seed_001(world: World):
    _base(world)
    world.user("olga")
    world.case("mine", "Support", raiser="olga")
    world.case("other", "Support")
    number = _number(world, "mine")
    assert visible(world, "olga", Level.STREAM) == {"mine"}
    _do(world, "olga", lambda w, s, u: case_acts.add_post(w, s, u, number, "any news?"))
    assert _decision(world, "olga", "mine", "post").rule == "raiser"
    assert not _decision(world, "olga", "mine", "close").allowed


def test_managers_work_the_case_and_see_every_section_seed_001(world: World):
    _base(world)
    world.user("dora", groups=("desk",))
    world.contact("ann", "acme")
    world.case("c", "Support", contact="ann")
    assert visible(world, "dora", Level.WRITE) == {"c"}
    for section in SECTIONS:
        assert _decision(world, "dora", "c", "write", section).allowed, section


def test_escalation_users_work_the_case_only_while_escalated_to_them_seed_001(world: World):
    _base(world)
    world.user("lee", groups=("leads",))
    world.contact("ann", "acme")
    world.case("quiet", "Support", contact="ann")
    world.case("escalated", "Support", contact="ann")
    world.task("escalated", role="escalation", groups=("leads",))
    assert visible(world, "lee", Level.READ) == {"quiet", "escalated"}
    assert visible(world, "lee", Level.WRITE) == {"escalated"}
    decision = _decision(world, "lee", "escalated", "edit")
    assert decision.allowed and decision.rule == "escalation"
    number = _number(world, "escalated")
    _do(world, "lee", lambda w, s, u: case_acts.set_hidden(w, s, number, True))
    with world.rt.unit() as work:  # the escalation task is done: back to reading
        work.session.execute(
            update(HumanTask)
            .where(HumanTask.case_id == world.cases["escalated"])
            .values(state="completed")
        )
    assert visible(world, "lee", Level.WRITE) == set()
    assert not _decision(world, "lee", "escalated", "edit").allowed


def test_task_users_see_only_a_summary_of_the_cases_of_their_tasks_seed_001(world: World):
    _base(world)
    world.user("sam", groups=("specialists",))
    world.contact("ann", "acme")
    world.case("with-task", "Support", contact="ann")
    world.task("with-task", role="task_user", groups=("specialists",))
    world.case("without", "Support", contact="ann")
    assert visible(world, "sam", Level.SUMMARY) == {"with-task"}
    assert visible(world, "sam", Level.READ) == set()
    assert _decision(world, "sam", "with-task", "summary", "case_details").allowed
    assert not _decision(world, "sam", "with-task", "read", "communications").allowed


# --- seeds 001 + 002 + 004: the task path honours visibility --------------------------


def test_a_task_of_a_case_its_candidate_may_not_see_is_not_theirs_to_see(world: World):
    """The issue's first finding: lane membership never goes around restriction, the
    portal's hidden flag or the customer-group rule (seeds 004, 000 and 002)."""
    _base(world)
    world.user("sam", groups=("specialists",))  # may read acme's customer group only
    world.user("pat")
    world.contact("pat", "acme", user="pat")
    world.portal("pat", types=("Support",))
    world.contact("gil", "globex")
    world.case("restricted", "Support", contact="pat", restricted=True)
    world.case("foreign", "Support", contact="gil")
    world.case("hidden", "Support", contact="pat", hidden=True)
    world.case("fine", "Support", contact="pat")
    for case in ("restricted", "foreign", "fine"):
        world.task(case, role="task_user", groups=("specialists",))
    hidden_task = world.task("hidden", role="owner", owner=True)
    with world.rt.unit() as work:
        ids = {
            case: work.session.scalar(
                select(HumanTask.id).where(HumanTask.case_id == world.cases[case])
            )
            for case in ("restricted", "foreign", "fine")
        }
    inbox = _do(world, "sam", lambda w, s, u: [i.task.id for i in task_acts.inbox(w, s, u)])
    assert inbox == [ids["fine"]]
    assert _do(world, "pat", lambda w, s, u: [i.task.id for i in task_acts.inbox(w, s, u)]) == []
    for case in ("restricted", "foreign"):
        assert _decision(world, "sam", case, "summary").level == Level.NONE
        for act in (task_acts.show_task, task_acts.claim, task_acts.release):
            with pytest.raises(NotFound, match=f"^no task {ids[case]}$"):
                _do(world, "sam", lambda w, s, u, a=act, c=case: a(w, s, u, ids[c]))
    with pytest.raises(NotFound, match=f"^no task {hidden_task}$"):
        _do(world, "pat", lambda w, s, u: task_acts.claim(w, s, u, hidden_task))
    _do(world, "sam", lambda w, s, u: task_acts.claim(w, s, u, ids["fine"]))


def test_the_task_users_summary_needs_the_customer_group_and_no_restriction_seed_002(
    world: World,
):
    _base(world)
    world.user("sam", groups=("specialists",))
    world.contact("gil", "globex")
    world.case("foreign", "Support", contact="gil")
    world.task("foreign", role="task_user", groups=("specialists",))
    decision = _decision(world, "sam", "foreign", "summary")
    assert not decision.allowed
    assert "not the customer group" in next(
        s.reason for s in decision.trail if s.rule == "task_user"
    )
    number = _number(world, "foreign")
    with pytest.raises(NotFound):
        _do(world, "sam", lambda w, s, u: case_acts.case_for_action(w, s, number, "summary"))


# --- seed 000: collaborators and the portal ----------------------------------------------


def test_collaborators_without_any_role_read_and_post_seed_000(world: World):
    _base(world)
    world.user("cleo")  # in no group at all
    world.contact("gil", "globex")
    world.case("c", "Support", contact="gil", collaborators=("cleo",))
    number = _number(world, "c")
    _do(world, "cleo", lambda w, s, u: case_acts.add_post(w, s, u, number, "noted"))
    assert _decision(world, "cleo", "c", "post").rule == "collaborator"
    assert not _decision(world, "cleo", "c", "close").allowed


def test_hidden_cases_are_not_available_in_the_portal_even_to_their_own_contact_seed_000(
    world: World,
):
    _base(world)
    world.user("pat")
    world.contact("pat", "acme", user="pat")
    world.portal("pat", view="all", edit="all")
    world.case("hidden", "Support", contact="pat", hidden=True)
    assert visible(world, "pat", Level.SUMMARY) == set()
    assert _decision(world, "pat", "hidden", "read").rule == "portal_hidden"


# --- seed 003: portal access levels ------------------------------------------------------


def test_parent_customers_view_but_never_edit_their_childrens_cases_seed_003(world: World):
    _base(world)
    world.user("paul")
    world.contact("paul", "acme", user="paul")
    world.portal("paul", view="all", edit="all", parent=True)
    world.contact("kid", "acme_child")
    world.contact("peer", "acme")
    world.case("child-case", "Support", contact="kid")
    world.case("peer-case", "Support", contact="peer")
    assert visible(world, "paul", Level.READ) == {"child-case", "peer-case"}
    assert visible(world, "paul", Level.STREAM) == {"peer-case"}
    number = _number(world, "child-case")
    with pytest.raises(Forbidden, match="view only"):
        _do(world, "paul", lambda w, s, u: case_acts.add_post(w, s, u, number, "hi"))


def test_the_parent_toggle_exists_only_with_view_and_edit_all_seed_003(world: World):
    world.user("pia")
    with world.rt.unit() as work:
        name = work.session.get(User, world.users["pia"]).username
        for view, edit in (("own", "own"), ("all", "own"), ("own", "all")):
            with pytest.raises(InvalidInput) as refused:
                set_portal_access(work, username=name, view=view, edit=edit, parent_visibility=True)
            assert "parent" in refused.value.errors
        set_portal_access(work, username=name, view="all", edit="all", parent_visibility=True)


# --- seed 004: case-level permissions ----------------------------------------------------


def test_granting_on_an_unrestricted_case_restricts_it_and_lifting_it_is_audited_seed_004(
    world: World,
):
    _base(world)
    world.user("root", admin=True)
    world.user("dora", groups=("desk",))
    world.user("lou", groups=("legal",))
    world.contact("ann", "acme")
    world.case("c", "Support", contact="ann")
    with world.rt.unit() as work:
        legal = work.session.get(Group, world.groups["legal"]).name
    case = lambda w: w.session.get(Case, world.cases["c"])  # noqa: E731
    with pytest.raises(Forbidden, match="only administrators"):
        _do(world, "dora", lambda w, s, u: grant(w, s, case(w), groups=[(legal, "full")]))
    newly = _do(world, "root", lambda w, s, u: grant(w, s, case(w), groups=[(legal, "full")]))
    assert newly is True
    assert visible(world, "dora") == set()  # the grant replaced her system permission
    assert visible(world, "lou", Level.WRITE) == {"c"}
    _do(world, "root", lambda w, s, u: unrestrict(w, s, case(w)))
    assert visible(world, "dora", Level.WRITE) == {"c"} and visible(world, "lou") == set()
    with world.rt.unit() as work:
        assert work.session.scalars(select(CaseGrant)).all() == []
        actions = work.session.scalars(
            select(AuditEntry.action).where(AuditEntry.case_id == world.cases["c"])
        ).all()
    assert actions == ["restricted", "unrestricted"]
    with pytest.raises(Conflict, match="is not restricted"):
        _do(world, "root", lambda w, s, u: unrestrict(w, s, case(w)))


def test_no_grants_means_administrators_only_and_only_they_restrict_seed_004(world: World):
    _base(world)
    world.user("root", admin=True)
    world.user("dora", groups=("desk",))
    world.contact("ann", "acme")
    world.case("c", "Support", contact="ann")
    case = lambda w: w.session.get(Case, world.cases["c"])  # noqa: E731
    with pytest.raises(Forbidden):
        _do(world, "dora", lambda w, s, u: restrict(w, s, case(w)))
    _do(world, "root", lambda w, s, u: restrict(w, s, case(w)))
    assert visible(world, "dora") == set() and visible(world, "root", Level.WRITE) == {"c"}
    with pytest.raises(NotFound):  # dora cannot even learn that the case exists
        _do(world, "dora", lambda w, s, u: unrestrict(w, s, case(w)))


def test_an_admin_named_in_a_grant_gets_that_level_there_seed_004_example(world: World):
    """Rule 2 says no admin can be restricted; the example gives Mike, an Org Admin named
    in the Read Only grant, read-only on that case.  Both hold: only a grant naming the
    administrator individually binds them, on that case alone."""
    _base(world)
    world.user("mike", admin=True, groups=("legal",))
    world.user("root", admin=True, groups=("legal",))
    world.case("c", "Support", restricted=True, grants=(("mike", "read"), ("legal", "read")))
    world.case("other", "Support", restricted=True)
    assert visible(world, "mike", Level.READ) == {"c", "other"}
    assert visible(world, "mike", Level.WRITE) == {"other"}  # read only on c
    assert visible(world, "root", Level.WRITE) == {"c", "other"}  # a group grant binds no admin
    decision = _decision(world, "mike", "c", "write")
    assert not decision.allowed and decision.rule == "restriction"


# --- access explain ------------------------------------------------------------------------


def test_explain_answers_every_action_and_section_naming_the_rule(world: World):
    _base(world)
    world.user("mona", groups=("monitors",))
    world.contact("ann", "acme")
    world.case("c", "Support", contact="ann")
    for action in ACTIONS:
        for section in (None, *SECTIONS):
            decision = _decision(world, "mona", "c", action, section)
            assert decision.rule and decision.reason and decision.lines()
    assert _decision(world, "mona", "c", "edit").as_dict()["decided_by"] == "system"
    for bad in (("fly", None), ("read", "basement")):
        with pytest.raises(InvalidInput):
            _decision(world, "mona", "c", *bad)


def test_a_customer_sets_only_what_a_tasks_form_declares(world: World):
    """Customers never set internal variables: a task without a form takes no data from
    them (agents may complete such a task with any variables)."""
    _base(world)
    world.user("pat")
    world.contact("pat", "acme", user="pat")
    world.portal("pat", types=("Support",))
    world.case("mine", "Support", contact="pat")
    task = world.task("mine", role="owner", owner=True)
    with pytest.raises(InvalidInput) as refused:
        _do(world, "pat", lambda w, s, u: task_acts.complete(w, s, u, task, {"priority": "x"}))
    assert refused.value.errors == {"priority": "is not a field of this task's form"}
