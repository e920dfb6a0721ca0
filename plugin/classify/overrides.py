"""Corrections by the archivist that win over the classifier.

Two ways, both one step:
- a DMS tag on the file: ``交接:C6`` (also ``交接：C6``, ``交接:财务收支状况``, Traditional ``交接:財務收支狀況``);
- a sidecar mapping file (``dossier-mapping.csv`` at the source root, or ``--mapping FILE``):
  one line per document, ``path,code`` (path relative to the source root, or a bare file
  name), ``#`` starts a comment.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..inventory import Category, Inventory
from ..lang.textnorm import nfc, to_simplified

TAG_PREFIX = re.compile(r"^\s*(?:交接|交接類目|交接类目)\s*[:：]\s*(.+)$")

#: File name of the sidecar mapping looked for at the source root.
MAPPING_NAME = "dossier-mapping.csv"


def category_from_tags(tags: tuple[str, ...], inventory: Inventory) -> tuple[Category, str] | None:
    for tag in tags:
        m = TAG_PREFIX.match(to_simplified(tag))
        if m:
            cat = inventory.resolve(m.group(1))
            if cat:
                return cat, tag
    return None


class Mapping:
    """Archivist corrections: source path (or bare file name) -> category code."""

    def __init__(self, entries: dict[str, str] | None = None, origin: str = "") -> None:
        self.entries = {nfc(k).strip("/"): v for k, v in (entries or {}).items()}
        self.origin = origin

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, source: str) -> str | None:
        source = nfc(source)
        return self.entries.get(source) or self.entries.get(source.rsplit("/", 1)[-1])

    @classmethod
    def parse(cls, text: str, inventory: Inventory, origin: str = "") -> Mapping:
        entries: dict[str, str] = {}
        errors = []
        rows = csv.reader(io.StringIO(text))
        first = True
        for lineno, row in enumerate(rows, 1):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            header, first = first, False
            if header and row[0].strip().lower() in {"path", "路径", "source", "文件"}:
                continue  # a header row (after any comment lines)
            if len(row) < 2:
                errors.append(f"第 {lineno} 行缺少类目代码")
                continue
            path, code = row[0].strip(), row[1].strip()
            cat = inventory.resolve(code)
            if cat is None:
                errors.append(f"第 {lineno} 行的类目“{code}”不在清单中")
                continue
            entries[path] = cat.code
        if errors:
            raise ValueError(f"映射文件 {origin} 有误：" + "；".join(errors))
        return cls(entries, origin)

    @classmethod
    def load(cls, path: str | Path, inventory: Inventory) -> Mapping:
        p = Path(path)
        return cls.parse(p.read_text(encoding="utf-8-sig"), inventory, origin=str(p))
