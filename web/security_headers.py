"""Security headers on every response: pages, the API, static files, the docs and errors.

The app adds them at its outermost layer (see ``WebApp.build_middleware_stack`` in
``web/app.py``), so even the bare 500 answer of an unexpected error carries them.  A
response that sets one of these headers itself keeps its own value.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only this site's own scripts, styles, images (and data: images, which the API docs'
# icons are); no plugins, no <base> tricks, forms post only here, never in a frame.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),  # for browsers that predate frame-ancestors
]


class SecurityHeaders:
    """Pure ASGI middleware: adds :data:`HEADERS` to each HTTP response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in HEADERS if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
