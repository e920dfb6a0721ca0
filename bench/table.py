"""Print a results file of ``bench/run.py`` as the Markdown table README carries.

    .venv/bin/python bench/table.py bench/results/<date>-<N>docs.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _s(value: object) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(results: dict) -> str:
    """The table of one benchmark run (one row per measured command)."""
    rows = ["| run | wall s | MB/s | docs/s | fetch | extract | classify | assemble | read / from cache "
            "| CPU s | peak RSS MB | peak PSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        st = r.get("stages") or {}
        ex = r.get("extract") or {}
        cache = f"{ex.get('read', 0):,} / {ex.get('from_cache', 0):,}" if ex.get("documents") else "–"
        rows.append(f"| {r['run']} | {r['seconds']:.1f} | {r['mb_s']:.1f} | {r['docs_s']:.1f} | {_s(st.get('fetch'))} "
                    f"| {_s(st.get('extract'))} | {_s(st.get('classify'))} | {_s(st.get('assemble'))} | {cache} "
                    f"| {r.get('cpu_seconds', 0):.0f} | {r.get('peak_rss_mb', 0)} | {r.get('peak_pss_mb', 0)} |")
    runs = {r["run"]: r for r in results["runs"]}
    notes = []
    if "rclone copy" in runs and "dossier cold" in runs:
        notes.append(f"cold / rclone = {runs['dossier cold']['seconds'] / runs['rclone copy']['seconds']:.2f} "
                     "(target ≤ 1.5)")
    if "dossier warm" in runs and "dossier cold" in runs:
        notes.append(f"warm / cold = {runs['dossier warm']['seconds'] / runs['dossier cold']['seconds']:.3f} "
                     "(target ≤ 0.05)")
    scans = (runs.get("dossier cold", {}).get("extract") or {}).get("by_format", {}).get("pdf+ocr")
    if scans:
        notes.append(f"OCR of {scans['documents']} scans: {scans['seconds']:.0f} s of worker time")
    return "\n".join(rows) + ("\n\n" + "; ".join(notes) + "." if notes else "")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(markdown(json.loads(Path(arg).read_text(encoding="utf-8"))))
