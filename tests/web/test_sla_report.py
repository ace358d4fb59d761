"""The SLA report over JSON and as a page: agents see the case types they may read."""

from __future__ import annotations

from tests.web.conftest import Site


def _open_case(site: Site) -> None:
    carol = site.login("carol")
    opened = carol.post("/api/cases", json={"case_type": "SUPPORT", "subject": "Printer jams"})
    assert opened.status_code == 201, opened.text


def test_agents_get_the_report_of_the_types_they_read_customers_are_refused(site: Site):
    _open_case(site)
    alice, sam, carol = site.login("alice"), site.login("sam"), site.login("carol")

    answer = alice.get("/api/reports/sla")
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["rows"]
    assert (row["month"], row["case_type"], row["group"], row["opened"], row["closed"]) == (
        "2026-01",
        "SUPPORT",
        "service-desk",
        1,
        0,
    )
    (risk,) = alice.get("/api/reports/sla", params={"at_risk_hours": 24 * 30}).json()["at_risk"]
    assert risk["cases"] == 1
    # sam reads no support cases by type: nothing to report, and the type is "not found"
    assert sam.get("/api/reports/sla").json()["rows"] == []
    assert sam.get("/api/reports/sla", params={"case_type": "SUPPORT"}).status_code == 404
    assert alice.get("/api/reports/sla", params={"case_type": "NOPE"}).status_code == 404
    assert carol.get("/api/reports/sla").status_code == 403


def test_bad_months_and_horizons_are_refused_with_422(site: Site):
    alice = site.login("alice")
    bad = ({"from": "2026-13"}, {"to": "26-01"}, {"at_risk_hours": 0}, {"case_type": "X" * 51})
    for params in bad:
        answer = alice.get("/api/reports/sla", params=params)
        assert answer.status_code == 422, params


def test_the_report_page_draws_its_charts_on_the_server(site: Site):
    _open_case(site)
    page = site.login("alice").get("/reports/sla")
    assert page.status_code == 200
    assert "<svg" in page.text and "Cases opened and closed per month" in page.text
    assert "<td>SUPPORT</td>" in page.text and '<script src="http' not in page.text
    customer = site.login("carol").get("/reports/sla", follow_redirects=False)
    assert customer.status_code in (303, 401, 403, 404)
    assert "<svg" not in customer.text
