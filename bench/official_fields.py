"""The full measurement of the catalogue fields (issue 15) on a generated labelled set.

Generates a labelled set of official-format documents with corpus/official/generate.py
(default 150 text documents and 40 scans, a seed other than the checked-in set's), runs
``dossier eval`` on it (the product's extraction, layout reader, OCR and classifier) and
prints per-field accuracy for text documents and for scans, the scans' classification,
and the time the scans take: read in the product's worker pool (2 processes here), wall
seconds per scan, and CPU seconds per scan (this process and its children).

    .venv/bin/python bench/official_fields.py [--n 150] [--scans 40] [--seed 1515] [--set DIR] [--json OUT]

``--set DIR`` measures an existing labelled folder (``fields.csv`` beside code folders)
instead of generating one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpus" / "official"))

import generate as gen  # noqa: E402
from handover_dossier.extract.base import Limits  # noqa: E402
from handover_dossier.pipeline import read_files  # noqa: E402
from handover_dossier.quality.evaluate import FIELD_COLUMNS, evaluate  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def scan_timing(root: Path, workers: int) -> dict:
    """Read every scan of the set as the product does (worker pool, time limits, no cache)."""
    with (root / "fields.csv").open(encoding="utf-8") as f:
        scans = [r["path"] for r in csv.DictReader(f) if r["format"].startswith("scan")]
    if not scans:
        return {}
    files = [(i, root / p, Path(p).name) for i, p in enumerate(scans)]
    w0 = time.perf_counter()
    list(read_files(files, workers=workers, limits=Limits()))
    pooled = time.perf_counter() - w0
    # one at a time in this process: CPU per scan (Tesseract, when it runs, is a child)
    c0, w1 = _cpu(), time.perf_counter()
    list(read_files(files, workers=1, limits=Limits()))
    return {"scans": len(scans), "workers": workers, "wall_per_scan_pool": round(pooled / len(scans), 3),
            "wall_per_scan_serial": round((time.perf_counter() - w1) / len(scans), 3),
            "cpu_per_scan": round((_cpu() - c0) / len(scans), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Per-field accuracy and scan time on a generated labelled set")
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--scans", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1515)
    ap.add_argument("--set", type=Path, help="an existing labelled set instead of a generated one")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    root = args.set
    if root is None:
        root = ROOT / "bench" / "results" / f"official-set-{args.seed}"
        if root.exists():
            shutil.rmtree(root)
        gen.generate(root, args.n, args.scans, args.seed)
    res = evaluate(root, workers=args.workers)
    timing = scan_timing(root, args.workers)
    load = os.getloadavg()[0]
    text, scan = res.field_accuracy("text"), res.field_accuracy("scan")
    print(f"{res.n} documents ({sum(1 for g in res.groups.values() if g == 'text')} text, "
          f"{sum(1 for g in res.groups.values() if g == 'scan')} scans): {root}")
    print(f"classification: accuracy {res.accuracy:.1%}, abstained {res.abstention:.1%}")
    print("| field | all | text documents | scans |")
    print("|---|---|---|---|")
    for key, col in FIELD_COLUMNS.items():
        a = res.field_accuracy()[key]
        t, s = text.get(key), scan.get(key)
        print(f"| {col} | {a['accuracy']:.1%} ({int(a['right'])}/{int(a['documents'])}) | "
              f"{t['accuracy']:.1%} | {s['accuracy']:.1%} |" if t and s else f"| {col} | {a['accuracy']:.1%} | | |")
    if scan:
        sc = res.group_classification("scan")
        print(f"scans: classified right {sc['accuracy_decided']:.1%} of the decided, abstained {sc['abstention_rate']:.1%}")
    if timing:
        print(f"scan time: {timing['wall_per_scan_pool']:.2f} s per scan in a pool of {timing['workers']} workers, "
              f"{timing['wall_per_scan_serial']:.2f} s one at a time, {timing['cpu_per_scan']:.2f} CPU-s per scan "
              f"(load average {load:.1f} on {os.cpu_count()} cores)")
    wrong = [f for f in res.fields if not f.ok]
    for f in wrong[:40]:
        print(f"  ✗ {f.path} {FIELD_COLUMNS[f.field]}: {f.truth!r} ← {f.predicted!r} ({f.source})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"set": str(root), "load": load, "timing": timing, **res.as_json()},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
