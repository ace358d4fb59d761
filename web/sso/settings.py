"""Settings of the optional sign-in through an OpenID Connect provider, from the environment.

Off unless ``CASEWORK_OIDC_ISSUER`` is set; local passwords stay and remain the default.
The client secret is read from ``CASEWORK_OIDC_CLIENT_SECRET`` or from the file named by
``CASEWORK_OIDC_CLIENT_SECRET_FILE`` (a mounted secret), never from a file in the
repository.  Every problem is refused when the server starts, naming the variable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import InvalidInput
from rules.provider_users import AccountPolicy

PREFIX = "CASEWORK_OIDC_"


@dataclass(frozen=True)
class OidcSettings:
    """Where the provider is and how its accounts become Casework users."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = "single sign-on"
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    redirect_uri: str | None = None  # default: /login/oidc/callback on the request's host
    accounts: AccountPolicy = field(default_factory=AccountPolicy)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        """None when ``CASEWORK_OIDC_ISSUER`` is unset; see docs/web.md for every variable."""

        def get(name: str, default: str = "") -> str:
            return env.get(PREFIX + name, default).strip()

        issuer = get("ISSUER").rstrip("/")
        if not issuer:
            return None
        problems: dict[str, str] = {}
        if not _secure_url(issuer):
            problems[PREFIX + "ISSUER"] = "must be an https:// URL (http:// only on loopback)"
        client_id = get("CLIENT_ID")
        if not client_id:
            problems[PREFIX + "CLIENT_ID"] = "is required with CASEWORK_OIDC_ISSUER"
        secret = _secret(get("CLIENT_SECRET"), get("CLIENT_SECRET_FILE"), problems)
        scopes = tuple(get("SCOPES", "openid profile email").replace(",", " ").split())
        if "openid" not in scopes:
            problems[PREFIX + "SCOPES"] = "must include openid"
        group_map = _group_map(get("GROUP_MAP"), problems)
        users = get("USERS", "customers")
        if users not in ("customers", "agents"):
            problems[PREFIX + "USERS"] = "must be customers or agents"
        create = _flag(get("CREATE_USERS"), PREFIX + "CREATE_USERS", problems)
        customer_group = get("CUSTOMER_GROUP") or None
        if create and users == "customers" and customer_group is None:
            problems[PREFIX + "CUSTOMER_GROUP"] = (
                "is required to create customers (the customer group of their contact)"
            )
        redirect = get("REDIRECT_URI") or None
        if redirect is not None and not _secure_url(redirect):
            problems[PREFIX + "REDIRECT_URI"] = "must be an https:// URL (http:// only on loopback)"
        if problems:
            raise InvalidInput("the identity provider settings are not valid", problems)
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            name=get("NAME") or "single sign-on",
            scopes=scopes,
            username_claim=get("USERNAME_CLAIM") or "preferred_username",
            groups_claim=get("GROUPS_CLAIM") or "groups",
            redirect_uri=redirect,
            accounts=AccountPolicy(
                group_map=group_map,
                create_users=create,
                agents=users == "agents",
                customer_group=customer_group,
                portal_case_types=tuple(get("PORTAL_CASE_TYPES").replace(",", " ").split()),
            ),
        )


def _secure_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _secret(value: str, path: str, problems: dict[str, str]) -> str:
    if value and path:
        problems[PREFIX + "CLIENT_SECRET"] = "give the secret or its file, not both"
        return ""
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems[PREFIX + "CLIENT_SECRET_FILE"] = f"cannot be read: {exc.strerror or exc}"
            return ""
    if not value:
        problems[PREFIX + "CLIENT_SECRET"] = (
            "is required (or CASEWORK_OIDC_CLIENT_SECRET_FILE naming a file that holds it)"
        )
    return value


def _group_map(raw: str, problems: dict[str, str]) -> dict[str, frozenset[str]]:
    """``provider-group=casework-group`` pairs separated by commas or new lines; several
    pairs may share either side."""
    found: dict[str, set[str]] = {}
    for pair in raw.replace("\n", ",").split(","):
        if not pair.strip():
            continue
        provider, sep, ours = (part.strip() for part in pair.rpartition("="))
        if not sep or not provider or not ours:
            problems[PREFIX + "GROUP_MAP"] = f"{pair.strip()!r} is not provider-group=group"
            continue
        found.setdefault(provider, set()).add(ours)
    return {provider: frozenset(ours) for provider, ours in found.items()}


def _flag(raw: str, name: str, problems: dict[str, str]) -> bool:
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    problems[name] = "must be 1 or 0"
    return False
