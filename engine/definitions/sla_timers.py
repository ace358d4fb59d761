"""BPMN timers that are service levels: one breach mechanism for the diagram and the TOML.

A designer marks a timer event as an SLA in the modeler (*Extensions* tab → *Properties*:
``sla`` = the target's name, or ``true`` to use the event's name).  When such a timer
fires, the case's escalation groups get the same breach notice, through the same
outbox, as when a ``[sla.targets]`` target of the TOML is breached; whatever the timer
leads to in the diagram (an escalation task, say) happens as drawn.

Only timer events can be SLAs: the property anywhere else is refused where it is
written, so a designer never believes a notice is wired when it is not.
"""

from __future__ import annotations

from lxml import etree

from .collector import Collector
from .forms import CAMUNDA_NS
from .parser import BPMN_NS

PROPERTY = "sla"
_TIMER_EVENTS = ("boundaryEvent", "intermediateCatchEvent")


def find_sla_timers(process: etree._Element, out: Collector) -> dict[str, str]:
    """BPMN id -> target name of every timer event marked as an SLA."""
    found: dict[str, str] = {}
    for prop in process.iter(f"{{{CAMUNDA_NS}}}property"):
        if prop.get("name") != PROPERTY:
            continue
        owner = prop.getparent()
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        if owner is None:
            continue
        label = owner.get("name") or owner.get("id") or ""
        is_timer = (
            etree.QName(owner).localname in _TIMER_EVENTS
            and owner.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None
        )
        if not is_timer:
            out.add(
                f"'{label}' has the property sla, which only a timer event (boundary or "
                "intermediate) can have: draw a timer on it and put the property there",
                node=prop,
                element_id=owner.get("id"),
            )
            continue
        value = (prop.get("value") or "").strip()
        if not value:
            out.add(
                f"timer '{label}': the property sla needs a value: the target's name "
                "(shown in the breach notice) or true for the timer's name",
                node=prop,
                element_id=owner.get("id"),
            )
            continue
        found[owner.get("id") or ""] = label if value.lower() == "true" else value
    return found
