"""Permission rules: who sees and does what, decided in Python and enforced in SQL.

``load_subject`` describes the acting user; ``can``/``explain`` decide single checks;
``cases_query``, ``contact_filter``, ``posts_query`` and ``related_cases_query`` give
lists filtered by the same rules (see ``rules/visibility.py`` for the rule list).
"""

from .decisions import (
    Decision,
    additional_contacts_query,
    can,
    case_sections,
    cases_query,
    contact_filter,
    explain,
    posts_query,
    related_cases_query,
    resource_filter,
    search_query,
    visible_case,
)
from .levels import Level
from .subject import Subject, load_subject

__all__ = [
    "Decision",
    "Level",
    "Subject",
    "additional_contacts_query",
    "can",
    "case_sections",
    "cases_query",
    "contact_filter",
    "explain",
    "load_subject",
    "posts_query",
    "related_cases_query",
    "resource_filter",
    "search_query",
    "visible_case",
]
