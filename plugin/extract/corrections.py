"""The archivist's corrections of catalogue fields (题名, 责任者, 日期, 文号, 密级, 页数).

The layout reader says where each field came from and how sure it is; an archivist who
finds a field wrong corrects it once, and the correction wins in every later assembly:

- a sidecar ``dossier-fields.csv`` at the source root (or ``--fields FILE``): one row per
  document, ``路径`` (path relative to the source root, or a bare file name) and any of the
  columns 题名, 责任者, 日期, 文号, 密级, 页数 (an empty cell corrects nothing; ``-`` clears
  the field). English column names (path, title, responsible, date, doc_number, secrecy,
  pages) are accepted too;
- a DMS tag on the file, as for categories: ``交接:日期=2024-03-05``,
  ``交接:题名=关于……的通知`` (also with a full-width colon or equals sign);
- the web page's correction form (the plugin stores it with the case and hands it to the
  assembly as a :class:`FieldCorrections`).

A corrected field carries its source (``人工更正（dossier-fields.csv）``), confidence 1 and
no review flag, in ``index.json`` and in the registry of filed bundles.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..lang.textnorm import nfc, to_simplified
from .official import parse_date

#: File name of the sidecar looked for at the source root.
FIELDS_NAME = "dossier-fields.csv"

#: Column (Chinese or English) -> field key.
COLUMNS = {"题名": "title", "責任者": "responsible", "责任者": "responsible", "日期": "date", "文号": "doc_number",
           "文號": "doc_number", "密级": "secrecy", "密級": "secrecy", "页数": "pages", "頁數": "pages", "title": "title",
           "responsible": "responsible", "date": "date", "doc_number": "doc_number", "secrecy": "secrecy", "pages": "pages"}
_PATH_COLUMNS = {"路径", "路徑", "path", "source", "文件", "文件名"}
_TAG = re.compile(r"^\s*交接\s*[:：]\s*(题名|责任者|日期|文号|密级|页数)\s*[=＝:：]\s*(.*)$")
_SECRECY = {"秘密", "机密", "绝密", ""}
#: A cell holding just this clears the field.
CLEAR = "-"


class CorrectionError(ValueError):
    """The corrections file cannot be used (message in Chinese)."""


def normalise(key: str, value: str) -> str:
    """A corrected value in the catalogue's form: dates as ISO (from ``20240305``,
    ``2024-03-05``, ``2024年3月5日``, ``二〇二四年三月五日``), 密级 one of 秘密/机密/绝密,
    页数 a number; '' for :data:`CLEAR`. Raises ValueError (Chinese) when not valid."""
    value = nfc(value).strip()
    if value == CLEAR:
        return ""
    if key == "date":
        digits = value.replace("-", "").replace("/", "").replace(".", "")
        if re.fullmatch(r"\d{8}", digits):
            iso = parse_date(f"{digits[:4]}-{digits[4:6]}-{digits[6:]}")
        elif re.fullmatch(r"\d{4}(?:-\d{2})?", value):
            return value  # a year, or a year and month, when that is all that is known
        else:
            iso = parse_date(value)
        if not iso:
            raise ValueError(f"日期“{value}”无法识别（应为 YYYYMMDD、YYYY-MM-DD 或“2024年3月5日”）")
        return iso
    if key == "secrecy":
        mark = to_simplified(re.sub(r"★.*$", "", value))
        if mark not in _SECRECY:
            raise ValueError(f"密级“{value}”应为 秘密、机密、绝密 之一（或留空）")
        return mark
    if key == "pages":
        if not re.fullmatch(r"\d{1,5}", value):
            raise ValueError(f"页数“{value}”应为整数")
        return str(int(value))
    return re.sub(r"\s+", " ", value)


class FieldCorrections:
    """Corrections by document: source path (or bare file name) -> field -> value."""

    def __init__(self, entries: dict[str, dict[str, str]] | None = None, origin: str = "") -> None:
        self.entries = {nfc(k).strip("/"): dict(v) for k, v in (entries or {}).items()}
        self.origin = origin

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, source: str) -> dict[str, str]:
        source = nfc(source)
        return self.entries.get(source) or self.entries.get(source.rsplit("/", 1)[-1]) or {}

    def set(self, source: str, key: str, value: str) -> None:
        self.entries.setdefault(nfc(source).strip("/"), {})[key] = normalise(key, value)

    @classmethod
    def parse(cls, text: str, origin: str = "") -> FieldCorrections:
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].lstrip().startswith("#")]
        if not rows:
            return cls({}, origin)
        header = [c.strip() for c in rows[0]]
        if header[0] not in _PATH_COLUMNS or not any(h in COLUMNS for h in header[1:]):
            raise CorrectionError(f"著录更正文件 {origin} 的第一行应为列名：路径,题名,责任者,日期,文号,密级,页数（可只写需要的列）")
        keys = [COLUMNS.get(h) for h in header]
        entries: dict[str, dict[str, str]] = {}
        errors = []
        for lineno, row in enumerate(rows[1:], 2):
            path = row[0].strip()
            if not path:
                continue
            for key, cell in zip(keys[1:], row[1:], strict=False):
                if key is None or not cell.strip():
                    continue
                try:
                    entries.setdefault(path, {})[key] = normalise(key, cell)
                except ValueError as exc:
                    errors.append(f"第 {lineno} 行：{exc}")
        if errors:
            raise CorrectionError(f"著录更正文件 {origin} 有误：" + "；".join(errors))
        return cls(entries, origin)

    @classmethod
    def load(cls, path: str | Path) -> FieldCorrections:
        p = Path(path)
        return cls.parse(p.read_text(encoding="utf-8-sig"), origin=p.name)

    def merged(self, other: FieldCorrections) -> FieldCorrections:
        """These corrections with ``other``'s on top (a later source wins per field)."""
        out = FieldCorrections(self.entries, self.origin)
        for path, fields in other.entries.items():
            out.entries.setdefault(path, {}).update(fields)
        return out


def corrections_from_tags(tags: tuple[str, ...] | list[str]) -> dict[str, tuple[str, str]]:
    """Field corrections carried by DMS tags: field -> (value, the tag)."""
    out: dict[str, tuple[str, str]] = {}
    for tag in tags:
        m = _TAG.match(to_simplified(nfc(tag)))
        if not m:
            continue
        key = COLUMNS[m.group(1)]
        raw = nfc(tag).split("=", 1)[-1] if "=" in tag else re.split(r"[=＝:：]", nfc(tag), maxsplit=2)[-1]
        try:
            out[key] = (normalise(key, raw), tag)
        except ValueError:
            continue  # a malformed tag is not a correction
    return out


def apply(fields: dict[str, dict], corrections: dict[str, str], origin: str) -> dict[str, dict]:
    """``fields`` (as ``FieldValue.as_json()``) with ``corrections`` laid over them."""
    out = dict(fields)
    for key, value in corrections.items():
        out[key] = {"value": value, "source": f"人工更正（{origin}）", "part": "人工更正", "element": origin, "line": None,
                    "page": None, "confidence": 1.0, "review": False}
    return out
