"""Mailbox secrets: never stored readable.

A mailbox's password (or OAuth2 access token) is kept in one of three forms:

* ``fernet:…`` -- encrypted with the Fernet key in ``CASEWORK_SECRET_KEY`` (generate one with
  ``python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'``);
  the database alone does not give it away;
* ``env:NAME`` -- a reference: the secret is read from the environment variable ``NAME`` of
  the process that logs in, each time;
* ``file:/path`` -- a reference: the secret is the content of that file (first line), read
  each time, so a token another program refreshes is always current.

Anything else is a value stored before encryption existed; it is still used as it is, and
``mail mailbox edit NAME --password-env VAR`` stores it encrypted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from engine.errors import InvalidInput

KEY_VARIABLE = "CASEWORK_SECRET_KEY"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class CredentialError(Exception):
    """A stored secret cannot be read now (no key, wrong key, variable or file missing)."""


def is_reference(value: str) -> bool:
    return value.startswith(("env:", "file:"))


def store(value: str, env: Mapping[str, str] | None = None) -> str:
    """The form to store: a checked reference as it is, any other secret encrypted."""
    env = os.environ if env is None else env
    if value.startswith("env:"):
        if not _ENV_NAME.fullmatch(value[4:]):
            raise InvalidInput("bad credential", {"password": "env:NAME with a variable name"})
        return value
    if value.startswith("file:"):
        if not Path(value[5:]).is_absolute():
            raise InvalidInput("bad credential", {"password": "file: needs an absolute path"})
        return value
    if not value:
        raise InvalidInput("bad credential", {"password": "is empty"})
    return "fernet:" + _fernet(env).encrypt(value.encode("utf-8")).decode("ascii")


def reveal(stored: str, env: Mapping[str, str] | None = None) -> str:
    """The secret itself, for the login; :class:`CredentialError` says why it cannot be had."""
    env = os.environ if env is None else env
    if stored.startswith("fernet:"):
        try:
            key = _fernet(env)
        except InvalidInput as exc:
            raise CredentialError(exc.errors.get(KEY_VARIABLE, str(exc))) from None
        try:
            return key.decrypt(stored[7:].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise CredentialError(
                f"the password was encrypted with another {KEY_VARIABLE}"
            ) from None
    if stored.startswith("env:"):
        if stored[4:] not in env:
            raise CredentialError(f"environment variable {stored[4:]} is not set")
        return env[stored[4:]]
    if stored.startswith("file:"):
        try:
            lines = Path(stored[5:]).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CredentialError(f"cannot read {stored[5:]}: {exc.strerror}") from None
        return lines[0].strip() if lines else ""
    return stored


def describe(stored: str) -> str:
    """What an operator may see of it: the form, never the secret."""
    if stored.startswith("fernet:"):
        return "encrypted"
    if is_reference(stored):
        return stored
    return "stored unencrypted (edit the mailbox to encrypt it)"


def _fernet(env: Mapping[str, str]) -> Fernet:
    key = env.get(KEY_VARIABLE, "")
    if not key:
        raise InvalidInput(
            "no key to encrypt the mailbox password",
            {KEY_VARIABLE: "set it to a Fernet key, or give the password as env:NAME or file:PATH"},
        )
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeError):
        raise InvalidInput(
            "the encryption key is not usable",
            {KEY_VARIABLE: "must be a Fernet key (32 url-safe base64-encoded bytes)"},
        ) from None
