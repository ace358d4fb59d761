"""Task forms declared in the BPMN file with ``camunda:formData``.

Camunda Modeler writes form fields as ``camunda:formField`` elements (id, label,
type, defaultValue, enum values, validation constraints, and extension properties: a
``public`` property of ``true`` shows the field to customers, ``open`` also lets them set
it when they open a case).  We keep them as plain
:class:`FormField` objects stored in the task spec's extensions, and validate
submitted data against them before anything reaches the workflow: a bad submission
lists every bad field at once and stores nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from engine.errors import InvalidInput

from .tree import elements

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FIELD_TYPES = ("string", "long", "boolean", "enum", "date")
#: Values of a form field's ``public`` property: hidden from customers (the default), shown
#: to them, or shown and settable when a customer opens a case (start forms only).
PUBLIC_VALUES = ("false", "true", "open")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class FormField:
    """One form field as the designer declared it."""

    id: str
    label: str
    type: str = "string"
    required: bool = False
    default: Any = None
    enum_values: tuple[tuple[str, str], ...] = ()
    constraints: dict[str, str] = field(default_factory=dict)
    public: str = "false"  # see PUBLIC_VALUES

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, which deep-copies field by field:
        # every task summary an API answer holds carries its form.
        return {
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "default": copy.deepcopy(self.default),
            "enum_values": [list(pair) for pair in self.enum_values],
            "constraints": dict(self.constraints),
            "public": self.public,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormField:
        values = tuple((str(k), str(v)) for k, v in data.get("enum_values", ()))
        return cls(
            id=data["id"],
            label=data.get("label") or data["id"],
            type=data.get("type", "string"),
            required=bool(data.get("required")),
            default=data.get("default"),
            enum_values=values,
            constraints=dict(data.get("constraints") or {}),
            public=str(data.get("public", "false")),
        )

    def coerce(self, raw: Any) -> Any:
        """Turn a submitted value into the field's type, or raise ValueError with the reason."""
        if self.type == "boolean":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("must be true or false")
        if self.type == "long":
            if isinstance(raw, bool):
                raise ValueError("must be a whole number")
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise ValueError("must be a whole number") from None
            self._check_range(value)
            return value
        if self.type == "enum":
            allowed = [key for key, _ in self.enum_values]
            if str(raw) not in allowed:
                raise ValueError(f"must be one of {', '.join(allowed)}")
            return str(raw)
        if self.type == "date":
            try:
                return date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise ValueError("must be a date like 2026-01-31") from None
        if not isinstance(raw, str | int | float):
            raise ValueError("must be text")
        text = str(raw)
        self._check_length(text)
        return text

    def _check_range(self, value: int) -> None:
        if not -(2**63) <= value < 2**63:  # what every database stores as an integer
            raise ValueError("must be a whole number within 64 bits")
        if "min" in self.constraints and value < int(self.constraints["min"]):
            raise ValueError(f"must be at least {self.constraints['min']}")
        if "max" in self.constraints and value > int(self.constraints["max"]):
            raise ValueError(f"must be at most {self.constraints['max']}")

    def _check_length(self, text: str) -> None:
        if "minlength" in self.constraints and len(text) < int(self.constraints["minlength"]):
            raise ValueError(f"must be at least {self.constraints['minlength']} characters")
        if "maxlength" in self.constraints and len(text) > int(self.constraints["maxlength"]):
            raise ValueError(f"must be at most {self.constraints['maxlength']} characters")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_form(fields: list[FormField], data: dict[str, Any]) -> dict[str, Any]:
    """Return the cleaned data for ``fields`` or raise :class:`InvalidInput` naming every bad field.

    Unknown keys are refused too: a form submission may only set what the form declares,
    so a forged request cannot overwrite other process variables.
    """
    errors: dict[str, str] = {}
    known = {f.id for f in fields}
    for key in data:
        if key not in known:
            errors[str(key)] = "is not a field of this form"
    cleaned: dict[str, Any] = {}
    for f in fields:
        raw = data.get(f.id)
        if _is_blank(raw) and f.type != "boolean":
            if f.required:
                errors[f.id] = "is required"
            elif f.default is not None:
                cleaned[f.id] = f.coerce(f.default)
            else:
                cleaned[f.id] = None
            continue
        if raw is None:  # boolean left out
            if f.required:
                errors[f.id] = "is required"
                continue
            raw = f.default if f.default is not None else False
        try:
            cleaned[f.id] = f.coerce(raw)
        except ValueError as exc:
            errors[f.id] = str(exc)
    if errors:
        raise InvalidInput("form data is not valid", errors)
    return cleaned


def _elements(node: etree._Element, path: str, ns: dict[str, str]) -> list[etree._Element]:
    """The elements an XPath finds (an XPath may also answer text or numbers: none here)."""
    found = node.xpath(path, namespaces=ns)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def parse_form_fields(task_node: etree._Element) -> list[FormField]:
    """Read ``camunda:formData/formField`` children of a BPMN task element."""
    ns = {
        "camunda": CAMUNDA_NS,
        "bpmn": task_node.nsmap.get("bpmn") or task_node.tag[1:].split("}")[0],
    }
    fields = []
    for node in elements(
        task_node, "./bpmn:extensionElements/camunda:formData/camunda:formField", ns
    ):
        constraints = {
            name: c.get("config", "")
            for c in elements(node, "./camunda:validation/camunda:constraint", ns)
            if (name := c.get("name"))
        }
        values = tuple(
            (v.get("id", ""), v.get("name") or v.get("id") or "")
            for v in elements(node, "./camunda:value", ns)
        )
        # the modeler writes a form field's properties with ``id``; process properties use
        # ``name``: accept either
        properties = {
            (p.get("id") or p.get("name") or ""): p.get("value", "")
            for p in _elements(node, "./camunda:properties/camunda:property", ns)
        }
        fields.append(
            FormField(
                id=node.get("id", ""),
                label=node.get("label") or node.get("id") or "",
                type=node.get("type") or "string",
                required="required" in constraints,
                default=node.get("defaultValue"),
                enum_values=values,
                constraints={k: v for k, v in constraints.items() if k != "required"},
                public=properties.get("public", "false").strip().lower() or "false",
            )
        )
    return fields


def check_form_fields(fields: list[FormField]) -> list[str]:
    """Problems a designer must fix in a form (unknown type, enum without values, ...)."""
    problems = []
    seen: set[str] = set()
    for f in fields:
        if not f.id:
            problems.append("a form field has no id")
            continue
        if f.id in seen:
            problems.append(f"form field '{f.id}' is declared twice")
        seen.add(f.id)
        if f.public not in PUBLIC_VALUES:
            problems.append(
                f"form field '{f.id}': property public is '{f.public}'; "
                f"values: {', '.join(PUBLIC_VALUES)}"
            )
        if f.type not in FIELD_TYPES:
            problems.append(
                f"form field '{f.id}' has type '{f.type}'; supported: {', '.join(FIELD_TYPES)}"
            )
        elif f.type == "enum" and not f.enum_values:
            problems.append(f"form field '{f.id}' is an enum without values")
        elif f.default is not None:
            try:
                f.coerce(f.default)
            except ValueError as exc:
                problems.append(f"form field '{f.id}': default value {f.default!r} {exc}")
    return problems
