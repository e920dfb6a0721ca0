"""Text normalisation shared by every stage: Unicode NFC and Traditional -> Simplified.

Documents arrive in either script; rules and models work on Simplified text so that one
keyword list serves both. OpenCC does the conversion (phrase-aware), never a hand-written
character table.
"""

from __future__ import annotations

import threading
import unicodedata

import opencc

_local = threading.local()


def _converter(config: str) -> opencc.OpenCC:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    conv = cache.get(config)
    if conv is None:
        conv = cache[config] = opencc.OpenCC(config)
    return conv


def nfc(text: str) -> str:
    """Unicode NFC (macOS hands out NFD names; servers and zips expect NFC)."""
    return unicodedata.normalize("NFC", text)


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese to Simplified (no-op on Simplified or non-Chinese text)."""
    if not text:
        return text
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    """Convert Simplified Chinese to Traditional (Taiwan standard with phrases)."""
    if not text:
        return text
    return _converter("s2twp").convert(text)


def looks_traditional(text: str, sample: int = 2000) -> bool:
    """True when converting a sample to Simplified changes a noticeable share of it."""
    s = text[:sample]
    if not s:
        return False
    simp = to_simplified(s)
    changed = sum(1 for a, b in zip(s, simp, strict=False) if a != b)
    han = sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff") or 1
    return changed / han > 0.03
