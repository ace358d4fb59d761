"""What a test does when a real part it talks to is missing: skip on a developer's machine,
fail where every part is required.

The real parts are PostgreSQL, Dovecot (IMAP), the system Chromium and the shared corpus
beside the clone.  ``.ci/run`` sets ``CASEWORK_REQUIRE_REAL_PARTS=1``, so a green CI run
means every one of them was exercised; a skip there would hide an untested path.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE = "CASEWORK_REQUIRE_REAL_PARTS"


def required() -> bool:
    """Whether missing real parts fail the run (CI) instead of skipping (a laptop)."""
    return os.environ.get(REQUIRE) == "1"


def missing(part: str, reason: str, install: str = "") -> NoReturn:
    """Skip or fail the test that needs ``part``, naming what is missing and how to get it."""
    message = f"{part} is missing: {reason}" + (f" ({install})" if install else "")
    if required():
        pytest.fail(f"{message}; {REQUIRE}=1 requires it", pytrace=False)
    pytest.skip(message)
