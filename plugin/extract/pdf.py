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
        created = _pdf_date(meta.get("creationdate", ""))
        if created:
            meta["created"] = created
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
        _ocr_into(out, path, limits)
    return out


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
