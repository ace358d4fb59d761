"""Reading case types: Camunda attributes, lanes → groups, and precise refusals."""

from __future__ import annotations

import pytest

from designer import deploy
from engine.definitions.compiler import compile_definition
from engine.definitions.config import CaseTypeConfig, parse_config
from engine.errors import DefinitionError, InvalidInput
from engine.run import cases
from people import directory
from tests.conftest import PROCESSES

CONFIG = CaseTypeConfig(
    key="T",
    name="Test",
    prefix="T",
    lanes={"Desk": "manager", "Customer": "owner"},
    roles={"manager": ["desk"]},
    source="t.toml",
)


def bpmn(body: str, lanes: str = "", executable: str = "true") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="x">
  <bpmn:process id="p" isExecutable="{executable}">
    {lanes}
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>""".encode()


def task(attrs: str = "", inner: str = "") -> str:
    return f"""<bpmn:userTask id="work" name="Work" {attrs}>{inner}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>"""


LANES = """<bpmn:laneSet id="ls">
      <bpmn:lane id="lane_desk" name="Desk"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>work</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_x" name="Back office"/>
    </bpmn:laneSet>"""


def problems(data: bytes, config: CaseTypeConfig = CONFIG, **kw) -> list[str]:
    with pytest.raises(DefinitionError) as refused:
        compile_definition(data, config, source="t.bpmn", **kw)
    return [str(p) for p in refused.value.problems if p.severity == "error"]


def test_it_keeps_camunda_candidates_and_form_fields():
    form = """<bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="long" defaultValue="3">
          <camunda:validation><camunda:constraint name="required"/>
            <camunda:constraint name="max" config="10"/></camunda:validation></camunda:formField>
        <camunda:formField id="kind" type="enum">
          <camunda:value id="a" name="Alpha"/></camunda:formField>
      </camunda:formData></bpmn:extensionElements>"""
    compiled = compile_definition(
        bpmn(
            task(
                'camunda:candidateGroups="desk, audit" camunda:candidateUsers="ann" '
                'camunda:formKey="embedded:app:x.html"',
                form,
            )
        ),
        CONFIG,
        source="t.bpmn",
    )
    route = compiled.routing["work"]
    assert route.groups == ("desk", "audit") and route.users == ("ann",)
    assert [(f.id, f.type, f.required) for f in route.form] == [
        ("amount", "long", True),
        ("kind", "enum", False),
    ]
    assert route.form[0].constraints == {"max": "10"}
    extensions = compiled.spec.task_specs["work"].extensions["casework"]
    assert extensions["formKey"] == "embedded:app:x.html"


def test_it_routes_a_lane_to_its_role_groups():
    compiled = compile_definition(
        bpmn(task(), LANES),
        CONFIG.__class__(
            **{**CONFIG.__dict__, "lanes": {"Desk": "manager", "Back office": "manager"}}
        ),
        source="t.bpmn",
    )
    route = compiled.routing["work"]
    assert (route.lane, route.role, route.groups) == ("Desk", "manager", ("desk",))


def test_it_refuses_a_lane_that_maps_to_no_group_naming_lane_file_and_line():
    found = problems(bpmn(task(), LANES))
    assert any(
        "t.bpmn:9:" in p and "lane 'Back office' maps to no group" in p and "t.toml" in p
        for p in found
    ), found


def test_it_refuses_groups_that_do_not_exist_instead_of_creating_them():
    found = problems(bpmn(task('camunda:candidateGroups="nobody-here"')), known_groups={"desk"})
    assert any("group 'nobody-here', which does not exist" in p for p in found), found


def test_it_reads_unquoted_iso_timers_as_literals():
    body = """<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition id="td">
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>"""
    compiled = compile_definition(bpmn(body), CONFIG, source="t.bpmn")
    assert compiled.spec.task_specs["wait"].event_definition.expression == "'PT4H'"
    assert any(
        'fix: write "PT4H" in quotes' in str(n) and n.severity == "warning" for n in compiled.notes
    ), compiled.notes


def test_it_reads_camunda_conditions_and_initiator_assignees():
    body = """<bpmn:userTask id="work" name="Work" camunda:assignee="${initiator}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>${order.total &gt; 100 &amp;&amp; !rush}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end"/>"""
    compiled = compile_definition(bpmn(body), CONFIG, source="t.bpmn")
    gateway = compiled.spec.task_specs["gw"]
    conditions = [c.args[0] for c, _ in gateway.cond_task_specs if c is not None]
    assert conditions == ["order['total'] > 100 and not rush"]
    assert compiled.routing["work"].owner is True
    assert any(
        "run here as the Python expression" in str(n)
        and "fix: write \"order['total'] > 100 and not rush\"" in str(n)
        and n.severity == "warning"
        for n in compiled.notes
    ), compiled.notes


def test_it_explains_camunda_expressions_empty_timers_and_disabled_scripts():
    body = """<bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing><bpmn:timerEventDefinition id="td"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${order.isApproved()}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="calc"/>
    <bpmn:sequenceFlow id="f4" sourceRef="calc" targetRef="wait"/>
    <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="end"/>"""
    found = "\n".join(problems(bpmn(body)))
    assert "Camunda expression language we do not translate" in found
    assert "isApproved(...) are not supported" in found
    assert "timer has no time value" in found
    assert "script tasks are disabled" in found


def test_it_refuses_an_escape_attempt_in_a_condition_at_deploy():
    body = task().replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end">'
        "<bpmn:conditionExpression>().__class__.__bases__[0]"
        "</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    found = "\n".join(problems(bpmn(body)))
    assert "f2" in found and "__class__" in found


def test_it_reports_broken_xml_with_line_and_column():
    found = problems(
        b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>\n"
        b"  <bpmn:process id='p'>\n</bpmn:definitions>"
    )
    assert found and found[0].startswith("t.bpmn:3:") and "not well-formed XML" in found[0]


def test_it_refuses_a_file_without_the_bpmn_namespace():
    found = problems(b"<definitions><process id='p'/></definitions>")
    assert "not a BPMN 2.0 file" in found[0]


def test_it_refuses_a_task_outside_every_lane():
    lanes = LANES.replace("<bpmn:flowNodeRef>work</bpmn:flowNodeRef>", "")
    config = CaseTypeConfig(
        key="T",
        name="T",
        prefix="T",
        lanes={"Desk": "manager", "Back office": "manager"},
        roles={"manager": ["desk"]},
        source="t.toml",
    )
    found = problems(bpmn(task(), lanes), config)
    assert any("outside every lane" in p for p in found), found


def test_it_checks_the_config_and_names_the_bad_keys():
    with pytest.raises(DefinitionError) as refused:
        parse_config(
            {"case_type": {"key": "support"}, "lanes": {"A": "boss"}, "roles": {"chief": ["x"]}},
            source="s.toml",
        )
    text = str(refused.value)
    assert "case_type.key 'support'" in text and "unknown role 'boss'" in text
    assert "[roles] names unknown role 'chief'" in text


def test_it_compiles_the_shipped_support_process():
    from designer.deploy import read_definition, resolve_config

    path = PROCESSES / "support.bpmn"
    compiled = read_definition(path, resolve_config(path, None, "SUPPORT"))
    roles = {r.element_id: (r.role, r.groups, r.owner) for r in compiled.routing.values()}
    assert roles["Task_Triage"] == ("manager", ("service-desk",), False)
    assert roles["Task_Investigate"] == ("task_user", ("specialists",), False)
    assert roles["Task_ConfirmResolution"] == ("owner", (), True)
    assert roles["Task_ReviewOverdue"] == ("escalation", ("support-leads",), False)


def test_it_validates_the_start_form_when_a_case_opens(runtime, tmp_path):
    start = """<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="long">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField></camunda:formData></bpmn:extensionElements>
        <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>"""
    path = tmp_path / "t.bpmn"
    path.write_bytes(
        bpmn(task()).replace(
            b'<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
            start.encode(),
        )
    )
    config = CaseTypeConfig(
        key="T", name="T", prefix="T", roles={"manager": ["desk"]}, source="t.toml"
    )
    with runtime.unit() as work:
        directory.add_group(work, name="desk")
        raiser = directory.add_user(work, username="ann")
        deploy.deploy(work, bpmn_path=path, config=config)
    with runtime.unit() as work, pytest.raises(InvalidInput) as refused:
        cases.open_case(
            work,
            case_type="T",
            subject="x",
            raiser=raiser,
            data={"amount": "lots", "is_admin": True},
        )
    assert refused.value.errors == {
        "amount": "must be a whole number",
        "is_admin": "is not a field of this form",
    }
    with runtime.unit() as work:
        opened = cases.open_case(
            work, case_type="T", subject="x", raiser=raiser, data={"amount": "12"}
        )
        assert cases.case_data(work, cases.case_by_number(work, opened.number))["amount"] == 12


def test_it_refuses_an_element_id_the_engine_reserves_naming_the_line():
    data = bpmn(task(), LANES).replace(b'"start"', b'"Start"')
    found = problems(data)
    assert any("t.bpmn:11:5:" in p and "'Start' is reserved" in p for p in found), found
