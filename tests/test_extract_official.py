"""GB/T 9704 metadata read from the text of official documents."""

from __future__ import annotations

import pytest
from handover_dossier.extract.official import (
    cn_numeral_to_int,
    document_date,
    find_dates,
    find_doc_number,
    find_issuer,
    find_secrecy,
    guess_title,
)

NOTICE = """000123
机密★5年
榆川县人民政府办公室文件
榆政办发〔2023〕45号
榆川县人民政府办公室关于印发
2023年重点工作任务分工方案的通知
各乡镇人民政府，县政府各部门：
现将《2023年重点工作任务分工方案》印发给你们，请认真贯彻执行。
榆川县人民政府办公室
二〇二三年三月五日
"""


def test_full_notice() -> None:
    assert find_secrecy(NOTICE) == "机密"
    assert find_doc_number(NOTICE) == "榆政办发〔2023〕45号"
    assert find_issuer(NOTICE) == "榆川县人民政府办公室"
    assert guess_title(NOTICE) == "榆川县人民政府办公室关于印发2023年重点工作任务分工方案的通知"
    assert document_date(NOTICE) == "2023-03-05"


@pytest.mark.parametrize(
    ("text", "iso"),
    [("二〇二三年三月五日", "2023-03-05"), ("二○二四年十二月三十一日", "2024-12-31"), ("二零二二年十月一日", "2022-10-01"),
     ("2023年3月5日", "2023-03-05"), ("２０２３年１１月２０日", "2023-11-20"), ("2023.1.9", "2023-01-09"),
     ("2023-02-30", None)],
)
def test_dates(text: str, iso: str | None) -> None:
    found = [d.iso for d in find_dates(f"落款\n{text}\n")]
    assert found == ([iso] if iso else [])


def test_chinese_numerals() -> None:
    assert cn_numeral_to_int("二〇二三") == 2023
    assert [cn_numeral_to_int(x) for x in ("十", "十二", "二十", "三十一")] == [10, 12, 20, 31]


@pytest.mark.parametrize(
    ("text", "number"),
    [("云交发〔2023〕12号", "云交发〔2023〕12号"), ("榆财预[2022]7号", "榆财预〔2022〕7号"),
     ("桐国资发（2021）第3号", "桐国资发〔2021〕3号"), ("榆农发〔２０２３〕１２号", "榆农发〔2023〕12号"),
     ("榆农发〔2023〕12号　　签发人：张三", "榆农发〔2023〕12号"), ("2023年工作总结", "")],
)
def test_document_numbers(text: str, number: str) -> None:
    assert find_doc_number(text) == number


@pytest.mark.parametrize(
    ("first_lines", "mark"),
    [("秘密\n标题", "秘密"), ("绝密★长期\n", "绝密"), ("機密★10年\n", "机密"), ("密级：秘密\n", "秘密"),
     ("秘　密\n", "秘密"), ("000001\n秘密★1年\n", "秘密"), ("秘密文件管理制度\n", ""), ("关于保守工作秘密的通知\n", "")],
)
def test_secrecy(first_lines: str, mark: str) -> None:
    assert find_secrecy(first_lines) == mark


def test_issuer_from_signature_and_from_title() -> None:
    text = "2023年度部门决算说明\n一、收入情况\n本年收入合计1200万元。\n榆川县交通运输局\n2024年3月1日"
    assert find_issuer(text) == "榆川县交通运输局"
    assert find_issuer("正文", title="桐川市城投集团关于债务化解情况的报告") == "桐川市城投集团"


def test_year_from_title_when_no_date() -> None:
    assert document_date("正文没有日期", title="北洺市统计局2024年工作要点") == "2024"
    assert document_date("正文", title="二〇二二年工作总结") == "2022"
    assert document_date("正文", name="材料.docx") == ""
