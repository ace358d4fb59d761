"""The file store and the sniffer on their own: types from bytes (never from the name or
the sender), safe names, atomic content-addressed writes, the size limit and the scanner."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from engine.run.attachments import safe_name, served_type, sniff
from engine.store.files import FileRefused, FileStore


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"%PDF-1.7\n...", "x.txt", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "x.pdf", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "", "image/jpeg"),
        (b"PK\x03\x04....", "report.docx", "application/vnd.openxmlformats-officedocument."
         "wordprocessingml.document"),
        (b"PK\x03\x04....", "archive.zip", "application/zip"),
        (b"MZ\x90\x00", "invoice.pdf", "application/x-msdownload"),
        (b"  <!DOCTYPE html><p>hi", "invoice.pdf", "text/html"),
        (b"<!-- x --><script>alert(1)</script>", "notes.txt", "text/html"),
        (b'<?xml version="1.0"?><svg onload="x()">', "logo.png", "image/svg+xml"),
        (b"Gr\xc3\xbc\xc3\x9fe, plain text", "a.bin", "text/plain"),
        (b"\x00\x01\x02binary", "a.txt", "application/octet-stream"),
    ],
)  # fmt: skip
def test_the_type_is_read_from_the_bytes(data: bytes, name: str, kind: str):
    assert sniff(data, name) == kind


def test_active_content_is_only_ever_served_as_opaque_bytes():
    for kind in ("text/html", "image/svg+xml", "application/xml", "text/xml"):
        assert served_type(kind) == "application/octet-stream"
    assert served_type("application/pdf") == "application/pdf"


def test_a_name_never_names_a_place():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_name("C:\\x\x00y.txt") == "C_x_y.txt"
    assert safe_name("...") == safe_name(None) == "attachment"
    assert len(safe_name("a" * 1000)) == 255


def test_files_are_written_once_by_content_and_atomically(tmp_path: Path, monkeypatch):
    store = FileStore(tmp_path / "files")
    digest = store.put(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert store.put(b"hello") == digest and store.read(digest) == b"hello"
    assert store.path(digest) == tmp_path / "files" / digest[:2] / digest[2:4] / digest

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.put(b"half")
    half = hashlib.sha256(b"half").hexdigest()
    assert not store.path(half).exists()  # no half file under the name a row would use
    assert list((tmp_path / "files" / "tmp").iterdir()) == []
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_the_limit_and_the_scanner_refuse_naming_why(tmp_path: Path):
    assert FileStore.beside("sqlite:////srv/cw/casework.db").root == Path(
        "/srv/cw/casework.db.files"
    )
    assert FileStore.beside("postgresql://u@h/db").root == Path("casework-files")
    store = FileStore(tmp_path, max_bytes=4)
    with pytest.raises(FileRefused, match="5 bytes is over the limit of 4 bytes"):
        store.check("a.txt", b"12345")
    store.check("a.txt", b"1234")
    scanning = FileStore(tmp_path, scan_command="sh -c 'grep -q BAD && exit 1; exit 0'")
    scanning.check("ok.txt", b"good")
    with pytest.raises(FileRefused, match="found it infected"):
        scanning.check("bad.txt", b"BAD")
    with pytest.raises(FileRefused, match="could not run"):
        FileStore(tmp_path, scan_command="/no/such/scanner").check("a", b"a")
