"""The expression sandbox: BPMN conditions, timer values and scripts run restricted.

``policy`` says what code may be compiled (``check_expression``, ``check_script``);
``guards`` holds the run-time hooks and ``BUILTINS``; ``environment`` plugs both into
SpiffWorkflow (``SafeEnvironment``, ``SafeScriptEngine``, ``make_script_engine``);
``camunda`` translates Camunda's ``${...}`` expressions (``is_juel``, ``to_python``).
"""
