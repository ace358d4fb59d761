"""Connectors shipped with Casework: Python code service tasks call by name.

Each is registered under the entry-point group ``casework.connectors`` in
``pyproject.toml``; an installation adds its own the same way in its own package (see
docs/designing-case-types.md, "Service tasks: connectors").
"""
