"""User-facing language: Simplified Chinese by default, Traditional on request.

Every string a user reads (CLI messages, reasons, reports, rendered documents) is written
in Simplified Chinese in the code and passed through :func:`ui` at the output boundary.
Choose Traditional with ``--lang zh-Hant`` or ``DOSSIER_LANG=zh-Hant`` (also accepted:
``zh_TW``, ``zh-TW``, ``zh_HK``, ``hant``).
"""

from __future__ import annotations

import os

from .textnorm import to_traditional

_TRADITIONAL_NAMES = {"zh-hant", "zh_hant", "hant", "zh-tw", "zh_tw", "zh-hk", "zh_hk", "traditional"}

_lang = "zh-Hans"


def normalize_lang(lang: str | None) -> str:
    """Map any accepted spelling to ``zh-Hans`` or ``zh-Hant``."""
    if lang and lang.strip().lower() in _TRADITIONAL_NAMES:
        return "zh-Hant"
    return "zh-Hans"


def set_language(lang: str | None) -> str:
    """Set the process-wide output language and return the normalised code."""
    global _lang
    _lang = normalize_lang(lang)
    return _lang


def get_language() -> str:
    return _lang


def ui(text: str, lang: str | None = None) -> str:
    """Render a Simplified-Chinese UI string in the chosen script."""
    target = normalize_lang(lang) if lang else _lang
    return to_traditional(text) if target == "zh-Hant" else text


set_language(os.environ.get("DOSSIER_LANG"))
