"""Passwords: the policy a new password must meet, argon2 hashing, and checking a sign-in.

Checking a password always runs argon2, also for a user name that does not exist, an
inactive user or one without a password: against a fixed dummy hash.  Otherwise a
sign-in would answer in milliseconds for unknown names and in a hash's time for known
ones, and anyone could list the users by the clock.

The policy (at least 12 characters, not a common password, and a zxcvbn strength score
of 3 or more, so "aaaaaaaaaaaa" or "password1234" are refused) applies wherever a
password is set: the CLI, the API and the admin page all go through :func:`hash_new`.
zxcvbn ships the list of common and breached passwords it matches against.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from engine.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1000  # argon2 takes any length; this only bounds the work per request
MIN_SCORE = 3  # zxcvbn: 0 (guessable) .. 4 (very strong); 3 resists an offline attack
_ZXCVBN_LENGTH = 72  # zxcvbn's own limit; a longer password is judged by its beginning

HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone can type, with the same parameters as real hashes."""
    return HASHER.hash("\x00 no user has this password \x00")


def policy_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be set, or None when it meets the policy."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    judged = zxcvbn(password[:_ZXCVBN_LENGTH], user_inputs=[i for i in user_inputs if i])
    whole = judged["sequence"]
    if len(whole) == 1 and whole[0].get("dictionary_name") == "passwords":
        return "is a commonly used password"
    if judged["score"] < MIN_SCORE:
        advice = judged["feedback"]["warning"] or "it is too easy to guess"
        hints = " ".join(judged["feedback"]["suggestions"])
        return f"is too weak: {advice.rstrip('.')}. {hints}".strip()
    return None


def hash_new(password: str, *, username: str, field: str = "password") -> str:
    """The argon2 hash of a new password, or :class:`InvalidInput` naming what is wrong."""
    problem = policy_problem(password, (username,))
    if problem is not None:
        raise InvalidInput("the password does not meet the policy", {field: problem})
    return HASHER.hash(password)


def matches(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; argon2 runs either way (a missing
    hash is checked against the dummy hash and then refused), so a caller that passes
    None for an unknown or inactive user takes as long as for a real one."""
    candidate = stored_hash or _dummy_hash()
    try:
        verified = HASHER.verify(candidate, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return verified and stored_hash is not None
