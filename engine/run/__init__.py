"""Running cases: open and read cases, work their tasks, fire their timers.

``cases`` (open, read, close), ``tasks`` (inbox, claim, complete, ...), ``posts`` (the
case stream), ``timers`` (fire due BPMN timers), ``summaries`` (plain-dict read models),
``case_types`` (the version new cases run on); underneath, ``workflows`` loads, runs and
saves a case's SpiffWorkflow instance, ``serializer`` stores its state without the spec
and ``process_errors`` tells a failed process step.  Each call runs inside one
``Runtime.unit()``.
"""
