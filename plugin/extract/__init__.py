"""Extract stage: text and catalogue metadata from each fetched document.

One reader per format, chosen from the document's bytes (see :mod:`.sniff`), never from
its name. Every failure becomes an :class:`ExtractionError` with a Chinese reason, which
the pipeline records as an exception; a reader never crashes a run.

To add a format: write ``read_xxx(path, limits) -> Extracted`` in a module here, teach
:func:`.sniff.sniff` to recognise it, and register it in :data:`READERS`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from ..lang.textnorm import nfc
from .base import Extracted, ExtractionError, Limits
from .docx import read_docx
from .legacy import read_legacy
from .ocr import read_image
from .ofd import read_ofd
from .official import document_date, find_doc_number, find_issuer, find_secrecy, guess_title
from .pdf import read_pdf
from .sniff import FORMAT_NAMES, extension_mismatch, screen_name, sniff
from .text import read_text
from .xlsx import read_xlsx

# Parsers log English warnings about malformed files ("EOF marker not found") straight to
# stderr, also inside worker processes. Every problem they hint at reaches the archivist as
# a Chinese reason or note instead, so keep them quiet wherever this package is imported.
for _name in ("pypdf", "pdfminer", "openpyxl"):
    logging.getLogger(_name).setLevel(logging.ERROR)

__all__ = ["CONVERTED", "READERS", "Extracted", "ExtractionError", "Limits", "extract_document", "screen_name"]

Reader = Callable[[Path, Limits], Extracted]

#: Format key (from :func:`sniff`) -> reader.
READERS: dict[str, Reader] = {
    "pdf": read_pdf,
    "docx": read_docx,
    "xlsx": read_xlsx,
    "text": read_text,
    "ofd": read_ofd,
    "image": read_image,
}

#: Formats read by converting them with LibreOffice first (see :mod:`.legacy`).
CONVERTED = {"ole", "rtf", "odf"}


def _not_readable(kind: str) -> ExtractionError:
    if kind == "executable":
        return ExtractionError("可执行程序或脚本，出于安全不收入档案包", kind="unsupported")
    if kind == "zip":
        return ExtractionError("压缩包（ZIP），请解压后逐件提交", kind="unsupported")
    return ExtractionError(f"不支持的文件格式（{FORMAT_NAMES.get(kind, kind)}）", kind="unsupported")


def _by_name_only(kind: str, note: str) -> Extracted:
    out = Extracted(format=kind, needs_review=True)
    out.notes.append(note)
    return out


def extract_document(path: str | Path, name: str, limits: Limits | None = None) -> Extracted:
    """Read one document. ``name`` is its file name in the source (the local copy may be
    named differently); it is used for the extension check and as a title fallback."""
    limits = limits or Limits()
    path = Path(path)
    name = nfc(name)
    reason = screen_name(name)
    if reason:
        raise ExtractionError(reason, kind="not-a-document")
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError("空文件（0 字节）", kind="empty")
    kind = sniff(path, name, limits)
    if size > limits.max_bytes:
        out = _by_name_only(kind, f"文件过大（{size / (1 << 20):.0f} MB，上限 {limits.max_bytes >> 20} MB），未读取正文，按文件名归类")
    elif kind in READERS:
        out = READERS[kind](path, limits)
    elif kind in CONVERTED:
        out = read_legacy(path, limits, name)
    else:
        raise _not_readable(kind)
    mismatch = extension_mismatch(kind, name)
    if mismatch:
        out.notes.append(mismatch)
    complete_metadata(out, name)
    return out


_HAN = re.compile(r"[\u4e00-\u9fff]")


def _stem(name: str) -> str:
    stem = Path(name).stem
    return re.sub(r"[_\s]+", " ", stem).strip()


_NEUTRAL_NAME = re.compile(
    r"^(?:材料|文档|文件|扫描件?|新建.*|scan|img|image|doc|document|未命名|无标题|副本|复件|copy|\d+)[\s\-_()（）\d]*$",
    re.I,
)


def is_neutral_name(name: str) -> bool:
    """True for names that say nothing about the content (``材料(2).docx``, ``扫描件-003.pdf``)."""
    return bool(_NEUTRAL_NAME.match(_stem(name))) or not re.search(r"[\u4e00-\u9fff]{2}", _stem(name))


def _weak_title(title: str, name: str) -> bool:
    """A metadata title that says less than the document's own heading: none, no Chinese
    ("scan", "Document1"), a neutral name, or just the file name (scanners write that)."""
    t = title.strip()
    return not t or not _HAN.search(t) or bool(_NEUTRAL_NAME.match(t)) or t == Path(name).stem.strip()


def complete_metadata(out: Extracted, name: str) -> None:
    """Fill title, date, document number, issuing body and secrecy from the text."""
    text = out.text
    heading = guess_title(text)
    if heading and _weak_title(out.title, name):
        out.title = heading
    if not out.title:
        stem = _stem(name)
        if stem and not is_neutral_name(name):
            out.title = stem
        else:
            first = re.sub(r"\s+", "", text)[:24]
            out.title = first + ("…" if len(re.sub(r"\s+", "", text)) > 24 else "") if first else stem
        out.title_composed = True
    out.title = re.sub(r"\s+", " ", out.title).strip()
    out.doc_number = out.doc_number or find_doc_number(text)
    out.secrecy = out.secrecy or find_secrecy(text)
    out.responsible = out.responsible or find_issuer(text, out.title if not out.title_composed else "")
    if not out.date:
        out.date = document_date(text, title=out.title, name=name)
    if not out.date:
        created = out.meta.get("created", "")
        if re.match(r"\d{4}-\d{2}-\d{2}", created):
            out.date = created[:10]
