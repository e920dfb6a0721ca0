"""Where the editable data lives: the inventory, the docx templates, the training corpus.

Users change these files, so they are looked up at run time instead of being baked into
code. Order: an explicit environment override, the repository checkout (editable
install, the documented way), then the copy installed under ``share/handover-dossier``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]  # plugin/runtime/resources.py -> checkout


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def templates_dir() -> Path:
    """Folder holding ``inventory.toml`` and the docx templates."""
    env = os.environ.get("DOSSIER_TEMPLATES")
    if env:
        return Path(env)
    return _first_existing(_REPO / "templates", Path(sys.prefix) / "share" / "handover-dossier" / "templates")


def corpus_dir() -> Path:
    """Folder holding the labelled training and held-out sets shipped with the project."""
    env = os.environ.get("DOSSIER_CORPUS")
    if env:
        return Path(env)
    return _first_existing(_REPO / "corpus", Path(sys.prefix) / "share" / "handover-dossier" / "corpus")


def cache_dir() -> Path:
    """Per-user cache (downloaded documents, trained models), private to the user: it holds
    copies of a leader's records, so it is created (or narrowed to) mode 0700."""
    env = os.environ.get("DOSSIER_CACHE")
    if env:
        return private_dir(Path(env))
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return private_dir(Path(base) / "handover-dossier")


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (0700): created so, or narrowed when it
    is ours and open to others. Best effort (a folder someone else owns is left alone)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            path.chmod(0o700)
    except OSError:
        pass
    return path
