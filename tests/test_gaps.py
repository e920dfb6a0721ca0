"""The gap report: missing categories, no departure audit, one-sidedness, years of the
term without a plan or a summary - all driven by the inventory data."""

from __future__ import annotations

from pathlib import Path

from handover_dossier.bundle.gaps import count_text, document_years, find_gaps, gap_roles
from handover_dossier.inventory import default_inventory, load_inventory


def _it(code: str, title: str = "", date: str = "", year: str = "") -> dict:
    return {"code": code, "title": title, "date": date, "year": year or date[:4]}


FULL_TERM = [
    _it("A1"), _it("A2"), _it("A3"), _it("B1", "任期目标责任书", "2021-02-01"), _it("B2"), _it("C3"), _it("C4"),
    _it("C5"), _it("C6"), _it("D1"), _it("D2"), _it("D3"), _it("D4"), _it("E1"), _it("F1"), _it("P1"), _it("P2"),
    _it("C1", "2021年工作计划", "2021-01-20"), _it("C1", "2022年工作要点", "2022-02-10"),
    _it("C2", "2021年度工作总结", "2021-12-28"), _it("C2", "2022年度工作总结", "2023-01-05"),
]


def _kinds(report) -> list[tuple[str, tuple[str, ...], str]]:
    return [(f.kind, tuple(f.codes), f.year) for f in report.findings]


def test_complete_handover_has_no_findings() -> None:
    report = find_gaps(FULL_TERM, default_inventory(), "2021-01-04", "2022-12-30")
    assert report.findings == [] and report.missing == []
    assert report.audit_present is True
    assert [(y.year, y.plans, y.summaries, y.conclusion) for y in report.years] == [
        ("2021", 1, 1, "齐全"), ("2022", 1, 1, "齐全")]


def test_missing_codes_and_no_audit() -> None:
    items = [it for it in FULL_TERM if it["code"] not in ("A2", "P1", "P2")]
    report = find_gaps(items, default_inventory(), "2021-01-04", "2022-12-30")
    assert report.missing == ["A2", "P1", "P2"]
    assert report.audit_present is False
    kinds = _kinds(report)
    assert ("no-audit", ("P1",), "") in kinds
    assert ("missing", ("A2",), "") in kinds
    # P1 is reported once (as the audit finding); P2 is the certificate this bundle generates
    assert not any(k == "missing" and c in (("P1",), ("P2",)) for k, c, _ in kinds)
    assert report.generated == ["P2"]
    audit = next(f for f in report.findings if f.kind == "no-audit")
    assert "审计" in audit.message and audit.severity == "缺项"


def test_one_sided_when_achievements_without_problems() -> None:
    items = [it for it in FULL_TERM if it["code"] not in ("B2", "D3", "E1")]
    report = find_gaps(items, default_inventory(), "2021-01-04", "2022-12-30")
    one_sided = [f for f in report.findings if f.kind == "one-sided"]
    assert [f.codes for f in one_sided] == [["B2"], ["D3"], ["E1"]]
    assert all(f.severity == "问题" and "只反映成绩" in f.message for f in one_sided)
    assert report.positives == 7  # B1, C4, C5, two plans, two summaries
    # the same codes are not reported a second time as plain "missing"
    assert not any(f.kind == "missing" for f in report.findings)


def test_no_achievements_no_one_sidedness_finding() -> None:
    items = [_it("A1"), _it("P1"), _it("D4")]
    report = find_gaps(items, default_inventory(), "", "")
    assert report.positives == 0
    assert not any(f.kind == "one-sided" for f in report.findings)
    assert ("missing", ("B2",), "") in _kinds(report)
    assert report.years == [] and "任期起止日期" in report.term_note


def test_years_without_plan_or_summary() -> None:
    items = [
        _it("P1"),
        _it("C1", "2020年工作计划", "2020-01-10"),
        _it("C1", "二〇二一年工作要点", "2021-02-01"),
        _it("C1", "工作打算", "2022-12-20"),  # written in December: the plan for 2023
        _it("C2", "2020—2021年工作总结", "2022-01-10"),  # covers both years
        _it("C2", "述职报告", "2024-01-15"),  # written in January: the summary of 2023
    ]
    report = find_gaps(items, default_inventory(), "2020-01-02", "2023-12-31")
    rows = {y.year: (y.plans, y.summaries, y.conclusion) for y in report.years}
    assert rows == {
        "2020": (1, 1, "齐全"),
        "2021": (1, 1, "齐全"),
        "2022": (0, 0, "缺工作计划、工作总结"),
        "2023": (1, 1, "齐全"),
    }
    assert ("no-plan", ("C1",), "2022") in _kinds(report)
    assert ("no-summary", ("C2",), "2022") in _kinds(report)


def test_partial_first_and_last_year_are_hints_not_gaps() -> None:
    items = [_it("P1"), _it("C1", "2022年工作计划", "2022-01-05"), _it("C2", "2021年工作总结", "2021-12-20")]
    report = find_gaps(items, default_inventory(), "2021-09-01", "2022-06-30")
    rows = {y.year: y.conclusion for y in report.years}
    assert "到任时当年工作计划可能已由前任制定" in rows["2021"]
    assert "离任时当年工作总结可能尚未形成" in rows["2022"]
    assert not any(f.kind in ("no-plan", "no-summary") for f in report.findings)


def test_document_years() -> None:
    assert document_years(_it("C1", "云溪县2021年工作计划", "2021-02-01")) == ["2021"]
    assert document_years(_it("C1", "“十四五”规划（2021-2025年）", "2021-03-01")) == [
        "2021", "2022", "2023", "2024", "2025"]
    assert document_years(_it("C2", "二〇一九年工作总结", "2020-01-05")) == ["2019"]
    assert document_years(_it("C1", "明年工作思路", "2022-11-15"), "plan") == ["2023"]
    assert document_years(_it("C2", "年度总结", "2023-02-03"), "summary") == ["2022"]
    assert document_years(_it("C2", "总结")) == []


def test_roles_from_the_inventory_file(tmp_path: Path) -> None:
    toml = Path(default_inventory().source).read_text(encoding="utf-8")
    toml += '\n[gaps]\naudit = []\nplan = ["C1", "C4"]\nsummary = "C2"\ngenerated = []\n'
    (tmp_path / "inv.toml").write_text(toml, encoding="utf-8")
    inv = load_inventory(tmp_path / "inv.toml")
    assert gap_roles(inv) == {"audit": [], "plan": ["C1", "C4"], "summary": ["C2"], "generated": []}
    report = find_gaps([_it("C4", "2021年经验材料", "2021-05-01")], inv, "2021-01-04", "2021-12-30")
    assert report.audit_present is None  # no audit role: not checked
    assert not any(f.kind == "no-audit" for f in report.findings)
    assert ("missing", ("P2",), "") in _kinds(report)  # not generated in this unit's setup
    assert {y.year: y.plans for y in report.years} == {"2021": 1}


def test_one_sided_follows_the_data_not_code(tmp_path: Path) -> None:
    toml = Path(default_inventory().source).read_text(encoding="utf-8")
    toml = toml.replace('name = "固定资产"', 'name = "固定资产"\none_sided = "negative"')
    (tmp_path / "inv.toml").write_text(toml, encoding="utf-8")
    inv = load_inventory(tmp_path / "inv.toml")
    items = [it for it in FULL_TERM if it["code"] != "D4"]
    report = find_gaps(items, inv, "2021-01-04", "2022-12-30")
    assert [f.codes for f in report.findings if f.kind == "one-sided"] == [["D4"]]


def test_missing_message_names_the_category_once() -> None:
    """Issue 17 (11): "缺少“C3 讲话材料”材料" said 材料 twice."""
    items = [it for it in FULL_TERM if it["code"] not in ("C3", "D4")]
    report = find_gaps(items, default_inventory(), "2021-01-04", "2022-12-30")
    messages = {f.codes[0]: f.message for f in report.findings if f.kind == "missing"}
    assert messages["C3"].startswith("缺少“C3 讲话材料”（应包括：")
    assert messages["D4"].startswith("缺少“D4 固定资产”（应包括：")
    assert not any("”材料" in m or "材料材料" in m for m in messages.values())


def test_count_text_says_what_it_counts() -> None:
    """One count for the CLI, the gap report and the reference table: all findings, split by
    severity (issue 17: the report said 缺项 2 项 where the CLI said 3)."""
    items = [it for it in FULL_TERM if it["code"] not in ("P1", "D2")]
    report = find_gaps(items, default_inventory(), "2021-01-04", "2022-12-30")
    findings = [{"severity": f.severity} for f in report.findings]
    assert len(findings) == 2 and count_text(findings) == "共 2 项（缺项 1 项、问题 1 项）"
    assert count_text([]) == "共 0 项"


def test_unreadable_documents_are_present_not_missing() -> None:
    """A category (or a year's summary) whose document exists but cannot be read is
    reported as 已有但无法读取 with the file, not as missing."""
    items = [it for it in FULL_TERM if it["code"] not in ("P1", "D3") and it["title"] != "2022年度工作总结"]
    exceptions = [
        {"source": "审计/离任审计报告.pdf", "reason": "PDF 已加密", "code": "P1"},
        {"source": "财务/债权债务明细.xlsx", "reason": "文件已损坏", "code": "D3"},
        {"source": "总结/2022年度工作总结.pdf", "reason": "PDF 已加密", "code": "C2"},
        {"source": "杂项/未知.pdf", "reason": "PDF 已加密"},  # no category: stays out of the findings
    ]
    report = find_gaps(items, default_inventory(), "2021-01-04", "2022-12-30", exceptions)
    kinds = _kinds(report)
    assert ("unreadable", ("P1",), "") in kinds and ("unreadable", ("D3",), "") in kinds
    assert not any(k in ("no-audit", "one-sided", "missing", "no-summary") for k, _, _ in kinds), kinds
    audit = next(f for f in report.findings if f.codes == ["P1"])
    assert "离任（经济责任）审计报告" in audit.message and "已有但无法读取：审计/离任审计报告.pdf（PDF 已加密）" in audit.message
    assert set(report.unreadable) == {"P1", "D3"} and report.missing == ["D3", "P1"]
    assert [(y.year, y.conclusion) for y in report.years] == [("2021", "齐全"), ("2022", "工作总结已有但无法读取")]
