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

A category whose only documents could not be read (encrypted, corrupt, empty ...) is not
"missing": the document is there, and the finding says so (``unreadable``: 已有但无法读取,
naming the files and why), so that the archivist asks for a password or a readable copy
instead of searching for a document that exists. Which category such a document belongs
to comes from its name (or the archivist's mapping): the pipeline records it as the
exception's ``code``.

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
    kind: str  # missing | unreadable | no-audit | one-sided | no-plan | no-summary
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
    #: code -> the unreadable documents (source, reason) of a category with no item
    unreadable: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "unreadable": self.unreadable,
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


def unreadable_text(docs: list[dict[str, str]], limit: int = 3) -> str:
    """``a.pdf（PDF 已加密…）、b.pdf（…）等 5 份`` for a finding."""
    shown = "、".join(f"{d.get('source', '')}（{d.get('reason', '')}）" for d in docs[:limit])
    return shown + (f"等 {len(docs)} 份" if len(docs) > limit else "")


def count_text(findings: Iterable[Mapping[str, Any]]) -> str:
    """``共 3 项（缺项 2 项、问题 1 项）``: one way of counting the findings, used by the CLI,
    the gap report and the reference table alike, saying what each number counts."""
    findings = list(findings)
    by_severity = Counter(str(f.get("severity")) for f in findings)
    parts = [f"{sev} {by_severity[sev]} 项" for sev in (SEVERE, PROBLEM, HINT) if by_severity.get(sev)]
    return f"共 {len(findings)} 项" + (f"（{'、'.join(parts)}）" if parts else "")


UNREADABLE_ADVICE = "请取得可读的文件（加密的 PDF 可在来源根目录的 dossier-passwords.csv 中提供密码）后重新生成。"


def find_gaps(items: Iterable[Mapping[str, Any]], inventory: Inventory, term_start: str = "",
              term_end: str = "", exceptions: Iterable[Mapping[str, Any]] = ()) -> GapReport:
    """Analyse catalogue rows (``index.json`` items or dicts with code, title, year, date).
    ``exceptions``: documents not in the bundle; those with a ``code`` (the category their
    name points to) make that category "present but unreadable" rather than missing."""
    items = list(items)
    roles = gap_roles(inventory)
    counts = Counter(str(it.get("code")) for it in items)
    missing = [c.code for c in inventory if counts.get(c.code, 0) == 0]
    generated = [c for c in missing if c in roles["generated"]]
    findings: list[Finding] = []
    explained: set[str] = set(generated)
    by_code: dict[str, list[dict[str, str]]] = {}
    for ex in exceptions:
        code = str(ex.get("code") or "")
        if code and code not in generated:
            by_code.setdefault(code, []).append({"source": str(ex.get("source", "")), "reason": str(ex.get("reason", ""))})
    unreadable = {code: docs for code, docs in by_code.items() if code in missing}

    audit_present: bool | None = None
    if roles["audit"]:
        audit_present = any(counts.get(c, 0) for c in roles["audit"])
        there = [d for c in roles["audit"] for d in unreadable.get(c, [])]
        if not audit_present and there:
            names = "、".join(inventory.get(c).label for c in roles["audit"])
            findings.append(Finding("unreadable", SEVERE,
                                    f"离任（经济责任）审计报告（{names}）已有但无法读取：{unreadable_text(there)}。"
                                    + UNREADABLE_ADVICE, [c for c in roles["audit"] if c in unreadable]))
            explained.update(roles["audit"])
        elif not audit_present:
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
            if counts.get(c.code, 0) == 0 and c.code not in unreadable:
                findings.append(Finding("one-sided", PROBLEM,
                                        f"有任期成绩类材料 {positives} 件（{shown}），但没有“{c.label}”："
                                        "交接材料可能只反映成绩、未反映问题，请核实是否确无此类情况并书面说明。",
                                        [c.code]))
                explained.add(c.code)

    for code in missing:
        if code in explained:
            continue
        c = inventory.get(code)
        if code in unreadable:
            findings.append(Finding("unreadable", SEVERE, f"“{c.label}”已有但无法读取：{unreadable_text(unreadable[code])}。"
                                    + UNREADABLE_ADVICE, [code]))
            continue
        detail = f"（应包括：{c.description}）" if c.description else ""
        # The label names the category ("C3 讲话材料"): no second 材料 after it.
        findings.append(Finding("missing", SEVERE, f"缺少“{c.label}”{detail}。", [code]))

    years, term_note = _year_rows(items, roles, term_start, term_end, findings, inventory, by_code)
    return GapReport(missing, findings, years, audit_present, positives, roles, generated, term_note, unreadable)


def _year_rows(items: list[Mapping[str, Any]], roles: dict[str, list[str]], term_start: str, term_end: str,
               findings: list[Finding], inventory: Inventory,
               unreadable: dict[str, list[dict[str, str]]] | None = None) -> tuple[list[YearRow], str]:
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
    # Unreadable plans / summaries, by the year in their file name.
    unreadable_years: dict[tuple[str, str], list[dict[str, str]]] = {}
    for role in ("plan", "summary"):
        for code in roles[role]:
            for d in (unreadable or {}).get(code, []):
                for y in document_years({"title": d["source"].rsplit("/", 1)[-1]}, role):
                    unreadable_years.setdefault((role, y), []).append(d)
    plan_label = "、".join(inventory.get(c).name for c in roles["plan"]) or "工作计划"
    summary_label = "、".join(inventory.get(c).name for c in roles["summary"]) or "工作总结"
    rows: list[YearRow] = []
    for y in range(start.year, end.year + 1):
        key = str(y)
        got = per_year.get(key, Counter())
        lacks: list[str] = []
        unread: list[str] = []
        notes: list[str] = []
        # Annual plans are made in the first quarter: a leader who arrived later found that
        # year's plan made. One who left before December left that year's summary unwritten.
        if roles["plan"] and not got["plan"]:
            if y == start.year and start.month > 3:
                notes.append(f"到任时当年{plan_label}可能已由前任制定")
            elif ("plan", key) in unreadable_years:
                unread.append(plan_label)
            else:
                lacks.append(plan_label)
                findings.append(Finding("no-plan", SEVERE, f"{key} 年没有{plan_label}。", list(roles["plan"]), key))
        if roles["summary"] and not got["summary"]:
            if y == end.year and end.month < 12:
                notes.append(f"离任时当年{summary_label}可能尚未形成")
            elif ("summary", key) in unreadable_years:
                unread.append(summary_label)
            else:
                lacks.append(summary_label)
                findings.append(Finding("no-summary", SEVERE, f"{key} 年没有{summary_label}。", list(roles["summary"]), key))
        conclusion = "；".join([*(["缺" + "、".join(lacks)] if lacks else []),
                                *([f"{'、'.join(unread)}已有但无法读取"] if unread else [])]) or "齐全"
        if notes:
            conclusion += "（" + "；".join(notes) + "）"
        rows.append(YearRow(key, got["plan"], got["summary"], conclusion))
    return rows, ""
