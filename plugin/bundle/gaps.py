"""What is missing or one-sided in a handover (缺项与问题).

A handover is meant to give the successor the whole picture, not only the achievements.
Four findings, all driven by the inventory data so that units can adapt them:

- missing categories: inventory codes with no document;
- no departure audit: the handover is meant to rest on the (economic-responsibility) audit's
  findings (``audit`` codes);
- one-sidedness: categories marked ``one_sided = "negative"`` (problems, claims and debts,
  open matters) have no document while ``"positive"`` ones (targets met, plans, summaries)
  do;
- term years with no plan or no summary (``plan`` / ``summary`` codes), using the year each
  document is about and the term dates.

Which codes play the audit / plan / summary roles, and which categories the bundle
generates itself (the handover certificate), can be set in a ``[gaps]`` table of the
inventory TOML::

    [gaps]
    audit = ["P1"]
    plan = ["C1"]
    summary = ["C2"]
    generated = ["P2"]

The defaults are those of the shipped inventory; codes not in the inventory are ignored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from ..inventory import Inventory
from .archival import inventory_table

DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "audit": ("P1",),
    "plan": ("C1",),
    "summary": ("C2",),
    "generated": ("P2",),
}

SEVERE = "缺项"
PROBLEM = "问题"
HINT = "提示"

_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "O": "0"}
_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年)?\s*[-—–~～至到]\s*((?:19|20)\d{2})(?!\d)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CN_YEAR = re.compile(r"([〇零○一二三四五六七八九]{4})年")


@dataclass
class Finding:
    kind: str  # missing | no-audit | one-sided | no-plan | no-summary
    severity: str
    message: str
    codes: list[str] = field(default_factory=list)
    year: str = ""


@dataclass
class YearRow:
    year: str
    plans: int
    summaries: int
    conclusion: str


@dataclass
class GapReport:
    missing: list[str]
    findings: list[Finding]
    years: list[YearRow]
    audit_present: bool | None
    positives: int
    roles: dict[str, list[str]]
    generated: list[str] = field(default_factory=list)
    term_note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "generated": self.generated,
            "audit_present": self.audit_present,
            "positives": self.positives,
            "roles": self.roles,
            "findings": [asdict(f) for f in self.findings],
            "years": [asdict(y) for y in self.years],
            "term_note": self.term_note,
        }


def gap_roles(inventory: Inventory) -> dict[str, list[str]]:
    raw = inventory_table(inventory, "gaps")
    roles: dict[str, list[str]] = {}
    for role, default in DEFAULT_ROLES.items():
        value = raw.get(role, list(default))
        codes = [value] if isinstance(value, str) else list(value)
        roles[role] = [c for c in codes if isinstance(c, str) and c in inventory]
    return roles


def document_years(item: Mapping[str, Any], role: str = "") -> list[str]:
    """The years a document is about: years in its title (``2021年``, ``二〇二一年``,
    ``2019—2021年``), else its own year - shifted for plans written at the end of the year
    before (Nov/Dec) and summaries written at the start of the year after (Jan/Feb)."""
    title = str(item.get("title") or "")
    years: list[str] = []
    for a, b in _YEAR_RANGE.findall(title):
        lo, hi = sorted((int(a), int(b)))
        if hi - lo <= 10:
            years.extend(str(y) for y in range(lo, hi + 1))
    for m in _CN_YEAR.finditer(title):
        years.append("".join(_CN_DIGITS.get(c, c) for c in m.group(1)))
    if not years:
        years = _YEAR.findall(title)
    if years:
        return sorted(set(years))
    year = str(item.get("year") or "")[:4]
    if not year.isdigit():
        return []
    month = str(item.get("date") or "")[5:7]
    if role == "plan" and month in ("11", "12"):
        return [str(int(year) + 1)]
    if role == "summary" and month in ("01", "02"):
        return [str(int(year) - 1)]
    return [year]


def _parse(d: str) -> date | None:
    try:
        return date.fromisoformat(d)
    except (TypeError, ValueError):
        return None


def find_gaps(items: Iterable[Mapping[str, Any]], inventory: Inventory, term_start: str = "",
              term_end: str = "") -> GapReport:
    """Analyse catalogue rows (``index.json`` items or dicts with code, title, year, date)."""
    items = list(items)
    roles = gap_roles(inventory)
    counts = Counter(str(it.get("code")) for it in items)
    missing = [c.code for c in inventory if counts.get(c.code, 0) == 0]
    generated = [c for c in missing if c in roles["generated"]]
    findings: list[Finding] = []
    explained: set[str] = set(generated)

    audit_present: bool | None = None
    if roles["audit"]:
        audit_present = any(counts.get(c, 0) for c in roles["audit"])
        if not audit_present:
            names = "、".join(inventory.get(c).label for c in roles["audit"])
            findings.append(Finding("no-audit", SEVERE,
                                    f"没有离任（经济责任）审计报告（{names}）。交接应以审计发现的问题为基础，"
                                    "建议取得审计报告后再办理交接，或在交接书中注明审计安排。", list(roles["audit"])))
            explained.update(roles["audit"])

    positive = [c for c in inventory if c.one_sided == "positive"]
    negative = [c for c in inventory if c.one_sided == "negative"]
    positives = sum(counts.get(c.code, 0) for c in positive)
    if positives:
        shown = "、".join(c.code for c in positive if counts.get(c.code, 0))
        for c in negative:
            if counts.get(c.code, 0) == 0:
                findings.append(Finding("one-sided", PROBLEM,
                                        f"有任期成绩类材料 {positives} 件（{shown}），但没有“{c.label}”材料："
                                        "交接材料可能只反映成绩、未反映问题，请核实是否确无此类情况并书面说明。",
                                        [c.code]))
                explained.add(c.code)

    for code in missing:
        if code in explained:
            continue
        c = inventory.get(code)
        detail = f"（应包括：{c.description}）" if c.description else ""
        findings.append(Finding("missing", SEVERE, f"缺少“{c.label}”材料{detail}。", [code]))

    years, term_note = _year_rows(items, roles, term_start, term_end, findings, inventory)
    return GapReport(missing, findings, years, audit_present, positives, roles, generated, term_note)


def _year_rows(items: list[Mapping[str, Any]], roles: dict[str, list[str]], term_start: str, term_end: str,
               findings: list[Finding], inventory: Inventory) -> tuple[list[YearRow], str]:
    if not roles["plan"] and not roles["summary"]:
        return [], "清单未指定工作计划和工作总结类目，未按年度检查。"
    start, end = _parse(term_start), _parse(term_end)
    if start is None or end is None:
        return [], "未提供完整的任期起止日期，无法按年度检查工作计划和工作总结。"
    if end < start:
        return [], f"任期结束日期（{term_end}）早于开始日期（{term_start}），无法按年度检查。"
    per_year: dict[str, Counter[str]] = {}
    for it in items:
        code = str(it.get("code"))
        for role in ("plan", "summary"):
            if code in roles[role]:
                for y in document_years(it, role):
                    per_year.setdefault(y, Counter())[role] += 1
    plan_label = "、".join(inventory.get(c).name for c in roles["plan"]) or "工作计划"
    summary_label = "、".join(inventory.get(c).name for c in roles["summary"]) or "工作总结"
    rows: list[YearRow] = []
    for y in range(start.year, end.year + 1):
        key = str(y)
        got = per_year.get(key, Counter())
        lacks: list[str] = []
        notes: list[str] = []
        # Annual plans are made in the first quarter: a leader who arrived later found that
        # year's plan made. One who left before December left that year's summary unwritten.
        if roles["plan"] and not got["plan"]:
            if y == start.year and start.month > 3:
                notes.append(f"到任时当年{plan_label}可能已由前任制定")
            else:
                lacks.append(plan_label)
                findings.append(Finding("no-plan", SEVERE, f"{key} 年没有{plan_label}。", list(roles["plan"]), key))
        if roles["summary"] and not got["summary"]:
            if y == end.year and end.month < 12:
                notes.append(f"离任时当年{summary_label}可能尚未形成")
            else:
                lacks.append(summary_label)
                findings.append(Finding("no-summary", SEVERE, f"{key} 年没有{summary_label}。", list(roles["summary"]), key))
        conclusion = "缺" + "、".join(lacks) if lacks else "齐全"
        if notes:
            conclusion += "（" + "；".join(notes) + "）"
        rows.append(YearRow(key, got["plan"], got["summary"], conclusion))
    return rows, ""
