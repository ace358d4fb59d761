"""The API's contract as a client reads it: bounded input answers 422 (never 500), the
OpenAPI document declares security, typed answers and the real error bodies, and every
response carries the security headers."""

from __future__ import annotations

import pytest

from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case

HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"n": 2**64}, "n is an integer outside the 64-bit range"),
        ({"n": -(2**63) - 1}, "n is an integer outside the 64-bit range"),
        ({"deep": {"list": [1, 2, {"n": 10**30}]}}, "deep.list[2].n is an integer outside"),
        ({"n": [[[[[[[[[1]]]]]]]]]}, "more than 8 levels deep"),
        ({"text": "x" * 100_001}, "longer than 100000 characters"),
    ],
)
def test_out_of_range_case_data_answers_422_and_stores_nothing(site: Site, data, problem):
    alice = site.login("alice")
    answer = alice.post("/api/cases", json={"case_type": "SUPPORT", "subject": "x", "data": data})
    assert answer.status_code == 422, answer.text
    assert problem in answer.json()["errors"]["data"]
    assert alice.get("/api/cases").json() == []


def test_64_bit_integers_fit_and_wider_ones_get_422_in_task_forms_too(site: Site):
    alice, sam = site.login("alice"), site.login("sam")
    number = open_case(alice, "Slow disk", data={"largest": 2**63 - 1})["number"]
    triage = my_task(alice, number, "Triage case")
    done = alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "hardware", "needs_investigation": True}},
    )
    assert done.status_code == 200, done.text
    investigate = my_task(sam, number, "Investigate")
    for hours in (2**64, "99999999999999999999999"):  # as JSON number and as text
        answer = sam.post(
            f"/api/tasks/{investigate['id']}/complete",
            json={"data": {"findings": "bad sectors", "hours_spent": hours}},
        )
        assert answer.status_code == 422, answer.text
        assert "hours_spent" in answer.text
    assert my_task(sam, number, "Investigate")["state"] == "open"
    assert alice.get(f"/api/cases/{number}").json()["data"]["largest"] == 2**63 - 1


def test_a_body_that_is_not_even_text_answers_422(site: Site):
    alice = site.login("alice")
    answer = alice.post(
        "/api/cases", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422 and set(answer.json()) == {"detail", "errors"}


def test_the_document_declares_security_typed_answers_and_the_error_bodies(site: Site):
    doc = site.client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "casework_session",
        "description": schemes["session"]["description"],
    }
    assert schemes["token"]["type"] == "http" and schemes["token"]["scheme"] == "bearer"
    problem = {"$ref": "#/components/schemas/Problem"}
    invalid = {"$ref": "#/components/schemas/InvalidProblem"}
    assert doc["components"]["schemas"]["InvalidProblem"]["required"] == ["detail", "errors"]
    operations = [
        (method, path, op) for path, item in doc["paths"].items() for method, op in item.items()
    ]
    assert len(operations) > 30
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        codes = op["responses"]
        ok = next(code for code in codes if code.startswith("2"))
        [media] = codes[ok]["content"].values()
        assert media.get("schema") not in (None, {}), f"{where} answers an untyped body"
        if op.get("parameters") or op.get("requestBody"):
            assert codes["422"]["content"]["application/json"]["schema"] == invalid, where
        if (method, path) == ("post", "/api/session"):
            assert "security" not in op and "429" in codes
            continue
        if path in ("/health", "/ready"):  # load balancers and orchestrators call them
            assert "security" not in op, where
            continue
        assert op["security"] == [{"session": []}, {"token": []}], where
        for code in ("401", "403"):
            assert codes[code]["content"]["application/json"]["schema"] == problem, where
        if "{" in path:
            assert "404" in codes, where
    for path in (
        "/api/cases/{number}/close",
        "/api/tasks/{task_id}/claim",
        "/api/tasks/{task_id}/complete",
        "/api/users",
        "/api/groups",
    ):  # someone else acted first, or the name is taken
        assert "409" in doc["paths"][path]["post"]["responses"], path


def test_every_kind_of_response_carries_the_security_headers(site: Site):
    alice = site.login("alice")
    answers = {
        "page": alice.get("/"),
        "sign-in page": site.client.get("/login"),
        "redirect": site.client.get("/", follow_redirects=False),
        "api": alice.get("/api/me"),
        "api 401": site.client.get("/api/me"),
        "api 404": alice.get("/api/cases/C-999999"),
        "api 422": alice.post("/api/cases", json={}),
        "unknown path": site.client.get("/no/such/thing"),
        "static": site.client.get("/static/casework.css"),
        "docs": site.client.get("/docs"),
        "docs assets": site.client.get("/docs/assets/swagger-ui-bundle.js"),
        "openapi": site.client.get("/openapi.json"),
    }
    for what, answer in answers.items():
        for name, part in HEADERS.items():
            assert part in answer.headers.get(name, ""), f"{what} lacks {name}"
        assert "script-src 'self'" in answer.headers["content-security-policy"], what
    assert answers["page"].status_code == 200 and answers["docs"].status_code == 200
    assert "https://" not in answers["docs"].text and "http://" not in answers["docs"].text
