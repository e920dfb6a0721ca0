"""Excel (.xlsx) reader: sheet names, header rows and the first rows of cells.

Financial statements, rosters and asset registers are usually spreadsheets; their sheet
names and header rows are what tells them apart. Read-only mode keeps memory flat.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from .base import Extracted, ExtractionError, Limits


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


_NOT_TITLE = re.compile(r"^(?:单位|编制单位|填报单位|填表单位|制表单位|报送单位|单位名称|填报日期|制表日期|编制日期|报送日期|日期|时间|备注|说明|注|"
                        r"制表人|填表人|审核人|负责人|金额单位|计量单位)\s*[:：]")
_UNIT_NOTE = re.compile(r"[（(]\s*(?:金额)?单位\s*[:：]\s*[^（）()]{1,8}[）)]\s*$|[，,；;]\s*(?:金额)?单位\s*[:：]\s*[^（）()，,]{1,8}(?=[）)])")
_MADE_BY = re.compile(r"(?:编制单位|填报单位|填表单位|制表单位|报送单位|单位名称)\s*[:：]\s*([\u4e00-\u9fff（）()]{2,40})")
_MADE_ON = re.compile(r"(?:填报日期|制表日期|编制日期|报送日期|填表日期)\s*[:：]\s*(.{6,20})")


def title_of_caption(caption: str) -> str:
    """A spreadsheet caption as a 题名: without the unit note
    (``…情况表（2019—2023年，单位：万元）`` -> ``…情况表（2019—2023年）``)."""
    t = _UNIT_NOTE.sub("", caption.strip()).strip()
    return t or caption.strip()


def _field(value: str, element: str, sheet: str, row: int, confidence: float) -> dict:
    return {"value": value, "part": "表格", "element": f"{element}（工作表“{sheet}”）", "line": row + 1, "page": 1,
            "confidence": confidence}


def read_xlsx(path: Path, limits: Limits) -> Extracted:
    import zipfile

    import openpyxl

    from .official import parse_date

    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(f"Excel 文件已损坏，无法打开（{type(exc).__name__}）", kind="corrupt") from exc
    except Exception as exc:
        raise ExtractionError(f"Excel 文件内容格式错误，无法解析（{type(exc).__name__}）", kind="corrupt") from exc
    fields: dict[str, dict] = {}
    try:
        lines: list[str] = []
        sheets = wb.sheetnames
        for si, name in enumerate(sheets[: limits.max_sheets]):
            ws = wb[name]
            lines.append(f"【{name}】")
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                if r >= limits.max_rows:
                    break
                cells = [_cell(v) for v in row[:30]]
                if any(cells):
                    line = "\t".join(cells).rstrip("\t")
                    lines.append(line)
                    if si == 0 and r < 6:
                        _first_sheet_row(cells, name, r, fields, parse_date)
        props = wb.properties
        meta = {}
        for key in ("title", "creator", "subject", "description", "keywords"):
            v = getattr(props, key, None)
            if v:
                meta[key] = str(v)
        for key in ("created", "modified"):
            v = getattr(props, key, None)
            if v:
                meta[key] = v.isoformat()
    finally:
        wb.close()
    out = Extracted(format="xlsx", text="\n".join(lines)[: limits.max_chars], pages=max(1, len(sheets)), meta=meta)
    # 题名: the title row of the first sheet; the document property only when there is none
    out.title = fields["title"]["value"] if "title" in fields else meta.get("title", "")
    out.fields = fields
    out.meta["sheets"] = "、".join(sheets[:20])
    return out


def _first_sheet_row(cells: list[str], sheet: str, r: int, fields: dict, parse_date) -> None:
    """The first sheet's caption rows: the title row (one filled cell, usually merged across
    the table), and the 编制单位 / 填报日期 lines that often sit right under it."""
    filled = [c for c in cells if c]
    joined = "  ".join(filled)
    if (m := _MADE_BY.search(joined)) and "responsible" not in fields:
        fields["responsible"] = _field(m.group(1), "编制单位", sheet, r, 0.85)
    if (m := _MADE_ON.search(joined)) and "date" not in fields:
        iso = parse_date(m.group(1).strip())
        if iso:
            fields["date"] = _field(iso, "填报日期", sheet, r, 0.85)
    if "title" in fields or len(filled) != 1 or "header_seen" in fields:
        if len(filled) > 2:
            fields.setdefault("header_seen", {})
        return
    caption = filled[0].strip()
    if len(caption) >= 4 and re.search(r"[\u4e00-\u9fff]{2}", caption) and not _NOT_TITLE.match(caption):
        fields["title"] = _field(title_of_caption(caption), "标题行", sheet, r, 0.9)
