"""The case page's Merge card and Related cases section: only those who may merge or link
see the forms, a linked case shows with its kind on both pages, a case the agent may not see
is refused as not found, and a merged case is not offered for reopening."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import Site
from tests.web.test_case_merge_api import _billing_case
from tests.web.test_pages import browser_login, csrf_of, portal_case


def test_agents_link_unlink_and_merge_on_the_case_page(site: Site, tmp_path: Path):
    carol, target = portal_case(site, "carol", "Printer jams")
    _, source = portal_case(site, "carol", "Printer jams again")
    hidden = _billing_case(site, tmp_path)
    alice, mona = browser_login(site, "alice"), browser_login(site, "mona")
    page = alice.get(f"/cases/{source}")
    assert 'id="merge"' in page.text and f'action="/cases/{source}/links"' in page.text
    watched = mona.get(f"/cases/{source}").text  # a monitor: neither form
    assert 'id="merge"' not in watched and f'action="/cases/{source}/links"' not in watched

    def post(client, verb: str, **form: str):
        data = {"csrf_token": csrf_of(client.get(f"/cases/{source}").text), **form}
        return client.post(f"/cases/{source}/{verb}", data=data, follow_redirects=False)

    linked = post(alice, "links", op="add", other=target.lower(), kind="duplicate-of")
    assert linked.status_code == 303, linked.text
    assert ">duplicate-of</span>" in alice.get(f"/cases/{source}").text
    assert ">duplicated-by</span>" in alice.get(f"/cases/{target}").text
    assert f"/cases/{source}" not in carol.get(f"/portal/cases/{target}").text  # no links shown
    # a case the agent may not see: not found, like a missing one; a typo: one line
    assert post(alice, "links", op="add", other=hidden).status_code == 404
    assert post(alice, "links", op="add", other="B-999999").status_code == 404
    typo = post(alice, "links", op="add", other="printer")
    assert typo.status_code == 422 and "a case number such as C-000123" in typo.text
    assert post(mona, "links", op="add", other=target).status_code == 403
    assert post(alice, "links", op="remove", other=target).status_code == 303
    assert ">duplicate-of</span>" not in alice.get(f"/cases/{source}").text
    # merge: not into a hidden case, not by a monitor, not into itself
    assert post(alice, "merge", into=hidden).status_code == 404
    assert post(mona, "merge", into=target).status_code == 403
    itself = post(alice, "merge", into=source)
    assert itself.status_code == 422 and "into: is the same case" in itself.text
    assert (
        alice.post(
            f"/cases/{source}/merge", data={"into": target}, follow_redirects=False
        ).status_code
        == 403
    )  # no form token: refused
    assert post(alice, "merge", into=target).status_code == 303
    merged = alice.get(f"/cases/{source}").text
    assert f"merged into {target}" in merged and ">merged-into</span>" in merged
    assert "Reopen case" not in merged and f"Cannot be reopened: merged into {target}" in merged
    assert 'id="merge"' not in merged  # a closed case is not merged again
    assert ">merged-from</span>" in alice.get(f"/cases/{target}").text
