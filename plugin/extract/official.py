"""Metadata read from official-document conventions (GB/T 9704 党政机关公文格式).

A Chinese official document carries its own catalogue data in fixed places: the secrecy
marking top left, the issuing body's red header ("XX县财政局文件"), the document number
("云交发〔2023〕12号") under it, the centred title, and the issuing body and date
(成文日期, often in Chinese numerals) at the end. This module reads them from plain text;
it works on Simplified and Traditional text alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "０": 0, "一": 1, "二": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fffA-Za-z]{1,16})\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*第?\s*(\d{1,5})\s*[号號]"
)
_DATE_ARABIC = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_CN = re.compile(r"([〇○零一二三四五六七八九ＯO０]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十]{1,3})\s*日")
_YEAR_CN = re.compile(r"([〇○零一二三四五六七八九ＯO０]{4})\s*年")
#: Full-width digits map one-to-one onto ASCII, so positions found in the result hold.
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_DATE_ISO = re.compile(r"(?<!\d)((?:19|20)\d{2})[-./](\d{1,2})[-./](\d{1,2})(?!\d)")
_YEAR_MONTH = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*日)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|年度)")
_SECRECY = re.compile(
    r"^\s*(?:\d{6}\s+)?(?:密\s*级\s*[:：]?\s*)?(绝\s*密|機\s*密|机\s*密|絕\s*密|秘\s*密|祕\s*密)\s*(?:★|☆|\*|$|\s|[（(]?[一二三四五六七八九十\d]+年|长期|長期)"
)
_ISSUER_HEADER = re.compile(r"^\s*([\u4e00-\u9fff（）()]{2,30}?)\s*(?:文件|文\s*件)\s*$")
_ISSUER_TAIL = re.compile(
    r"^\s*([\u4e00-\u9fff（）()·]{2,40}(?:局|委|办|办公室|政府|委员会|公司|集团|部|院|厅|处|所|中心|学校|医院|镇|乡|街道|县|市|区|会|社|站|队|组|小组|党组|党委))\s*$"
)
_NUMBERED = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.、]|(?:19|20)\d{2}年)")
# Words a complete title ends with; a first line ending otherwise continues on the next.
_TITLE_ENDINGS = ("通知", "报告", "总结", "计划", "方案", "要点", "讲话", "致辞", "决定", "意见", "办法", "规定", "函", "清单",
                  "名册", "台账", "情况", "说明", "纪要", "安排", "材料", "书", "表", "册", "制度", "规则", "批复", "请示", "回顾", "发言")


def _ends_open(first: str) -> bool:
    return not first.rstrip("》」』”)）").endswith(_TITLE_ENDINGS)


_TITLE_SKIP = re.compile(r"^\s*(?:附件\s*\d*|抄送|印发|签发人|特急|加急|平急|特提|第\s*\d+\s*页|[-—–\s\d]+)\s*[:：]?")


def cn_numeral_to_int(s: str) -> int:
    """二〇二三 -> 2023 (digit by digit); 十二 -> 12; 二十一 -> 21; 三十 -> 30."""
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = _CN_DIGITS.get(head, 1) if head else 1
        ones = _CN_DIGITS.get(tail, 0) if tail else 0
        return tens * 10 + ones
    n = 0
    for ch in s:
        n = n * 10 + _CN_DIGITS.get(ch, 0)
    return n


@dataclass(frozen=True)
class FoundDate:
    iso: str
    pos: int


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[FoundDate]:
    """All full dates in ``text`` (Arabic, Chinese-numeral and ISO-like), in order of position."""
    text = text.translate(_FULLWIDTH)
    out: list[FoundDate] = []
    for m in _DATE_ARABIC.finditer(text):
        iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            out.append(FoundDate(iso, m.start()))
    for m in _DATE_CN.finditer(text):
        iso = _valid(cn_numeral_to_int(m.group(1)), cn_numeral_to_int(m.group(2)), cn_numeral_to_int(m.group(3)))
        if iso:
            out.append(FoundDate(iso, m.start()))
    for m in _DATE_ISO.finditer(text):
        iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            out.append(FoundDate(iso, m.start()))
    out.sort(key=lambda d: d.pos)
    return out


def find_doc_number(text: str, window: int = 1500) -> str:
    """The document number (发文字号) near the top, normalised to ``X发〔2023〕12号``."""
    m = _DOC_NUMBER.search(text[:window].translate(_FULLWIDTH))
    if not m:
        return ""
    prefix = m.group(1)
    # The prefix regex is greedy over Han characters; keep the short code right before 〔.
    prefix = re.split(r"[，。；：\s]", prefix)[-1][-10:]
    return f"{prefix}〔{m.group(2)}〕{int(m.group(3))}号"


def find_secrecy(text: str) -> str:
    """秘密 / 机密 / 绝密 when the document carries a secrecy marking in its first lines
    (GB/T 9704: top left, possibly after the six-digit copy number, e.g. ``机密★5年``)."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:6]
    for line in lines:
        m = _SECRECY.match(line.translate(_FULLWIDTH))
        if m:
            mark = re.sub(r"\s+", "", m.group(1))
            return {"機密": "机密", "絕密": "绝密", "祕密": "秘密"}.get(mark, mark)
    return ""


_ISSUER_IN_TITLE = re.compile(r"^([\u4e00-\u9fff（）()]{2,30}?(?:局|委|办|办公室|政府|委员会|公司|集团|部|院|厅|处|所|中心|学校|医院|镇|乡|街道|会|社|站|队|组|党组|党委))关于")


def find_issuer(text: str, title: str = "") -> str:
    """The issuing body: the red header line, else the signature line above the end date,
    else the body named before 关于 in the title (``XX局关于……的通知``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines[:5]:
        m = _ISSUER_HEADER.match(line)
        if m:
            return m.group(1)
    tail = lines[-8:]
    for i, line in enumerate(tail):
        if (_DATE_ARABIC.search(line.translate(_FULLWIDTH)) or _DATE_CN.search(line)) and i > 0:
            m = _ISSUER_TAIL.match(tail[i - 1])
            if m:
                return m.group(1)
    m = _ISSUER_IN_TITLE.match(title.strip())
    return m.group(1) if m else ""


def document_date(text: str, *, title: str = "", name: str = "") -> str:
    """The document's date: the 成文日期 at the end first, then a date near the top, then
    a year in the title or file name. ISO ``YYYY-MM-DD`` (or ``YYYY``), or ''."""
    dates = find_dates(text)
    if dates:
        tail_start = max(0, len(text) - 400)
        tail = [d for d in dates if d.pos >= tail_start]
        if tail:
            return tail[-1].iso
        head = [d for d in dates if d.pos < 600]
        if head:
            return head[0].iso
    for src in (title, name):
        src = src.translate(_FULLWIDTH)
        m = _YEAR.search(src) or re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", src)
        if m:
            return m.group(1)
        m = _YEAR_CN.search(src)
        if m and 1900 <= cn_numeral_to_int(m.group(1)) <= 2099:
            return str(cn_numeral_to_int(m.group(1)))
    if dates:
        return dates[0].iso
    return ""


def guess_title(text: str, max_len: int = 80) -> str:
    """The heading of a document: the first line that looks like a title, skipping the
    secrecy marking, the red header, the document number and the like. '' when the text
    starts straight with body prose."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:12]
    parts: list[str] = []
    for line in lines:
        if _SECRECY.match(line) or _ISSUER_HEADER.match(line) or _DOC_NUMBER.fullmatch(line.strip()):
            continue
        if _DOC_NUMBER.search(line) and len(line) < 40:
            continue
        if _TITLE_SKIP.fullmatch(line) or re.fullmatch(r"[\d\s\-—–./]+", line):
            continue
        if parts:
            # A title broken over two lines: join when the first part is short and the
            # next line is not body text or a salutation.
            if (
                len(parts[0]) < 26
                and len(line) < 30
                and not line.endswith(("：", ":", "。"))
                and not re.search(r"[，。；]", line)
                and (not _NUMBERED.match(line) or (re.match(r"(?:19|20)\d{2}", line) and not _ends_open(line)))
                and _ends_open(parts[0])
            ):
                parts.append(line)
            break
        if len(line) > max_len or line.endswith(("。", "；", "，")) or ("，" in line[:max_len] and len(line) > 40):
            return ""
        if line.endswith(("：", ":")):
            return ""
        parts.append(line)
    return "".join(parts)[:max_len]
