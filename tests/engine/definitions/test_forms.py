"""Form validation: typed values, required fields, unknown keys refused."""

from __future__ import annotations

import pytest

from engine.definitions.forms import FormField, check_form_fields, validate_form
from engine.errors import InvalidInput

FIELDS = [
    FormField("count", "Count", "long", required=True, constraints={"min": "0", "max": "9"}),
    FormField("ok", "OK?", "boolean"),
    FormField("when", "When", "date"),
    FormField("kind", "Kind", "enum", default="a", enum_values=(("a", "A"), ("b", "B"))),
    FormField("note", "Note", "string", constraints={"maxlength": "5"}),
]


def test_it_coerces_each_type():
    cleaned = validate_form(FIELDS, {"count": "3", "ok": "yes", "when": "2026-02-01", "note": "hi"})
    assert cleaned == {"count": 3, "ok": True, "when": "2026-02-01", "kind": "a", "note": "hi"}


def test_it_names_every_bad_field_at_once():
    with pytest.raises(InvalidInput) as refused:
        validate_form(
            FIELDS,
            {
                "count": "12",
                "ok": "perhaps",
                "when": "31/01/2026",
                "kind": "z",
                "note": "too long",
                "extra": 1,
            },
        )
    assert refused.value.errors == {
        "count": "must be at most 9",
        "ok": "must be true or false",
        "when": "must be a date like 2026-01-31",
        "kind": "must be one of a, b",
        "note": "must be at most 5 characters",
        "extra": "is not a field of this form",
    }


def test_it_requires_required_fields_and_refuses_booleans_as_numbers():
    with pytest.raises(InvalidInput) as refused:
        validate_form(FIELDS, {"count": True})
    assert refused.value.errors == {"count": "must be a whole number"}
    with pytest.raises(InvalidInput) as refused:
        validate_form(FIELDS, {})
    assert refused.value.errors == {"count": "is required"}


def test_it_reports_design_mistakes_in_a_form():
    problems = check_form_fields(
        [
            FormField("a", "A", "colour"),
            FormField("b", "B", "enum"),
            FormField("c", "C", "long", default="x"),
            FormField("c", "C"),
        ]
    )
    assert problems == [
        "form field 'a' has type 'colour'; supported: string, long, boolean, enum, date",
        "form field 'b' is an enum without values",
        "form field 'c': default value 'x' must be a whole number",
        "form field 'c' is declared twice",
    ]


def test_a_field_survives_its_stored_form_with_every_attribute():
    """The form a task summary carries is what the field declares, and stores back as it."""
    field = FormField(
        id="severity",
        label="Severity",
        type="enum",
        required=True,
        default="low",
        enum_values=(("low", "Low"), ("high", "High")),
        constraints={"maxlength": "10"},
        public="true",
    )
    stored = field.to_dict()
    assert stored == {
        "id": "severity",
        "label": "Severity",
        "type": "enum",
        "required": True,
        "default": "low",
        "enum_values": [["low", "Low"], ["high", "High"]],
        "constraints": {"maxlength": "10"},
        "public": "true",
    }
    assert FormField.from_dict(stored) == field
