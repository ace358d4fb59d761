"""Who may act on each human task, decided at deploy time: lanes, roles, candidates.

A task's lane maps to a role and the role to groups (the case type's TOML); candidate
groups or users and an assignee drawn in the modeler take precedence, and Camunda's
``${initiator}`` means the case's owner.  Problems (a lane mapped to nothing, a task
nobody may complete, a group or user that does not exist, a computed candidate) are
collected like every other deploy-time check.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from engine.sandbox import camunda

from .collector import Collector
from .config import CaseTypeConfig
from .forms import FormField, check_form_fields
from .parser import EXTENSION_KEY, NS
from .tree import elements

INITIATOR = {"initiator", "starter", "startedBy"}


@dataclass(frozen=True)
class TaskRouting:
    """Who may act on one human task of the process, decided at deploy time."""

    element_id: str
    name: str
    lane: str | None
    role: str
    groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    owner: bool = False
    assignee: str | None = None
    form: tuple[FormField, ...] = ()
    #: Resolved at deploy, when names are checked against the directory.
    group_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()
    assignee_id: int | None = None
    #: a multi-instance task per member: the instance variable naming the member (each
    #: instance is that member's, while they belong to one of ``groups``)
    member_variable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "element_id": self.element_id,
            "name": self.name,
            "lane": self.lane,
            "role": self.role,
            "groups": list(self.groups),
            "users": list(self.users),
            "owner": self.owner,
            "assignee": self.assignee,
            "form": [f.to_dict() for f in self.form],
            "group_ids": list(self.group_ids),
            "user_ids": list(self.user_ids),
            "assignee_id": self.assignee_id,
            **({"member_variable": self.member_variable} if self.member_variable else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRouting:
        return cls(
            element_id=data["element_id"],
            name=data["name"],
            lane=data.get("lane"),
            role=data["role"],
            groups=tuple(data.get("groups", ())),
            users=tuple(data.get("users", ())),
            owner=bool(data.get("owner")),
            assignee=data.get("assignee"),
            form=tuple(FormField.from_dict(f) for f in data.get("form", ())),
            group_ids=tuple(data.get("group_ids", ())),
            user_ids=tuple(data.get("user_ids", ())),
            assignee_id=data.get("assignee_id"),
            member_variable=data.get("member_variable"),
        )


def lane_nodes(process: etree._Element) -> list[etree._Element]:
    return elements(process, ".//bpmn:laneSet//bpmn:lane", NS)


def check_lanes(
    process: etree._Element,
    config: CaseTypeConfig,
    known_groups: Collection[str] | None,
    out: Collector,
) -> None:
    for lane in lane_nodes(process):
        if elements(lane, "./bpmn:childLaneSet", NS):
            continue  # a parent lane: its child lanes hold the tasks
        name = (lane.get("name") or "").strip()
        if not name:
            out.add(
                "a lane has no name, so it cannot be mapped to a role: name it in the modeler "
                f'and add "<name>" = "<role>" to [lanes] in {config.source}',
                node=lane,
            )
            continue
        role = config.lanes.get(name)
        if role is None:
            out.add(
                f'lane \'{name}\' maps to no group: add "{name}" = "<role>" to [lanes] in '
                f"{config.source}",
                node=lane,
            )
            continue
        groups = config.groups_for_role(role)
        if not groups and role != "owner":  # owner tasks go to the raiser, groups or not
            out.add(
                f"lane '{name}' maps to role '{role}', which has no groups: add "
                f'{role} = ["<group>"] to [roles] in {config.source}',
                node=lane,
            )
        check_groups_exist(groups, known_groups, f"role '{role}' of lane '{name}'", lane, out)


def check_groups_exist(
    groups: Collection[str],
    known: Collection[str] | None,
    what: str,
    node: etree._Element | None,
    out: Collector,
) -> None:
    if known is None:
        return
    for group in groups:
        if group not in known:
            out.add(
                f"{what} names group '{group}', which does not exist; create it with "
                f"`run.py group add {group}`",
                node=node,
            )


def route_human_tasks(
    spec: BpmnProcessSpec | None,
    subprocess_specs: dict[str, BpmnProcessSpec],
    process: etree._Element,
    config: CaseTypeConfig,
    known_groups: Collection[str] | None,
    known_users: Collection[str] | None,
    out: Collector,
) -> dict[str, TaskRouting]:
    if spec is None:
        return {}
    has_lanes = bool(lane_nodes(process))
    routing: dict[str, TaskRouting] = {}
    for process_spec in (spec, *subprocess_specs.values()):
        for task_spec in process_spec.task_specs.values():
            extensions = getattr(task_spec, "extensions", {}) or {}
            if EXTENSION_KEY not in extensions:
                continue
            loop = process_spec.task_specs.get(task_spec.bpmn_id)
            item = getattr(loop, "input_item", None) if loop is not task_spec else None
            route = _route_one(
                task_spec,
                extensions[EXTENSION_KEY],
                has_lanes,
                config,
                out,
                item.bpmn_id if item is not None else None,
            )
            if route is None:
                continue
            check_groups_exist(route.groups, known_groups, f"task '{route.name}'", None, out)
            for user in route.users + ((route.assignee,) if route.assignee else ()):
                if known_users is not None and user not in known_users:
                    out.add(
                        f"task '{route.name}' names user '{user}', who does not exist",
                        element_id=route.element_id,
                    )
            for problem in check_form_fields(list(route.form)):
                out.add(problem, element_id=route.element_id)
            if not (route.groups or route.users or route.owner or route.assignee):
                out.add(
                    f"nobody may complete task '{route.name}': its role '{route.role}' has "
                    f"no groups in {config.source}",
                    element_id=route.element_id,
                )
            routing[route.element_id] = route
    return routing


def _is_initiator(assignee: str) -> bool:
    try:
        return camunda.is_juel(assignee) and camunda.to_python(assignee) in INITIATOR
    except camunda.JuelError:
        return False


def _names(assignee: str, variable: str) -> bool:
    """``${approver}`` names the loop's item variable ``approver``."""
    try:
        return camunda.is_juel(assignee) and camunda.to_python(assignee).strip() == variable
    except camunda.JuelError:
        return False


def _route_one(
    task_spec: Any,
    ext: dict[str, Any],
    has_lanes: bool,
    config: CaseTypeConfig,
    out: Collector,
    instance_variable: str | None = None,
) -> TaskRouting | None:
    """``instance_variable``: the item variable of the multi-instance loop around the task."""
    element_id, name = task_spec.bpmn_id, task_spec.bpmn_name or task_spec.bpmn_id
    lane = task_spec.lane
    explicit = bool(ext["candidateGroups"] or ext["candidateUsers"] or ext["assignee"])
    manual_role = config.manual_steps.get(element_id)
    if lane is None and has_lanes and not explicit and manual_role is None:
        out.add(
            f"human task '{name}' is outside every lane, so nobody may complete it: draw it "
            "inside a lane, or name its candidate groups in the modeler",
            element_id=element_id,
        )
        return None
    role = manual_role or (config.lanes.get(lane, "manager") if lane else "manager")
    assignee = ext["assignee"]
    form = tuple(FormField.from_dict(f) for f in ext["form"])
    if assignee and _is_initiator(assignee):
        # Camunda's idiom for "whoever started the process": the case's owner.
        return TaskRouting(element_id, name, lane, role, owner=True, form=form)
    if assignee and instance_variable and _names(assignee, instance_variable):
        groups = tuple(ext["candidateGroups"]) or tuple(config.groups_for_role(role))
        if not groups:
            out.add(
                f"task '{name}' goes to each member in {instance_variable}, but its lane "
                "has no groups to check them against: put the task in a lane with groups",
                element_id=element_id,
            )
            return None
        return TaskRouting(
            element_id, name, lane, role, groups, form=form, member_variable=instance_variable
        )
    if assignee and camunda.is_juel(assignee):
        out.add(
            f"task '{name}': assignee {assignee!r} is an expression; name a user, or write "
            "${initiator} for whoever raised the case",
            element_id=element_id,
        )
        return None
    computed = [c for c in ext["candidateGroups"] + ext["candidateUsers"] if camunda.is_juel(c)]
    if computed:
        out.add(
            f"task '{name}': candidates {', '.join(computed)} are expressions, which Casework "
            "does not evaluate; name the groups or users, or leave them to the task's lane",
            element_id=element_id,
        )
        return None
    if explicit:
        return TaskRouting(
            element_id,
            name,
            lane,
            role,
            tuple(ext["candidateGroups"]),
            tuple(ext["candidateUsers"]),
            False,
            assignee,
            form,
        )
    if role == "owner":  # the raiser (and the case's contacts), and the owner groups if any
        groups = tuple(config.groups_for_role("owner"))
        return TaskRouting(element_id, name, lane, role, groups, owner=True, form=form)
    return TaskRouting(element_id, name, lane, role, tuple(config.groups_for_role(role)), form=form)
