"""DOCX -> PDF/A-2b with LibreOffice headless, reproducibly.

Each rendered document of a bundle is also filed as PDF: the fixed-layout copy the parties
sign and archives keep (DA/T 47; PDF/A = GB/T 23286). LibreOffice does the conversion in an
isolated, throwaway profile (``-env:UserInstallation``) so that parallel runs never share
state, under a time limit after which its whole process group is killed.

Fonts: templates name the fonts Chinese offices have (宋体, 黑体, 仿宋, Times New Roman).
Where they are missing (Linux servers) a private fontconfig file maps them to Noto CJK
(SC, or TC for Traditional output), instead of whatever fallback happens to be found.

Reproducibility: LibreOffice stamps the conversion time into the Info dictionary, the XMP
packet and the sRGB output-intent ICC profile, and derives the trailer /ID from it. These
are rewritten to the bundle's ``created`` time (``SOURCE_DATE_EPOCH``) and a content hash,
in place, leaving every other byte as LibreOffice wrote it (so its PDF/A structure stays
intact); only the xref offsets after the recompressed ICC stream move.

No LibreOffice: :class:`PdfUnavailable` is raised and the caller records that the PDF
renditions are missing (see ``assemble.py``) - a second, hand-made layout would silently
differ from the Word document that archivists edit and sign.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO

from ..runtime.sandbox import safe_environ
from ..runtime.tools import soffice_path

#: PDF/A-2b: the archival profile of GB/T 23286.2 / ISO 19005-2 that LibreOffice writes.
PDF_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
PDF_PROFILE = "PDF/A-2b"
DEFAULT_TIMEOUT = 180.0

_SERIF = ("宋体", "SimSun", "新宋体", "NSimSun", "仿宋", "FangSong", "仿宋_GB2312", "楷体", "KaiTi", "楷体_GB2312",
          "方正小标宋简体", "Times New Roman", "Songti SC", "STSong")
_SANS = ("黑体", "SimHei", "微软雅黑", "Microsoft YaHei", "Arial", "Calibri", "等线", "DengXian", "STHeiti")


class PdfUnavailable(RuntimeError):
    """No PDF could be made here (message in Chinese: why, and what to install)."""


def pdf_disabled_reason() -> str:
    """Why PDFs will not be made here ('' when they will)."""
    if os.environ.get("DOSSIER_PDF", "1").strip().lower() in ("0", "false", "no", "off"):
        return "已按设置（DOSSIER_PDF=0）不生成 PDF 版本"
    if soffice_path() is None:
        return "本机未安装 LibreOffice，未生成 PDF 版本（安装 libreoffice-writer 后重新生成即可得到 PDF）"
    return ""


@lru_cache(maxsize=4)
def tool_version(binary: str | None = None) -> str:
    """``LibreOffice 7.4.7.2`` - recorded with the renditions."""
    binary = binary or soffice_path()
    if not binary:
        return ""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "LibreOffice"
    m = re.search(r"LibreOffice\s+([\d.]+)", out)
    return f"LibreOffice {m.group(1)}" if m else "LibreOffice"


def _fonts_conf(lang: str) -> str:
    variant = "TC" if lang == "zh-Hant" else "SC"
    rules = []
    for families, target in ((_SERIF, f"Noto Serif CJK {variant}"), (_SANS, f"Noto Sans CJK {variant}")):
        for fam in families:
            rules.append(
                f'  <match target="pattern"><test qual="any" name="family"><string>{fam}</string></test>'
                f'<edit name="family" mode="prepend" binding="strong"><string>{target}</string></edit></match>'
            )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' + "\n".join(rules) + "\n</fontconfig>\n"
    )


def max_rows() -> int:
    """Longest list (catalogue rows) still converted to PDF: LibreOffice lays out about
    30-100 table rows a second here, so a 20,000-item catalogue would take many minutes.
    ``DOSSIER_PDF_MAX_ROWS`` changes the limit (0: no limit)."""
    try:
        return max(0, int(os.environ.get("DOSSIER_PDF_MAX_ROWS", "500")))
    except ValueError:
        return 500


def convert_to_pdf(docx_files: list[Path], outdir: Path, *, when: datetime, lang: str = "zh-Hans",
                   timeout: float = DEFAULT_TIMEOUT, processes: int | None = None,
                   on_converted: Callable[[], None] | None = None) -> dict[Path, Path]:
    """Convert ``docx_files`` into ``outdir``; returns docx -> pdf. Every PDF is normalised
    to ``when`` (see module docstring).

    Up to ``processes`` LibreOffice instances (default: 2, or 1 on a single core) share the
    files, largest first; ``timeout`` applies to each instance. ``on_converted`` is called
    once per document as LibreOffice finishes it (from the instances' reader threads), so a
    progress bar moves during the conversion, the longest part of writing a bundle."""
    reason = pdf_disabled_reason()
    if reason:
        raise PdfUnavailable(reason)
    outdir.mkdir(parents=True, exist_ok=True)
    n = processes or min(2, os.cpu_count() or 1)
    groups: list[list[Path]] = [[] for _ in range(max(1, min(n, len(docx_files))))]
    loads = [0] * len(groups)
    for f in sorted(docx_files, key=lambda p: (-p.stat().st_size, p.name)):
        i = loads.index(min(loads))
        groups[i].append(f)
        loads[i] += f.stat().st_size + 20_000  # each file also costs a fixed amount
    if len(groups) == 1:
        return _convert_group(groups[0], outdir, when, lang, timeout, on_converted)
    from concurrent.futures import ThreadPoolExecutor

    out: dict[Path, Path] = {}
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        for part in pool.map(lambda g: _convert_group(g, outdir, when, lang, timeout, on_converted), groups):
            out.update(part)
    return out


def _convert_group(docx_files: list[Path], outdir: Path, when: datetime, lang: str, timeout: float,
                   on_converted: Callable[[], None] | None = None) -> dict[Path, Path]:
    binary = soffice_path()
    if binary is None:
        raise PdfUnavailable(pdf_disabled_reason())
    profile = Path(tempfile.mkdtemp(prefix="dossier-lo-"))
    try:
        conf = profile / "fonts.conf"
        conf.write_text(_fonts_conf(lang), encoding="utf-8")
        # no secrets (app secret, passwords) for an external tool
        env = {k: v for k, v in safe_environ().items() if not k.startswith(("SAL_", "UNO_"))}
        env.update({"HOME": str(profile), "FONTCONFIG_FILE": str(conf), "LC_ALL": "C.UTF-8", "TZ": "UTC"})
        # LibreOffice runs in its profile folder: every path it gets must be absolute
        cmd = [binary, f"-env:UserInstallation={profile.joinpath('user').as_uri()}", "--headless", "--norestore",
               "--nologo", "--nodefault", "--nolockcheck", "--convert-to", PDF_FILTER, "--outdir",
               str(outdir.resolve()), *[str(p.resolve()) for p in docx_files]]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=profile,
                                start_new_session=True)
        # LibreOffice prints "convert A -> B ..." as it *starts* each file: every such line
        # after the first means the previous file is done, and the exit means the last one is.
        started = 0

        def watch(stdout: IO[bytes]) -> None:
            nonlocal started
            for line in stdout:
                if line.startswith(b"convert "):
                    started += 1
                    if started > 1 and on_converted is not None:
                        on_converted()

        err_chunks: list[bytes] = []
        readers = [threading.Thread(target=watch, args=(proc.stdout,), daemon=True),
                   threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)]  # type: ignore[union-attr]
        for r in readers:
            r.start()
        try:
            proc.wait(timeout=timeout)
            for r in readers:
                r.join()
            err = b"".join(err_chunks)
        except subprocess.TimeoutExpired:
            _kill_group(proc)  # the wrapper and soffice.bin: the session started above
            raise PdfUnavailable(f"LibreOffice 转换 PDF 超时（{timeout:.0f} 秒）") from None
        except BaseException:
            _kill_group(proc)
            raise
        out: dict[Path, Path] = {}
        for src in docx_files:
            pdf = outdir / (src.stem + ".pdf")
            if not pdf.is_file() or pdf.stat().st_size == 0 or pdf.read_bytes()[:5] != b"%PDF-":
                tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
                raise PdfUnavailable(f"LibreOffice 未能把 {src.name} 转换为 PDF" + (f"：{tail[0]}" if tail else ""))
            normalize_pdf(pdf, when)
            out[src] = pdf
        if started and on_converted is not None:
            on_converted()  # the last one
        return out
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# -- normalisation -----------------------------------------------------------------
_INFO_DATE = re.compile(rb"/(?:CreationDate|ModDate)\s*\(D:(\d{14})")
_XMP_DATE = re.compile(rb"<xmp:(?:CreateDate|ModifyDate|MetadataDate)>(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})")
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_DOC_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]{32})")
_XREF = re.compile(rb"\nxref\r?\n(\d+) (\d+)\r?\n")
_STARTXREF = re.compile(rb"startxref\r?\n(\d+)\r?\n%%EOF\s*$")


def normalize_pdf(path: str | Path, when: datetime) -> None:
    """Make a LibreOffice PDF depend only on its content and ``when``."""
    path = Path(path)
    data = path.read_bytes()
    try:
        new = _normalize_in_place(data, when)
    except ValueError:
        new = _normalize_rewrite(data, when)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(new)
    os.replace(tmp, path)


def _normalize_in_place(data: bytes, when: datetime) -> bytes:
    """Rewrite dates, ICC date and /ID keeping LibreOffice's layout; ValueError when the
    file is not laid out as expected (one classic xref table, one revision)."""
    if data.count(b"%%EOF") != 1 or len(_XREF.findall(data)) != 1:
        raise ValueError("not a single-revision PDF with a classic xref table")
    w = when.astimezone(UTC)
    edits: list[tuple[int, int, bytes]] = []
    for m in _INFO_DATE.finditer(data):
        edits.append((m.start(1), m.end(1), w.strftime("%Y%m%d%H%M%S").encode()))
    for m in _XMP_DATE.finditer(data):
        edits.append((m.start(1), m.end(1), w.strftime("%Y-%m-%dT%H:%M:%S").encode()))
    edits.extend(_icc_edits(data, w))
    edits.sort()
    for (_, e1, _), (s2, _, _) in itertools.pairwise(edits):
        if s2 < e1:
            raise ValueError("overlapping edits")
    out = bytearray()
    pos = 0
    shifts: list[tuple[int, int]] = []  # (old position after which, cumulative delta)
    delta = 0
    for start, end, repl in edits:
        out += data[pos:start]
        out += repl
        pos = end
        delta += len(repl) - (end - start)
        shifts.append((end, delta))
    out += data[pos:]

    def moved(offset: int) -> int:
        d = 0
        for end, cum in shifts:
            if offset >= end:
                d = cum
        return offset + d

    if delta:
        out = bytearray(_fix_xref(bytes(out), moved))
    # /ID and LibreOffice's /DocChecksum: a hash of everything else.
    m = _ID.search(out)
    if m is None:
        raise ValueError("no /ID")
    blank = bytes(out)
    for g in (1, 2):
        blank = blank[: m.start(g)] + b"0" * (m.end(g) - m.start(g)) + blank[m.end(g):]
    c = _DOC_CHECKSUM.search(blank)
    if c:
        blank = blank[: c.start(1)] + b"0" * 32 + blank[c.end(1):]
    digest = hashlib.md5(blank, usedforsecurity=False).hexdigest().upper().encode()
    for g in (1, 2):
        n = m.end(g) - m.start(g)
        out[m.start(g) : m.end(g)] = (digest * 2)[:n]
    c = _DOC_CHECKSUM.search(out)
    if c:
        out[c.start(1) : c.end(1)] = digest
    return bytes(out)


def _icc_edits(data: bytes, w: datetime) -> list[tuple[int, int, bytes]]:
    """Edits that set the creation date inside the output intent's ICC profile."""
    edits = []
    for ref in set(re.findall(rb"/DestOutputProfile\s+(\d+)\s+0\s+R", data)):
        obj = re.search(rb"(?:^|\n)" + ref + rb" 0 obj\s*<<(.*?)>>\s*stream\r?\n", data, re.S)
        if obj is None:
            raise ValueError("ICC object not found")
        head = obj.group(1)
        if b"/FlateDecode" not in head:
            raise ValueError("ICC stream not Flate")
        start = obj.end()
        length_ref = re.search(rb"/Length\s+(\d+)\s+0\s+R", head)
        if length_ref:
            lobj = re.search(rb"(?:^|\n)" + length_ref.group(1) + rb" 0 obj\s*(\d+)\s*endobj", data)
            if lobj is None:
                raise ValueError("ICC length object not found")
            length = int(lobj.group(1))
        else:
            direct = re.search(rb"/Length\s+(\d+)", head)
            if direct is None:
                raise ValueError("ICC length missing")
            length, lobj = int(direct.group(1)), None
        raw = data[start : start + length]
        icc = bytearray(zlib.decompress(raw))
        if len(icc) < 128 or icc[36:40] != b"acsp":
            raise ValueError("not an ICC profile")
        icc[24:36] = b"".join(v.to_bytes(2, "big") for v in (w.year, w.month, w.day, w.hour, w.minute, w.second))
        if any(icc[84:100]):  # profile ID = MD5 over the header with flags, intent and ID zeroed
            tmp = bytearray(icc)
            tmp[44:48] = b"\0\0\0\0"
            tmp[64:68] = b"\0\0\0\0"
            tmp[84:100] = b"\0" * 16
            icc[84:100] = hashlib.md5(tmp, usedforsecurity=False).digest()
        packed = zlib.compress(bytes(icc), 6)
        edits.append((start, start + length, packed))
        if lobj is not None:
            edits.append((lobj.start(1), lobj.end(1), str(len(packed)).encode()))
        elif length_ref is None:
            d = re.search(rb"/Length\s+(\d+)", head)
            assert d is not None
            base = obj.start(1)
            edits.append((base + d.start(1), base + d.end(1), str(len(packed)).encode()))
    return edits


def _fix_xref(data: bytes, moved) -> bytes:
    m = _XREF.search(data)
    s = _STARTXREF.search(data)
    if m is None or s is None:
        raise ValueError("xref not found")
    count = int(m.group(2))
    entries_start = m.end()
    lines = data[entries_start : entries_start + 20 * count]
    fixed = bytearray()
    for i in range(count):
        e = lines[20 * i : 20 * (i + 1)]
        if len(e) != 20 or e[17:18] not in (b"n", b"f"):
            raise ValueError("unexpected xref entry")
        if e[17:18] == b"n":
            e = b"%010d" % moved(int(e[:10])) + e[10:]
        fixed += e
    out = data[:entries_start] + bytes(fixed) + data[entries_start + 20 * count :]
    s = _STARTXREF.search(out)
    assert s is not None
    return out[: s.start(1)] + str(moved(int(s.group(1)))).encode() + out[s.end(1) :]


def _normalize_rewrite(data: bytes, when: datetime) -> bytes:
    """Fallback for PDFs not laid out like LibreOffice's: rewrite with pypdf, fixed dates
    and an /ID derived from the content."""
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ByteStringObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    stamp = "D:" + when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "Z"
    meta = {k: v for k, v in (reader.metadata or {}).items()}
    meta.update({"/CreationDate": stamp, "/ModDate": stamp})
    writer.add_metadata(meta)
    writer._ID = [ByteStringObject(b"\0" * 16)] * 2  # pypdf has no public setter for /ID
    buf = io.BytesIO()
    writer.write(buf)
    digest = hashlib.md5(buf.getvalue(), usedforsecurity=False).digest()
    writer._ID = [ByteStringObject(digest)] * 2
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
