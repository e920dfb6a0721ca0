"""External programs the stages call: where they are on this machine.

One lookup for each tool, so that extraction, rendering and the caches that key on the
tools all agree on what is installed.
"""

from __future__ import annotations

import os
import shutil


def soffice_path() -> str | None:
    """LibreOffice's ``soffice``, or None. ``DOSSIER_SOFFICE`` overrides (empty: switched off)."""
    env = os.environ.get("DOSSIER_SOFFICE")
    if env is not None:
        env = env.strip()
        return shutil.which(env) if env else None
    return shutil.which("soffice") or shutil.which("libreoffice")
