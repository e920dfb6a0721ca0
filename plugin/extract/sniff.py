"""Recognise a document's real format from its bytes, not its name.

File names lie (a PDF saved as ``.docx``); the extension is only a tie-breaker. Also
screens out files that are not documents at all (Office lock files, OS metadata).
"""

from __future__ import annotations

from pathlib import Path

from .base import Limits
from .safezip import check_archive

_NOT_DOCUMENTS = {
    ".ds_store": "macOS 文件夹元数据（.DS_Store），不是文档",
    "thumbs.db": "Windows 缩略图缓存（Thumbs.db），不是文档",
    "desktop.ini": "Windows 文件夹配置（desktop.ini），不是文档",
}

TEXT_EXTENSIONS = {".txt", ".csv", ".md", ".text", ".log", ".tsv"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
EXECUTABLE_EXTENSIONS = {".exe", ".dll", ".bat", ".cmd", ".com", ".scr", ".msi", ".vbs", ".js", ".jar", ".ps1", ".sh"}


def screen_name(name: str) -> str | None:
    """Reason why a file name is not a document, or None."""
    low = name.lower()
    if name.startswith("~$"):
        return "Office 临时锁定文件（~$ 开头，文档打开时自动生成），不是文档"
    if low.startswith(".~lock.") and low.endswith("#"):
        return "LibreOffice 临时锁定文件，不是文档"
    if name.startswith("._"):
        return "macOS 资源分支文件（._ 开头），不是文档"
    return _NOT_DOCUMENTS.get(low)


def _zip_kind(path: Path, limits: Limits) -> str:
    infos = check_archive(path, limits)
    names = {i.filename.replace("\\", "/").lstrip("/") for i in infos}
    lower = {n.lower() for n in names}
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "ofd.xml" in lower:
        return "ofd"
    if "mimetype" in names:
        return "odf"
    return "zip"


def sniff(path: Path, name: str, limits: Limits) -> str:
    """Return the format key (``pdf``, ``docx``, ``xlsx``, ``ofd``, ``ole``, ``text``, ``image``...)."""
    ext = Path(name).suffix.lower()
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path, limits)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe")) or ext in EXECUTABLE_EXTENSIONS:
        return "executable"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if ext in TEXT_EXTENSIONS or _looks_textual(head):
        return "text"
    if ext == ".pdf":
        return "pdf"  # let the PDF reader give the precise "corrupt" reason
    return "unknown"


def _looks_textual(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return ctrl / len(head) < 0.01


FORMAT_EXTENSIONS = {
    "pdf": {".pdf"},
    "docx": {".docx", ".docm", ".dotx", ".wps"},
    "xlsx": {".xlsx", ".xlsm", ".et"},
    "ofd": {".ofd"},
    "ole": {".doc", ".xls", ".wps", ".et", ".ppt", ".dps"},
    "text": TEXT_EXTENSIONS,
    "image": IMAGE_EXTENSIONS,
    "pptx": {".pptx"},
    "odf": {".odt", ".ods", ".odp"},
    "rtf": {".rtf"},
}

FORMAT_NAMES = {
    "pdf": "PDF",
    "docx": "Word（DOCX）",
    "xlsx": "Excel（XLSX）",
    "ofd": "OFD",
    "ole": "旧版 Office（DOC/XLS/WPS）",
    "text": "文本",
    "image": "图片",
    "pptx": "PowerPoint（PPTX）",
    "odf": "OpenDocument",
    "rtf": "RTF",
    "zip": "ZIP 压缩包",
    "executable": "可执行程序",
    "unknown": "未知格式",
}


def extension_mismatch(kind: str, name: str) -> str | None:
    """A note when the extension contradicts the content, else None."""
    ext = Path(name).suffix.lower()
    expected = FORMAT_EXTENSIONS.get(kind)
    if expected is None or ext in expected:
        return None
    shown = ext or "（无扩展名）"
    return f"扩展名 {shown} 与内容不符，实为{FORMAT_NAMES.get(kind, kind)}，已按实际格式读取"
