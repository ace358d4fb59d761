"""What a designer learns from validate/deploy: every problem at once, where it is, and the fix.

Files here are written the way Camunda Modeler saves them (one attribute list per line,
``bpmn:`` prefix, ``camunda:`` extensions).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from designer import deploy
from engine.definitions.compiler import compile_definition
from engine.definitions.config import CaseTypeConfig, parse_config
from engine.errors import DefinitionError, InvalidInput
from engine.run import cases
from people import directory
from tests.engine.definitions.test_definitions import CONFIG, LANES, bpmn, task


def report(data: bytes, config: CaseTypeConfig = CONFIG) -> list[str]:
    """All problems as printed, whether or not the file is refused."""
    try:
        return [str(p) for p in compile_definition(data, config, source="t.bpmn").notes]
    except DefinitionError as exc:
        return [str(p) for p in exc.problems]


def flows(*pairs: tuple[str, str, str]) -> str:
    return "\n    ".join(
        f'<bpmn:sequenceFlow id="{i}" sourceRef="{a}" targetRef="{b}"/>' for i, a, b in pairs
    )


def one_step(tag: str, attrs: str = "", inner: str = "") -> str:
    return f"""<bpmn:{tag} id="step" name="Step" {attrs}>{inner}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:{tag}>
    {flows(("f1", "start", "step"), ("f2", "step", "end"))}"""


def test_every_problem_is_reported_at_once_top_to_bottom_with_line_and_column():
    body = """<bpmn:exclusiveGateway id="gw"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:serviceTask id="mail" name="Send mail" camunda:class="org.acme.Mail">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing><bpmn:timerEventDefinition id="td"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"></bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="mail"/>
    <bpmn:sequenceFlow id="f4" sourceRef="mail" targetRef="wait"/>
    <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="end"/>"""
    problems = report(bpmn(body))
    found = [p for p in problems if ": error: " in p]
    assert (
        "t.bpmn:10:5: warning: mail: service task 'Send mail' calls the Java class "
        "org.acme.Mail, which Casework cannot run: a case that reaches it stops there with an "
        'incident; declare it a manual step: add "mail" = "<role>" to [manual_steps] in t.toml'
    ) in problems
    assert found == [
        't.bpmn:13:40: error: wait: the timer has no time value: set a duration ("PT4H"), a '
        "date or a cycle in the modeler's Timer section",
        "t.bpmn:17:7: error: f2: the condition is empty: write one, or remove it (an exclusive "
        "gateway's default flow needs none)",
        "t.bpmn:19:5: error: f3: this flow leaves gateway 'gw' without a condition and is not "
        "its default: add a condition, or make it the gateway's default flow",
    ]


def test_a_start_tag_wrapped_over_lines_is_reported_where_it_begins():
    body = one_step("serviceTask", '\n        camunda:type="external"\n        camunda:topic="pay"')
    found = [p for p in report(bpmn(body)) if "service task" in p]
    assert len(found) == 1
    assert found[0].startswith("t.bpmn:8:5: warning: step: service task 'Step'")
    assert "names connector 'pay', which is not registered" in found[0]


def test_schema_errors_point_at_the_element():
    body = one_step("userTask", 'camunda:candidateGroups="desk" priority="high"')
    found = [p for p in report(bpmn(body)) if ": error: " in p]
    assert found == [
        "t.bpmn:8:5: error: does not match the BPMN 2.0 schema: Element 'bpmn:userTask', "
        "attribute 'priority': The attribute 'priority' is not allowed."
    ]


@pytest.mark.parametrize(
    ("kind", "timer", "expected"),
    [
        ("timeCycle", "0 0/5 * * * ?", "is a cron expression, which Casework does not read"),
        ("timeCycle", "${delay}", "run here as the Python expression 'delay'; fix: write 'delay'"),
        ("timeDuration", "PT4H", 'fix: write "PT4H" in quotes'),
        (
            "timeDuration",
            "PT4",
            'error: wait: timer value PT4 is not an ISO 8601 duration; write it like "PT4H"',
        ),
        (
            "timeCycle",
            "'PT1H'",
            "timer value 'PT1H' is not an ISO 8601 repetition; write it like \"R3/PT1H\"",
        ),
        ("timeDate", "'tomorrow'", "is not an ISO 8601 date and time"),
    ],
)
def test_camunda_timer_values_come_with_the_fix(kind: str, timer: str, expected: str):
    body = f"""<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition id="td">
        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{timer}</bpmn:{kind}>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    {flows(("f1", "start", "wait"), ("f2", "wait", "end"))}"""
    found = [p for p in report(bpmn(body)) if "wait:" in p]
    assert len(found) == 1 and found[0].startswith("t.bpmn:10:9: ") and expected in found[0], found


def test_feel_conditions_are_refused_with_the_python_to_write():
    body = f"""<bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>= approved</bpmn:conditionExpression></bpmn:sequenceFlow>
    {flows(("f1", "start", "gw"), ("f3", "gw", "end"))}"""
    found = [p for p in report(bpmn(body)) if ": error: " in p]
    assert found == [
        "t.bpmn:11:7: error: f2: condition '= approved' is a FEEL expression (Camunda 8); write "
        "it as a Python expression over the process variables, e.g. 'approved'"
    ]


def test_a_call_activity_to_another_file_starts_a_case_of_that_type():
    body = one_step("callActivity", 'calledElement="billing"')
    assert [p for p in report(bpmn(body)) if "step:" in p] == [
        "t.bpmn:8:5: info: step: call activity 'Step' starts a case of type 'billing' (a "
        "deployed case type's key or process id) and waits until it closes"
    ]
    nothing = [p for p in report(bpmn(one_step("callActivity"))) if ": error: " in p]
    assert nothing == [
        "t.bpmn:8:5: error: step: call activity 'Step' names no process to call: set its "
        "Called element to a process of this file or to a deployed case type"
    ]


def test_a_lane_without_group_and_a_task_outside_every_lane_are_both_reported():
    lanes = LANES.replace("<bpmn:flowNodeRef>work</bpmn:flowNodeRef>", "")
    found = [p for p in report(bpmn(task(), lanes)) if ": error: " in p]
    assert any(
        p.startswith("t.bpmn:9:7: error: lane_x: lane 'Back office' maps to no group")
        for p in found
    )
    assert any("work: human task 'Work' is outside every lane" in p for p in found), found


def test_a_process_not_executable_deploys_for_viewing_only(runtime):
    data = bpmn(task(), executable="false")
    compiled = compile_definition(data, CONFIG, source="t.bpmn")
    assert compiled.view_only and compiled.spec is None
    assert any(
        "t.bpmn:5:3: warning: p: the process is not marked isExecutable" in str(n)
        for n in compiled.notes
    ), compiled.notes
    with runtime.unit() as work:
        directory.add_group(work, name="desk")
        raiser = directory.add_user(work, username="ann")
        deploy.store_definition(work, compiled)
    with runtime.unit() as work, pytest.raises(InvalidInput) as refused:
        cases.open_case(work, case_type="T", subject="x", raiser=raiser)
    assert "deployed for viewing only" in str(refused.value)
    assert "mark the process executable" in refused.value.errors["case_type"]


def test_run_time_problems_of_a_view_only_diagram_are_warnings_but_schema_errors_are_not():
    body = one_step("serviceTask").replace('name="Step"', 'name="Step" bogus="1"')
    found = report(bpmn(body, executable="false"))
    assert any(": warning: step: service task 'Step' has no implementation" in p for p in found)
    assert any(": error: does not match the BPMN 2.0 schema" in p for p in found), found


def test_a_service_task_declared_a_manual_step_reaches_the_roles_inbox(runtime):
    config = parse_config(
        {
            "case_type": {"key": "T", "prefix": "T"},
            "roles": {"manager": ["desk"], "task_user": ["back-office"]},
            "manual_steps": {"step": "task_user"},
        },
        source="t.toml",
    )
    compiled = compile_definition(
        bpmn(one_step("serviceTask", 'camunda:class="org.acme.Archive"')), config, source="t.bpmn"
    )
    assert any(
        "service task 'Step' is a manual step for role 'task_user'" in str(n)
        for n in compiled.notes
    )
    route = compiled.routing["step"]
    assert (route.role, route.groups) == ("task_user", ("back-office",))
    with runtime.unit() as work:
        directory.add_group(work, name="desk")
        directory.add_group(work, name="back-office")
        raiser = directory.add_user(work, username="ann")
        deploy.store_definition(work, compiled)
    with runtime.unit() as work:
        opened = cases.open_case(work, case_type="T", subject="x", raiser=raiser)
        assert len(opened.task_ids) == 1


def test_manual_steps_must_name_a_task_and_a_role():
    with pytest.raises(DefinitionError) as refused:
        parse_config({"case_type": {"key": "T"}, "manual_steps": {"step": "boss"}}, source="t.toml")
    assert "manual step 'step' names unknown role 'boss'" in str(refused.value)
    config = replace(CONFIG, manual_steps={"nothing": "manager"})
    found = report(bpmn(task()), config)
    assert (
        "t.toml: error: [manual_steps] names 'nothing', which is not a task of process 'p'" in found
    )


def test_an_untyped_task_is_a_human_task_of_its_lane():
    lanes = LANES.replace(
        "<bpmn:flowNodeRef>work</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>step</bpmn:flowNodeRef>"
    )
    config = replace(CONFIG, lanes={"Desk": "manager", "Back office": "manager"})
    compiled = compile_definition(bpmn(one_step("task"), lanes), config, source="t.bpmn")
    assert compiled.routing["step"].lane == "Desk"
    assert any(
        "task 'Step' has no type: it is a human task of its lane" in str(n) for n in compiled.notes
    )


def test_a_data_store_is_documentation_only():
    store = """<bpmn:dataStoreReference id="ref" name="ERP" dataStoreRef="erp"/>"""
    association = (
        '<bpmn:dataOutputAssociation id="out"><bpmn:targetRef>ref</bpmn:targetRef>'
        "</bpmn:dataOutputAssociation>"
    )
    body = (
        one_step("userTask").replace(
            "<bpmn:outgoing>f2</bpmn:outgoing>", "<bpmn:outgoing>f2</bpmn:outgoing>" + association
        )
        + store
    )
    data = bpmn(body).replace(
        b'<bpmn:process id="p"', b'<bpmn:dataStore id="erp" name="ERP"/>\n  <bpmn:process id="p"'
    )
    compiled = compile_definition(data, CONFIG, source="t.bpmn")
    assert "step" in compiled.spec.task_specs
    assert any(
        "t.bpmn:5:3: warning: erp: data store 'ERP' is documentation only" in str(n)
        for n in compiled.notes
    ), compiled.notes


def test_dangling_references_are_reported_instead_of_the_librarys_confusion():
    body = """<bpmn:userTask id="work" name="Work"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="late" attachedToRef="gone"><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="deleted_task"/>"""
    found = [p for p in report(bpmn(body)) if ": error: " in p]
    assert found == [
        "t.bpmn:10:5: error: late: boundary event 'late' is attached to 'gone', which is not "
        "a task or sub-process of this process",
        "t.bpmn:15:5: error: f3: the flow's targetRef 'deleted_task' is not an element of this "
        "process: delete the flow in the modeler and draw it again",
    ]


def test_a_wait_for_a_message_delivered_from_outside_is_no_warning():
    body = one_step("receiveTask", 'messageRef="Paid"')
    data = bpmn(body).replace(
        b'<bpmn:process id="p"',
        b'<bpmn:message id="Paid" name="Payment received"/>\n  <bpmn:process id="p"',
    )
    notes = [str(n) for n in compile_definition(data, CONFIG, source="t.bpmn").notes]
    assert not [n for n in notes if "Payment received" in n], notes


def test_computed_candidates_are_refused_with_what_to_write():
    found = [
        p for p in report(bpmn(task('camunda:candidateGroups="${approvers}"'))) if "error" in p
    ]
    assert found == [
        "t.bpmn:8:5: error: work: task 'Work': candidates ${approvers} are expressions, which "
        "Casework does not evaluate; name the groups or users, or leave them to the task's lane"
    ]


def test_problems_of_the_toml_point_at_its_lines(tmp_path):
    from designer.deploy import read_definition, resolve_config

    bpmn_path = tmp_path / "t.bpmn"
    bpmn_path.write_bytes(bpmn(task()))
    toml = tmp_path / "t.toml"
    toml.write_text(
        '[case_type]\nkey = "T"\n[roles]\nmanager = ["desk"]\n[manual_steps]\n"gone" = "manager"\n'
    )
    with pytest.raises(DefinitionError) as refused:
        read_definition(bpmn_path, resolve_config(bpmn_path, None, None))
    assert (
        f"{toml}:6:1: error: [manual_steps] names 'gone', which is not a task of process 'p'"
        in [str(p) for p in refused.value.problems]
    )
    toml.write_text('[case_type]\nkey = "T"\n[lanes]\n"Desk" = "boss"\n')
    with pytest.raises(DefinitionError) as refused:
        resolve_config(bpmn_path, None, None)
    assert str(refused.value.problems[0]).startswith(
        f"{toml}:4:1: error: lane 'Desk' maps to unknown role 'boss'"
    )


def test_a_script_in_another_language_is_refused_whatever_the_settings():
    body = one_step("scriptTask", 'scriptFormat="groovy"').replace(
        "<bpmn:outgoing>f2</bpmn:outgoing>",
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>x = 1</bpmn:script>",
    )
    found = [p for p in report(bpmn(body)) if ": error: " in p]
    assert found == [
        "t.bpmn:8:5: error: step: script format 'groovy': Casework runs Python scripts only; "
        "rewrite the script in Python, or replace the task with a user task"
    ]


def test_a_condition_reading_a_variable_no_form_sets_is_flagged_as_a_likely_typo():
    form = """<bpmn:extensionElements><camunda:formData>
        <camunda:formField id="approved" type="boolean"/></camunda:formData>
      </bpmn:extensionElements>"""
    body = f"""<bpmn:userTask id="work" name="Work">{form}<bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>${{aproved and priority == "high"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end"/>"""
    warnings = [p for p in report(bpmn(body)) if "reads" in p]
    assert warnings == [
        "t.bpmn:17:7: warning: f3: condition 'aproved and priority == \"high\"' reads aproved, "
        "which no form of this process sets and no case starts with: check the spelling "
        "against the form field ids"
    ]


@pytest.mark.parametrize("executable", ["true", "false"])
def test_a_process_without_an_id_is_refused_instead_of_failing_to_store(
    runtime, tmp_path, executable: str
):
    bpmn_path = tmp_path / "t.bpmn"
    bpmn_path.write_bytes(
        bpmn(task(), executable=executable).replace(b'<bpmn:process id="p"', b"<bpmn:process")
    )
    with runtime.unit() as work:
        directory.add_group(work, name="desk")
    with runtime.unit() as work, pytest.raises(DefinitionError) as refused:
        deploy.deploy(work, bpmn_path=bpmn_path, config=CONFIG)
    assert [p.message for p in refused.value.problems if p.severity == "error"] == [
        "the process has no id, so no version of it can be stored: set its ID in the "
        "modeler's process properties"
    ]


def test_a_timer_value_drawn_outside_an_event_is_reported_not_a_crash():
    misplaced = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration>'
    data = bpmn(task()).replace(b"</bpmn:definitions>", f"{misplaced}</bpmn:definitions>".encode())
    found = report(data)
    assert any(
        p.startswith("t.bpmn:")
        and "error: does not match the BPMN 2.0 schema" in p
        and "bpmn:timeDuration" in p
        for p in found
    ), found
    assert any(": warning: timer value PT4H is Camunda style" in p for p in found), found
