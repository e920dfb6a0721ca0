"""The bundled sample corpus: a departing county bureau director's documents.

``dossier demo`` runs the whole pipeline on this corpus without network access. The
content lives in ``documents.toml`` beside this file (data, not code); :func:`generate`
renders it with :mod:`handover_dossier.samplecorpus.docgen` into a folder of DOCX, PDF, XLSX and TXT
files, byte-for-byte the same on every run, with fixed modification times.

The case is invented: 陈立华, 局长 of the fictional 云溪县交通运输局, term 2019-04-15 to
2024-06-30, handing over to 周明远. The corpus covers every inventory code except D2
(账外收支) and P1 (离任审计), has no 2022 work summary, and includes problem files (an
empty file, a truncated PDF, a Word owner/lock file, a password-protected PDF), an exact
duplicate and a PDF saved under a ``.docx`` name.

Public names: :data:`LEADER`, :data:`EXPECTED`, :data:`DOCUMENTS`, :data:`EXCEPTION`,
:func:`generate`.
"""

from __future__ import annotations

import io
import os
import tomllib
import unicodedata
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import docgen

__all__ = ["DOCUMENTS", "EXCEPTION", "EXPECTED", "LEADER", "generate"]

#: Code given in :data:`EXPECTED` to files the pipeline must report as exceptions.
EXCEPTION = "!exception"

_SPEC: dict[str, Any] = tomllib.loads(
    resources.files(__name__).joinpath("documents.toml").read_text(encoding="utf-8")
)


def _nfc(path: str) -> str:
    return unicodedata.normalize("NFC", path)


#: The departing leader: leader, post, unit, term_start, term_end, incoming, fonds.
LEADER: dict[str, str] = dict(_SPEC["leader"])

#: Every document's specification as read from ``documents.toml`` (read-only views).
DOCUMENTS: tuple[MappingProxyType, ...] = tuple(MappingProxyType(d) for d in _SPEC["doc"])

#: Relative path ('/'-separated, NFC) -> expected inventory code, or ``"!exception"``.
EXPECTED: dict[str, str] = {_nfc(d["path"]): d["code"] for d in DOCUMENTS}


def _when(d: date) -> datetime:
    """Document timestamp: 09:30 China time on the document date (naive = UTC+8)."""
    return datetime.combine(d, time(9, 30))


def _epoch(d: date) -> float:
    return _when(d).replace(tzinfo=docgen.CST).timestamp()


def _date_text(doc: dict) -> str | None:
    if doc.get("no_date_text"):
        return None
    return docgen.chinese_date(doc["date"], numerals=doc.get("cn_date", False))


def _owner_file(user: str) -> bytes:
    """The 162-byte owner file (``~$name.docx``) Word leaves beside an open document.

    Layout (as Word 2016 writes it): byte 0 = length of the user name; the name in the
    ANSI code page, zero-padded to offset 54; a 2-byte little-endian length; the name in
    UTF-16LE; zero padding to 162 bytes.
    """
    name = user[:52]
    data = bytes([len(name)]) + name.encode("gbk", "replace").ljust(53, b"\0")[:53]
    data += len(name).to_bytes(2, "little") + name.encode("utf-16-le")
    return data.ljust(162, b"\0")


def _encrypt_pdf(path: Path, password: str) -> None:
    """Re-write a PDF encrypted with a user password (RC4-128, deterministic file ID)."""
    import hashlib

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    plain = path.read_bytes()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    file_id = ByteStringObject(hashlib.md5(plain).digest())
    writer._ID = ArrayObject((file_id, file_id))
    writer.generate_file_identifiers = lambda: None  # pypdf would add a random second ID
    writer.encrypt(user_password=password, owner_password=password + "#owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())


def _write(doc: dict, target: Path, root: Path) -> None:
    kind = doc["kind"]
    when = _when(doc["date"])
    red = doc.get("red_header", True)
    if kind == "docx":
        docgen.write_docx(
            target,
            doc["title"],
            doc["paragraphs"],
            issuer=doc.get("issuer"),
            doc_number=doc.get("doc_number"),
            date_text=_date_text(doc),
            secrecy=doc.get("secrecy"),
            core_author=doc.get("author"),
            tables=doc.get("tables"),
            header_text=doc.get("header_text"),
            when=when,
            red_header=red,
        )
    elif kind in ("pdf", "corrupt-pdf", "encrypted-pdf"):
        docgen.write_pdf(
            target,
            doc["title"],
            doc["paragraphs"],
            issuer=doc.get("issuer"),
            doc_number=doc.get("doc_number"),
            date_text=_date_text(doc),
            secrecy=doc.get("secrecy"),
            meta_author=doc.get("author"),
            when=when,
            pages_min=doc.get("pages_min", 1),
            red_header=red,
        )
        if kind == "corrupt-pdf":  # a download cut short: no xref table, no trailer
            data = target.read_bytes()
            target.write_bytes(data[: int(len(data) * doc.get("keep", 0.6))])
        elif kind == "encrypted-pdf":
            _encrypt_pdf(target, doc["password"])
    elif kind == "xlsx":
        sheets = {
            s["name"]: [[None if v == "" else v for v in row] for row in s["rows"]] for s in doc["sheet"]
        }
        docgen.write_xlsx(target, sheets, core_title=doc.get("core_title", doc["title"]) or None, when=when)
    elif kind == "txt":
        newline = "\r\n" if doc.get("newline") == "crlf" else "\n"
        docgen.write_txt(
            target,
            doc["title"],
            doc["paragraphs"],
            encoding=doc.get("encoding", "utf-8"),
            issuer=doc.get("issuer"),
            doc_number=doc.get("doc_number"),
            date_text=_date_text(doc),
            newline=newline,
        )
    elif kind == "copy":
        target.write_bytes((root / doc["source"]).read_bytes())
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "lockfile":
        target.write_bytes(_owner_file(doc.get("user", "Administrator")))
    else:
        raise ValueError(f"{doc['path']}: unknown kind {kind!r}")


def generate(dest: str | Path, *, overwrite: bool = True) -> Path:
    """Write the sample corpus into the folder ``dest`` (created if needed); return it.

    Output is deterministic: every file has the same bytes on every run, and its mtime
    is set to its document date (09:30 China time); folders get the newest mtime of
    their contents. Files already in ``dest`` that are not part of the corpus are left
    alone. With ``overwrite=False`` a ``FileExistsError`` is raised, before anything is
    written, if any corpus file already exists.
    """
    root = Path(dest)
    targets = [(doc, root.joinpath(*_nfc(doc["path"]).split("/"))) for doc in DOCUMENTS]
    if not overwrite:
        clash = [str(t) for _, t in targets if t.exists() or t.is_symlink()]
        if clash:
            raise FileExistsError(f"sample corpus files already exist: {clash[:3]}")
    root.mkdir(parents=True, exist_ok=True)
    # copies last, so that their sources exist
    for doc, target in sorted(targets, key=lambda item: item[0]["kind"] == "copy"):
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        _write(dict(doc), target, root)
        stamp = _epoch(doc["date"])
        os.utime(target, (stamp, stamp))
    _stamp_folders(root, [t for _, t in targets])
    return root


def _stamp_folders(root: Path, targets: list[Path]) -> None:
    """Give each corpus folder the newest mtime found below it (deepest folders first)."""
    folders = {root}
    for target in targets:
        folders.update(p for p in target.parents if p == root or root in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        times = [child.stat().st_mtime for child in folder.iterdir()]
        if times:
            os.utime(folder, (max(times), max(times)))
