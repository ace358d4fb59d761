"""The web app built from the environment, for uvicorn's worker processes.

``run.py serve --workers N`` hands uvicorn the import path of :func:`app_from_env`:
each of the N worker processes then builds its own application (its own database
connections, caches and metrics) from the environment the command prepared, since a
process cannot inherit another's open connections.  With one worker the command
builds the app itself and this module is not used.
"""

from __future__ import annotations

from fastapi import FastAPI

from casework.compose import build_app
from casework.config import AppConfig

from .app import create_app
from .settings import WebSettings


def app_from_env() -> FastAPI:
    """The web app over ``CASEWORK_DB`` and the rest of the environment (see
    :meth:`AppConfig.from_env` and :meth:`WebSettings.from_env`)."""
    return create_app(build_app(AppConfig.from_env()), WebSettings.from_env())
