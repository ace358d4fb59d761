"""Files and canned replies over HTTP: multipart upload on the API, the case page and the
portal; downloads only through the post's access decision, never rendered by the browser;
canned replies of one's own groups, with the case filled in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from tests.web.conftest import Site
from tests.web.test_api import open_case
from tests.web.test_pages import browser_login

DISGUISED = b"<!DOCTYPE html><html><script>fetch('/api/session')</script></html>"


def upload(client, number: str, body: str, *files: tuple[str, bytes], internal: bool = False):
    return client.post(
        f"/api/cases/{number}/posts/with-files",
        data={"body": body, "internal": "true" if internal else "false"},
        files=[("files", (name, data, "application/pdf")) for name, data in files],
    )


def test_an_upload_is_stored_sniffed_and_served_only_to_readers_of_its_post(site: Site):
    carol, alice, dave = site.login("carol"), site.login("alice"), site.login("dave")
    number = open_case(carol, "Invoice")["number"]
    answer = upload(
        carol,
        number,
        "the invoice",
        ("../../etc/passwd", b"root:x:0:0"),
        ("invoice.pdf", DISGUISED),
    )
    assert answer.status_code == 201, answer.text
    passwd, page = answer.json()["attachments"]
    assert passwd["filename"] == "etc_passwd" and passwd["content_type"] == "text/plain"
    # declared application/pdf, named .pdf: the bytes say HTML
    assert (page["filename"], page["content_type"]) == ("invoice.pdf", "text/html")
    got = alice.get(f"/api/cases/{number}/attachments/{page['id']}")
    assert got.status_code == 200 and got.content == DISGUISED
    assert got.headers["content-type"] == "application/octet-stream"  # never text/html
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''invoice.pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    # the stored file is named by its sha256 inside the store, nowhere near /etc
    store = site.runtime.files
    assert not list(store.root.rglob("*passwd*")) and not list(store.root.rglob("*.part"))
    assert store.path(hashlib.sha256(DISGUISED).hexdigest()).read_bytes() == DISGUISED

    note = upload(alice, number, "our notes", ("notes.txt", b"internal"), internal=True).json()
    secret = note["attachments"][0]["id"]
    assert carol.get(f"/api/cases/{number}/attachments/{secret}").status_code == 404
    assert dave.get(f"/api/cases/{number}/attachments/{page['id']}").status_code == 404
    assert dave.get(f"/api/cases/{number}/posts").status_code == 404
    other = open_case(dave, "Mine")["number"]  # a forged pairing: dave's case, carol's file
    assert dave.get(f"/api/cases/{other}/attachments/{page['id']}").status_code == 404
    assert alice.get(f"/api/cases/{number}/attachments/99999").status_code == 404
    # dave may not post files to carol's case either
    assert upload(dave, number, "x", ("a.txt", b"a")).status_code == 404


def test_a_file_over_the_limit_or_flagged_by_the_scanner_is_refused_naming_why(
    site: Site, tmp_path
):
    carol = site.login("carol")
    number = open_case(carol, "Invoice")["number"]
    scanner = tmp_path / "scan.sh"
    scanner.write_text(
        "#!/bin/sh\ngrep -q EICAR && { echo 'stdin: Eicar-Test FOUND'; exit 1; }\nexit 0\n"
    )
    scanner.chmod(0o755)
    site.runtime.files = replace(site.runtime.files, max_bytes=100, scan_command=str(scanner))
    big = upload(carol, number, "big", ("big.bin", b"x" * 101))
    assert big.status_code == 422
    assert big.json()["errors"] == {
        "big.bin": "101 bytes is over the limit of 100 bytes (CASEWORK_ATTACHMENT_MAX_BYTES)"
    }
    bad = upload(carol, number, "bad", ("ok.txt", b"fine"), ("virus.com", b"X5O EICAR"))
    assert bad.status_code == 422
    assert "infected (stdin: Eicar-Test FOUND)" in bad.json()["errors"]["virus.com"]
    posts = carol.get(f"/api/cases/{number}/posts").json()
    assert [p["body"] for p in posts] == []  # nothing stored by a refusal, not even the post


def test_the_case_page_and_the_portal_send_replies_with_files(site: Site):
    carol = browser_login(site, "carol", "/portal")
    number = open_case(site.login("carol"), "Broken screen")["number"]
    page = carol.get(f"/portal/cases/{number}").text
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="files"' in page
    assert "Canned reply" not in page  # customers have none
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = carol.post(
        f"/portal/cases/{number}/posts",
        data={"body": "photo attached", "csrf_token": token},
        files=[("files", ("screen.png", b"\x89PNG\r\n\x1a\nrest", "image/png"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = carol.get(f"/portal/cases/{number}").text
    assert "screen.png" in page and "image/png" in page

    alice = browser_login(site, "alice")
    page = alice.get(f"/cases/{number}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = alice.post(
        f"/cases/{number}/posts",
        data={"body": "log of the repair", "internal": "true", "csrf_token": token},
        files=[("files", ("repair.log", b"step 1", "text/plain"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert "repair.log" in alice.get(f"/cases/{number}").text
    assert "repair.log" not in carol.get(f"/portal/cases/{number}").text


def test_canned_replies_are_managed_per_group_and_inserted_filled_in(site: Site):
    alice, sam, carol = site.login("alice"), site.login("sam"), site.login("carol")
    root, bob = site.login("root"), site.login("bob")
    lead = root.post("/api/groups/service-desk/members", json={"username": "alice", "role": "lead"})
    assert lead.status_code == 201, lead.text
    number = open_case(carol, "Printer jams")["number"]
    made = alice.post(
        "/api/canned-replies",
        json={
            "group": "service-desk",
            "name": "received",
            "body": "Dear {{ customer_name }}, we are on {{ case_key }} ({{ subject }}). "
            "{{ agent_name }}",
        },
    )
    assert made.status_code == 201, made.text
    reply_id = made.json()["id"]
    unknown = alice.post(
        "/api/canned-replies",
        json={"group": "service-desk", "name": "x", "body": "Hi {{ customer_nme }}"},
    )
    assert unknown.status_code == 422 and "unknown variable customer_nme" in unknown.text
    # sam is no member of the service desk: may not add to it, sees none of its replies
    assert (
        sam.post(
            "/api/canned-replies", json={"group": "service-desk", "name": "y", "body": "y"}
        ).status_code
        == 403
    )
    assert sam.get("/api/canned-replies").json() == []
    assert sam.get(f"/api/canned-replies/{reply_id}").status_code == 404
    assert sam.delete(f"/api/canned-replies/{reply_id}").status_code == 404
    assert carol.get("/api/canned-replies").status_code == 403
    assert [r["name"] for r in alice.get("/api/canned-replies").json()] == ["received"]
    # bob, a plain member of the service desk, uses its replies but may not manage them
    plain = {
        "add": bob.post(
            "/api/canned-replies", json={"group": "service-desk", "name": "b", "body": "b"}
        ),
        "change": bob.patch(f"/api/canned-replies/{reply_id}", json={"body": "Rewritten"}),
        "remove": bob.delete(f"/api/canned-replies/{reply_id}"),
    }
    for what, answer in plain.items():
        assert answer.status_code == 403, (what, answer.text)
        assert "only its leads and administrators may" in answer.text, what
    assert [r["name"] for r in bob.get("/api/canned-replies").json()] == ["received"]
    filled = bob.get(f"/api/canned-replies/{reply_id}/render", params={"case": number})
    assert filled.status_code == 200 and filled.json()["text"].endswith(" bob")
    again = alice.post(
        "/api/canned-replies", json={"group": "service-desk", "name": "received", "body": "z"}
    )
    assert again.status_code == 409

    text = alice.get(f"/api/canned-replies/{reply_id}/render", params={"case": number}).json()
    assert text["text"] == f"Dear Carol, we are on {number} (Printer jams). alice"
    other = open_case(site.login("dave"), "Dave's")["number"]
    assert (
        root.get(f"/api/canned-replies/{reply_id}/render", params={"case": other}).status_code
        == 200
    )
    assert (
        alice.get(f"/api/canned-replies/{reply_id}/render", params={"case": "C-999999"}).status_code
        == 404
    )

    page = browser_login(site, "alice").get(f"/cases/{number}", params={"canned": reply_id}).text
    assert "Canned reply" in page
    assert f"Dear Carol, we are on {number} (Printer jams). alice</textarea>" in page
    changed = alice.patch(f"/api/canned-replies/{reply_id}", json={"body": "Hello {{ nope }}"})
    assert changed.status_code == 422
    assert alice.delete(f"/api/canned-replies/{reply_id}").json() == {
        "id": reply_id,
        "removed": True,
    }
    assert alice.get("/api/canned-replies").json() == []


def test_a_broken_or_wrong_upload_is_bad_input_not_an_error(site: Site):
    alice = site.login("alice")
    number = open_case(site.login("carol"), "Upload")["number"]
    url = f"/api/cases/{number}/posts/with-files"
    broken = alice.post(
        url,
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nno end",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code in (400, 422), broken.text
    as_json = alice.post(url, json={"body": "hi"})
    assert as_json.status_code == 422 and "body" in as_json.json()["errors"]
    smuggled = alice.post(url, data={"body": "hi"}, files=[("other", ("a.txt", b"a"))])
    assert smuggled.status_code == 422 and "other" in smuggled.json()["errors"]
