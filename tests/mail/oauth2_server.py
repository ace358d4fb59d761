"""A token introspection endpoint (RFC 7662) on loopback, standing in for Microsoft Entra ID
or Google: the test Dovecot's ``oauth2`` password database asks it whether an access token
is active and whose it is, as a real provider's endpoint would be asked.

Tokens are issued by :meth:`IntrospectionServer.issue` and withdrawn by
:meth:`IntrospectionServer.revoke` (an expired or revoked token answers ``active: false``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class IntrospectionServer:
    """``url`` is the endpoint; ``asked`` counts the introspection requests it answered."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.asked = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
                token = (form.get("token") or [""])[0]
                outer.asked += 1
                user = outer.tokens.get(token)
                answer = {"active": True, "username": user} if user else {"active": False}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/introspect"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def issue(self, user: str) -> str:
        """A new access token for ``user``."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = user
        return token

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def start() -> Iterator[IntrospectionServer]:
    """For a fixture: an endpoint for the whole session."""
    server = IntrospectionServer()
    try:
        yield server
    finally:
        server.stop()
