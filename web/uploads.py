"""Files in and out of the web app: multipart uploads read into checked files, downloads
sent so that no browser ever renders them in our origin."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from starlette.datastructures import UploadFile

from engine.errors import InvalidInput
from engine.run.attachments import NewFile, served_type

#: Form fields (not files) are short: a post body at most (as in the pages' read_form).
MAX_FIELD = 100_000
#: The form names that carry files.
FILE_FIELDS = ("files", "file", "attachment")


async def read_upload(request: Request) -> tuple[dict[str, str], list[NewFile]]:
    """A multipart form as its text fields (one value per name) and its files (the names
    the browser sent, the bytes; the declared content type is ignored: types are sniffed)."""
    form = await request.form(max_files=20)
    values: dict[str, str] = {}
    files: list[NewFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in FILE_FIELDS:
                raise InvalidInput("files are not accepted here", {key: "must be text"})
            data = await value.read()
            if data or value.filename:  # an empty file input sends a nameless empty part
                files.append(NewFile(value.filename, data))
            continue
        if "\x00" in value or len(value) > MAX_FIELD:
            raise InvalidInput("the form is not valid", {key: "contains characters not allowed"})
        values[key] = value
    return values, files


def attachment_response(filename: str, content_type: str, data: bytes) -> Response:
    """A download: always ``attachment`` (never shown inline), ``nosniff``, and active
    content (HTML, SVG, XML) as opaque bytes whatever it is."""
    return Response(
        content=data,
        media_type=served_type(content_type),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
