"""Opening zip-based documents (DOCX, XLSX, OFD) without trusting their sizes.

A zip bomb is a small file whose members expand to gigabytes. Two guards keep a reader
safe: the central directory is checked before anything is decompressed (total declared
size and per-member compression ratio), and :mod:`zipfile` never yields more bytes
than a member declares (a member that lies about its size fails its CRC instead). What
remains is bounded by :class:`~.base.Limits`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .base import ExtractionError, Limits

#: Members smaller than this are never called bombs, whatever their ratio (a page of
#: repeated table cells compresses well).
_RATIO_FLOOR = 10 << 20


def check_archive(path: Path, limits: Limits) -> list[zipfile.ZipInfo]:
    """The archive's members, after checking declared sizes against the limits.

    Raises ``ExtractionError(kind="corrupt")`` when the file is not a readable zip and
    ``kind="bomb"`` when it would expand beyond the limits.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionError(f"文件已损坏，无法作为 Office/OFD 压缩包打开（{exc}）", kind="corrupt") from exc
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
            raise ExtractionError(
                f"疑似压缩炸弹：成员 {info.filename} 解压后 {info.file_size >> 20} MB，"
                f"压缩比超过 {limits.max_ratio}:1，未解压",
                kind="bomb",
            )
    if total > limits.max_unzipped:
        raise ExtractionError(
            f"疑似压缩炸弹：解压后总大小 {total >> 20} MB 超过上限 {limits.max_unzipped >> 20} MB，未解压",
            kind="bomb",
        )
    return infos


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The bytes of member ``name``, refusing members larger than ``limit`` bytes.

    Missing members raise ``KeyError``; a member that is corrupt (bad CRC, truncated)
    raises ``ExtractionError(kind="corrupt")``.
    """
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ExtractionError(
            f"文档内部成员 {name} 过大（{info.file_size >> 20} MB，上限 {limit >> 20} MB），未解压", kind="bomb"
        )
    try:
        with zf.open(info) as f:
            return f.read(limit + 1)[:limit]
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise ExtractionError(f"文档内部成员 {name} 已损坏（{exc}）", kind="corrupt") from exc


def member_name(zf: zipfile.ZipFile, name: str) -> str | None:
    """The stored spelling of ``name`` (case-insensitive, ``/`` or ``\\`` separators), or None.

    OFD producers disagree about case (``Doc_0`` / ``doc_0``) and some write backslashes.
    """
    want = name.replace("\\", "/").lstrip("/").lower()
    for info in zf.infolist():
        if info.filename.replace("\\", "/").lstrip("/").lower() == want:
            return info.filename
    return None
