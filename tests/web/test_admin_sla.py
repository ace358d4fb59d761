"""SLA policies and calendars from the admin page: shown per case type, hours refused with
the engine's reason next to the weekday, a new calendar stored as a new policy version."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.sla import SlaPolicyVersion
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of

WEEK = {
    "timezone": "Europe/Berlin",
    "mon": "08:00-18:00",
    "tue": "08:00-18:00",
    "wed": "08:00-18:00",
    "thu": "08:00-18:00",
    "fri": "08:00-18:00",
    "sat": "",
    "sun": "",
    "country": "DE",
    "subdivision": "BE",
    "extra_holidays": "",
    "within_first_response": "PT4H",
    "within_next_update": "PT10H",
    "within_resolution": "PT50H",
}


def _versions(site: Site) -> list[dict]:
    with site.runtime.unit() as work:
        rows = work.session.scalars(select(SlaPolicyVersion).order_by(SlaPolicyVersion.number))
        return [r.definition for r in rows]


def test_the_sla_page_shows_and_changes_the_calendar(site: Site):
    root = browser_login(site, "root")
    page = root.get("/admin/sla")
    assert page.status_code == 200 and 'value="08:00-18:00"' in page.text
    assert 'value="Europe/Berlin"' in page.text and 'value="PT4H"' in page.text
    before = len(_versions(site))
    token = csrf_of(page.text)
    saved = root.post(
        "/admin/sla/SUPPORT",
        data={**WEEK, "csrf_token": token, "sat": "09:00-12:00", "extra_holidays": "2026-12-24"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    newest = _versions(site)[-1]
    assert len(_versions(site)) > before
    assert newest["calendar"]["hours"]["sat"] == ["09:00-12:00"]
    assert newest["calendar"]["extra_holidays"] == ["2026-12-24"]
    assert 'value="09:00-12:00"' in root.get("/admin/sla").text


def test_nonsense_hours_are_refused_next_to_the_weekday(site: Site):
    root = browser_login(site, "root")
    token = csrf_of(root.get("/admin/sla").text)
    before = _versions(site)
    night = root.post(
        "/admin/sla/SUPPORT", data={**WEEK, "csrf_token": token, "mon": "17:00-09:00"}
    )
    assert night.status_code == 422
    assert "Mon: &#39;17:00-09:00&#39; ends before it starts" in night.text
    assert 'value="17:00-09:00"' in night.text  # what was typed comes back
    closed = {day: "" for day in ("mon", "tue", "wed", "thu", "fri")}
    never = root.post("/admin/sla/SUPPORT", data={**WEEK, **closed, "csrf_token": token})
    assert never.status_code == 422 and "never open" in never.text
    zone = root.post("/admin/sla/SUPPORT", data={**WEEK, "csrf_token": token, "timezone": "Mars"})
    assert zone.status_code == 422 and "unknown IANA time zone" in zone.text
    target = root.post(
        "/admin/sla/SUPPORT", data={**WEEK, "csrf_token": token, "within_resolution": "5 days"}
    )
    assert target.status_code == 422 and "not an ISO 8601 duration" in target.text
    assert _versions(site) == before  # nothing stored


def test_only_administrators_see_or_change_sla_policies(site: Site):
    alice = browser_login(site, "alice")
    assert alice.get("/admin/sla").status_code == 403
    token = csrf_of(alice.get("/account").text)
    assert alice.post("/admin/sla/SUPPORT", data={**WEEK, "csrf_token": token}).status_code == 403
    root = browser_login(site, "root")
    assert root.post("/admin/sla/SUPPORT", data={**WEEK, "csrf_token": "x"}).status_code == 403
    token = csrf_of(root.get("/admin/sla").text)
    assert root.post("/admin/sla/NOPE", data={**WEEK, "csrf_token": token}).status_code == 404
