"""Wiring the application: the one place that puts Casework's parts together.

The layers below (engine, people, designer, rules, mail) do one job each and know
nothing of how a process is configured; the entry points above (the CLI, the web app,
the worker, the tests and the benches) know nothing of how the parts fit.  Here,
``config.AppConfig`` gathers what a process is configured with (database, mail, clock,
...), ``hooks.AppHooks`` answers the engine's hooks with the rules and mail, and
``compose.build_app`` builds the :class:`~casework.compose.App` every entry point uses.
"""
