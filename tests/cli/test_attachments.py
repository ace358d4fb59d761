"""Files and canned replies from the command line, on both databases: attach with a post,
download through the post's access decision, canned replies of one's own groups."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from mail.settings import MailSettings
from people import directory
from rules import case_acts, load_subject
from tests.conftest import wired_app
from tests.web.conftest import seed


@dataclass
class Desk:
    url: str
    case: str  # carol's case
    files: Path  # the file store


@pytest.fixture
def desk(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    files = tmp_path / "files"
    monkeypatch.setenv("CASEWORK_FILES", str(files))
    monkeypatch.delenv("CASEWORK_ATTACHMENT_MAX_BYTES", raising=False)
    monkeypatch.delenv("CASEWORK_VIRUS_SCAN", raising=False)
    rt = wired_app(db_url, mail=MailSettings(maildir=tmp_path)).runtime
    seed(rt)
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        opened = case_acts.open_case(
            work, load_subject(work, carol), carol, case_type="SUPPORT", title="Printer jams"
        )
    rt.close()
    yield Desk(db_url, opened.number, files)


def run(desk: Desk, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", desk.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_files_go_with_a_post_and_come_back_only_to_readers_of_the_post(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 the report")
    disguised = tmp_path / "invoice.pdf"
    disguised.write_bytes(b"<html><script>alert(1)</script></html>")
    code, out, err = run(
        desk, capsys, "--json", "case", "post", desk.case, "--body", "two files",
        "--attach", str(report), "--attach", str(disguised), "--as", "carol",
    )  # fmt: skip
    assert code == 0, err
    first, second = json.loads(out)["attachments"]
    code, out, err = run(desk, capsys, "post", "add", desk.case, "--body", "ours", "--internal",
                         "--attach", str(report), "--as", "alice")  # fmt: skip
    assert code == 0 and "attachment" in out, err
    internal = int(out.rsplit("attachment ", 1)[1].split(":")[0])

    saved = tmp_path / "saved.bin"
    code, out, err = run(
        desk, capsys, "attachment", "get", str(second), "-o", str(saved), "--as", "alice"
    )
    assert code == 0 and "text/html" in out, err  # sniffed, not taken from the .pdf name
    assert saved.read_bytes() == disguised.read_bytes()
    # stored once by content, outside the database
    assert len([p for p in desk.files.rglob("*") if p.is_file()]) == 2
    code, out, _ = run(desk, capsys, "attachment", "get", str(first), "-o", "-", "--as", "carol")
    assert code == 0 and out == "%PDF-1.7 the report"

    # a customer asking for an internal post's file, another customer, a forged id: not found
    for who, file_id in (("carol", internal), ("dave", first), ("alice", 999)):
        code, _, err = run(
            desk, capsys, "attachment", "get", str(file_id), "-o", str(saved), "--as", who
        )
        assert code == 3 and err.startswith(f"error: no attachment {file_id}"), (who, err)
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "x", "--attach",
                       str(report), "--as", "dave")  # fmt: skip
    assert code == 3, err
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "x", "--attach",
                       str(tmp_path / "missing.txt"), "--as", "alice")  # fmt: skip
    assert code == 6 and "missing.txt" in err and "Traceback" not in err


def test_the_size_limit_and_the_virus_scanner_refuse_before_anything_is_stored(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setenv("CASEWORK_ATTACHMENT_MAX_BYTES", "1024")
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "big", "--attach",
                       str(big), "--as", "alice")  # fmt: skip
    assert code == 6
    assert "big.bin: 2,048 bytes is over the limit of 1,024 bytes" in err
    monkeypatch.setenv("CASEWORK_ATTACHMENT_MAX_BYTES", "lots")
    code, _, err = run(desk, capsys, "case", "show", desk.case, "--as", "alice")
    assert code == 6 and "CASEWORK_ATTACHMENT_MAX_BYTES" in err
    monkeypatch.delenv("CASEWORK_ATTACHMENT_MAX_BYTES")

    virus = tmp_path / "eicar.com"
    virus.write_bytes(b"X5O!P%@AP EICAR-STANDARD-ANTIVIRUS-TEST-FILE")
    monkeypatch.setenv(
        "CASEWORK_VIRUS_SCAN",
        "sh -c 'grep -q EICAR && { echo \"stdin: Eicar-Signature FOUND\"; exit 1; }; exit 0'",
    )
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "v", "--attach",
                       str(virus), "--as", "alice")  # fmt: skip
    assert code == 6 and "eicar.com: the virus scanner found it infected" in err
    assert "Eicar-Signature FOUND" in err
    monkeypatch.setenv("CASEWORK_VIRUS_SCAN", "sh -c 'exit 2'")  # a broken scanner refuses too
    code, _, err = run(desk, capsys, "case", "post", desk.case, "--body", "v", "--attach",
                       str(big), "--as", "alice")  # fmt: skip
    assert code == 6 and "the virus scanner failed (exit 2" in err
    assert not desk.files.exists() or not [p for p in desk.files.rglob("*") if p.is_file()]
    code, out, _ = run(desk, capsys, "--json", "case", "show", desk.case, "--as", "alice")
    assert [p["body"] for p in json.loads(out)["stream"]] == []


def test_canned_replies_per_group_with_variables(desk: Desk, capsys: pytest.CaptureFixture[str]):
    body = "Hello {{ customer_name }}, {{ case_key }} is with us. {{ agent_username }}"
    code, out, err = run(desk, capsys, "member", "add", "alice", "service-desk", "--role", "lead")
    assert code == 0 and out.strip() == "alice is a lead of service-desk", err
    code, out, err = run(desk, capsys, "--json", "canned", "add", "--group", "service-desk",
                         "--name", "hello", "--body", body, "--as", "alice")  # fmt: skip
    assert code == 0, err
    reply = str(json.loads(out)["id"])
    code, _, err = run(desk, capsys, "canned", "add", "--group", "service-desk", "--name", "bad",
                       "--body", "Hi {{ custmer }}", "--as", "alice")  # fmt: skip
    assert code == 6 and "unknown variable custmer" in err
    code, _, err = run(desk, capsys, "canned", "add", "--group", "service-desk", "--name", "sly",
                       "--body", "{{ subject.__class__.__mro__ }}", "--as", "alice")  # fmt: skip
    assert code == 6 and "unsafe" in err
    code, _, err = run(desk, capsys, "canned", "add", "--group", "service-desk", "--name", "x",
                       "--body", "x", "--as", "sam")  # fmt: skip
    assert code == 4 and "only its leads and administrators" in err

    code, out, _ = run(desk, capsys, "canned", "render", reply, "--case", desk.case, "--as", "bob")
    assert code == 0 and out.strip().startswith("Hello Carol,") and out.strip().endswith("bob")
    assert f"{desk.case} is with us" in out
    code, out, _ = run(desk, capsys, "--json", "canned", "list", "--as", "sam")
    assert json.loads(out) == []
    for who, args, expected in (
        ("sam", ("show", reply), 3),
        ("sam", ("render", reply, "--case", desk.case), 3),
        ("carol", ("list",), 4),
        ("alice", ("render", reply, "--case", "C-999999"), 3),
    ):
        code, _, err = run(desk, capsys, "canned", *args, "--as", who)
        assert code == expected, (who, args, err)
    code, out, _ = run(desk, capsys, "canned", "show", reply, "--as", "root")
    assert code == 0 and "hello" in out
    # bob, a plain member of the service desk, uses its replies but may not manage them
    for args in (
        ("add", "--group", "service-desk", "--name", "mine", "--body", "x"),
        ("edit", reply, "--body", "Rewritten for everyone"),
        ("remove", reply),
    ):
        code, _, err = run(desk, capsys, "canned", *args, "--as", "bob")
        assert code == 4, (args, err)
        assert err.strip() == (
            "error: bob may not manage the canned replies of service-desk: "
            "only its leads and administrators may"
        )
    code, out, _ = run(desk, capsys, "--json", "canned", "show", reply, "--as", "bob")
    assert code == 0 and json.loads(out)["body"] == body  # unchanged, and still his to use
    # the role is the membership's: back to member, alice manages no more
    assert run(desk, capsys, "member", "add", "alice", "service-desk", "--role", "member")[0] == 0
    code, _, err = run(desk, capsys, "canned", "edit", reply, "--name", "x", "--as", "alice")
    assert code == 4 and "only its leads" in err
    assert run(desk, capsys, "member", "add", "alice", "service-desk", "--role", "lead")[0] == 0
    assert run(desk, capsys, "canned", "remove", reply, "--as", "alice")[0] == 0
    assert run(desk, capsys, "canned", "show", reply, "--as", "alice")[0] == 3
