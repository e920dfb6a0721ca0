"""Archival codes (档号) and retention periods (保管期限).

DA/T 22-2015 builds an item's archival code from 全宗号, 年度, 保管期限 and 件号 (optionally
档案门类代码 and 机构(问题)代码); DA/T 13-2022 and local rules differ in the details, so the
pattern is data: an ``[archival]`` table in the inventory TOML may set it::

    [archival]
    pattern = "全宗号-WS·年度-保管期限-件号"   # default "全宗号-年度-保管期限-件号"
    fonds = "Z109"                             # 全宗号 when the run does not give one
    class_code = "WS"                          # 档案门类代码 (token 门类代码)
    org_code = "BGS"                           # 机构(问题)代码 (token 机构问题)

Tokens: 全宗号, 门类代码, 年度, 保管期限 (Y / D30 / D10), 机构问题, 类目 (inventory code),
件号 (four digits, gap-free). Everything else in the pattern is literal. The retention of
each item comes from its inventory category (``retention`` in the inventory data).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..inventory import RETENTIONS, Inventory

DEFAULT_PATTERN = "全宗号-年度-保管期限-件号"
DEFAULT_FONDS = "0000"
#: Longest first: the order in which a bundle's overall retention is chosen.
RETENTION_ORDER = ("永久", "定期30年", "定期10年")

_TOKENS = ("全宗号", "门类代码", "年度", "保管期限", "机构问题", "类目", "件号")
_TOKEN_RE = re.compile("|".join(re.escape(t) for t in sorted(_TOKENS, key=len, reverse=True)))


class ArchivalConfigError(ValueError):
    """The ``[archival]`` settings are unusable (message in Chinese)."""


def inventory_table(inventory: Inventory, name: str) -> dict[str, Any]:
    """An extra top-level table (``[archival]``, ``[gaps]``) of the inventory's TOML file.

    The inventory file is the one place units edit their rules, so settings that belong
    to those rules live there too; :class:`Inventory` itself only models categories.
    """
    return dict(_tables(inventory.source).get(name, {})) if inventory.source else {}


@lru_cache(maxsize=16)
def _tables(source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


@dataclass(frozen=True)
class ArchivalConfig:
    pattern: str = DEFAULT_PATTERN
    fonds: str = DEFAULT_FONDS
    class_code: str = "WS"
    org_code: str = ""

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> ArchivalConfig:
        raw = inventory_table(inventory, "archival")
        cfg = cls(
            pattern=str(raw.get("pattern", DEFAULT_PATTERN)).strip() or DEFAULT_PATTERN,
            fonds=str(raw.get("fonds", DEFAULT_FONDS)).strip() or DEFAULT_FONDS,
            class_code=str(raw.get("class_code", "WS")).strip(),
            org_code=str(raw.get("org_code", "")).strip(),
        )
        cfg.check()
        return cfg

    def check(self) -> None:
        if "件号" not in self.pattern:
            raise ArchivalConfigError(f"档号规则“{self.pattern}”中必须包含“件号”")
        if "机构问题" in self.pattern and not self.org_code:
            raise ArchivalConfigError("档号规则使用了“机构问题”，但 [archival] 中没有设置 org_code")

    def item_code(self, *, fonds: str, year: str, retention: str, seq: int, category: str = "") -> str:
        """The archival code of one item, e.g. ``Z109-2024-Y-0001``."""
        values = {
            "全宗号": fonds or self.fonds,
            "门类代码": self.class_code,
            "年度": year,
            "保管期限": RETENTIONS.get(retention, retention),
            "机构问题": self.org_code,
            "类目": category,
            "件号": f"{seq:04d}",
        }
        return _TOKEN_RE.sub(lambda m: values[m.group(0)], self.pattern)

    def regex(self) -> re.Pattern[str]:
        """A regex matching codes made with this pattern; group ``seq`` is the 件号."""
        parts = {
            "全宗号": r"[0-9A-Za-z]{1,12}",
            "门类代码": r"[0-9A-Za-z]{1,8}",
            "年度": r"(?:19|20)\d{2}",
            "保管期限": "(?:" + "|".join(RETENTIONS.values()) + ")",
            "机构问题": r"[0-9A-Za-z]{1,12}",
            "类目": r"[0-9A-Za-z]{1,8}",
            "件号": r"(?P<seq>\d{4,})",
        }
        out, pos, seen = [], 0, False
        for m in _TOKEN_RE.finditer(self.pattern):
            out.append(re.escape(self.pattern[pos : m.start()]))
            tok = m.group(0)
            if tok == "件号" and seen:
                out.append(r"\d{4,}")
            else:
                out.append(parts[tok])
            seen = seen or tok == "件号"
            pos = m.end()
        out.append(re.escape(self.pattern[pos:]))
        return re.compile("^" + "".join(out) + "$")


def filing_year(term_start: str, term_end: str, created: datetime) -> str:
    """年度 of the handover file: the year the term ended (when the handover happens)."""
    for value in (term_end, term_start):
        if value[:4].isdigit():
            return value[:4]
    return str(created.year)


def longest_retention(retentions: list[str]) -> str:
    """The file's retention is that of its longest-kept item (永久 when empty)."""
    for r in RETENTION_ORDER:
        if r in retentions:
            return r
    return RETENTION_ORDER[0]


def bundle_code(fonds: str, year: str, identity: list[str]) -> str:
    """Archival code of the bundle as a whole (案卷档号, the bag's External-Identifier):
    ``全宗号-LRJJ·年度-XXXXXX`` - LRJJ (离任交接) as the file's class, and six hex digits
    derived from unit, leader, post and term so that two handovers never share a code."""
    ident = hashlib.sha256("|".join(identity).encode()).hexdigest()
    return f"{fonds or DEFAULT_FONDS}-LRJJ·{year}-{ident[:6].upper()}"


#: A well-formed bundle code (any fonds; the hex part as written by :func:`bundle_code`).
BUNDLE_CODE_RE = re.compile(r"^[0-9A-Za-z]{1,12}-LRJJ·(?:19|20)\d{2}-[0-9A-F]{6}$")
