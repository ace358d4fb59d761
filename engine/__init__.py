"""The case engine: definitions, store, runner and timers.

Public entry points are the service modules (``cases``, ``tasks``, ``deploy``,
``directory``, ``timers``) called inside a ``Runtime.unit()``; ``engine`` never
imports the CLI, the web layer, mail or rules.
"""
