"""Safe names for files inside a bundle.

Bundle members are opened years later on Windows, macOS and Linux, by archive software
that trusts them: no path separators, no traversal, no control or reserved characters,
bounded length, NFC.
"""

from __future__ import annotations

import re

from ..lang.textnorm import nfc

_BAD = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)

MAX_CHARS = 60
MAX_BYTES = 150


def safe_component(text: str, fallback: str = "未命名", max_chars: int = MAX_CHARS, max_bytes: int = MAX_BYTES) -> str:
    """One path component made from free text (a title, a unit name)."""
    s = nfc(text or "")
    s = _BAD.sub("_", s)
    s = re.sub(r"\s+", " ", s).strip(" ._")
    s = s.replace("..", "_")
    if not s or _WINDOWS_RESERVED.match(s):
        s = fallback
    s = s[:max_chars]
    while len(s.encode("utf-8")) > max_bytes:
        s = s[:-1]
    return s.rstrip(" .") or fallback


def is_safe_member(name: str) -> bool:
    """True for a zip member name that cannot escape its extraction folder."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    parts = name.split("/")
    return all(p not in ("..", ".") for p in parts)


#: Longest member path (characters) written into a bundle: Windows tools still trip over
#: paths longer than 260 characters once the bundle is unpacked into a folder.
MAX_PATH_CHARS = 200


def unique_name(path: str, taken: set[str]) -> str:
    """``path`` made unique among ``taken`` (compared case-insensitively, because bundles
    are unpacked on case-insensitive file systems); adds ``-2``, ``-3`` ... before the
    extension. Records the result in ``taken``."""
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = path, ""
    candidate, n = path, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}-{n}" + (f".{ext}" if ext else "")
    taken.add(candidate.casefold())
    return candidate


def is_case_collision(names: list[str]) -> list[str]:
    """Names that collide with another one when case is ignored."""
    seen: dict[str, str] = {}
    out = []
    for n in names:
        key = n.casefold()
        if key in seen and seen[key] != n:
            out.append(n)
        seen.setdefault(key, n)
    return out
