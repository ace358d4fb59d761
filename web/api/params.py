"""Path and query parameters shared by the API routers, bounded so no input reaches the
database in a shape it cannot store (ids fit 32 bits, numbers have a fixed form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

CASE_NUMBER = r"^[A-Z][A-Z0-9]*-\d{1,12}$"  # what a case number looks like, e.g. C-000123
CaseNumber = Annotated[str, Path(max_length=40, pattern=CASE_NUMBER)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
