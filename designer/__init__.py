"""A process designer's tools, above the engine: get case types in and cases onto them.

``deploy`` (check and store a BPMN + TOML pair as a version, by content hash),
``preview`` (``deploy --dry-run``: changes against the current version, cases touched),
``version_diff`` (tasks and flows added, removed, renamed, changed), ``migration`` (move
running cases to another version), ``scenarios`` (play scenario files on a scratch
database; it adds the people it names through ``people.directory``) and
``hot_reload`` (deploy changed files of a process directory).  Imports the engine, and
``people`` for the scenarios' users.
"""
