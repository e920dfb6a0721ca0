"""Deterministic zip writing: fixed timestamps and permissions, stable order.

Reproducible builds: the same inputs must give byte-identical archives, so nothing that
varies between runs (clock, umask, directory order) may reach the zip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

# Formats that are already compressed: storing them again costs time and gains nothing.
STORED_SUFFIXES = {".zip", ".docx", ".xlsx", ".pptx", ".ofd", ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp",
                   ".odt", ".ods", ".docm", ".xlsm", ".mp4", ".mp3", ".7z", ".gz", ".bz2", ".xz"}


def zip_datetime(when: datetime) -> tuple[int, int, int, int, int, int]:
    """A zip timestamp (local fields, 2-second resolution, 1980 at the earliest)."""
    w = when.astimezone(UTC) if when.tzinfo else when
    w = max(w.replace(tzinfo=None), datetime(1980, 1, 1))
    return (w.year, w.month, w.day, w.hour, w.minute, w.second - w.second % 2)


#: General-purpose flag bit 11: the member name is UTF-8 (APPNOTE 4.4.4).
UTF8_FLAG = 0x800


def member_info(arcname: str, when: datetime, *, compress: bool, utf8: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=zip_datetime(when))
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = (0o100644 & 0xFFFF) << 16
    info.create_system = 3  # Unix, so the permission bits above are honoured
    if utf8:
        # Python sets the flag only for non-ASCII names; setting it on every member tells
        # every unzip tool the same thing about every name.
        info.flag_bits |= UTF8_FLAG
    return info


def should_compress(name: str, size: int) -> bool:
    return size > 0 and os.path.splitext(name)[1].lower() not in STORED_SUFFIXES


def normalized_info(info: zipfile.ZipInfo, when: datetime) -> zipfile.ZipInfo:
    """The fixed-timestamp, deflate-level-6 entry an Office member is rewritten as."""
    new = member_info(info.filename, when, compress=info.compress_type != zipfile.ZIP_STORED, utf8=False)
    new._compresslevel = 6  # honoured by ZipFile.open(..., "w") as by writestr
    return new


def normalize_zip(path: str | Path, when: datetime) -> None:
    """Rewrite an Office/ZIP file in place with fixed timestamps (member order kept:
    Office readers expect ``[Content_Types].xml`` first)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():  # streamed: a member may be large (a long catalogue)
                with src.open(info) as r, dst.open(normalized_info(info, when), "w") as w:
                    shutil.copyfileobj(r, w, 1 << 20)
        shutil.move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
