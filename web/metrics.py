"""Prometheus metrics of one web app: request latency by route, and the workload.

Each app has its own registry (no process-wide global), so tests and several apps in one
process never mix their figures.  The workload figures are read from the database on each
scrape, so every process reports the whole installation's backlog.  Latency is counted in
the process that answered; under ``run.py serve --workers N`` the processes write it to
files in a shared folder (prometheus-client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``,
which the command sets up), and whichever process answers a scrape adds all of them up, so
one scrape shows every request of the server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.run.workload import Workload

#: The folder where the processes of one server write their figures (multiprocess mode).
SHARED_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Buckets from 2.5 ms to 10 s: the pages answer in milliseconds, a slow one shows.
BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WorkloadCollector(Collector):
    """Asks the database at scrape time (``read`` opens its own unit of work)."""

    def __init__(self, read: Callable[[], Workload]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        now = self.read()
        cases = GaugeMetricFamily("casework_cases", "Cases by status", labels=["status"])
        for status, count in sorted(now.cases.items()):
            cases.add_metric([status], count)
        yield cases
        yield GaugeMetricFamily("casework_open_tasks", "User tasks waiting", value=now.open_tasks)
        yield CounterMetricFamily(
            "casework_tasks_completed", "User tasks completed", value=now.completed_tasks
        )
        yield GaugeMetricFamily(
            "casework_open_incidents",
            "Failed process steps waiting for someone to retry them",
            value=now.open_incidents,
        )
        yield GaugeMetricFamily(
            "casework_timers_waiting", "Timers not yet fired", value=now.timers_waiting
        )
        yield GaugeMetricFamily(
            "casework_timers_late", "Waiting timers already due", value=now.timers_late
        )
        outbox = GaugeMetricFamily("casework_outbox", "Outbox mail by state", labels=["state"])
        for state, count in sorted(now.outbox.items()):
            outbox.add_metric([state], count)
        yield outbox
        yield GaugeMetricFamily(
            "casework_outbox_oldest_pending_seconds",
            "Age of the oldest mail waiting to be sent",
            value=now.oldest_pending_mail_seconds,
        )
        failed = GaugeMetricFamily(
            "casework_failed_jobs",
            "Background work given up on, waiting for an operator (run.py jobs failed)",
            labels=["kind"],
        )
        for kind, count in sorted(now.failed_jobs.items()):
            failed.add_metric([kind], count)
        yield failed
        lag = GaugeMetricFamily(
            "casework_mail_poll_lag_seconds",
            "Seconds since each active mailbox was last read",
            labels=["mailbox"],
        )
        for name, seconds in sorted(now.mail_poll_lag_seconds.items()):
            lag.add_metric([name], seconds)
        yield lag


class AppMetrics:
    """The registry an app exports and the request-latency histogram it fills."""

    def __init__(self, read_workload: Callable[[], Workload]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        shared = os.environ.get(SHARED_DIR)
        self.latency = Histogram(
            "casework_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route", "status"],
            buckets=BUCKETS,
            # shared: the histogram writes to the folder, and the scrape reads all of it
            registry=None if shared else self.registry,
        )
        if shared:
            MultiProcessCollector(self.registry, path=shared)
        self.registry.register(WorkloadCollector(read_workload))


class LatencyMiddleware:
    """Times every HTTP request and files it under its route's template (``/api/cases/
    {number}``, never the number itself, so the label set stays small)."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
