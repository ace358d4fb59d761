"""Permission rules: who sees and does what, decided in Python and enforced in SQL.

``load_subject`` describes the acting user; ``decide`` (through ``explain`` and ``can``)
answers every single question - (user, case, action, section) -> allowed, and which rule
decided; ``cases_query``, ``contact_filter``, ``posts_query`` and ``related_cases_query``
give lists filtered by the same rules (see ``rules/visibility.py`` for the rule list).
What users *do* goes through ``rules.case_acts``, ``rules.task_acts`` and
``rules.restriction``, never straight to the engine.
"""

from .checks import (
    additional_contacts_query,
    can,
    cases_query,
    contact_filter,
    explain,
    posts_query,
    related_cases_query,
    resource_filter,
    search_query,
    visible_case,
)
from .decision import Decision, decide
from .levels import Level
from .subject import Subject, load_subject

__all__ = [
    "Decision",
    "Level",
    "Subject",
    "additional_contacts_query",
    "can",
    "cases_query",
    "contact_filter",
    "decide",
    "explain",
    "load_subject",
    "posts_query",
    "related_cases_query",
    "resource_filter",
    "search_query",
    "visible_case",
]
