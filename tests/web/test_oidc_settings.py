"""The identity provider's settings from the environment: off unless configured, the secret
from a file, and every mistake refused at start-up naming its variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from web.settings import WebSettings
from web.sso.settings import OidcSettings

REPO = Path(__file__).resolve().parents[2]
BASE = {
    "CASEWORK_OIDC_ISSUER": "https://id.example.com/realms/casework/",
    "CASEWORK_OIDC_CLIENT_ID": "casework",
    "CASEWORK_OIDC_CLIENT_SECRET": "s3cret",
}


def test_it_is_off_unless_an_issuer_is_set():
    assert WebSettings.from_env({}).oidc is None
    assert OidcSettings.from_env({"CASEWORK_OIDC_CLIENT_ID": "casework"}) is None


def test_it_reads_every_setting_with_its_defaults(tmp_path: Path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    env = {**BASE, "CASEWORK_OIDC_CLIENT_SECRET": ""}
    env |= {
        "CASEWORK_OIDC_CLIENT_SECRET_FILE": str(secret),
        "CASEWORK_OIDC_NAME": "Keycloak",
        "CASEWORK_OIDC_GROUP_MAP": "/support=service-desk, /support=support-monitors\n/x=y",
        "CASEWORK_OIDC_USERS": "agents",
        "CASEWORK_OIDC_CREATE_USERS": "1",
    }
    found = OidcSettings.from_env(env)
    assert found is not None
    assert found.issuer == "https://id.example.com/realms/casework"
    assert found.client_secret == "from-a-file"
    assert "from-a-file" not in repr(found)
    assert found.scopes == ("openid", "profile", "email")
    assert (found.username_claim, found.groups_claim) == ("preferred_username", "groups")
    assert found.accounts.group_map == {
        "/support": frozenset({"service-desk", "support-monitors"}),
        "/x": frozenset({"y"}),
    }
    assert found.accounts.agents and found.accounts.create_users
    defaults = OidcSettings.from_env(BASE)
    assert defaults is not None
    assert not defaults.accounts.agents and not defaults.accounts.create_users


@pytest.mark.parametrize(
    "change, variable",
    [
        ({"CASEWORK_OIDC_ISSUER": "http://id.example.com"}, "CASEWORK_OIDC_ISSUER"),
        ({"CASEWORK_OIDC_CLIENT_ID": ""}, "CASEWORK_OIDC_CLIENT_ID"),
        ({"CASEWORK_OIDC_CLIENT_SECRET": ""}, "CASEWORK_OIDC_CLIENT_SECRET"),
        (
            {"CASEWORK_OIDC_CLIENT_SECRET": "", "CASEWORK_OIDC_CLIENT_SECRET_FILE": "/no/secret"},
            "CASEWORK_OIDC_CLIENT_SECRET_FILE",
        ),
        ({"CASEWORK_OIDC_CLIENT_SECRET_FILE": "/no/secret"}, "CASEWORK_OIDC_CLIENT_SECRET"),
        ({"CASEWORK_OIDC_SCOPES": "profile email"}, "CASEWORK_OIDC_SCOPES"),
        ({"CASEWORK_OIDC_GROUP_MAP": "/support"}, "CASEWORK_OIDC_GROUP_MAP"),
        ({"CASEWORK_OIDC_USERS": "admins"}, "CASEWORK_OIDC_USERS"),
        ({"CASEWORK_OIDC_CREATE_USERS": "1"}, "CASEWORK_OIDC_CUSTOMER_GROUP"),
    ],
)
def test_a_mistake_is_refused_naming_its_variable(change: dict[str, str], variable: str):
    with pytest.raises(InvalidInput) as refused:
        OidcSettings.from_env({**BASE, **change})
    assert variable in refused.value.details()


def test_serve_refuses_bad_settings_with_one_line():
    env = {"PATH": "/usr/bin:/bin", "CASEWORK_OIDC_ISSUER": "https://id.example.com"}
    done = subprocess.run(
        [sys.executable, "run.py", "--db", "sqlite://", "serve", "--port", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "CASEWORK_OIDC_CLIENT_ID" in done.stderr
    assert "Traceback" not in done.stderr
