"""Bounded parsing (docs/SECURITY.md, findings "verify can be exhausted", "in-process reads
have no memory cap", "image size"): hostile files generated here, caps set low.

Memory-exhaustion tests never use gigabytes: they lower the worker cap
(``DOSSIER_WORKER_MEMORY``) and show the cap stops the parse, the document becomes an
exception with a reason, and the run goes on.
"""

from __future__ import annotations

import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from handover_dossier.extract import Limits, extract_document
from handover_dossier.pipeline import assemble
from handover_dossier.runtime.sandbox import CappedWorker, Overrun, safe_environ
from handover_dossier.samplecorpus.docgen import write_docx, write_txt
from handover_dossier.verify.checks import verify_bundle
from handover_dossier.verify.content import check_members
from support.bundletools import index_of, read_members, replace_consistently, rewrite

#: Low enough that the hostile files below cannot be parsed within it, high enough for the
#: worker (its parsers and the classifier model) and ordinary documents.
CAP = "560M"


def pdf(objs: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def page_pdf(content: bytes) -> bytes:
    """One page whose content stream is ``content`` (FlateDecode-compressed already)."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>",
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])


def flate_bomb(inflated: int) -> bytes:
    """A content stream of ``inflated`` bytes of blanks: a few hundred KB on disk."""
    co = zlib.compressobj(1)
    chunk = b" " * (1 << 20)
    parts = [co.compress(chunk) for _ in range(inflated >> 20)]
    return page_pdf(b"".join(parts) + co.flush())


def many_operators(n: int) -> bytes:
    """``n`` text-showing operators on one page (30 KB for 3 million)."""
    return page_pdf(zlib.compress(b"BT /F1 12 Tf 72 700 Td\n" + b"(a) Tj\n" * n + b"ET\n", 9))


def png_header_bomb(width: int, height: int) -> bytes:
    """A real grey PNG of ``width`` × ``height`` blank pixels (a few hundred KB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    co = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    idat = b"".join(co.compress(row) for _ in range(height)) + co.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_small_runs_read_hostile_pdfs_in_a_capped_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a run of fewer than 16 documents read them in the CLI's own process with no
    memory cap (1.5 MB flate bomb -> 2.7 GB; 82 KB of 3M text operators -> 2.5 GB)."""
    monkeypatch.setenv("DOSSIER_WORKER_MEMORY", CAP)
    src = tmp_path / "src"
    src.mkdir()
    write_docx(src / "2023年度工作总结.docx", "2023年度工作总结", ["一年来，圆满完成了各项目标任务。"])
    write_txt(src / "固定资产清单.txt", "固定资产清单", ["资产编号\t名称\t原值", "GZ001\t办公电脑\t6000"])
    (src / "扫描件-流炸弹.pdf").write_bytes(flate_bomb(700 << 20))
    (src / "扫描件-三百万操作符.pdf").write_bytes(many_operators(3_000_000))
    assert max(p.stat().st_size for p in src.glob("*.pdf")) < 4 << 20
    result = assemble(src, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").is_file()
    reasons = {e["source"]: e["reason"] for e in result.index["exceptions"]}
    assert set(reasons) == {"扫描件-流炸弹.pdf", "扫描件-三百万操作符.pdf"}
    for reason in reasons.values():
        assert "崩溃" in reason or "内存" in reason or "超时" in reason, reason
    assert sorted(it["source"] for it in result.index["items"]) == ["2023年度工作总结.docx", "固定资产清单.txt"]
    assert result.extract["workers"] >= 1  # read in worker processes, not in this one


def test_image_size_is_checked_before_decoding(tmp_path: Path) -> None:
    """Before: a 17000² PNG was decoded (3.1 GB) before being downscaled for OCR."""
    img = tmp_path / "扫描照片.png"
    img.write_bytes(png_header_bomb(17000, 17000))
    assert img.stat().st_size < 1 << 20
    from handover_dossier.extract.ocr import ocr_setup

    try:
        ocr_setup()
    except Exception as exc:  # without Tesseract the image is never decoded at all
        pytest.skip(f"OCR not installed: {exc}")
    ex = extract_document(img, img.name, Limits())
    assert ex.needs_review and any("尺寸过大" in n and "17000×17000" in n for n in ex.notes), ex.notes
    # verify's usability check reads the header and stops there too
    (checked,) = [c for _p, _n, c in check_members([(img, "data/F1-其他/0001-扫描照片.png")])]
    assert not checked.inspection.usable and "尺寸过大" in checked.inspection.usable_note


def empty_paragraphs_docx(n: int) -> bytes:
    """A DOCX of ``n`` empty paragraphs (python-docx needed 8.5 GB and 251 s for 2.1 MB)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{w}"><w:body>'.encode()
            + b"<w:p/>" * n + b"</w:body></w:document>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
             'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
             'main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", body)
    return buf.getvalue()


def test_verify_streams_a_docx_of_a_million_empty_paragraphs(good_bundle: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_WORKER_MEMORY", CAP)
    hostile = empty_paragraphs_docx(1_600_000)  # 9.6 MB of XML: under the zip-bomb floor
    assert len(hostile) < 200_000
    _root, members = read_members(good_bundle)
    target = next(it["path"] for it in index_of(members)["items"] if it["path"].endswith(".docx"))
    bad = rewrite(good_bundle, tmp_path / "hostile.zip", lambda m: replace_consistently(m, target, hostile))
    report = verify_bundle(bad, use_bagit=False)
    (check,) = [c for c in report.checks if c.name == "readable" and c.item == target]
    assert check.ok and "1600000 段" in check.message, check.message


def hog(n: int) -> int:
    return len(bytearray(n))


def environment() -> dict[str, str]:
    return dict(os.environ)


def test_capped_worker_stops_memory_time_and_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_WORKER_MEMORY", CAP)
    with CappedWorker(timeout=2.0) as worker:
        assert worker.call(hog, 10 << 20) == 10 << 20
        with pytest.raises(Overrun) as exc:
            worker.call(hog, 2 << 30)  # beyond the cap: the allocation fails in the worker
        assert exc.value.kind == "memory" and "内存" in exc.value.reason
        t = time.monotonic()
        with pytest.raises(Overrun) as exc:
            worker.call(time.sleep, 60)
        assert exc.value.kind == "timeout" and time.monotonic() - t < 30
        with pytest.raises(Overrun) as exc:
            worker.call(os.abort)
        assert exc.value.kind == "crash"
        assert worker.call(hog, 1 << 20) == 1 << 20  # a fresh worker for the next call


def test_workers_and_tools_get_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"APP_SECRET": "s3cr3t", "DOSSIER_PASSWORD": "pw", "DOSSIER_QUEUE_SECRET": "q",
                 "SOME_API_TOKEN": "t", "DOSSIER_LOGIN_PASSWORD": "l", "DOSSIER_CACHE": "/tmp/c"}.items():
        monkeypatch.setenv(k, v)
    env = safe_environ(HOME="/tmp/h")
    assert env["DOSSIER_CACHE"] == "/tmp/c" and env["HOME"] == "/tmp/h"
    assert not {"APP_SECRET", "DOSSIER_PASSWORD", "DOSSIER_QUEUE_SECRET", "SOME_API_TOKEN",
                "DOSSIER_LOGIN_PASSWORD"} & set(env)
    with CappedWorker(timeout=30) as worker:
        seen = worker.call(environment)
    assert "APP_SECRET" not in seen and "DOSSIER_PASSWORD" not in seen and seen.get("DOSSIER_CACHE") == "/tmp/c"
