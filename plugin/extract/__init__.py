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
from .layout import from_text
from .legacy import read_legacy
from .ocr import read_image
from .ofd import read_ofd
from .official import (
    FIELD_NAMES,
    REQUIRED_FIELDS,
    FieldValue,
    find_doc_number,
    find_secrecy,
    guess_title,
    read_layout,
)
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
    """Fill title, date, document number, issuing body and secrecy, each with where it was
    found (``out.fields``): from the layout reader (:func:`.official.read_layout`) over the
    reader's positioned lines, else from text patterns. A field that is not found stays
    empty and is flagged for review; it is never taken from another part of the document
    (the 发文机关标志 is not a title, the 印发日期 is not the date)."""
    text = out.text
    lines = out.layout if out.layout else from_text(text)
    out.layout = None
    found: dict[str, FieldValue] = {k: FieldValue(**v) for k, v in _field_values(out.fields).items()}
    if out.format != "xlsx":
        reading = read_layout(lines)
        out.layout_kind = out.layout_kind or reading.kind
        for key, value in (reading.fields or {}).items():
            found.setdefault(key, value)
    else:
        out.layout_kind = out.layout_kind or "表格"

    # 题名
    title = found.get("title")
    meta_title = out.title.strip()
    if title and title.value and (title.confidence >= 0.8 or _weak_title(meta_title, name)):
        out.title = title.value
    elif meta_title and not _weak_title(meta_title, name):
        found["title"] = FieldValue(meta_title, "文件属性", "标题", confidence=0.6)
        out.title = meta_title
    elif title and title.value:
        out.title = title.value
    else:
        out.title = ""
    if not out.title:
        stem = _stem(name)
        if stem and not is_neutral_name(name):
            out.title = stem
            found["title"] = FieldValue(stem, "文件名", "自拟题名", confidence=0.4)
        else:
            flat = re.sub(r"\s+", "", text)
            first = flat[:24]
            out.title = first + ("…" if len(flat) > 24 else "") if first else stem
            found["title"] = FieldValue(out.title, "主体", "正文开头（自拟题名）", confidence=0.3)
        out.title_composed = True
        out.lead = guess_title(text)
    out.title = re.sub(r"\s+", " ", out.title).strip()
    if "title" in found:
        found["title"].value = out.title

    # 文号, 密级: the 版头 first, else patterns near the top of the text
    if "doc_number" not in found:
        number = out.doc_number or find_doc_number(text)
        if number:
            found["doc_number"] = FieldValue(number, "主体", "发文字号", confidence=0.7)
    out.doc_number = found["doc_number"].value if "doc_number" in found else ""
    if "secrecy" not in found:
        mark = out.secrecy or find_secrecy(text)
        if mark:
            found["secrecy"] = FieldValue(mark, "版头", "密级和保密期限", confidence=0.8)
    out.secrecy = found["secrecy"].value if "secrecy" in found else ""
    # 责任者, 日期: only where the document states them
    out.responsible = found["responsible"].value if "responsible" in found else out.responsible
    if out.responsible and "responsible" not in found:
        found["responsible"] = FieldValue(out.responsible, "文件", "责任者", confidence=0.6)
    out.date = found["date"].value if "date" in found else out.date
    if out.date and "date" not in found:
        found["date"] = FieldValue(out.date, "文件", "日期", confidence=0.6)
    # 页数: from the document's structure
    if out.pages:
        counted = out.format in ("pdf", "image", "ofd") or (out.format == "xlsx")
        found["pages"] = FieldValue(str(out.pages), "文件", "页数", confidence=0.95 if counted else 0.7)
    out.fields = {k: _as_dict(found.get(k, FieldValue()), k in REQUIRED_FIELDS) for k in FIELD_NAMES}


def _field_values(fields: dict) -> dict:
    """Fields a reader set itself (a spreadsheet's title row), in FieldValue's terms."""
    out = {}
    for key, v in fields.items():
        if key in FIELD_NAMES and isinstance(v, dict) and v.get("value"):
            out[key] = {"value": v["value"], "part": v.get("part", ""), "element": v.get("element", ""),
                        "line": (v.get("line") or 0) - 1, "page": (v.get("page") or 0) - 1,
                        "confidence": float(v.get("confidence", 0.0))}
    return out


def _as_dict(value: FieldValue, required: bool) -> dict:
    value.required = required
    return value.as_json()
