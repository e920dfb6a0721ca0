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


def _positioned_pages(n: int, limits: Limits) -> set[int]:
    """Pages whose lines get positions (alignment, type size, colour): the first two
    (版头, 标题, and the signature of a short document) and the last (signature, 成文日期,
    版记); the layout reader reads the others by their text."""
    return {0, 1, n - 1} if n else set()

#: Why an encrypted PDF without a (working) password is not read, and how to supply one.
ENCRYPTED_REASON = "PDF 已加密，需要密码才能打开（可在来源根目录的 dossier-passwords.csv 中按“路径,密码”提供密码）"


def read_pdf(path: Path, limits: Limits) -> Extracted:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise ExtractionError(ENCRYPTED_REASON, kind="encrypted") from exc
        return _read_with_pypdf(path, limits, pdfium_error=str(exc))
    try:
        n = len(doc)
        texts: list[str] = []
        layout: list[Line] = []
        total = 0
        wanted = _pages_to_read(n, limits)
        head_pages = min(n, limits.max_pages)
        positioned = _positioned_pages(n, limits)
        for i in wanted:
            if i < head_pages and total >= limits.max_chars:
                continue  # enough of the beginning; the last page is still read
            page = doc[i]
            tp = page.get_textpage()
            t = tp.get_text_range()
            if t.strip():
                if i >= head_pages and len(layout):
                    layout.append(Line("…", page=-1))  # pages left out between
                if i in positioned:
                    layout.extend(_page_lines(page, tp, i, t))
                else:
                    layout.extend(Line(x.strip(), page=i) for x in t.replace("\r", "").split("\n") if x.strip())
            t = t.replace("\r\n", "\n").replace("\r", "\n")
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


def _page_lines(page, tp, index: int, text: str) -> list[Line]:
    """The lines of one page with their place: PDFium's reading order (``text``, from
    ``get_text_range``, one character per text-page character) split at its line breaks;
    each line's characters put in left-to-right order by their origins (some writers
    emit quotation marks after the line they belong to), split where a wide gap separates
    two fields (文号 … 签发人, 印发机关 … 印发日期), and given the baseline, type size,
    colour and weight of its first character."""
    import ctypes

    import pypdfium2.raw as raw

    width, height = page.get_size()
    handle = tp.raw
    ox, oy = ctypes.c_double(), ctypes.c_double()
    boxes: list[Box] = []
    start = 0
    n = min(len(text), 20_000)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end
        chars = []
        for i in range(start, end):
            ch = text[i]
            if ch in "\r\n" or ch.isspace():
                continue
            if raw.FPDFText_GetCharOrigin(handle, i, ox, oy):
                chars.append((ox.value, oy.value, ch, i))
        start = end + 1
        if not chars:
            continue
        first = chars[0][3]
        size = raw.FPDFText_GetFontSize(handle, first) or 12.0
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        red = bool(raw.FPDFText_GetFillColor(handle, first, r, g, b, a)) and r.value >= 160 and g.value <= 90 and b.value <= 90
        bold = raw.FPDFText_GetFontWeight(handle, first) >= 600
        base = chars[0][1]
        chars.sort(key=lambda c: c[0])
        run = [chars[0]]
        for c in chars[1:]:
            if c[0] - run[-1][0] > size * 2.2:  # a wide gap: two fields on one line
                boxes.append(_run_box(run, size, base, height, red, bold))
                run = []
            run.append(c)
        boxes.append(_run_box(run, size, base, height, red, bold))
    return from_boxes(boxes, index, width, height)


def _run_box(run: list, size: float, base: float, height: float, red: bool, bold: bool) -> Box:
    # y grows downwards from here on: a box of the type size standing on the baseline
    y1 = height - base + size * 0.12
    return Box("".join(c[2] for c in run), run[0][0], y1 - size, run[-1][0] + size * 0.95, y1, red=red, bold=bold)


def _ocr_into(out: Extracted, path: Path, limits: Limits) -> None:
    """A PDF without a text layer is a scan: read its first and last page with OCR (the
    layout reader then reads the recognised lines as it reads a text PDF), or flag it."""
    from .ocr import OcrUnavailable, ocr_pdf

    try:
        res = ocr_pdf(path, limits)
    except OcrUnavailable as exc:
        out.needs_review = True
        out.notes.append(f"PDF 无文字层（扫描件），{exc.reason}，按文件名归类")
        return
    except Exception as exc:  # rendering a malformed page
        out.needs_review = True
        out.notes.append(f"PDF 无文字层（扫描件），页面无法渲染（{type(exc).__name__}），按文件名归类")
        return
    if len(res.text.strip()) < 10:
        out.needs_review = True
        out.notes.append("PDF 无文字层（扫描件），文字识别未得到文字，按文件名归类")
        return
    out.text = res.text[: limits.max_chars]
    out.layout = res.layout
    where = "首页和末页" if len(res.pages) > 1 else "全页"
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
            raise ExtractionError(ENCRYPTED_REASON, kind="encrypted")
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


def decrypt_pdf(src: Path, dst: Path, password: str) -> bool:
    """Write an unencrypted copy of the PDF ``src`` to ``dst`` using ``password``: an
    encrypted file can be neither read nor kept for the long term (DA/T 70 usability), so
    the bundle keeps the decrypted copy. Returns False (and writes nothing) when ``src`` is
    not encrypted. Raises :class:`ExtractionError` when the password does not open it.
    The output is deterministic (pypdf keeps the document's own /ID)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(src), strict=False)
        if not reader.is_encrypted:
            return False
        if not reader.decrypt(password):
            raise ExtractionError("PDF 已加密，密码文件中为它提供的密码不正确", kind="encrypted")
        writer = PdfWriter(clone_from=reader)
        tmp = dst.with_name(dst.name + ".tmp")
        with open(tmp, "wb") as f:
            writer.write(f)
        tmp.replace(dst)
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, AttributeError, NotImplementedError) as exc:
        raise ExtractionError(f"PDF 已加密，用提供的密码解密失败（{type(exc).__name__}）", kind="encrypted") from exc
    return True
