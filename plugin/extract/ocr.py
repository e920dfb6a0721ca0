"""Text and layout from scans: deskew, find the lines, recognise them (RapidOCR or Tesseract).

Scanned PDFs and photographed pages have no text layer. A scan is read like a text
document: the whole first page (版头, 标题 and the opening the classifier reads) and the
last page (发文机关署名, 成文日期, 版记), each

1. rendered at ``Limits.ocr_dpi`` in grey (PDFium for PDFs; Pillow for images, every
   frame of a multi-page TIFF counted, the first and last read),
2. deskewed: the angle (within ±3°) that makes the rows of ink sharpest in a horizontal
   projection, then rotated back,
3. cut into lines by the same projection (and a line into fields where a wide gap
   separates them: 文号 … 签发人, 印发机关 … 印发日期); on a last page that is not the first,
   full-width body lines above the lower part are skipped (they hold no catalogue field),
4. recognised line by line, and handed over as positioned lines (:mod:`.layout`), so the
   layout reader of :mod:`.official` reads scans exactly as it reads PDFs.

Two recognisers, chosen by measurement (``bench/ocr_engines.py``): RapidOCR (PP-OCRv4
recognition model on ONNX Runtime, shipped inside the ``rapidocr-onnxruntime`` wheel:
nothing is downloaded) and Tesseract (Debian ``tesseract-ocr`` with ``chi_sim`` and
``chi_tra``; the Traditional model is tried when the Simplified reading is doubtful).
``DOSSIER_OCR`` picks one (``rapidocr`` / ``tesseract``); the other is the fallback
when the first is not installed or fails. When neither can run, :class:`OcrUnavailable`
says so in Chinese and the caller keeps the document as an item classified by name,
flagged for review. ``DOSSIER_TESSERACT`` names the Tesseract binary (an empty value or a
path that does not exist switches Tesseract off).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..runtime.sandbox import safe_environ
from .base import Extracted, Limits
from .layout import Box, Line, from_boxes

#: Tesseract languages used when installed, in order of preference.
LANGUAGES = ("chi_sim", "chi_tra")
#: Recognisers in order of preference (measured: bench/ocr_engines.py); DOSSIER_OCR overrides.
ENGINES = ("rapidocr", "tesseract")

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


def tesseract_setup() -> tuple[str, str]:
    """``(binary, "chi_sim+chi_tra")`` or raise :class:`OcrUnavailable` with the reason."""
    binary = tesseract_binary()
    if not binary:
        raise OcrUnavailable("未安装 Tesseract（tesseract-ocr），未做文字识别")
    langs = _languages(binary)
    if not langs:
        raise OcrUnavailable("Tesseract 缺少中文识别数据（tesseract-ocr-chi-sim / chi-tra），未做文字识别")
    return binary, "+".join(langs)


def rapidocr_available() -> bool:
    """True when RapidOCR's recogniser (and its bundled model) can be imported here."""
    if os.environ.get("DOSSIER_RAPIDOCR", "1").strip() in ("0", ""):
        return False
    try:
        import importlib.util

        return importlib.util.find_spec("rapidocr_onnxruntime") is not None
    except (ImportError, ValueError):
        return False


def engine_order() -> list[str]:
    """The recognisers to try, preferred first: ``DOSSIER_OCR`` when set, then the rest."""
    wanted = os.environ.get("DOSSIER_OCR", "").strip().lower()
    order = [wanted] if wanted in ENGINES else []
    order += [e for e in ENGINES if e not in order]
    available = []
    for e in order:
        if e == "rapidocr" and rapidocr_available():
            available.append(e)
        elif e == "tesseract":
            try:
                tesseract_setup()
                available.append(e)
            except OcrUnavailable:
                pass
    return available


def ocr_setup() -> tuple[str, str]:
    """What OCR runs here, for cache keys and messages: ``(engines, detail)``; raises
    :class:`OcrUnavailable` when no recogniser can run."""
    engines = engine_order()
    if not engines:
        try:
            tesseract_setup()
        except OcrUnavailable as exc:
            if tesseract_binary():  # Tesseract is there, its Chinese data is not
                raise
            raise OcrUnavailable("未安装文字识别引擎（RapidOCR 或 Tesseract），未做文字识别") from exc
    detail = []
    for e in engines:
        if e == "tesseract":
            detail.append("tesseract:" + "+".join(tesseract_setup()))
        else:
            import importlib.metadata

            try:
                detail.append(f"rapidocr:{importlib.metadata.version('rapidocr-onnxruntime')}")
            except importlib.metadata.PackageNotFoundError:
                detail.append("rapidocr")
    return ",".join(engines), ";".join(detail)


#: Misreadings of the recognisers in the vocabulary of official documents: 入 read as 人
#: after a verb that only ever takes 入 (收入, 纳入, 投入 …).
_OCR_FIXES = {f"{v}人": f"{v}入" for v in "收纳投列录输介深融引流注计转编"} | {"人库": "入库", "人账": "入账"}
_OCR_WORDS = re.compile("|".join(sorted(_OCR_FIXES, key=len, reverse=True)))


def clean_ocr_text(text: str) -> str:
    """Drop the spaces Tesseract puts between Chinese characters; a dash read as two
    hyphens is the Chinese dash (破折号) again; tidy blank lines."""
    text = text.replace("\f", "\n")
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = re.sub(r"(?:(?<=[\u4e00-\u9fff”）])|^)\s*(?:[－\-—–]{2}|一一(?=在))\s*", "——", text, flags=re.M)
    text = _OCR_WORDS.sub(lambda m: _OCR_FIXES[m.group(0)], text)
    text = re.sub(r"(?<=\d{4})\s*[－\-–~～]\s*(?=\d{4})", "—", text)  # 2022—2024年: a year range
    lines = [ln.strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln)


# --------------------------------------------------------------------------- page images


def _gray_array(im):
    import numpy as np

    return np.asarray(im.convert("L"), dtype=np.uint8)


def _ink(a) -> object:
    """Dark pixels (text) of a grey page: Otsu's threshold, capped so that a page with
    little ink does not turn its paper grain into text."""
    import numpy as np

    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    wb = np.cumsum(hist)
    sb = np.cumsum(levels * hist)
    total, sum_all = wb[-1], sb[-1]
    wf = total - wb
    mb = sb / np.maximum(wb, 1)
    mf = (sum_all - sb) / np.maximum(wf, 1)
    between = wb * wf * (mb - mf) ** 2
    t = int(np.argmax(between))
    return a <= min(max(t, 60), 200)


def skew_angle(ink, max_degrees: float = 3.0) -> float:
    """The angle (degrees) that makes the page's text rows horizontal: rows of ink are
    sharpest (largest sum of squared row counts) when the page is straight."""
    import numpy as np

    step = max(1, ink.shape[1] // 700)
    ys, xs = np.nonzero(ink[::step, ::step])
    if len(ys) < 200:
        return 0.0
    if len(ys) > 50_000:
        pick = np.random.default_rng(0).choice(len(ys), 50_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64)

    def sharpness(deg: float) -> float:
        t = np.deg2rad(deg)
        rows = ys * np.cos(t) - xs * np.sin(t)
        hist = np.bincount((rows - rows.min()).astype(np.int64))
        return float(np.dot(hist, hist))

    coarse = max(np.arange(-max_degrees, max_degrees + 1e-9, 0.25), key=sharpness)
    return float(max(np.arange(coarse - 0.25, coarse + 0.25 + 1e-9, 0.05), key=sharpness))


def deskew(im):
    """The page turned straight (PIL grey image) and the angle it was turned by."""
    from PIL import Image

    angle = skew_angle(_ink(_gray_array(im)))
    if abs(angle) < 0.1:
        return im, 0.0
    return im.rotate(angle, resample=Image.BILINEAR, fillcolor=255), angle


@dataclass
class Segment:
    """A line (or one field of a line) of a page image, in pixels."""

    x0: int
    y0: int
    x1: int
    y1: int


def clean_ink(ink):
    """Ink without specks: a 2×2 opening keeps strokes (two pixels wide and more at the
    resolutions read) and drops the scanner's dust and salt noise."""
    import numpy as np

    core = ink[:-1, :-1] & ink[1:, :-1] & ink[:-1, 1:] & ink[1:, 1:]  # erosion
    out = np.zeros_like(ink)
    out[:-1, :-1] |= core  # dilation back
    out[1:, :-1] |= core
    out[:-1, 1:] |= core
    out[1:, 1:] |= core
    return out


def find_lines(ink) -> list[Segment]:
    """Text lines from the horizontal projection of a straight page; a line is cut where a
    gap wider than one and a half line heights (Chinese text has none) separates two fields."""
    import numpy as np

    ink = clean_ink(ink)

    w = ink.shape[1]
    rows = ink.sum(axis=1)
    on = rows > max(2, int(w * 0.004))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    runs = [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    raw_heights = sorted(b - a for a, b in runs if b - a >= 6)
    typical = raw_heights[len(raw_heights) // 2] if raw_heights else 20
    # A character in large type can have a white band across it (告: 生 over 口); lines of
    # body type are a good half line apart. Close gaps of a fifth of a line, and a piece
    # shorter than half a line to its neighbour within a third of a line.
    merged: list[list[int]] = []
    for r in runs:
        if merged:
            gap = r[0] - merged[-1][1]
            small = min(r[1] - r[0], merged[-1][1] - merged[-1][0]) < typical * 0.5
            if gap <= max(2, typical * 0.2) or (small and gap <= typical * 0.35):
                merged[-1][1] = r[1]
                continue
        merged.append(r)
    heights = sorted(b - a for a, b in merged if b - a >= 6)
    typical = heights[len(heights) // 2] if heights else typical
    out: list[Segment] = []
    for y0, y1 in merged:
        lh = y1 - y0
        if lh < max(6, typical * 0.3):
            continue  # specks, rules (红线, 版记 lines), underlines
        cols = np.flatnonzero(ink[y0:y1].sum(axis=0) > 1)
        if len(cols) == 0:
            continue
        if lh > typical * 3.2 and len(cols) > w * 0.8:
            continue  # a block of noise or a picture, not a line
        gaps = np.flatnonzero(np.diff(cols) > lh * 1.5)
        start = 0
        for g in [*gaps.tolist(), len(cols) - 1]:
            seg = cols[start:g + 1]
            start = g + 1
            if len(seg) and seg[-1] - seg[0] >= lh * 0.6 and ink[y0:y1, seg[0]:seg[-1] + 1].sum() > lh * 2:
                out.append(Segment(int(seg[0]), y0, int(seg[-1]) + 1, y1))
    return out


def _wanted(segments: list[Segment], width: int, height: int, *, first: bool) -> list[Segment]:
    """The lines worth recognising: all of a first page; of a later (last) page the lower
    part and every line that is not full-width body text (signature, date, 版记)."""
    if first or not segments:
        return segments
    left = min(s.x0 for s in segments)
    right = max(s.x1 for s in segments)
    full = (right - left) * 0.85
    return [s for s in segments if s.y0 > height * 0.5 or (s.x1 - s.x0) < full]


# --------------------------------------------------------------------------- recognisers


@lru_cache(maxsize=1)
def _rapid_recognizer():
    """RapidOCR's text recogniser alone (no detector, no angle classifier: lines come from
    :func:`find_lines`), one thread (documents are read in parallel processes)."""
    try:
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
        from rapidocr_onnxruntime.utils import read_yaml
        from rapidocr_onnxruntime.utils.parse_parameters import update_model_path
    except Exception as exc:  # missing wheel, or ONNX Runtime failing to load
        raise OcrUnavailable(f"无法加载 RapidOCR（{type(exc).__name__}），未做文字识别") from exc
    config = update_model_path(read_yaml(DEFAULT_CFG_PATH))["Rec"]
    config.update({"intra_op_num_threads": 1, "inter_op_num_threads": 1, "rec_batch_num": 1})
    try:
        return TextRecognizer(config)
    except Exception as exc:
        raise OcrUnavailable(f"无法加载 RapidOCR 识别模型（{type(exc).__name__}），未做文字识别") from exc


def _crop(arr, s: Segment, pad: int = 4):
    """A line with white around it: a little above and below, half a character on either
    side (a recogniser tends to drop a last character that touches the edge)."""
    side = max(pad, (s.y1 - s.y0) // 2)
    return arr[max(0, s.y0 - pad): s.y1 + pad, max(0, s.x0 - side): s.x1 + side]


def _recognise_rapid(pages: list[tuple[object, list[Segment]]], limits: Limits) -> list[list[tuple[str, float]]]:
    import numpy as np

    rec = _rapid_recognizer()
    out = []
    for arr, segs in pages:
        rgb = np.repeat(arr[:, :, None], 3, axis=2)
        crops = [_crop(rgb, s) for s in segs]
        if not crops:
            out.append([])
            continue
        try:
            res, _ = rec(crops)
        except Exception as exc:
            raise OcrUnavailable(f"RapidOCR 识别失败（{type(exc).__name__}），未做文字识别") from exc
        out.append([(str(t), float(c)) for t, c in res])
    return out


#: Below this mean word confidence (0-100) Tesseract's Simplified reading is doubted and
#: the Traditional model is tried too; the more confident reading wins. Measured on 21
#: noisy 200-dpi scans (bench corpus): Simplified pages read with chi_sim 82-90;
#: Traditional pages read with chi_sim 65-75 (and with chi_tra 79-90).
RETRY_CONFIDENCE = 78.0
#: ``--psm 6`` (one block of text): the stacked lines are one column.
PSM = "6"
_GAP = 24  # pixels of white between stacked lines


def _stack(arr, segs: list[Segment]):
    """The page's lines stacked into one column image (left-aligned, white between), and
    where each line's slot starts: Tesseract reads them in one call as one block."""
    import numpy as np

    crops = [_crop(arr, s, 6) for s in segs]
    width = max(c.shape[1] for c in crops)
    height = sum(c.shape[0] + _GAP for c in crops) + _GAP
    canvas = np.full((height, width + 2 * _GAP), 255, dtype=np.uint8)
    slots = []
    y = _GAP
    for c in crops:
        canvas[y:y + c.shape[0], _GAP:_GAP + c.shape[1]] = c
        slots.append((y, y + c.shape[0]))
        y += c.shape[0] + _GAP
    return canvas, slots


def _tesseract_once(binary: str, lang: str, listing: Path, workdir: Path, limits: Limits, timeout: float
                    ) -> tuple[list[list[tuple[int, str, float]]], float]:
    """One Tesseract call over the stacked images: per image, its recognised lines as
    (top y, text, confidence); and the mean word confidence."""
    base = workdir / f"out-{lang}"
    # one core per document (workers run in parallel); no secrets for an external tool
    env = safe_environ(OMP_THREAD_LIMIT="1")
    cmd = [binary, str(listing), str(base), "-l", lang, "--psm", PSM, "--dpi", str(limits.ocr_dpi), "tsv"]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=max(timeout, 1.0), env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrUnavailable(f"文字识别超时（超过 {limits.tool_timeout:.0f} 秒），未做文字识别") from exc
    except OSError as exc:
        raise OcrUnavailable(f"无法运行 Tesseract（{exc.strerror or exc}），未做文字识别") from exc
    tsv = base.with_suffix(".tsv")
    if res.returncode != 0 or not tsv.is_file():
        raise OcrUnavailable("文字识别失败（Tesseract 报错），未做文字识别")
    pages: dict[int, dict[tuple[int, int, int], list]] = {}
    confs: list[float] = []
    for row in tsv.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip():
            continue
        try:
            page, block, par, line = (int(cols[k]) for k in (1, 2, 3, 4))
            top, conf = int(cols[7]), float(cols[10])
        except ValueError:
            continue
        if conf >= 0:
            confs.append(conf)
        pages.setdefault(page, {}).setdefault((block, par, line), []).append((top, cols[11], conf))
    out = []
    for p in sorted(pages):
        lines = []
        for words in pages[p].values():
            text = clean_ocr_text(" ".join(w[1] for w in words))
            lines.append((min(w[0] for w in words), text, sum(w[2] for w in words) / len(words) / 100))
        out.append(sorted(lines))
    return out, (sum(confs) / len(confs) if confs else 0.0)


def _recognise_tesseract(pages: list[tuple[object, list[Segment]]], limits: Limits, *, traditional_first: bool = False
                         ) -> list[list[tuple[str, float]]]:
    """Tesseract over each page's stacked lines (one call for all pages; the other script's
    model again when the first reading is doubtful); each recognised line is given back to
    the segment whose slot it lies in."""
    from PIL import Image

    binary, langs = tesseract_setup()
    if traditional_first:
        langs = "+".join(sorted(langs.split("+"), key=lambda x: x != "chi_tra"))
    with tempfile.TemporaryDirectory(prefix="dossier-ocr-") as tmp:
        work = Path(tmp)
        images, slots_of = [], []
        for k, (arr, segs) in enumerate(pages):
            if not segs:
                slots_of.append([])
                continue
            canvas, slots = _stack(arr, segs)
            p = work / f"page-{k:02d}.png"
            Image.fromarray(canvas).save(p)
            images.append((k, p))
            slots_of.append(slots)
        out: list[list[tuple[str, float]]] = [[("", 0.0)] * len(segs) for _, segs in pages]
        if not images:
            return out
        listing = work / "pages.txt"
        listing.write_text("\n".join(str(p) for _, p in images) + "\n", encoding="utf-8")
        deadline = time.monotonic() + min(limits.tool_timeout, limits.timeout * 0.8)
        order = langs.split("+")
        best, best_conf = _tesseract_once(binary, order[0], listing, work, limits, deadline - time.monotonic())
        for lang in order[1:]:
            if best_conf >= RETRY_CONFIDENCE or deadline - time.monotonic() < 1.0:
                break
            try:
                other, conf = _tesseract_once(binary, lang, listing, work, limits, deadline - time.monotonic())
            except OcrUnavailable:
                break
            if conf > best_conf:
                best, best_conf = other, conf
        for (k, _), lines in zip(images, best, strict=False):
            slots = slots_of[k]
            for top, text, conf in lines:
                for j, (a, b) in enumerate(slots):
                    if a - _GAP // 2 <= top < b + _GAP // 2:
                        prev = out[k][j][0]
                        out[k][j] = (f"{prev}{text}" if prev else text, conf)
                        break
        return out


# --------------------------------------------------------------------------- reading a scan


@dataclass
class OcrResult:
    text: str
    layout: list[Line]
    engine: str
    #: Pages read (indexes) and the skew corrected on each (degrees).
    pages: list[int]
    angles: list[float]
    #: Pages (frames) in the file.
    total: int = 1


def ocr_images(images: list[tuple[int, object]], limits: Limits) -> OcrResult:
    """Read page images (``(page index, PIL image)``, the first page first): deskew, find
    the lines, recognise them with the first recogniser that runs."""
    prepared = []
    angles = []
    for k, (index, im) in enumerate(images):
        straight, angle = deskew(im.convert("L"))
        arr = _gray_array(straight)
        segs = find_lines(_ink(arr))
        segs = _wanted(segs, arr.shape[1], arr.shape[0], first=k == 0)
        prepared.append((index, arr, segs))
        angles.append(angle)
    engines = engine_order()
    if not engines:
        ocr_setup()  # raises with the reason
    last_error: OcrUnavailable | None = None
    for engine in engines:
        try:
            pages = [(arr, segs) for _, arr, segs in prepared]
            texts = _recognise_rapid(pages, limits) if engine == "rapidocr" else _recognise_tesseract(pages, limits)
        except OcrUnavailable as exc:
            last_error = exc
            continue
        if engine == "rapidocr" and "tesseract" in engines:
            texts = _traditional_check(pages, texts, limits)
        layout: list[Line] = []
        for (index, arr, segs), recognised in zip(prepared, texts, strict=True):
            boxes = [Box(clean_ocr_text(text), s.x0, s.y0, s.x1, s.y1) for s, (text, conf) in zip(segs, recognised, strict=True)
                     if text.strip() and conf >= 0.3]
            if layout and boxes:
                layout.append(Line("…", page=-1))
            layout.extend(from_boxes(boxes, index, arr.shape[1], arr.shape[0]))
        text = "\n".join(ln.text for ln in layout if ln.text != "…")
        return OcrResult(clean_ocr_text(text), layout, engine, [i for i, _, _ in prepared], angles)
    raise last_error or OcrUnavailable("文字识别失败，未做文字识别")


#: Mean line confidence (0-1) above which Tesseract's Traditional reading replaces
#: RapidOCR's on a Traditional-script page (PP-OCR's Chinese model drops and simplifies
#: some Traditional characters: bench/ocr_engines.py).
TRADITIONAL_CONFIDENCE = 0.78


def _traditional_check(pages: list, texts: list[list[tuple[str, float]]], limits: Limits) -> list[list[tuple[str, float]]]:
    """A page in Traditional script is read again by Tesseract's Traditional model, which
    reads it better; its reading is kept when it is confident."""
    from ..lang.textnorm import looks_traditional

    joined = "".join(t for page in texts for t, _ in page)
    if not joined or not looks_traditional(joined):
        return texts
    try:
        other = _recognise_tesseract(pages, limits, traditional_first=True)
    except OcrUnavailable:
        return texts
    confs = [c for page in other for t, c in page if t]
    if confs and sum(confs) / len(confs) >= TRADITIONAL_CONFIDENCE:
        return other
    return texts


def _page_indexes(n: int) -> list[int]:
    """First and last page (one page when they coincide)."""
    return [0] if n <= 1 else [0, n - 1]


def ocr_pdf(path: Path, limits: Limits) -> OcrResult:
    """OCR of a scanned PDF's first and last page."""
    import pypdfium2 as pdfium

    ocr_setup()  # fail fast, before rendering anything
    images = []
    doc = pdfium.PdfDocument(str(path))
    try:
        for i in _page_indexes(len(doc)):
            page = doc[i]
            w, h = page.get_size()  # points
            scale = limits.ocr_dpi / 72
            if w * h * scale * scale > limits.max_pixels:
                scale = (limits.max_pixels / max(w * h, 1)) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            images.append((i, bitmap.to_pil().convert("L")))
            bitmap.close()
            page.close()
    finally:
        doc.close()
    if not images:
        return OcrResult("", [], "", [], [])
    return ocr_images(images, limits)


def image_pages(path: Path) -> int:
    """Frames in an image file (a multi-page TIFF has several)."""
    from PIL import Image

    with Image.open(path) as im:
        return int(getattr(im, "n_frames", 1) or 1)


def ocr_image(path: Path, limits: Limits) -> OcrResult:
    """OCR of an image file: a photographed or scanned page, or the first and last page of
    a multi-page TIFF. Pages are scaled to ``Limits.ocr_dpi`` (from the file's own
    resolution, else A4 width) and never beyond ``Limits.max_pixels``."""
    from PIL import Image

    ocr_setup()
    Image.MAX_IMAGE_PIXELS = limits.max_pixels * 4  # beyond this Pillow refuses (bomb guard)
    images = []
    with Image.open(path) as im:
        n = int(getattr(im, "n_frames", 1) or 1)
        for i in _page_indexes(n):
            im.seek(i)
            im.draft("L", (4000, 4000))  # JPEG: decode at reduced size directly
            # The header gives the size before any pixel is decoded: a 0.9 MB PNG can declare
            # 17000×17000 (3 GB once decoded). Formats that cannot decode reduced stop here.
            w, h = im.size
            if w * h > limits.max_pixels * 2:
                raise OcrUnavailable(f"图片尺寸过大（{w}×{h} 像素），为防止耗尽内存未解码，未做文字识别")
            frame = im.convert("L")
            dpi = (im.info.get("dpi") or (0, 0))[0] or 0
            target = limits.ocr_dpi / dpi if dpi and dpi > limits.ocr_dpi * 1.2 else 1.0
            if not dpi and frame.width > 8.27 * limits.ocr_dpi * 1.2:  # no resolution: assume an A4-wide page
                target = 8.27 * limits.ocr_dpi / frame.width
            if frame.width * frame.height * target * target > limits.max_pixels:
                target = (limits.max_pixels / (frame.width * frame.height)) ** 0.5
            if target < 0.95:
                frame = frame.resize((max(1, int(frame.width * target)), max(1, int(frame.height * target))))
            images.append((i, frame))
    res = ocr_images(images, limits)
    res.total = n
    return res


def read_image(path: Path, limits: Limits) -> Extracted:
    """Reader for image files: OCR when available, else classified by name for review."""
    out = Extracted(format="image", pages=1)
    try:
        res = ocr_image(path, limits)
        out.pages = res.total
    except OcrUnavailable as exc:
        out.needs_review = True
        out.notes.append(f"图片文件，{exc.reason}，按文件名归类")
        return out
    except Exception as exc:  # Pillow: truncated, unknown or bomb-sized image data
        out.needs_review = True
        out.notes.append(f"图片无法解码（{type(exc).__name__}），按文件名归类")
        return out
    out.text = res.text[: limits.max_chars]
    out.layout = res.layout
    pages = "首页和末页" if len(res.pages) > 1 else "全页"
    out.notes.append(f"图片已做文字识别（OCR，{pages}）")
    if len(out.text.strip()) < 10:
        out.needs_review = True
        out.notes.insert(0, "图片中未识别出文字，按文件名归类")
    return out
