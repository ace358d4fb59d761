"""The audit log viewer: filters by case, user, action and dates; pages cut on the server;
filters naming nothing are refused next to the field; administrators only."""

from __future__ import annotations

from datetime import timedelta

from engine import audit
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, portal_case


def test_the_audit_log_filters_and_pages(site: Site):
    _, number = portal_case(site, "carol", "Printer on fire")
    with site.runtime.unit() as work:
        for n in range(audit.PAGE_SIZE + 5):  # more than one page of one action
            audit.record(work, actor_id=None, entity="probe", entity_id=n, action="probed")
    root = browser_login(site, "root")
    everything = root.get("/admin/audit")
    assert everything.status_code == 200 and 'rel="next"' in everything.text
    by_case = root.get("/admin/audit", params={"case": number})
    assert (
        by_case.status_code == 200 and number in by_case.text and "<td>probe " not in by_case.text
    )
    by_user = root.get("/admin/audit", params={"user": "carol"})
    assert ">carol<" in by_user.text and "root</td>" not in by_user.text
    first = root.get("/admin/audit", params={"action": "probed"})
    assert first.text.count("<td>probed</td>") == audit.PAGE_SIZE
    assert "probe 54" in first.text and "action=probed&amp;page=2" in first.text
    second = root.get("/admin/audit", params={"action": "probed", "page": 2})
    assert second.text.count("<td>probed</td>") == 5 and 'rel="next"' not in second.text
    assert "probe 0" in second.text and 'rel="prev"' in second.text
    today = site.clock.now().date()
    dated = root.get("/admin/audit", params={"action": "probed", "since": str(today)})
    assert "probe 54" in dated.text
    earlier = str(today - timedelta(days=3))
    gone = root.get("/admin/audit", params={"action": "probed", "until": earlier})
    assert "probe 54" not in gone.text and "No entries" in gone.text


def test_filters_naming_nothing_are_refused_beside_the_field(site: Site):
    root = browser_login(site, "root")
    bad = root.get(
        "/admin/audit",
        params={"case": "NOPE-9", "user": "nobody", "since": "31.12.2026"},
    )
    assert bad.status_code == 422
    assert "no case NOPE-9" in bad.text and "no user nobody" in bad.text
    assert "must be a date" in bad.text and "<td>created</td>" not in bad.text
    backwards = root.get("/admin/audit", params={"since": "2026-05-02", "until": "2026-05-01"})
    assert backwards.status_code == 422 and "before the start date" in backwards.text
    injected = root.get("/admin/audit", params={"action": "x' OR '1'='1", "page": "-4"})
    assert injected.status_code == 200 and "No entries" in injected.text


def test_only_administrators_read_the_audit_log(site: Site):
    assert browser_login(site, "alice").get("/admin/audit").status_code == 403
    carol = browser_login(site, "carol", "/portal")
    assert carol.get("/admin/audit").status_code in (403, 404)
    assert site.login("alice").get("/admin/audit").status_code == 403
