"""Legacy office formats (.doc, .xls, .wps, .et, .rtf, OpenDocument) via LibreOffice.

Offices still hold years of Word 97 and WPS files. LibreOffice (headless) converts each to
DOCX or XLSX, which the regular readers then read. Every conversion runs in its own
temporary profile (``-env:UserInstallation``) so parallel workers never share or lock a
profile, with a time limit after which the whole process group is killed.

Without LibreOffice the document becomes an exception that names the tool to install.
``DOSSIER_SOFFICE`` names the binary explicitly (an empty value or a missing path
switches conversion off).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..runtime.sandbox import safe_environ
from ..runtime.tools import soffice_path
from .base import Extracted, ExtractionError, Limits

#: OLE stream names (UTF-16LE in the compound file's directory) -> what the file is.
_OLE_MARKERS = (
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le"), "xls"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
)
_BY_EXTENSION = {".doc": "doc", ".dot": "doc", ".wps": "doc", ".xls": "xls", ".xlt": "xls", ".et": "xls",
                 ".ppt": "ppt", ".dps": "ppt", ".rtf": "doc", ".odt": "doc", ".ods": "xls", ".odp": "ppt"}
_TARGET = {"doc": "docx", "xls": "xlsx"}
_NAMES = {"doc": "旧版 Word/WPS 文字", "xls": "旧版 Excel/WPS 表格", "ppt": "演示文稿"}


def legacy_kind(path: Path, name: str) -> str:
    """``doc``, ``xls`` or ``ppt``: from the compound file's stream names, else the extension."""
    with open(path, "rb") as f:
        data = f.read(8 << 20)  # the directory sits near the start or the end of small files
        if len(data) == 8 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            data += f.read()
    for marker, kind in _OLE_MARKERS:
        if marker in data:
            return kind
    return _BY_EXTENSION.get(Path(name).suffix.lower(), "doc")


def convert(path: Path, target: str, workdir: Path, limits: Limits, suffix: str) -> Path:
    """Convert ``path`` to ``target`` (``docx``/``xlsx``) in ``workdir``; returns the new file."""
    binary = soffice_path()
    if not binary:
        raise ExtractionError(
            "旧版 Office/WPS 格式需要 LibreOffice 才能读取：请安装 LibreOffice（Debian：libreoffice-writer-nogui、"
            "libreoffice-calc-nogui）后重新生成",
            kind="needs-tool",
        )
    src = workdir / f"input{suffix}"
    try:
        os.symlink(path.resolve(), src)
    except OSError:
        shutil.copyfile(path, src)
    profile = workdir / "profile"
    outdir = workdir / "out"
    cmd = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
           "--nologo", "--nodefault", "--nolockcheck", "--convert-to", target, "--outdir", str(outdir), str(src)]
    env = safe_environ(HOME=str(workdir), SAL_USE_VCLPLUGIN="svp")  # no secrets for an external tool
    timeout = min(limits.tool_timeout, limits.timeout * 0.8)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=env, cwd=workdir, start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(f"LibreOffice 转换超时（超过 {timeout:.0f} 秒），可能是异常或加密文件", kind="timeout") from exc
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    result = outdir / f"input.{target}"
    if not result.is_file() or result.stat().st_size == 0:
        raise ExtractionError("LibreOffice 无法转换此文件（可能已损坏或已加密）", kind="corrupt")
    return result


def read_legacy(path: Path, limits: Limits, name: str = "") -> Extracted:
    """Read a legacy or OpenDocument file by converting it with LibreOffice."""
    kind = legacy_kind(path, name or path.name)
    target = _TARGET.get(kind)
    if target is None:
        raise ExtractionError(f"{_NAMES.get(kind, kind)}（{Path(name).suffix or kind}）暂不支持读取，请另存为 PDF 后提交",
                              kind="unsupported")
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in _BY_EXTENSION else f".{kind}"
    with tempfile.TemporaryDirectory(prefix="dossier-lo-") as tmp:
        converted = convert(path, target, Path(tmp), limits, suffix)
        if target == "docx":
            from .docx import read_docx

            out = read_docx(converted, limits)
        else:
            from .xlsx import read_xlsx

            out = read_xlsx(converted, limits)
    out.format = suffix.lstrip(".")
    out.notes.append(f"{_NAMES[kind]}格式，已用 LibreOffice 转换后读取")
    return out
