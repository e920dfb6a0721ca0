"""Excel (.xlsx) reader: sheet names, header rows and the first rows of cells.

Financial statements, rosters and asset registers are usually spreadsheets; their sheet
names and header rows are what tells them apart. Read-only mode keeps memory flat.
"""

from __future__ import annotations

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


def read_xlsx(path: Path, limits: Limits) -> Extracted:
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(f"Excel 文件已损坏，无法打开（{type(exc).__name__}）", kind="corrupt") from exc
    except Exception as exc:
        raise ExtractionError(f"Excel 文件内容格式错误，无法解析（{type(exc).__name__}）", kind="corrupt") from exc
    try:
        lines: list[str] = []
        first_text = ""
        sheets = wb.sheetnames
        for name in sheets[: limits.max_sheets]:
            ws = wb[name]
            lines.append(f"【{name}】")
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                if r >= limits.max_rows:
                    break
                cells = [_cell(v) for v in row[:30]]
                if any(cells):
                    line = "\t".join(cells).rstrip("\t")
                    lines.append(line)
                    if not first_text:
                        nonempty = [c for c in cells if c]
                        if len(nonempty) == 1 and len(nonempty[0]) >= 4:
                            first_text = nonempty[0]
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
    out.title = meta.get("title", "") or first_text
    out.meta["sheets"] = "、".join(sheets[:20])
    return out
