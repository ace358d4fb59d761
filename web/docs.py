"""The interactive API documentation (Swagger UI) at ``/docs``, from local files only.

The page, Swagger UI's script and stylesheet (from the installed ``fastapi-offline``
package, mounted at ``/docs/assets``) and the script that starts it all come from this
server, so the page works offline and runs under the same strict Content-Security-Policy
as every page: no inline script, no outside origin (the online spec validator badge is
switched off, since it would call out).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .render import render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request) -> Response:
    return render(request, "docs.html", {"openapi_url": request.app.openapi_url})
