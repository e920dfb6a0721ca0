"""PDF reader.

Text comes from PDFium (pypdfium2), the fastest of the three readers that give the same
text (``bench/extract_classify.py``, all pages, on a shared 2-core machine): on the 19 real
government PDFs of the dev set 107 pages/s against 42 for pypdf and 9 for pdfplumber
(identical Han text in 19/19, 18/19 and 18/19 files); on generated 30-page PDFs 206
against 96 and 17. Only the first pages are read (classification needs the beginning);
the page count comes from the document structure. pypdf is the fallback for files PDFium
refuses. Pages without a text layer go to OCR (:mod:`.ocr`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Extracted, ExtractionError, Limits
from .layout import Box, Line, from_boxes


def _pages_to_read(n: int, limits: Limits) -> list[int]:
    """The pages a decision needs: the first ``limits.max_pages`` (classification reads
    the beginning; 版头 and 标题 are on the first) and the last ``limits.tail_pages``
    (发文机关署名, 成文日期 and 版记 are at the end)."""
    head = list(range(min(n, limits.max_pages)))
    tail = [i for i in range(max(0, n - limits.tail_pages), n) if i not in head]
    return head + tail


def read_pdf(path: Path, limits: Limits) -> Extracted:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise ExtractionError("PDF 已加密，需要密码才能打开", kind="encrypted") from exc
        return _read_with_pypdf(path, limits, pdfium_error=str(exc))
    try:
        n = len(doc)
        texts: list[str] = []
        layout: list[Line] = []
        total = 0
        wanted = _pages_to_read(n, limits)
        head_pages = min(n, limits.max_pages)
        for i in wanted:
            if i < head_pages and total >= limits.max_chars:
                continue  # enough of the beginning; the last page is still read
            page = doc[i]
            tp = page.get_textpage()
            t = tp.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
            if t.strip():
                if i >= head_pages and len(layout):
                    layout.append(Line("…", page=-1))  # pages left out between
                layout.extend(_page_lines(page, tp, i))
            tp.close()
            page.close()
            if i < head_pages:
                texts.append(t)
                total += len(t)
        meta = {}
        try:
            for k, v in doc.get_metadata_dict(skip_empty=True).items():
                meta[k.lower()] = str(v)
        except Exception:
            pass
        created = _pdf_date(meta.get("creationdate", ""))
        if created:
            meta["created"] = created
    finally:
        doc.close()
    text = "\n".join(texts)[: limits.max_chars]
    out = Extracted(format="pdf", text=text, pages=n, meta=meta)
    out.layout = layout
    title = meta.get("title", "").strip()
    if title and not title.lower().startswith(("microsoft word", "untitled")) and not title.endswith((".doc", ".docx")):
        out.title = title
    if n == 0:
        raise ExtractionError("PDF 没有任何页面", kind="empty")
    if len(text.strip()) < 10:
        _ocr_into(out, path, limits)
    return out


def _page_lines(page, tp, index: int) -> list[Line]:
    """The text runs of one page with their boxes (PDFium's text rectangles: one per run
    of characters on a line in one font), as layout lines."""
    import ctypes

    import pypdfium2.raw as raw

    width, height = page.get_size()
    boxes: list[Box] = []
    count = tp.count_rects()
    for k in range(min(count, 4000)):
        left, bottom, right, top = tp.get_rect(k)
        text = tp.get_text_bounded(left, bottom, right, top)
        if not text or not text.strip():
            continue
        cx, cy = (left + right) / 2, (bottom + top) / 2
        idx = raw.FPDFText_GetCharIndexAtPos(tp.raw, cx, cy, (right - left) / 2 + 1, (top - bottom) / 2 + 1)
        red = bold = False
        size = top - bottom
        if idx >= 0:
            fs = raw.FPDFText_GetFontSize(tp.raw, idx)
            if fs > 0:
                size = fs
            r, g, b, a = (ctypes.c_uint() for _ in range(4))
            if raw.FPDFText_GetFillColor(tp.raw, idx, r, g, b, a):
                red = r.value >= 160 and g.value <= 90 and b.value <= 90
            bold = raw.FPDFText_GetFontWeight(tp.raw, idx) >= 600
        # the box's height is the type size (run rectangles of CJK fonts include the
        # ascent only partly); keep the centre line
        mid = height - cy
        boxes.append(Box(text.replace("\r", "").replace("\n", ""), left, mid - size / 2, right, mid + size / 2, red=red,
                         bold=bold))
    return from_boxes(boxes, index, width, height)


def _ocr_into(out: Extracted, path: Path, limits: Limits) -> None:
    """A PDF without a text layer is a scan: read its first pages with OCR, or flag it."""
    from .ocr import OcrUnavailable, ocr_pdf

    try:
        text = ocr_pdf(path, limits)
    except OcrUnavailable as exc:
        out.needs_review = True
        out.notes.append(f"PDF 无文字层（扫描件），{exc.reason}，按文件名归类")
        return
    except Exception as exc:  # rendering a malformed page
        out.needs_review = True
        out.notes.append(f"PDF 无文字层（扫描件），页面无法渲染（{type(exc).__name__}），按文件名归类")
        return
    if len(text.strip()) < 10:
        out.needs_review = True
        out.notes.append("PDF 无文字层（扫描件），文字识别未得到文字，按文件名归类")
        return
    out.text = text[: limits.max_chars]
    pages = min(out.pages or 1, limits.ocr_pages)
    where = f"前 {pages} 页" if pages > 1 else "首页"
    if limits.ocr_top < 1.0:
        where += "上部"
    out.notes.append(f"扫描件，已对{where}做文字识别（OCR）")


def _pdf_date(value: str) -> str:
    """``D:20230305093000+08'00'`` -> ``2023-03-05``; '' when it is not a PDF date."""
    m = re.match(r"^(?:D:)?((?:19|20)\d{2})(\d{2})(\d{2})", value.strip())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


def _read_with_pypdf(path: Path, limits: Limits, pdfium_error: str) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("PDF 已加密，需要密码才能打开", kind="encrypted")
        n = len(reader.pages)
        texts = []
        for page in reader.pages[: limits.max_pages]:
            texts.append(page.extract_text() or "")
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AttributeError) as exc:
        raise ExtractionError(f"PDF 文件已损坏，无法解析（{_pdfium_reason(pdfium_error)}）", kind="corrupt") from exc
    if n == 0:
        raise ExtractionError("PDF 文件已损坏：没有可读取的页面", kind="corrupt")
    out = Extracted(format="pdf", text="\n".join(texts)[: limits.max_chars], pages=n)
    out.notes.append("PDF 结构有误，已用容错方式读取")
    if len(out.text.strip()) < 10:
        out.needs_review = True
        out.notes.insert(0, "PDF 无文字层（可能是扫描件），结构有误无法做文字识别，按文件名归类")
    return out


_PDFIUM_REASONS = {
    "data format error": "文件结构损坏或不完整，可能在保存或传输时被截断",
    "file error": "文件无法打开或读取",
    "page error": "页面对象损坏",
    "security error": "加密方式不受支持",
    "unsupported security scheme": "加密方式不受支持",
}


def _pdfium_reason(message: str) -> str:
    """A Chinese reason for PDFium's English load error (never shown to users verbatim)."""
    low = message.lower()
    for key, reason in _PDFIUM_REASONS.items():
        if key in low:
            return reason
    return "文件结构无法识别"
