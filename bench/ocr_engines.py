"""Tesseract against RapidOCR on noisy, slightly rotated scans of official documents.

Each scan is made by corpus/official/generate.py's writers (a GB/T 9704 document as a text
PDF, then rendered, rotated by up to ±1.8°, noised, blurred), so the printed text of every
page is known. Both recognisers run through the product's own path (render at
``Limits.ocr_dpi``, deskew, find the lines, recognise: :func:`extract.ocr.ocr_images`),
on the first page (read whole). Reported per engine:

- characters recovered: matched characters (difflib, no junk heuristics) / printed
  characters of the first page, spaces ignored;
- seconds per page: wall clock, and CPU of this process plus its children (Tesseract runs
  as a child process) — the machine is shared, CPU seconds are the steadier figure;
- the same for Traditional-script pages apart.

    .venv/bin/python bench/ocr_engines.py [--pages 30] [--seed 7] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpus" / "official"))

import generate as gen  # noqa: E402  (the labelled-set generator: its writers make the scans)
from handover_dossier.extract.base import Limits  # noqa: E402
from handover_dossier.extract.ocr import ocr_images  # noqa: E402
from handover_dossier.lang.textnorm import to_traditional  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _printed(pdf: Path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def _chars(s: str) -> str:
    return re.sub(r"\s+", "", s)


def recovered(truth: str, got: str) -> float:
    t, g = _chars(truth), _chars(got)
    if not t:
        return 1.0
    blocks = SequenceMatcher(None, t, g, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(t)


def make_pages(n: int, seed: int, work: Path) -> list[tuple[str, object, str]]:
    """(script, first-page image, printed text) of ``n`` generated scans; one in five in
    Traditional script."""
    rng = random.Random(seed)
    bodies = {code: gen._heldout(code) for code in sorted({c for cs in gen._KIND_CODES.values() for c in cs})}
    kinds = ["notice", "report", "letter", "joint", "speech", "minutes", "plain", "promulgate"]
    out = []
    for k in range(n):
        d = gen.make_doc(rng, kinds[k % len(kinds)], bodies)
        script = "zh-Hant" if k % 5 == 4 else "zh-Hans"
        if script == "zh-Hant":
            for attr in ("title_lines", "body", "byline", "signature", "annex_note"):
                setattr(d, attr, [to_traditional(x) for x in getattr(d, attr)])
            d.date = to_traditional(d.date)
        pdf = work / f"{k:03d}.pdf"
        gen.write_pdf(d, pdf, rng)
        image = gen.scan_pages(pdf, rng, dpi=150, color=False)[0]
        out.append((script, image, _printed(pdf)))
    return out


#: name -> environment: each recogniser alone, and the product's choice (RapidOCR, with
#: Tesseract's Traditional model for pages in Traditional script).
CONFIGS = {
    "RapidOCR": {"DOSSIER_OCR": "rapidocr", "DOSSIER_TESSERACT": "", "DOSSIER_RAPIDOCR": "1"},
    "Tesseract": {"DOSSIER_OCR": "tesseract", "DOSSIER_RAPIDOCR": "0"},
    "RapidOCR + Tesseract (繁)": {"DOSSIER_OCR": "rapidocr", "DOSSIER_RAPIDOCR": "1"},
}


def run(pages: list[tuple[str, object, str]], engine: str) -> dict:
    saved = {k: os.environ.get(k) for k in ("DOSSIER_OCR", "DOSSIER_TESSERACT", "DOSSIER_RAPIDOCR")}
    for k in saved:
        os.environ.pop(k, None)
    os.environ.update(CONFIGS[engine])
    try:
        return _run(pages, engine)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


def _run(pages: list[tuple[str, object, str]], engine: str) -> dict:
    limits = Limits()
    rows = []
    for script, image, truth in pages:
        c0, w0 = _cpu(), time.perf_counter()
        res = ocr_images([(0, image)], limits)
        rows.append({"script": script, "engine": res.engine, "recovered": recovered(truth, res.text),
                     "wall": time.perf_counter() - w0, "cpu": _cpu() - c0})
    used = {r["engine"] for r in rows}

    def summary(sel: list[dict]) -> dict:
        if not sel:
            return {}
        return {"pages": len(sel), "recovered": round(sum(r["recovered"] for r in sel) / len(sel), 4),
                "seconds_wall": round(sum(r["wall"] for r in sel) / len(sel), 3),
                "seconds_cpu": round(sum(r["cpu"] for r in sel) / len(sel), 3)}

    return {"engine": engine, "ran": sorted(used), "all": summary(rows),
            "simplified": summary([r for r in rows if r["script"] == "zh-Hans"]),
            "traditional": summary([r for r in rows if r["script"] == "zh-Hant"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Tesseract vs RapidOCR on generated noisy scans")
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="write the results here as well")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pages = make_pages(args.pages, args.seed, Path(tmp))
    load = os.getloadavg()[0]
    results = [run(pages, name) for name in CONFIGS]
    print(f"{len(pages)} noisy first pages (150 dpi, rotated up to ±1.8°); load average {load:.1f} on {os.cpu_count()} cores")
    print("| engine | pages | characters recovered | s/page (wall) | s/page (CPU) | Traditional pages: recovered |")
    print("|---|---|---|---|---|---|")
    for r in results:
        a, t = r["all"], r["traditional"]
        print(f"| {r['engine']} | {a['pages']} | {a['recovered']:.1%} | {a['seconds_wall']:.2f} | "
              f"{a['seconds_cpu']:.2f} | {t.get('recovered', 0):.1%} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"load": load, "results": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
