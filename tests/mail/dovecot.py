"""A throw-away Dovecot IMAP server for the tests (Debian ``dovecot-imapd``).

It runs in the foreground of its own process group with a generated configuration: its own
run, state and mail folders under a temporary directory, plaintext login on a spare
loopback port, and a static password database -- any user name logs in with
:data:`PASSWORD`, so every test takes its own mailbox by picking a fresh user name.  Given an
``introspection_url`` it also signs users in with OAuth2 access tokens (XOAUTH2,
OAUTHBEARER), asking that endpoint about each token as Dovecot's ``oauth2`` database does
in front of a real identity provider.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "secret"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
mail_location = maildir:{base}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = static
  mechanisms = plain login
  args = password={password}
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


#: OAuth2 (XOAUTH2, OAUTHBEARER) sign-in: Dovecot asks the token introspection endpoint
#: (RFC 7662, ``POST token=…``) whether a token is active and whose it is.
OAUTH2_PASSDB = """\
auth_failure_delay = 0
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/dovecot-oauth2.conf.ext
}}
"""
OAUTH2_CONFIG = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Dovecot:
    """A running server: ``port``, :meth:`client` and :meth:`append` for tests."""

    def __init__(self, *, introspection_url: str | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="casework-dovecot-"))
        self.base.chmod(0o755)  # the dovecot user must reach its mail folder
        self.port = spare_port()
        (self.base / "mail").mkdir()
        shutil.chown(self.base / "mail", "dovecot", "dovecot")
        self.config = self.base / "dovecot.conf"
        oauth2 = ""
        if introspection_url is not None:
            (self.base / "dovecot-oauth2.conf.ext").write_text(
                OAUTH2_CONFIG.format(url=introspection_url)
            )
            oauth2 = OAUTH2_PASSDB.format(base=self.base)
        self.config.write_text(
            CONFIG.format(
                base=self.base,
                port=self.port,
                password=PASSWORD,
                oauth2_passdb=oauth2,
                oauth2_mechanisms=" xoauth2 oauthbearer" if oauth2 else "",
            )
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}; log: {self.log()}")

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def new_user(self) -> str:
        return f"desk-{uuid.uuid4().hex[:10]}"

    @contextlib.contextmanager
    def client(self, user: str) -> Iterator[IMAPClient]:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(user, PASSWORD)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        with self.client(user) as client:
            for raw in messages:
                client.append(folder, raw)


def start() -> Iterator[Dovecot]:
    """For a fixture: a server for the whole session, stopped at its end."""
    server = Dovecot()
    try:
        yield server
    finally:
        server.stop()
