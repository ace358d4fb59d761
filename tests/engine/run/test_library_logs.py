"""A case's data stays out of the log records SpiffWorkflow makes of every state change."""

from __future__ import annotations

import logging

import pytest

from engine.log_context import LIBRARY_STATE_LOGGERS
from engine.run import cases, task_queries, tasks
from engine.runtime import Runtime
from tests.conftest import Support

SECRET = "12 Secret Lane, flat 3"


def test_no_log_record_carries_a_case_s_data(
    support: Support, db_url: str, caplog: pytest.LogCaptureFixture
):
    for name in LIBRARY_STATE_LOGGERS:  # the library's default: no level of their own
        logging.getLogger(name).setLevel(logging.NOTSET)
    rt = Runtime(db_url, clock=support.runtime.clock)  # as a freshly started process
    try:
        caplog.set_level(logging.DEBUG)  # an operator logging everything of ours
        with rt.unit() as work:
            opened = cases.open_case(
                work,
                case_type="SUPPORT",
                subject="Printer jams",
                raiser=support.users["carol"],
                actor_id=support.users["carol"].id,
            )
        with rt.unit() as work:
            triaged = tasks.complete(
                work,
                task_id=opened.task_ids[0],
                user=support.users["alice"],
                data={"category": "hardware", "needs_investigation": False},
            )
        with rt.unit() as work:
            tasks.complete(
                work,
                task_id=triaged.new_task_ids[0],
                user=support.users["alice"],
                data={"resolution": SECRET},
            )
        with rt.unit() as work:  # the data did reach the case
            waiting = task_queries.case_tasks(work, opened.id)
            assert [i.task.name for i in waiting if i.task.state == "open"] == [
                "Confirm resolution"
            ]
    finally:
        rt.close()
    leaked = [r for r in caplog.records if SECRET in repr(vars(r))]
    assert leaked == []
