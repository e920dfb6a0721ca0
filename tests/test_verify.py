"""``dossier verify``: the four-property check catches every kind of damage, names the file
and the check, and reads version-1 bundles too."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from handover_dossier.cli import main
from handover_dossier.verify.checks import PROPERTIES, BundleUnreadable, verify_bundle
from support.bundletools import index_of, put_index, replace_consistently, resign, rewrite

FIXTURES = Path(__file__).resolve().parent / "fixtures"



@pytest.fixture()
def bundle(good_bundle: Path) -> Path:
    return good_bundle


def _failures(report) -> set[tuple[str, str]]:
    return {(c.name, c.item) for c in report.failures}


def _item_path(bundle: Path, code: str) -> str:
    with zipfile.ZipFile(bundle) as zf:
        name = next(n for n in zf.namelist() if n.endswith("index.json"))
        return next(it["path"] for it in json.loads(zf.read(name))["items"] if it["code"] == code)


def test_good_bundle_passes_all_four_properties(bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok, report.failures
    assert report.format_version == "2"
    data = report.as_json()
    for prop in PROPERTIES:
        assert data["properties"][prop]["passed"] > 0 and data["properties"][prop]["failed"] == 0
    names = {c.name for c in report.checks}
    assert {"fixity-sha256", "fixity-sm3", "tag-fixity-sm3", "catalogue-digest", "bagit-library", "item-file",
            "numbering", "archival-code", "payload-oxum", "readable", "active-content", "safe-path"} <= names
    # every payload file is checked by name, for each property
    c2 = _item_path(bundle, "C2")
    for prop in PROPERTIES:
        assert any(c.path == c2 and c.property == prop for c in report.checks), prop
    assert any(c.name == "fixity-sm3" and c.item == c2 and c.ok for c in report.checks)
    assert any(c.ref == "DA/T 70 2-6" for c in report.checks if c.name == "numbering")


def test_changed_byte(bundle: Path, tmp_path: Path) -> None:
    target = _item_path(bundle, "E1")

    def edit(m):
        data = bytearray(m[target])
        data[len(data) // 2] ^= 0x01
        m[target] = bytes(data)

    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", edit))
    assert not report.ok
    assert ("fixity-sha256", target) in _failures(report)
    assert ("fixity-sm3", target) in _failures(report)
    assert all(c.property == "authenticity" for c in report.failures if c.item == target)


def test_sm3_only_mismatch(bundle: Path, tmp_path: Path) -> None:
    """Payload changed, everything SHA-256 (manifest, catalogue, tag manifest) forged to
    match: only SM3 is left to catch it - and does."""
    target = _item_path(bundle, "E1")

    def edit(m):
        m[target] = m[target].replace("未尽事宜".encode(), "已经办结".encode())
        idx = index_of(m)
        for it in idx["items"]:
            if it["path"] == target:
                it["sha256"] = hashlib.sha256(m[target]).hexdigest()
                it["size"] = len(m[target])
        put_index(m, idx)
        resign(m, ("sha256",))

    report = verify_bundle(rewrite(bundle, tmp_path / "sm3.zip", edit))
    assert not report.ok
    failed = _failures(report)
    assert ("fixity-sm3", target) in failed
    assert all("sha256" not in name for name, _ in failed), failed
    assert all("sm3" in c.name or "SM3" in c.message for c in report.failures), report.failures


def test_removed_file(bundle: Path, tmp_path: Path) -> None:
    target = _item_path(bundle, "D3")
    report = verify_bundle(rewrite(bundle, tmp_path / "r.zip", lambda m: m.pop(target)))
    failed = _failures(report)
    assert ("file-present", target) in failed
    assert any(name == "item-file" and target in item for name, item in failed)


def test_extra_file(bundle: Path, tmp_path: Path) -> None:
    extra = "data/F1-其他交接事项/9999-补充材料.txt"

    def edit(m):
        m[extra] = "后来塞进来的文件".encode()

    failed = _failures(verify_bundle(rewrite(bundle, tmp_path / "x.zip", edit)))
    assert ("file-listed", extra) in failed
    assert ("file-catalogued", extra) in failed


def test_catalogue_row_without_file(bundle: Path, tmp_path: Path) -> None:
    """A forged catalogue row (counts and manifests made consistent) points at no file."""
    ghost = "data/C3-讲话材料/0099-在全县大会上的讲话.docx"

    def edit(m):
        idx = index_of(m)
        row = dict(idx["items"][-1])
        row.update(seq=len(idx["items"]) + 1, code="C3", category="讲话材料", title="在全县大会上的讲话", path=ghost)
        row.pop("duplicate_of", None)
        row["archival_code"] = row["archival_code"].rsplit("-", 1)[0] + f"-{row['seq']:04d}"
        idx["items"].append(row)
        idx["summary"]["items"] += 1
        idx["summary"]["documents"] += 1
        idx["summary"]["categories"]["C3"] += 1
        put_index(m, idx)
        m["bag-info.txt"] = m["bag-info.txt"].replace(
            f"Item-Count: {row['seq'] - 1}".encode(), f"Item-Count: {row['seq']}".encode())
        resign(m)

    report = verify_bundle(rewrite(bundle, tmp_path / "ghost.zip", edit))
    assert {name for name, _ in _failures(report)} == {"item-file"}
    assert any(ghost in c.item and "没有对应文件" in c.message for c in report.failures)


def test_broken_numbering(bundle: Path, tmp_path: Path) -> None:
    def edit(m):
        idx = index_of(m)
        for it in idx["items"][5:]:
            it["seq"] += 1  # a gap after item 5
        put_index(m, idx)
        resign(m)

    report = verify_bundle(rewrite(bundle, tmp_path / "n.zip", edit))
    numbering = [c for c in report.failures if c.name == "numbering"]
    assert numbering and "缺 0006" in numbering[0].message
    # the archival codes no longer carry the item numbers either
    assert any(c.name == "archival-code" for c in report.failures)


def test_path_traversal_member(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(rewrite(bundle, tmp_path / "tr.zip", lambda m: None, extra={"../evil.sh": b"rm -rf ~"}))
    assert ("safe-path", "../evil.sh") in _failures(report)
    assert not (tmp_path / "evil.sh").exists()


def test_executable(bundle: Path, tmp_path: Path) -> None:
    exe = "data/F1-其他交接事项/0099-工具.exe"

    def edit(m):
        m[exe] = b"MZ\x90\x00\x03" + b"\x00" * 200
        resign(m)

    report = verify_bundle(rewrite(bundle, tmp_path / "exe.zip", edit))
    bad = [c for c in report.failures if c.name == "active-content" and c.item == exe]
    assert bad and "可执行" in bad[0].message


def test_docx_with_macros(bundle: Path, tmp_path: Path) -> None:
    target = _item_path(bundle, "A1")

    def edit(m):
        src = zipfile.ZipFile(io.BytesIO(m[target]))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info))
            dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)
        replace_consistently(m, target, buf.getvalue())

    report = verify_bundle(rewrite(bundle, tmp_path / "macro.zip", edit))
    assert [(c.name, c.item) for c in report.failures] == [("active-content", target)]
    assert "宏" in report.failures[0].message
    assert report.failures[0].property == "security"


def test_pdf_with_javascript(bundle: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    target = _item_path(bundle, "B1")

    def edit(m):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(m[target])))
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert('打开即运行');")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
        buf = io.BytesIO()
        writer.write(buf)
        replace_consistently(m, target, buf.getvalue())

    report = verify_bundle(rewrite(bundle, tmp_path / "js.zip", edit))
    assert [(c.name, c.item) for c in report.failures] == [("active-content", target)]
    assert "JavaScript" in report.failures[0].message


def test_unusable_file(bundle: Path, tmp_path: Path) -> None:
    """A PDF whose bytes are consistent with every manifest but which no reader can open."""
    target = _item_path(bundle, "B1")

    def edit(m):
        replace_consistently(m, target, b"%PDF-1.7\n" + b"\x00garbage" * 20)

    report = verify_bundle(rewrite(bundle, tmp_path / "u.zip", edit))
    assert [(c.property, c.name, c.item) for c in report.failures] == [("usability", "readable", target)]


@pytest.mark.parametrize("damage", [
    lambda i: i.update(summary=[1, 2]),
    lambda i: i.update(bundle="x"),
    lambda i: i["items"].__setitem__(0, 5),
    lambda i: i["items"][0].update(seq="1"),
    lambda i: i["bundle"].update(archival_pattern="(("),
], ids=["summary-list", "bundle-string", "item-number", "seq-string", "pattern-without-number"])
def test_malformed_catalogue_is_a_finding_not_a_crash(bundle: Path, tmp_path: Path, damage) -> None:
    def edit(m):
        idx = index_of(m)
        damage(idx)
        put_index(m, idx)
        resign(m)

    report = verify_bundle(rewrite(bundle, tmp_path / "m.zip", edit), use_bagit=False)
    assert not report.ok
    assert all(c.property in PROPERTIES and c.message for c in report.failures)


def test_duplicate_member_names(bundle: Path, tmp_path: Path) -> None:
    import warnings

    target = _item_path(bundle, "E1")
    with zipfile.ZipFile(bundle) as zf:
        root = zf.namelist()[0].split("/", 1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        out = rewrite(bundle, tmp_path / "dup.zip", lambda m: None, extra={f"{root}/{target}": b"second copy"})
    report = verify_bundle(out, use_bagit=False)
    assert any(c.name == "safe-path" and "同名成员" in c.message for c in report.failures)


def test_version_1_bundle_still_verifies(tmp_path: Path) -> None:
    """tests/fixtures/bundle-v1.zip was written by the format-1 writer (before format 2)."""
    v1 = FIXTURES / "bundle-v1.zip"
    report = verify_bundle(v1)
    assert report.ok, report.failures
    assert report.format_version == "1" and report.items == 3
    target = "data/C2-工作总结/0002-2021年度工作总结.txt"
    tampered = rewrite(v1, tmp_path / "v1.zip", lambda m: m.__setitem__(target, m[target] + b"x"))
    assert ("fixity-sm3", target) in _failures(verify_bundle(tampered))


def test_unreadable_inputs(tmp_path: Path) -> None:
    not_zip = tmp_path / "a.zip"
    not_zip.write_bytes(b"not a zip at all")
    with pytest.raises(BundleUnreadable, match="ZIP"):
        verify_bundle(not_zip)
    no_bag = tmp_path / "b.zip"
    with zipfile.ZipFile(no_bag, "w") as zf:
        zf.writestr("x/readme.txt", "hello")
    with pytest.raises(BundleUnreadable, match=r"bagit\.txt"):
        verify_bundle(no_bag)
    with pytest.raises(BundleUnreadable, match="找不到"):
        verify_bundle(tmp_path / "missing.zip")


def test_cli_exit_codes_json_and_report(bundle: Path, tmp_path: Path, capsys) -> None:
    assert main(["verify", str(bundle), "--fast"]) == 0
    out = capsys.readouterr().out
    assert "校验通过" in out and "真实性" in out

    assert main(["verify", str(bundle), "--json", "--fast"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["failures"] == [] and len(data["checks"]) > 100

    bad = rewrite(bundle, tmp_path / "bad.zip", lambda m: m.pop(_item_path(bundle, "D3")))
    assert main(["verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "校验未通过" in out and "✗ [完整性]" in out and "D3-债权债务" in out

    garbage = tmp_path / "g.zip"
    garbage.write_bytes(b"\x00" * 10)
    assert main(["verify", str(garbage), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["ok"] is False

    report_docx = tmp_path / "四性检测报告.docx"
    assert main(["verify", str(bad), "--fast", "--report", str(report_docx)]) == 1
    import docx

    doc = docx.Document(str(report_docx))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "档案包四性检测报告" in text and "未通过" in text and "清单中列出的文件在档案包中不存在" in text

    assert main(["verify", str(bundle), "--fast", "--report", str(tmp_path / "r.txt")]) == 2


def test_pdf_report(bundle: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    from pypdf import PdfReader

    monkeypatch.setenv("DOSSIER_PDF", "1")
    out = tmp_path / "四性检测报告.pdf"
    assert main(["verify", str(bundle), "--fast", "--report", str(out)]) == 0
    assert "检测报告已保存" in capsys.readouterr().out
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "档案包四性检测报告" in text and "通过" in text
    monkeypatch.setenv("DOSSIER_SOFFICE", "")
    assert main(["verify", str(bundle), "--fast", "--report", str(tmp_path / "x.pdf")]) == 2
    assert "可改用 .docx" in capsys.readouterr().err
