"""The layout reader of GB/T 9704 documents: one test per rule, with the document that needs it."""

from __future__ import annotations

from pathlib import Path

from handover_dossier.extract import extract_document
from handover_dossier.extract.layout import Line, from_text
from handover_dossier.extract.official import parse_date, read_layout
from handover_dossier.samplecorpus import docgen


def _fields(text: str) -> dict[str, str]:
    reading = read_layout(from_text(text))
    return {k: v.value for k, v in (reading.fields or {}).items()}


def test_title_is_never_the_issuing_organs_mark() -> None:
    f = _fields("榆川县农业农村局文件\n榆农发〔2024〕12号\n关于做好2024年春耕生产工作的通知\n各乡镇农业综合服务中心：\n"
                "现就有关事项通知如下。\n榆川县农业农村局\n2024年3月5日\n")
    assert f["title"] == "关于做好2024年春耕生产工作的通知"
    assert f["responsible"] == "榆川县农业农村局"
    assert f["doc_number"] == "榆农发〔2024〕12号"


def test_date_is_the_written_date_not_the_printing_date() -> None:
    f = _fields("榆川县财政局文件\n榆财发〔2024〕7号\n关于2023年度部门决算的报告\n县人民政府：\n现将决算情况报告如下。\n"
                "榆川县财政局\n二〇二四年四月二十五日\n（此件公开发布）\n抄送：县审计局。\n榆川县财政局办公室        2024年4月28日印发\n")
    assert f["date"] == "2024-04-25"


def test_joint_issue_names_every_organ_lead_organ_first() -> None:
    f = _fields("榆川县财政局\n榆川县发展和改革委员会\n文件\n榆财发〔2024〕9号\n关于下达2024年第一批项目资金的通知\n各乡镇：\n正文。\n"
                "榆川县财政局        榆川县发展和改革委员会\n2024年5月6日\n")
    assert f["responsible"] == "榆川县财政局、榆川县发展和改革委员会"
    assert f["title"] == "关于下达2024年第一批项目资金的通知"


def test_speech_speaker_is_the_responsible_and_subtitle_joins_the_title() -> None:
    f = _fields("凝心聚力 奋勇争先\n——在全县经济工作会议上的讲话\n县长  张明远\n（2024年1月5日）\n同志们：\n今天召开会议。\n")
    assert f["title"] == "凝心聚力奋勇争先——在全县经济工作会议上的讲话"
    assert f["responsible"] == "县长 张明远"
    assert f["date"] == "2024-01-05"


def test_title_broken_over_lines_is_joined() -> None:
    f = _fields("榆川县人民政府办公室关于印发\n2024年重点工作任务分工方案的通知\n各乡镇人民政府：\n正文。\n")
    assert f["title"] == "榆川县人民政府办公室关于印发2024年重点工作任务分工方案的通知"


def test_a_label_line_under_the_title_is_not_part_of_it() -> None:
    f = _fields("桐川市属国有企业负责人任期经营业绩责任书（2022—2024年）\n考核人：桐川市国资委\n一、基本指标\n")
    assert f["title"] == "桐川市属国有企业负责人任期经营业绩责任书（2022—2024年）"


def test_chinese_numeral_and_ocr_variant_dates() -> None:
    assert parse_date("二〇二四年三月五日") == "2024-03-05"
    assert parse_date("二O二四年十二月三十一曰") == "2024-12-31"
    assert parse_date("2024 年 3 月 5 日") == "2024-03-05"
    assert parse_date("2024年2月30日") == ""


def test_letter_format_organ_mark_without_wenjian() -> None:
    lines = [Line("榆川县人民政府办公室", align="center", size=30, red=True), Line("榆政办函〔2024〕3号", align="right", size=16),
             Line("关于商请支持农村公路建设的函", align="center", size=22),
             Line("市交通运输局：", align="left", size=16, indent=0),
             Line("为加快农村公路建设，现商请贵局给予支持。", align="justify", size=16, indent=2),
             Line("榆川县人民政府办公室", align="right", size=16, indent=14),
             Line("2024年6月3日", align="right", size=16, indent=16)]
    reading = read_layout(lines)
    assert reading.kind == "函"
    f = reading.fields
    assert f["title"].value == "关于商请支持农村公路建设的函" and f["title"].part == "主体"
    assert f["responsible"].value == "榆川县人民政府办公室" and f["responsible"].element == "发文机关署名"
    assert f["date"].value == "2024-06-03"


def test_last_page_of_a_long_pdf_is_read_for_the_written_date(tmp_path: Path) -> None:
    body = ["一、总体要求" if i % 7 == 0 else "认真贯彻落实各项工作部署，加强组织领导，压实工作责任，确保各项任务落到实处、取得实效。" * 3
            for i in range(160)]
    p = docgen.write_pdf(tmp_path / "long.pdf", "关于印发榆川县交通运输发展规划的通知", body, issuer="榆川县交通运输局",
                         doc_number="榆交发〔2023〕8号", date_text="2023年11月30日")
    ex = extract_document(p, p.name)
    assert ex.pages > 8  # beyond the first pages read for classification
    assert ex.date == "2023-11-30"
    assert ex.fields["date"]["element"] == "成文日期" and ex.fields["date"]["page"] == ex.pages


def test_spreadsheet_title_is_the_first_sheets_title_row(tmp_path: Path) -> None:
    p = docgen.write_xlsx(tmp_path / "非税收入及预算外资金情况表.xlsx", {
        "来源构成": [["局机关及局属单位非税收入及预算外资金情况表（2019—2023年，单位：万元）"],
                 ["序号", "资金来源", "合计"], [1, "罚没收入", 3516.35]],
        "收支节余": [["非税收入返还资金收支节余情况"], ["单位", "期末节余"], ["局机关", 81.36]]},
        core_title="非税收入及预算外资金情况表")
    ex = extract_document(p, p.name)
    assert ex.title == "局机关及局属单位非税收入及预算外资金情况表（2019—2023年）"
    assert "【" not in ex.title
    assert ex.fields["title"]["part"] == "表格"


def test_missing_fields_stay_empty_and_are_flagged(tmp_path: Path) -> None:
    p = tmp_path / "材料3.txt"
    p.write_text("今年以来，我局认真贯彻落实上级部署，各项工作稳步推进，取得了一定成效。\n下一步将继续努力。\n", encoding="utf-8")
    ex = extract_document(p, p.name)
    assert ex.responsible == "" and ex.date == ""
    assert ex.fields["responsible"]["review"] and ex.fields["date"]["review"]
    assert ex.fields["title"]["review"] and ex.title_composed
    assert not ex.fields["doc_number"]["review"]  # most documents have no 文号: not a finding
