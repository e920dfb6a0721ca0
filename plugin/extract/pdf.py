"""PDF reader.

Text comes from PDFium (pypdfium2): measured on real 30-page Chinese PDFs it reads
590-990 pages/s against 44-69 for pypdf and 17-39 for pdfplumber, with the same text.
Only the first pages are read (classification needs the beginning); the page count comes
from the document structure. pypdf is the fallback for files PDFium refuses.
"""

from __future__ import annotations

from pathlib import Path

from .base import Extracted, ExtractionError, Limits


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
        total = 0
        for i in range(min(n, limits.max_pages)):
            page = doc[i]
            tp = page.get_textpage()
            t = tp.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
            tp.close()
            page.close()
            texts.append(t)
            total += len(t)
            if total >= limits.max_chars:
                break
        meta = {}
        try:
            for k, v in doc.get_metadata_dict(skip_empty=True).items():
                meta[k.lower()] = str(v)
        except Exception:
            pass
    finally:
        doc.close()
    text = "\n".join(texts)[: limits.max_chars]
    out = Extracted(format="pdf", text=text, pages=n, meta=meta)
    title = meta.get("title", "").strip()
    if title and not title.lower().startswith(("microsoft word", "untitled")) and not title.endswith((".doc", ".docx")):
        out.title = title
    if n == 0:
        raise ExtractionError("PDF 没有任何页面", kind="empty")
    if len(text.strip()) < 10:
        out.needs_review = True
        out.notes.append("PDF 无文字层（可能是扫描件）")
    return out


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
        raise ExtractionError(f"PDF 文件已损坏，无法解析（{pdfium_error or type(exc).__name__}）", kind="corrupt") from exc
    if n == 0:
        raise ExtractionError("PDF 文件已损坏：没有可读取的页面", kind="corrupt")
    out = Extracted(format="pdf", text="\n".join(texts)[: limits.max_chars], pages=n)
    out.notes.append("PDF 结构有误，已用容错方式读取")
    if len(out.text.strip()) < 10:
        out.needs_review = True
        out.notes.append("PDF 无文字层（可能是扫描件）")
    return out
