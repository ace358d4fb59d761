"""``run.py serve``: the web app under uvicorn, with the timer sweep beside it.

On one machine there is no separate worker to run, so the server sweeps due timers
and the outbox itself, with the worker's own sweep function in a background
scheduler; with ``--no-worker`` it leaves that to ``run.py worker`` processes.  With
``--watch-processes`` a designer's saved BPMN/TOML files are deployed as they change.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from designer.hot_reload import watch_processes
from engine.clock import Clock, SystemClock
from engine.errors import InvalidInput
from engine.store.db import DEFAULT_URL
from web.metrics import SHARED_DIR
from web.settings import WebSettings, request_threads

from . import logs
from .context import application
from .ticker import TimerTicker

log = logging.getLogger("casework.web")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("serve", help="serve the web app, API and portal (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes (uvicorn workers; for PostgreSQL, where their writes "
        "do not queue behind one another); the timer sweep stays in this process",
    )
    p.add_argument(
        "--threads",
        metavar="N",
        default=None,
        help="request handlers each process runs at once: 1 runs them one at a time on the "
        "event loop (the least CPU per request; scale out with --workers), more a thread "
        "pool of that size (default: 1 on SQLite, 40 on PostgreSQL; or "
        "CASEWORK_REQUEST_THREADS)",
    )
    p.add_argument("--tick", type=float, default=1.0, help="seconds between timer sweeps")
    p.add_argument(
        "--no-worker", action="store_true", help="do not sweep timers (run `worker` instead)"
    )
    p.add_argument(
        "--secure-cookies",
        action="store_true",
        default=None,
        help="mark cookies Secure even over plain HTTP (they are over HTTPS anyway); "
        "or CASEWORK_SECURE_COOKIES=1",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        default=None,
        help="comma-separated addresses or networks of trusted reverse proxies: only from "
        "them are X-Forwarded-For/-Proto believed (default: nobody; or "
        "CASEWORK_FORWARDED_ALLOW_IPS)",
    )
    p.add_argument(
        "--watch-processes",
        nargs="?",
        const=Path("processes"),
        type=Path,
        metavar="DIR",
        help="deploy changed BPMN/TOML pairs of DIR (default: processes) as new versions",
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from web.app import create_app
    from web.settings import uvicorn_options

    settings = WebSettings.from_env()
    settings = dataclasses.replace(
        settings,
        secure_cookies=args.secure_cookies or settings.secure_cookies,
        forwarded_allow_ips=args.forwarded_allow_ips or settings.forwarded_allow_ips,
        request_threads=request_threads(args.threads) or settings.request_threads,
    )

    logs.for_service(args.debug)
    if args.workers < 1:
        raise InvalidInput("--workers must be at least 1", {"--workers": str(args.workers)})
    _check_address(args.host, args.port)
    with application(args) as app:
        rt = app.runtime
        rt.init_schema()
        scheduler = None
        if not args.no_worker:
            scheduler = BackgroundScheduler()
            ticker = TimerTicker(scheduler, rt, app.outbox, args.tick)
            ticker.start()
            scheduler.start()
            log.info("sweeping due timers every %.1f s in this process", args.tick)
        stop_watching = threading.Event()
        if args.watch_processes is not None:
            threading.Thread(
                target=watch_processes,
                args=(rt, args.watch_processes),
                kwargs={"report": log.warning, "stop": stop_watching},
                name="watch-processes",
                daemon=True,
            ).start()
        options = {
            "host": args.host,
            "port": args.port,
            "log_level": "warning",
            **uvicorn_options(settings),
        }
        try:
            if args.workers == 1:
                uvicorn.run(create_app(app, settings), **options)
            else:
                _pass_to_workers(args, settings, app.config.clock)
                log.info("serving from %d worker processes", args.workers)
                with _shared_metrics_folder():
                    uvicorn.run(
                        "web.served:app_from_env", factory=True, workers=args.workers, **options
                    )
        finally:
            stop_watching.set()
            if scheduler is not None:
                scheduler.shutdown(wait=True)
                ticker.heartbeat.stop()
    return 0


def _pass_to_workers(args: argparse.Namespace, settings: WebSettings, clock: Clock) -> None:
    """Put what this command was told into the environment the worker processes inherit:
    each builds its app from the environment alone (``web.served``)."""
    if not isinstance(clock, SystemClock):
        raise InvalidInput(
            "--clock (or CASEWORK_CLOCK) cannot be shared by several worker processes: "
            "rehearse with one",
            {"--workers": str(args.workers)},
        )
    os.environ["CASEWORK_DB"] = args.db or os.environ.get("CASEWORK_DB") or DEFAULT_URL
    if args.debug:
        os.environ["CASEWORK_DEBUG"] = "1"
    if settings.secure_cookies:
        os.environ["CASEWORK_SECURE_COOKIES"] = "1"
    if settings.forwarded_allow_ips:
        os.environ["CASEWORK_FORWARDED_ALLOW_IPS"] = settings.forwarded_allow_ips
    if settings.request_threads:
        os.environ["CASEWORK_REQUEST_THREADS"] = str(settings.request_threads)


@contextmanager
def _shared_metrics_folder() -> Iterator[None]:
    """A fresh folder where the worker processes write their metrics for one another
    (``web.metrics``), removed when the server stops; an operator's own
    ``PROMETHEUS_MULTIPROC_DIR`` is used as it is (and emptied by them, not by us)."""
    if os.environ.get(SHARED_DIR):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="casework-metrics-") as folder:
        os.environ[SHARED_DIR] = folder
        try:
            yield
        finally:
            del os.environ[SHARED_DIR]


def _check_address(host: str, port: int) -> None:
    """Refuse at once, naming it, an address that cannot be served (in use, not ours,
    unknown host) -- uvicorn would log it and exit with a code of its own."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise InvalidInput(f"cannot serve on {host}:{port}", {"--host/--port": problem}) from None
