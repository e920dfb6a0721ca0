"""Word (.docx) reader: body paragraphs, tables and headers; core properties."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .base import Extracted, ExtractionError, Limits

_GENERIC_TITLES = re.compile(r"^(microsoft\s*word.*|文档\d*|新建.*文档.*|untitled|无标题.*|document\d*|\s*)$", re.I)
_CHARS_PER_PAGE = 700


def read_docx(path: Path, limits: Limits) -> Extracted:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ExtractionError(f"Word 文件已损坏，无法打开（{type(exc).__name__}）", kind="corrupt") from exc
    except Exception as exc:  # lxml errors and the like on malformed XML
        raise ExtractionError(f"Word 文件内容格式错误，无法解析（{type(exc).__name__}）", kind="corrupt") from exc

    parts: list[str] = []
    size = 0
    first_body: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            if text.strip():
                parts.append(text)
                if len(first_body) < 12:
                    first_body.append(text)
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cells.append("".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t")).strip())
                    if any(cells):
                        parts.append("\t".join(cells))
        size += len(parts[-1]) if parts else 0
        if size > limits.max_chars:
            break

    headers: list[str] = []
    try:
        for section in document.sections[:2]:
            for p in section.header.paragraphs:
                if p.text.strip():
                    headers.append(p.text.strip())
    except Exception:  # headers are a nicety; a broken header part must not lose the document
        pass

    props = document.core_properties
    meta: dict[str, str] = {}
    for key in ("title", "author", "subject", "keywords", "category", "comments", "last_modified_by"):
        value = getattr(props, key, None)
        if value:
            meta[key] = str(value)
    for key in ("created", "modified"):
        value = getattr(props, key, None)
        if value:
            meta[key] = value.isoformat()

    text = "\n".join(parts)[: limits.max_chars]
    title = meta.get("title", "").strip()
    if _GENERIC_TITLES.match(title):
        title = ""
    pages = _app_pages(path) or max(1, (len("".join(parts)) + _CHARS_PER_PAGE - 1) // _CHARS_PER_PAGE)
    out = Extracted(format="docx", text=text, pages=pages, meta=meta)
    out.title = title
    if headers:
        out.meta["header"] = " ".join(headers)[:200]
    return out


def _app_pages(path: Path) -> int | None:
    """Page count Word stored in docProps/app.xml (absent in files written by libraries)."""
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read("docProps/app.xml")[:20000].decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
    m = re.search(r"<Pages>(\d+)</Pages>", data)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None
