"""Public fields: what of a case's variables customers see, declared by the case type and
checked at deploy with the file and line of every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer import deploy
from engine.definitions.compiler import compile_definition
from engine.definitions.config import load_config
from engine.errors import DefinitionError
from tests.conftest import PROCESSES, support_toml
from tests.engine.definitions.test_definitions import CONFIG, bpmn, task


def _form(field: str) -> str:
    return (
        f"<bpmn:extensionElements><camunda:formData>{field}</camunda:formData>"
        "</bpmn:extensionElements>"
    )


def test_the_shipped_support_type_shows_customers_only_its_declared_fields():
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    compiled = deploy.read_definition(PROCESSES / "support.bpmn", config)
    public = {f.id: (f.label, f.type, f.public) for f in compiled.public_fields}
    assert public == {
        "resolution": ("Resolution for the customer", "string", "true"),  # from the BPMN
        "category": ("Category", "enum", "true"),  # label from the TOML, type from the form
        "resolved": ("Solved", "boolean", "true"),
        "feedback": ("Your feedback", "string", "true"),
        "product": ("Product", "string", "open"),
    }
    internal = {"triage_note", "findings", "hours_spent", "needs_investigation", "action_taken"}
    assert not internal & set(public)
    assert dict(compiled.public_fields[1].enum_values)["hardware"] == "Hardware"


def test_a_form_field_is_made_public_by_its_bpmn_property():
    field = """<camunda:formField id="answer" label="Our answer" type="string">
        <camunda:properties><camunda:property id="public" value="true"/></camunda:properties>
      </camunda:formField><camunda:formField id="note" label="Note" type="string"/>"""
    compiled = compile_definition(bpmn(task(inner=_form(field))), CONFIG, source="t.bpmn")
    assert [(f.id, f.label) for f in compiled.public_fields] == [("answer", "Our answer")]


def test_bad_public_properties_are_refused_with_the_element_and_line():
    field = """<camunda:formField id="answer" label="A" type="string">
        <camunda:properties><camunda:property id="public" value="open"/></camunda:properties>
      </camunda:formField><camunda:formField id="b" label="B" type="string">
        <camunda:properties><camunda:property id="public" value="maybe"/></camunda:properties>
      </camunda:formField>"""
    with pytest.raises(DefinitionError) as refused:
        compile_definition(bpmn(task(inner=_form(field))), CONFIG, source="t.bpmn")
    messages = [str(p) for p in refused.value.problems]
    assert any(
        m.startswith("t.bpmn:") and "work: form field 'answer'" in m and "only the start" in m
        for m in messages
    ), messages
    assert any("property public is 'maybe'; values: false, true, open" in m for m in messages)


def test_portal_fields_in_the_toml_are_checked_with_file_and_line(tmp_path: Path):
    toml = tmp_path / "support.toml"
    toml.write_text(
        support_toml()
        .replace('category = { label = "Category" }', 'category = { label = "C", type = "date" }')
        .replace('feedback = { label = "Your feedback" }', 'feedback = { type = "string" }')
        .replace('resolved = { label = "Solved" }', 'resolved = { label = "S", colour = "red" }')
    )
    with pytest.raises(DefinitionError) as refused:
        load_config(toml)
    shown = [str(p) for p in refused.value.problems]
    assert any(
        s.startswith(f"{toml}:") and "portal field 'feedback' needs a label" in s for s in shown
    ), shown
    assert any("portal field 'resolved' has unknown key 'colour'" in s for s in shown), shown
    assert all(s.split(":")[1].isdigit() for s in shown), shown  # every one names its line
    # a type that contradicts the form is caught when the BPMN file is compiled with it
    toml.write_text(
        support_toml().replace(
            'category = { label = "Category" }', 'category = { label = "C", type = "date" }'
        )
    )
    config = load_config(toml)
    with pytest.raises(DefinitionError) as refused:
        deploy.read_definition(PROCESSES / "support.bpmn", config)
    (problem,) = [p for p in refused.value.problems if p.severity == "error"]
    assert (
        problem.file == str(toml) and problem.line and "'date' but the form field" in str(problem)
    )


def test_an_open_field_must_be_on_the_start_form_when_there_is_one(tmp_path: Path):
    source = (PROCESSES / "support.bpmn").read_text()
    start = '<bpmn:startEvent id="StartEvent_CaseRaised" name="Case raised">'
    form = _form('<camunda:formField id="serial" label="Serial" type="string"/>')
    (tmp_path / "support.bpmn").write_text(source.replace(start, start + form))
    (tmp_path / "support.toml").write_text((PROCESSES / "support.toml").read_text())
    config = deploy.resolve_config(tmp_path / "support.bpmn", None, "SUPPORT")
    with pytest.raises(DefinitionError) as refused:
        deploy.read_definition(tmp_path / "support.bpmn", config)
    (problem,) = [p for p in refused.value.problems if p.severity == "error"]
    assert "portal field 'product' is open for customers but the start event's form" in str(problem)
    assert problem.file == str(tmp_path / "support.toml") and problem.line
