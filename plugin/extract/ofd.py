"""OFD reader (GB/T 33190-2016, the Chinese national fixed-layout format).

An OFD file is a zip of XML: ``OFD.xml`` is the entry point (``DocBody/DocInfo`` holds the
title, author, dates and custom data; ``DocBody/DocRoot`` names the document), the
document's ``Document.xml`` lists its pages (``Pages/Page@BaseLoc``), and each page's
``Content.xml`` holds ``TextObject`` elements whose ``TextCode`` children carry the text
with its position. Lines are rebuilt from the positions: a new line starts when the
baseline moves.

Producers differ in case (``Doc_0`` / ``doc_0``), in absolute or relative ``BaseLoc`` and
in namespace prefixes; the reader matches local names and resolves paths leniently.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from .base import Extracted, ExtractionError, Limits
from .safezip import member_name, read_member

_PART_LIMIT = 32 << 20  # one page's content XML; real pages are a few hundred KB


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c) == name]


def _first(el, *path: str):
    cur = el
    for name in path:
        found = _children(cur, name)
        if not found:
            return None
        cur = found[0]
    return cur


def _load(zf: zipfile.ZipFile, path: str) -> etree._Element:
    name = member_name(zf, path)
    if name is None:
        raise KeyError(path)
    root = etree.fromstring(read_member(zf, name, _PART_LIMIT), _parser())
    if root is None:
        raise ExtractionError(f"OFD 文件内部 {path} 不是有效的 XML", kind="corrupt")
    return root


def _resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, loc))


def _floats(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").replace(",", " ").split()]
    except ValueError:
        return []


def _page_lines(page: etree._Element) -> list[str]:
    """Text of one page, one string per visual line."""
    lines: list[str] = []
    current: list[str] = []
    last_y: float | None = None
    for obj in page.iter():
        if _local(obj) != "TextObject":
            continue
        box = _floats(obj.get("Boundary"))
        by = box[1] if len(box) >= 2 else 0.0
        size = (_floats(obj.get("Size")) or [3.5])[0]
        for code in obj:
            if _local(code) != "TextCode" or not code.text:
                continue
            y = by + ((_floats(code.get("Y")) or [0.0])[0])
            if last_y is not None and abs(y - last_y) > max(0.6 * size, 1.0) and current:
                lines.append("".join(current))
                current = []
            current.append(code.text)  # within a line, document order is reading order
            last_y = y
    if current:
        lines.append("".join(current))
    return [ln for ln in (ln.strip() for ln in lines) if ln]


def read_ofd(path: Path, limits: Limits) -> Extracted:
    try:
        with zipfile.ZipFile(path) as zf:
            return _read(zf, limits)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ExtractionError(f"OFD 文件已损坏，无法解压（{exc}）", kind="corrupt") from exc
    except KeyError as exc:
        raise ExtractionError(f"OFD 文件结构不完整，缺少 {exc.args[0]}", kind="corrupt") from exc
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"OFD 文件内容格式错误，无法解析（{exc.msg}）", kind="corrupt") from exc


def _doc_info(info) -> dict[str, str]:
    meta: dict[str, str] = {}
    if info is None:
        return meta
    keys = {"Title": "title", "Author": "author", "Subject": "subject", "Abstract": "abstract",
            "CreationDate": "created", "ModDate": "modified", "Creator": "application", "DocID": "doc_id"}
    for el in info:
        name = _local(el)
        if name in keys and (el.text or "").strip():
            meta[keys[name]] = el.text.strip()
        elif name == "Keywords":
            words = [k.text.strip() for k in el if (k.text or "").strip()]
            if words:
                meta["keywords"] = "、".join(words)
        elif name == "CustomDatas":
            for c in el:
                key = (c.get("Name") or "").strip()
                if key and (c.text or "").strip():
                    meta[f"custom:{key}"] = c.text.strip()[:200]
    return meta


def _read(zf: zipfile.ZipFile, limits: Limits) -> Extracted:
    root = _load(zf, "OFD.xml")
    body = _first(root, "DocBody")
    if body is None:
        raise ExtractionError("OFD 文件结构不完整：OFD.xml 中没有 DocBody", kind="corrupt")
    meta = _doc_info(_first(body, "DocInfo"))
    doc_root_el = _first(body, "DocRoot")
    if doc_root_el is None or not (doc_root_el.text or "").strip():
        raise ExtractionError("OFD 文件结构不完整：没有 DocRoot", kind="corrupt")
    doc_path = _resolve("", doc_root_el.text)
    document = _load(zf, doc_path)
    doc_dir = posixpath.dirname(doc_path)
    pages_el = _first(document, "Pages")
    page_locs = [p.get("BaseLoc") for p in (_children(pages_el, "Page") if pages_el is not None else [])]
    page_locs = [loc for loc in page_locs if loc]
    if not page_locs:
        raise ExtractionError("OFD 文件没有任何页面", kind="empty")

    lines: list[str] = []
    size = 0
    for loc in page_locs[: limits.max_pages]:
        try:
            page = _load(zf, _resolve(doc_dir, loc))
        except KeyError:
            continue  # a missing page part loses that page, not the document
        for line in _page_lines(page):
            lines.append(line)
            size += len(line)
        if size >= limits.max_chars:
            break
    text = "\n".join(lines)[: limits.max_chars]
    out = Extracted(format="ofd", text=text, pages=len(page_locs), meta=meta)
    title = meta.get("title", "").strip()
    if title and not title.lower().endswith((".ofd", ".doc", ".docx", ".wps")):
        out.title = title
    if meta.get("created"):
        out.meta["created"] = meta["created"].replace("/", "-")
    if len(text.strip()) < 10:
        out.needs_review = True
        out.notes.append("OFD 无文字内容（可能是扫描件）")
    return out
