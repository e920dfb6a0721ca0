"""Reading time of text documents (no scans), per format: run it with this checkout's
interpreter and with another checkout's to compare (issue 15: text documents must not get
slower by more than 10%).

    .venv/bin/python bench/text_speed.py DIR... [--reps 5]
    ../other/.venv/bin/python bench/text_speed.py DIR...

Each document is read ``--reps`` times after a warm-up read; the fastest read counts (the
machine is shared). Prints milliseconds per document by format and in all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from handover_dossier.extract import extract_document

FORMATS = (".pdf", ".docx", ".txt", ".xlsx")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    files = [p for d in args.dirs for p in sorted(d.rglob("*")) if p.suffix.lower() in FORMATS and "扫描" not in p.name]
    best: dict[Path, float] = {}
    for f in files:  # warm-up: imports, models, page cache
        try:
            extract_document(f, f.name)
        except Exception:
            pass
    for _ in range(args.reps):
        for f in files:
            t = time.perf_counter()
            try:
                extract_document(f, f.name)
            except Exception:
                pass
            best[f] = min(best.get(f, 9e9), time.perf_counter() - t)
    by: dict[str, list[float]] = {}
    for f, t in best.items():
        by.setdefault(f.suffix.lower(), []).append(t)
    for k, v in sorted(by.items()):
        print(f"{k:6} {len(v):4d} documents  {sum(v) / len(v) * 1000:8.2f} ms each")
    print(f"all    {len(best):4d} documents  {sum(best.values()) / max(len(best), 1) * 1000:8.2f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
