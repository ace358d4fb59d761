"""Who is who and how they sign in, above the engine (imports the engine only).

``directory`` (users, groups, memberships, customers, contacts), ``passwords`` (the
password policy and argon2 hashes), ``logins`` (sign-in and web sessions),
``throttle`` (failed sign-ins per user name and per address) and ``tokens`` (API tokens:
scopes, expiry, revocation).  Each call runs inside one ``Runtime.unit()``.
"""
