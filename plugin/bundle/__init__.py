"""Bundle: turn classified documents into the archival bag (BagIt in a deterministic zip).

- :mod:`.assemble` — numbering, ``index.json``, manifests, ``bag-info.txt``, the zip;
- :mod:`.archival` — 档号 pattern and retention periods;
- :mod:`.gaps` — 缺项与问题 (missing categories, one-sidedness, yearly plans/summaries);
- :mod:`.render` / :mod:`.pdfrender` — the Word documents from templates, PDF/A renditions;
- :mod:`.names` / :mod:`.ziputil` — safe member names, zip normalisation.

Imports only the inventory and leaf helpers: it does not know where documents came from.
"""

from __future__ import annotations

#: Version of the bundle layout written into ``index.json`` and ``bag-info.txt``.
BUNDLE_FORMAT = "2"


def output_settings() -> dict[str, str]:
    """How bundles are written on this machine (format, PDF renditions): what a cached
    bundle must match to be reused."""
    from .pdfrender import max_rows, pdf_disabled_reason, soffice_path

    return {
        "format": BUNDLE_FORMAT,
        "pdf": pdf_disabled_reason() or (soffice_path() or ""),
        "pdf_max_rows": str(max_rows()),
    }
