"""Encrypted PDFs: the archivist supplies the password (sidecar dossier-passwords.csv or
``--passwords FILE``); the bundle keeps a decrypted copy and never the password; without a
password the category is reported as present but unreadable (已有但无法读取), not missing."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.extract.passwords import PasswordFileError, Passwords
from handover_dossier.pipeline import AssembleError, assemble
from handover_dossier.samplecorpus.docgen import write_docx, write_pdf
from handover_dossier.verify.checks import verify_bundle
from pypdf import PdfReader, PdfWriter

PASSWORD = "Cw#2023,季度"  # a comma inside: the CSV must quote it
ENCRYPTED = "财务/2023年度财务收支情况报告.pdf"
META = BundleMeta(leader="陈立华", post="局长", unit="云溪县交通运输局", term_start="2023-01-01", term_end="2023-12-31")
DOSSIER = [sys.executable, "-m", "handover_dossier.cli"]


def _encrypt(path: Path, password: str) -> None:
    writer = PdfWriter(clone_from=PdfReader(str(path)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    with open(path, "wb") as f:
        writer.write(f)


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    """The only 财务收支 (C6) document is an encrypted PDF."""
    src = tmp_path / "src"
    (src / "财务").mkdir(parents=True)
    write_docx(src / "2023年度工作总结.docx", "云溪县交通运输局2023年度工作总结", ["一年来，全局圆满完成各项目标任务。"])
    write_pdf(src / ENCRYPTED, "云溪县交通运输局2023年度财务收支情况报告",
              ["2023年本年收入合计8536.74万元，本年支出合计8402.18万元，年末结转结余134.56万元。"] * 3,
              issuer="云溪县交通运输局财务股", date_text="2024年1月20日")
    _encrypt(src / ENCRYPTED, PASSWORD)
    return src


def _index(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as zf:
        return json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("/data/index.json"))))


def _all_bytes(bundle: Path) -> bytes:
    """The zip as stored and every member decompressed: nothing may hide the password."""
    with zipfile.ZipFile(bundle) as zf:
        return bundle.read_bytes() + b"".join(zf.read(n) for n in zf.namelist())


def _sidecar(src: Path, password: str) -> None:
    (src / "dossier-passwords.csv").write_text(f'路径,密码\n# 财务股提供\n{ENCRYPTED},"{password}"\n', encoding="utf-8")


def test_without_a_password_the_category_is_present_but_unreadable(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    assemble(source, out, meta=META)
    idx = _index(out)
    ex = next(e for e in idx["exceptions"] if e["source"] == ENCRYPTED)
    assert ex["kind"] == "encrypted" and "dossier-passwords.csv" in ex["reason"] and ex["code"] == "C6"
    assert "C6" in idx["missing"]  # no item of C6 in the bundle ...
    assert idx["gaps"]["unreadable"] == {"C6": [{"source": ENCRYPTED, "reason": ex["reason"]}]}
    messages = [f["message"] for f in idx["gaps"]["findings"]]
    # ... but the report does not call it missing: it names the file and why.
    assert not any("缺少“C6" in m for m in messages)
    unread = [f for f in idx["gaps"]["findings"] if f["kind"] == "unreadable"]
    assert len(unread) == 1 and unread[0]["codes"] == ["C6"]
    assert "“C6 财务收支状况”已有但无法读取" in unread[0]["message"] and ENCRYPTED in unread[0]["message"]
    with zipfile.ZipFile(out) as zf:
        report = zf.read(next(n for n in zf.namelist() if n.endswith("04-缺项与问题报告.docx")))
    import io

    from docx import Document

    text = "\n".join(c.text for t in Document(io.BytesIO(report)).tables for r in t.rows for c in r.cells)
    assert "已有但无法读取" in text and ENCRYPTED in text


def test_sidecar_password_keeps_a_decrypted_copy_and_never_the_password(source: Path, tmp_path: Path) -> None:
    _sidecar(source, PASSWORD)
    out = tmp_path / "b.zip"
    r = subprocess.run([*DOSSIER, "assemble", str(source), "-o", str(out), "--term-start", "2023-01-01",
                        "--term-end", "2023-12-31"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    idx = _index(out)
    item = next(it for it in idx["items"] if it["source"] == ENCRYPTED)
    assert item["code"] == "C6" and "财务收支" in item["title"]
    original = __import__("hashlib").sha256((source / ENCRYPTED).read_bytes()).hexdigest()
    assert item["sha256"] != original and any(original in n and "解密" in n for n in item["notes"])
    # The sidecar is configuration, not a document: neither item nor exception.
    assert all("dossier-passwords" not in x["source"] for x in idx["items"] + idx["exceptions"])
    assert idx["gaps"]["unreadable"] == {} and "C6" not in idx["missing"]
    with zipfile.ZipFile(out) as zf:
        member = zf.read(next(n for n in zf.namelist() if n.endswith(item["path"])))
    pdf = PdfReader(__import__("io").BytesIO(member))
    assert not pdf.is_encrypted and "8536.74" in pdf.pages[0].extract_text()
    for secret in (PASSWORD, PASSWORD.encode(), PASSWORD.encode("utf-16-be")):
        needle = secret.encode() if isinstance(secret, str) else secret
        assert needle not in _all_bytes(out)
    assert PASSWORD not in r.stdout + r.stderr
    report = verify_bundle(out)
    assert report.ok, [c.message for c in report.failures]


def test_wrong_password_is_an_exception_without_the_password(source: Path, tmp_path: Path) -> None:
    _sidecar(source, "not-the-password")
    out = tmp_path / "b.zip"
    assemble(source, out, meta=META)
    idx = _index(out)
    ex = next(e for e in idx["exceptions"] if e["source"] == ENCRYPTED)
    assert ex["kind"] == "encrypted" and "密码不正确" in ex["reason"] and "not-the-password" not in ex["reason"]
    assert b"not-the-password" not in _all_bytes(out)
    assert "C6" in idx["gaps"]["unreadable"]


def test_passwords_option_points_at_a_file_outside_the_source(source: Path, tmp_path: Path) -> None:
    pw = tmp_path / "secrets" / "pw.csv"
    pw.parent.mkdir()
    pw.write_text(f'2023年度财务收支情况报告.pdf,"{PASSWORD}"\n', encoding="utf-8")  # a bare file name matches too
    out = tmp_path / "b.zip"
    r = subprocess.run([*DOSSIER, "assemble", str(source), "-o", str(out), "--passwords", str(pw), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["summary"]["exceptions"] == 0 and "C6" not in data["missing"]
    assert PASSWORD not in r.stdout + r.stderr and str(pw) not in json.dumps(_index(out), ensure_ascii=False)
    # A changed passwords file is a changed input: the bundle is made again, not kept.
    pw.write_text("2023年度财务收支情况报告.pdf,wrong\n", encoding="utf-8")
    r = subprocess.run([*DOSSIER, "assemble", str(source), "-o", str(out), "--passwords", str(pw), "--json"],
                       capture_output=True, text=True, timeout=300)
    data = json.loads(r.stdout)
    assert not data["up_to_date"] and data["summary"]["exceptions"] == 1
    # A passwords file that cannot be used stops before anything is written.
    r = subprocess.run([*DOSSIER, "assemble", str(source), "-o", str(tmp_path / "c.zip"), "--passwords",
                        str(tmp_path / "nope.csv")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "找不到密码文件" in r.stderr and not (tmp_path / "c.zip").exists()


def test_passwords_file_format() -> None:
    pw = Passwords.parse('path,password\n# comment\na/b.pdf,"x,y"\nc.pdf,plain\n', origin="p.csv")
    assert pw.lookup("a/b.pdf") == "x,y" and pw.lookup("other/c.pdf") == "plain" and pw.lookup("d.pdf") is None
    assert "x,y" not in repr(pw) and "plain" not in repr(pw)
    with pytest.raises(PasswordFileError, match="第 2 行缺少密码"):
        Passwords.parse("a.pdf,ok\nb.pdf\n", origin="p.csv")


def test_broken_sidecar_stops_the_run(source: Path, tmp_path: Path) -> None:
    (source / "dossier-passwords.csv").write_text("财务/a.pdf\n", encoding="utf-8")
    with pytest.raises(AssembleError, match=r"密码文件 dossier-passwords\.csv 有误"):
        assemble(source, tmp_path / "b.zip", meta=META)
    assert not (tmp_path / "b.zip").exists()
