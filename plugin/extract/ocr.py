"""Text from scans: OCR with Tesseract (Simplified + Traditional Chinese data).

Scanned PDFs and photographed pages have no text layer; without text the classifier can
only go by the file name. Tesseract (Debian ``tesseract-ocr`` with ``-chi-sim`` and
``-chi-tra``) runs as a subprocess on the top of the first page only (``Limits.ocr_pages``,
``Limits.ocr_top``: where GB/T 9704 puts issuing body, document number and title),
rendered by PDFium; one call reads all page images so a model loads once. The Simplified
model reads first; the Traditional one only when that reading is doubtful.

When Tesseract or its Chinese data is missing, :class:`OcrUnavailable` says so in
Chinese and the caller keeps the document as an item classified by name, flagged for
review. ``DOSSIER_TESSERACT`` names the binary explicitly (an empty value or a path that
does not exist switches OCR off).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from ..runtime.sandbox import safe_environ
from .base import Extracted, Limits

#: Languages used when installed, in order of preference.
LANGUAGES = ("chi_sim", "chi_tra")

_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK})[ \t]+(?={_CJK})")


class OcrUnavailable(Exception):
    """OCR cannot run here; ``reason`` is a Chinese sentence for the archivist."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def tesseract_binary() -> str | None:
    """Path of the Tesseract binary, or None when it is not installed (or switched off)."""
    if "DOSSIER_TESSERACT" in os.environ:
        value = os.environ["DOSSIER_TESSERACT"].strip()
        return value if value and Path(value).is_file() and os.access(value, os.X_OK) else None
    return shutil.which("tesseract")


@lru_cache(maxsize=4)
def _languages(binary: str) -> tuple[str, ...]:
    try:
        res = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    listed = set(res.stdout.split()) | set(res.stderr.split())
    return tuple(lang for lang in LANGUAGES if lang in listed)


def ocr_setup() -> tuple[str, str]:
    """``(binary, "chi_sim+chi_tra")`` or raise :class:`OcrUnavailable` with the reason."""
    binary = tesseract_binary()
    if not binary:
        raise OcrUnavailable("未安装 Tesseract（tesseract-ocr），未做文字识别")
    langs = _languages(binary)
    if not langs:
        raise OcrUnavailable("Tesseract 缺少中文识别数据（tesseract-ocr-chi-sim / chi-tra），未做文字识别")
    return binary, "+".join(langs)


def clean_ocr_text(text: str) -> str:
    """Drop the spaces Tesseract puts between Chinese characters; tidy blank lines."""
    text = text.replace("\f", "\n")
    text = _SPACE_BETWEEN_CJK.sub("", text)
    lines = [ln.strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln)


#: Below this mean word confidence (0-100) the first language's reading is doubted and
#: the other script's model is tried too; the more confident reading wins. Measured on
#: the top of 21 noisy 200-dpi scans (bench corpus): Simplified pages read with chi_sim
#: 82-90; Traditional pages read with chi_sim 65-75 (and with chi_tra 79-90).
RETRY_CONFIDENCE = 78.0

#: ``--psm 6`` (one block of text): the top of an official document is a column of
#: centred lines; on these crops it reads titles better than automatic layout and faster.
PSM = "6"


def _tsv_confidence(tsv: str) -> float:
    """Mean confidence of the recognised words in Tesseract's TSV output (0 when none)."""
    confs: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 12 and cols[11].strip():
            try:
                conf = float(cols[10])
            except ValueError:
                continue
            if conf >= 0:
                confs.append(conf)
    return sum(confs) / len(confs) if confs else 0.0


def _tesseract_once(binary: str, lang: str, listing: Path, workdir: Path, limits: Limits, timeout: float
                    ) -> tuple[str, float]:
    """One Tesseract call over all page images: ``(text, mean confidence)``."""
    base = workdir / f"out-{lang}"
    # one core per document (workers run in parallel); no secrets for an external tool
    env = safe_environ(OMP_THREAD_LIMIT="1")
    cmd = [binary, str(listing), str(base), "-l", lang, "--psm", PSM, "--dpi", str(limits.ocr_dpi), "txt", "tsv"]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=max(timeout, 1.0), env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrUnavailable(f"文字识别超时（超过 {limits.tool_timeout:.0f} 秒），未做文字识别") from exc
    except OSError as exc:
        raise OcrUnavailable(f"无法运行 Tesseract（{exc.strerror or exc}），未做文字识别") from exc
    txt, tsv = base.with_suffix(".txt"), base.with_suffix(".tsv")
    if res.returncode != 0 or not txt.is_file():
        raise OcrUnavailable("文字识别失败（Tesseract 报错），未做文字识别")
    text = clean_ocr_text(txt.read_text(encoding="utf-8", errors="replace"))
    conf = _tsv_confidence(tsv.read_text(encoding="utf-8", errors="replace")) if tsv.is_file() else 0.0
    return text, conf


def _run_tesseract(images: list[Path], workdir: Path, limits: Limits) -> str:
    """Read the page images with the Simplified model; when its reading is doubtful
    (a Traditional-script document, usually), read them with the Traditional model too
    and keep the more confident text. One model per call: running ``chi_sim+chi_tra``
    together costs twice as long on every scan, Simplified or not."""
    binary, langs = ocr_setup()
    listing = workdir / "pages.txt"
    listing.write_text("\n".join(str(p) for p in images) + "\n", encoding="utf-8")
    deadline = time.monotonic() + min(limits.tool_timeout, limits.timeout * 0.8)
    order = langs.split("+")
    best_text, best_conf = _tesseract_once(binary, order[0], listing, workdir, limits, deadline - time.monotonic())
    for lang in order[1:]:
        if best_conf >= RETRY_CONFIDENCE and best_text.strip():
            break
        remaining = deadline - time.monotonic()
        if remaining < 1.0:
            break
        try:
            text, conf = _tesseract_once(binary, lang, listing, workdir, limits, remaining)
        except OcrUnavailable:
            break  # keep the first reading
        if conf > best_conf:
            best_text, best_conf = text, conf
    return best_text


def _top_share(width: float, height: float, share: float) -> float:
    """The share of a page to read from the top: ``share`` for portrait pages (a letter,
    a report), everything for landscape or strip-shaped ones (tables, cut-outs) whose
    text does not start with a header block."""
    if height < width * 1.2:
        return 1.0
    return min(max(share, 0.05), 1.0)


def _crop_top(im, share: float):
    """The top of a page image (PIL) as :func:`_top_share` decides."""
    keep = _top_share(im.width, im.height, share)
    if keep >= 1.0:
        return im
    return im.crop((0, 0, im.width, max(1, int(im.height * keep))))


def ocr_pdf(path: Path, limits: Limits) -> str:
    """OCR text of the first ``limits.ocr_pages`` pages of a PDF."""
    import pypdfium2 as pdfium

    ocr_setup()  # fail fast, before rendering anything
    with tempfile.TemporaryDirectory(prefix="dossier-ocr-") as tmp:
        work = Path(tmp)
        images: list[Path] = []
        doc = pdfium.PdfDocument(str(path))
        try:
            for i in range(min(len(doc), limits.ocr_pages)):
                page = doc[i]
                w, h = page.get_size()  # points
                scale = limits.ocr_dpi / 72
                if w * h * scale * scale > limits.max_pixels:
                    scale = (limits.max_pixels / max(w * h, 1)) ** 0.5
                # Render only the part that is read: PDFium crops while rendering.
                crop_bottom = h * (1 - _top_share(w, h, limits.ocr_top))
                bitmap = page.render(scale=scale, grayscale=True, crop=(0, crop_bottom, 0, 0))
                img = work / f"page-{i:03d}.png"
                bitmap.to_pil().save(img)
                bitmap.close()
                page.close()
                images.append(img)
        finally:
            doc.close()
        if not images:
            return ""
        return _run_tesseract(images, work, limits)


def ocr_image(path: Path, limits: Limits) -> str:
    """OCR text of an image file (photographed or scanned page)."""
    from PIL import Image

    ocr_setup()
    with tempfile.TemporaryDirectory(prefix="dossier-ocr-") as tmp:
        work = Path(tmp)
        Image.MAX_IMAGE_PIXELS = limits.max_pixels * 4  # beyond this Pillow refuses (bomb guard)
        with Image.open(path) as im:
            im.draft("L", (4000, 4000))  # JPEG: decode at reduced size directly
            # The header gives the size before any pixel is decoded: a 0.9 MB PNG can declare
            # 17000×17000 (3 GB once decoded). Formats that cannot decode reduced stop here.
            w, h = im.size
            if w * h > limits.max_pixels * 2:
                raise OcrUnavailable(f"图片尺寸过大（{w}×{h} 像素），为防止耗尽内存未解码，未做文字识别")
            im = im.convert("L")
            if im.width * im.height > limits.max_pixels:
                f = (limits.max_pixels / (im.width * im.height)) ** 0.5
                im = im.resize((max(1, int(im.width * f)), max(1, int(im.height * f))))
            img = work / "image.png"
            _crop_top(im, limits.ocr_top).save(img)
        return _run_tesseract([img], work, limits)


def read_image(path: Path, limits: Limits) -> Extracted:
    """Reader for image files: OCR when available, else classified by name for review."""
    out = Extracted(format="image", pages=1)
    try:
        text = ocr_image(path, limits)
    except OcrUnavailable as exc:
        out.needs_review = True
        out.notes.append(f"图片文件，{exc.reason}，按文件名归类")
        return out
    except Exception as exc:  # Pillow: truncated, unknown or bomb-sized image data
        out.needs_review = True
        out.notes.append(f"图片无法解码（{type(exc).__name__}），按文件名归类")
        return out
    out.text = text[: limits.max_chars]
    out.notes.append("图片已做文字识别（OCR）")
    if len(out.text.strip()) < 10:
        out.needs_review = True
        out.notes.insert(0, "图片中未识别出文字，按文件名归类")
    return out
