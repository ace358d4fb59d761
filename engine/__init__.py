"""The case engine: runs BPMN case types durably; the bottom layer, importing none of ours.

Sub-packages: ``definitions`` (BPMN + TOML -> a checked case-type version), ``run``
(cases, tasks, posts, timers and the workflows under them), ``sla`` (business calendars,
targets and the clocks of cases), ``sandbox`` (the restricted evaluator of conditions
and scripts) and ``store`` (models, database set-up, migrations); beside them
``runtime`` (the unit of work), ``errors``, ``clock`` and ``audit``.  The engine never
imports ``designer``, ``people``, ``rules``, ``mail``, ``web`` or ``cli``.
"""
