"""Invitations and password resets arrive by mail, through the outbox and a real SMTP
server (aiosmtpd): the link in the mail sets the password once and signs the user in; a
used or expired link says so; only administrators invite or reset, on the web, the API
and the command line alike."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from cli.main import main
from mail.smtp import send_due
from tests.mail.test_smtp import Server, smtp  # noqa: F401 - the aiosmtpd fixture
from tests.web.conftest import PASSWORD, Site, site  # noqa: F401 - the web app fixture
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.integration

NEW = "tangerine submarine 48 orbits"


def _sent(on: Site, server: Server) -> list[EmailMessage]:
    send_due(on.runtime.sessions, server.transport(), now=on.clock.now())
    return server.handler.messages()


def _link(mail: EmailMessage) -> str:
    """The path of the one-time link in the mail's text."""
    found = re.search(r"http://localhost:8000(/password/\S+)", mail.get_content())
    assert found, mail.get_content()
    return found.group(1)


def _accept(on: Site, link: str) -> TestClient:
    """Open the link in a fresh browser and set the password; the browser is signed in."""
    browser = TestClient(on.client.app)
    page = browser.get(link)
    assert page.status_code == 200, page.text
    done = browser.post(
        link,
        data={"new_password": NEW, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    return browser


def test_an_invitation_from_the_admin_page_is_mailed_and_its_link_signs_in_once(
    site: Site,  # noqa: F811
    smtp: Server,  # noqa: F811
):
    root = browser_login(site, "root")
    form = root.get("/admin/users/new")
    invited = root.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "nina",
            "display_name": "Nina Nowak",
            "email": "nina@example.com",
        },
    )
    assert invited.status_code == 200
    assert "mailed to nina@example.com" in invited.text
    assert 'id="password-link"' not in invited.text  # the link went to nina, not the admin
    [mail] = _sent(site, smtp)
    assert mail["To"] == "nina@example.com"
    assert mail["Subject"] == "You are invited to Casework by root"
    assert "Hello Nina Nowak" in mail.get_content() and '"nina"' in mail.get_content()
    link = _link(mail)
    browser = _accept(site, link)
    me = browser.get("/api/me")
    assert me.status_code == 200 and me.json()["username"] == "nina"
    used = TestClient(site.client.app).get(link)
    assert used.status_code == 404 and "was used already" in used.text
    again = site.client.post("/api/session", json={"username": "nina", "password": NEW})
    assert again.status_code == 200


def test_a_forged_post_cannot_spend_a_link_or_sign_a_browser_in(
    site: Site,  # noqa: F811
    smtp: Server,  # noqa: F811
):
    api = site.login("root")
    invited = api.post("/api/users/invite", json={"username": "ivo", "email": "ivo@example.com"})
    assert invited.status_code == 201
    [mail] = _sent(site, smtp)
    forged = TestClient(site.client.app).post(_link(mail), data={"new_password": NEW})
    assert forged.status_code == 422 and "The form expired" in forged.text
    assert "casework_session" not in forged.headers.get("set-cookie", "")
    _accept(site, _link(mail))  # the link was not spent by the forged post


def test_the_api_invites_into_groups_and_mails_a_reset_whose_expired_link_says_so(
    site: Site,  # noqa: F811
    smtp: Server,  # noqa: F811
):
    api = site.login("root")
    invited = api.post(
        "/api/users/invite",
        json={"username": "otto", "email": "otto@example.com", "groups": ["service-desk"]},
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["mailed_to"] == "otto@example.com" and invited.json()["link"] is None
    groups = {g["name"]: g["members"] for g in api.get("/api/groups").json()}
    assert "otto" in groups["service-desk"]
    _accept(site, _link(_sent(site, smtp)[0]))
    reset = api.post("/api/users/otto/reset")
    assert reset.status_code == 200 and reset.json()["mailed_to"] == "otto@example.com"
    old = site.client.post("/api/session", json={"username": "otto", "password": NEW})
    assert old.status_code == 422  # the reset forgot the password at once
    [_, mail] = _sent(site, smtp)
    assert mail["Subject"] == "Set a new Casework password"
    assert "root reset the password" in mail.get_content()
    unmailed = api.post("/api/users/alice/reset")  # alice has no address: the link comes back
    assert unmailed.json()["mailed_to"] is None
    assert unmailed.json()["link"].startswith("http://localhost:8000/password/")
    assert len(_sent(site, smtp)) == 2
    site.clock.advance(timedelta(days=8))
    expired = TestClient(site.client.app).get(_link(mail))
    assert expired.status_code == 404 and "has expired" in expired.text


def test_only_administrators_invite_or_reset_and_a_refusal_creates_nobody(
    site: Site,  # noqa: F811
    smtp: Server,  # noqa: F811
):
    alice = site.login("alice")
    refused = alice.post("/api/users/invite", json={"username": "eve", "email": "e@example.com"})
    assert refused.status_code == 403
    assert alice.post("/api/users/bob/reset").status_code == 403
    assert alice.get("/api/users/bob/assignments").status_code == 403
    root = site.login("root")
    unknown = root.post(
        "/api/users/invite",
        json={"username": "eve", "email": "e@example.com", "groups": ["no-such-group"]},
    )
    assert unknown.status_code == 404  # the whole invitation is undone
    assert "eve" not in {u["username"] for u in root.get("/api/users").json()}
    bob = site.client.post("/api/session", json={"username": "bob", "password": PASSWORD})
    assert bob.is_success  # nobody's password was reset
    assert _sent(site, smtp) == []  # nothing was mailed for any refusal


def test_the_command_line_invites_and_resets_by_mail(
    db_url: str,
    site: Site,  # noqa: F811
    smtp: Server,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("CASEWORK_URL", "http://localhost:8000")
    cli = ["--db", db_url, "--clock", site.clock.now().isoformat()]
    code = main([*cli, "--json", "users", "invite", "pia@example.com", "--group", "specialists"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0 and answer["username"] == "pia" and answer["mailed_to"] == "pia@example.com"
    code = main([*cli, "users", "invite", "mal@example.com", "--as", "alice"])
    assert code == 4 and "alice is not an administrator" in capsys.readouterr().err
    code = main([*cli, "users", "reset-password", "pia", "--as", "root"])
    assert code == 0 and "mailed to pia@example.com" in capsys.readouterr().out
    site.clock.advance(timedelta(minutes=1))  # the command's clock ran on from the site's
    mails = {m["Subject"]: m for m in _sent(site, smtp)}  # each command ran its own clock on
    invite = mails["You are invited to Casework"]  # the operator, no name
    reset = mails["Set a new Casework password"]
    assert invite["To"] == reset["To"] == "pia@example.com"
    assert "root reset the password" in reset.get_content()
    unspent = TestClient(site.client.app).get(_link(invite))
    assert unspent.status_code == 200  # a reset leaves an unspent invitation usable
    _accept(site, _link(reset))
    spent = TestClient(site.client.app).get(_link(invite))
    assert spent.status_code == 404 and "was used already" in spent.text
