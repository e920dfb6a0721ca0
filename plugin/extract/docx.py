"""Word (.docx) reader: body paragraphs, tables and headers; core properties.

The WordprocessingML parts are streamed with lxml ``iterparse`` instead of being loaded
through python-docx: reading stops once ``Limits.max_chars`` of text are collected, so a
huge (or bomb-sized) ``word/document.xml`` costs neither memory nor time, and entity
expansion is off. Measured on a 300-paragraph report: 7 ms against 40 ms for
``docx.Document()``, which parses every part of the package before returning.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lxml import etree

from .base import Extracted, ExtractionError, Limits
from .safezip import read_member

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_GENERIC_TITLES = re.compile(r"^(microsoft\s*word.*|文档\d*|新建.*文档.*|untitled|无标题.*|document\d*|\s*)$", re.I)
_CHARS_PER_PAGE = 700
_SMALL_PART = 4 << 20  # docProps and headers are tiny in real files


def _iterparse(source, tags: tuple[str, ...]):
    return etree.iterparse(
        source, events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )


def _text_of(el) -> str:
    out = []
    for node in el.iter(_W + "t", _W + "tab", _W + "br"):
        if node.tag == _W + "t":
            out.append(node.text or "")
        elif node.tag == _W + "tab":
            out.append("\t")
    return "".join(out)


def _inside(el, tag: str) -> bool:
    parent = el.getparent()
    while parent is not None:
        if parent.tag == tag:
            return True
        parent = parent.getparent()
    return False


def _body_lines(zf: zipfile.ZipFile, limits: Limits) -> tuple[list[str], int, bool]:
    """Body paragraphs and table rows in document order; (lines, chars seen, truncated)."""
    lines: list[str] = []
    size = 0
    with zf.open("word/document.xml") as f:
        for _, el in _iterparse(f, (_W + "p", _W + "tr")):
            if el.tag == _W + "p":
                if _inside(el, _W + "tc") or _inside(el, _W + "p"):
                    continue  # collected with its table row, or with the paragraph holding its text box
                text = _text_of(el)
            else:
                if _inside(el, _W + "tr"):
                    continue  # nested table: its text is part of the outer cell
                cells = ["".join(_text_of(p) for p in tc.iter(_W + "p")).strip() for tc in el.iterchildren(_W + "tc")]
                text = "\t".join(cells).rstrip("\t") if any(cells) else ""
            if text.strip():
                lines.append(text)
                size += len(text)
            # Free what is done: the element and the body-level siblings before it.
            if not _inside(el, _W + "tc"):
                el.clear(keep_tail=True)
                while el.getprevious() is not None:
                    del el.getparent()[0]
            if size > limits.max_chars:
                return lines, size, True
    return lines, size, False


def _headers(zf: zipfile.ZipFile) -> list[str]:
    out: list[str] = []
    names = sorted(n for n in zf.namelist() if re.fullmatch(r"word/header\d*\.xml", n))
    for name in names[:3]:
        try:
            root = etree.fromstring(read_member(zf, name, _SMALL_PART), _safe_parser())
        except (ExtractionError, etree.XMLSyntaxError):
            continue  # headers are a nicety; a broken header part must not lose the document
        for p in root.iter(_W + "p"):
            t = _text_of(p).strip()
            if t and t not in out:
                out.append(t)
    return out


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


_CORE_KEYS = {
    "title": "title",
    "creator": "author",
    "subject": "subject",
    "keywords": "keywords",
    "category": "category",
    "description": "comments",
    "lastModifiedBy": "last_modified_by",
    "created": "created",
    "modified": "modified",
}


def _core_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    try:
        root = etree.fromstring(read_member(zf, "docProps/core.xml", _SMALL_PART), _safe_parser())
    except (KeyError, ExtractionError, etree.XMLSyntaxError):
        return {}
    meta: dict[str, str] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        key = _CORE_KEYS.get(etree.QName(el).localname)
        value = (el.text or "").strip()
        if key and value:
            meta[key] = value
    return meta


def _app_pages(zf: zipfile.ZipFile) -> int | None:
    """Page count Word stored in docProps/app.xml (absent in files written by libraries)."""
    try:
        data = read_member(zf, "docProps/app.xml", _SMALL_PART).decode("utf-8", "replace")
    except (KeyError, ExtractionError):
        return None
    m = re.search(r"<(?:\w+:)?Pages>(\d+)</(?:\w+:)?Pages>", data)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def read_docx(path: Path, limits: Limits) -> Extracted:
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                lines, size, truncated = _body_lines(zf, limits)
            except KeyError as exc:
                raise ExtractionError("Word 文件缺少正文部分（word/document.xml），无法读取", kind="corrupt") from exc
            except etree.XMLSyntaxError as exc:
                raise ExtractionError(f"Word 文件内容格式错误，无法解析（{exc.msg}）", kind="corrupt") from exc
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise ExtractionError(f"Word 文件已损坏，无法解压（{exc}）", kind="corrupt") from exc
            headers = _headers(zf)
            meta = _core_properties(zf)
            app_pages = _app_pages(zf)
            body_bytes = zf.getinfo("word/document.xml").file_size
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"Word 文件已损坏，无法打开（{exc}）", kind="corrupt") from exc

    text = "\n".join(lines)[: limits.max_chars]
    title = meta.get("title", "").strip()
    if _GENERIC_TITLES.match(title):
        title = ""
    if truncated:
        # Only the beginning was read: estimate from the XML size (about 8 bytes of
        # markup per character in Word's output).
        estimate = max(1, body_bytes // (8 * _CHARS_PER_PAGE))
    else:
        estimate = max(1, (size + _CHARS_PER_PAGE - 1) // _CHARS_PER_PAGE)
    # Word's own count wins, except the stale "1" that library-made files inherit from
    # their template whatever their length.
    pages = app_pages if app_pages and not (app_pages == 1 and estimate > 3) else estimate
    out = Extracted(format="docx", text=text, pages=pages, meta=meta)
    out.title = title
    if headers:
        out.meta["header"] = " ".join(headers)[:200]
    if not text.strip():
        out.needs_review = True
        out.notes.append("Word 文件没有文字内容（可能只有图片）")
    return out
