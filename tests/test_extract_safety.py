"""Safety of extraction on hostile input: zip bombs, lying zip headers, time limits,
symlinks out of the source. Each must end as an exception with a Chinese reason, quickly
and without exhausting memory, and never stop the run."""

from __future__ import annotations

import json
import resource
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from handover_dossier.extract import ExtractionError, Limits, extract_document
from handover_dossier.samplecorpus import docgen
from handover_dossier.transfer.workers import Job, extract_all, run_with_deadline

_MIB = 1 << 20


@pytest.fixture(autouse=True)
def _no_pdf_renditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here are about extraction and classification: skip the LibreOffice PDF copies
    of the catalogue (covered by the assemble tests), which cost seconds per run."""
    monkeypatch.setenv("DOSSIER_PDF", "0")


def _deflate_bomb(gib: int) -> tuple[bytes, int, int]:
    """A raw deflate stream that expands to ``gib`` GiB of XML-ish text; (data, crc, size).

    After a full flush the compressor starts afresh, so one flushed block of 1 MiB input
    is repeated instead of compressing gigabytes here.
    """
    chunk = b"<w:p><w:r><w:t>" + b"A" * (_MIB - 30) + b"</w:t></w:r></w:p>"
    chunk = chunk[:_MIB]
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    end = co.flush(zlib.Z_FINISH)
    n = gib * 1024
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    return block * n + end, crc, n * _MIB


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip written by hand: (name, stored bytes, crc, uncompressed size, method)."""
    out = bytearray()
    central = bytearray()
    for name, data, crc, size, method in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0x21, crc, len(data), size, len(raw), 0)
        out += raw + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, len(data), size,
                               len(raw), 0, 0, 0, 0, 0, offset)
        central += raw
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + eocd))
    return path


def _docx_parts() -> list[tuple[str, bytes, int, int, int]]:
    types = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             b'content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
             b'officedocument.wordprocessingml.document.main+xml"/></Types>')
    return [("[Content_Types].xml", types, zlib.crc32(types), len(types), 0)]


@pytest.fixture(scope="module")
def bomb_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, crc, size = _deflate_bomb(2)
    path = tmp_path_factory.mktemp("bomb") / "2023年工作总结.docx"
    _write_zip(path, [*_docx_parts(), ("word/document.xml", data, crc, size, 8)])
    assert path.stat().st_size < 4 * _MIB
    return path


def test_zip_bomb_docx_is_refused_before_decompression(bomb_docx: Path) -> None:
    with zipfile.ZipFile(bomb_docx) as zf:
        assert zf.getinfo("word/document.xml").file_size == 2 << 30  # a real 2 GiB member
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ExtractionError) as err:
        extract_document(bomb_docx, bomb_docx.name)
    assert err.value.kind == "bomb"
    assert "压缩炸弹" in err.value.reason
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024  # nothing close to the 2 GiB it would expand to


def test_member_that_lies_about_its_size_is_bounded(tmp_path: Path) -> None:
    # The central directory claims 4 KiB; the stream really holds 1 GiB. zipfile stops at
    # the declared size, so the reader sees a truncated part and rejects the file.
    data, crc, _ = _deflate_bomb(1)
    path = _write_zip(tmp_path / "liar.docx", [*_docx_parts(), ("word/document.xml", data, crc, 4096, 8)])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ExtractionError) as err:
        extract_document(path, path.name)
    assert err.value.kind == "corrupt"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_bomb_in_a_run_is_one_exception_among_items(bomb_docx: Path, tmp_path: Path) -> None:
    from handover_dossier.pipeline import assemble

    src = tmp_path / "src"
    src.mkdir()
    (src / bomb_docx.name).write_bytes(bomb_docx.read_bytes())
    docgen.write_docx(src / "2024年工作计划.docx", "榆川县交通运输局2024年工作计划", ["全年目标：新改建农村公路100公里。"])
    docgen.write_txt(src / "借款明细.txt", "借款明细", ["向县财政借款200万元，尚未归还。"], encoding="gbk")
    result = assemble(src, tmp_path / "out.zip", workers=2)
    index = result.index
    assert [e["source"] for e in index["exceptions"]] == [bomb_docx.name]
    assert "压缩炸弹" in index["exceptions"][0]["reason"]
    assert sorted(i["source"] for i in index["items"]) == ["2024年工作计划.docx", "借款明细.txt"]


def test_time_limit_per_document(tmp_path: Path) -> None:
    # LibreOffice cannot start and convert in 0.5 s: the document becomes a timeout
    # exception and the conversion process is gone.
    import subprocess

    src = docgen.write_docx(tmp_path / "a.docx", "工作制度", ["第一条 为规范机关运转，制定本制度。"])
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless", "--convert-to", "doc",
         "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=120,
    )
    doc = tmp_path / "a.doc"
    limits = Limits(timeout=0.5)
    t = time.monotonic()
    result = run_with_deadline(str(doc), "工作制度.doc", limits)
    assert isinstance(result, ExtractionError)
    assert result.kind == "timeout" and "超时" in result.reason
    assert time.monotonic() - t < 30
    # Through the worker pool as well.
    results = dict(extract_all([Job(0, str(doc), "工作制度.doc")], limits, workers=2))
    (only,) = results.values()
    assert isinstance(only, ExtractionError) and only.kind == "timeout"


def test_symlink_out_of_the_source_is_not_followed(tmp_path: Path) -> None:
    from handover_dossier.pipeline import assemble

    secret = tmp_path / "outside" / "工资明细.txt"
    secret.parent.mkdir()
    secret.write_text("绝密工资明细：某某 12000 元", encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    docgen.write_txt(src / "交接书.txt", "工作交接书", ["移交人：张三；接交人：李四；监交人：王五。"])
    (src / "链接.txt").symlink_to(secret)
    result = assemble(src, tmp_path / "out.zip", workers=1)
    index = result.index
    assert [i["source"] for i in index["items"]] == ["交接书.txt"]
    assert [e["source"] for e in index["exceptions"]] == ["链接.txt"]
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        for name in zf.namelist():
            assert b"12000" not in zf.read(name)
    assert json.dumps(index, ensure_ascii=False).count("工资明细") == 0
