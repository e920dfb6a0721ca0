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
    r"([\u4e00-\u9fffA-Za-z]{1,16})\s*[:：.·、]?\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*[:：.·、]?\s*第?\s*(\d{1,5})\s*[号號]"
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
    """True when a title line does not end with a document-type word (通知, 报告 …), a
    trailing parenthetical such as ``（2022—2024年）`` aside: the title goes on."""
    core = re.sub(r"[（(][^（）()]{1,30}[）)]$", "", first.strip())
    return not core.rstrip("》」』”)）").endswith(_TITLE_ENDINGS)


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


# =====================================================================================
# The layout reader: GB/T 9704 parts (版头 / 主体 / 版记) from positioned lines.
# =====================================================================================

#: Catalogue fields the reader fills, with their Chinese names (DA/T 22 columns).
FIELD_NAMES = {"title": "题名", "responsible": "责任者", "date": "日期", "doc_number": "文号", "secrecy": "密级",
               "pages": "页数"}
#: Below this confidence a field is flagged for review.
REVIEW_BELOW = 0.6
#: Fields every document has: empty means not found, and is flagged. 文号 and 密级 are
#: absent from most documents (a report has no number, an open document no marking).
REQUIRED_FIELDS = ("title", "responsible", "date", "pages")


@dataclass
class FieldValue:
    """One catalogue field as read from a document: the value and where it came from."""

    value: str = ""
    #: The GB/T 9704 part: 版头, 主体, 版记; or 文件属性, 文件名, 表格, 人工更正.
    part: str = ""
    #: The element of that part, e.g. 标题, 发文机关署名, 成文日期, 发文字号.
    element: str = ""
    #: Line (0-based, in the document's line list) and page (0-based); -1 unknown.
    line: int = -1
    page: int = -1
    confidence: float = 0.0

    #: False for an optional field (文号, 密级): its absence is no finding.
    required: bool = True

    @property
    def review(self) -> bool:
        if not self.value:
            return self.required
        return self.confidence < REVIEW_BELOW

    @property
    def source(self) -> str:
        """``主体·成文日期（第2页第31行）`` — where an archivist finds it."""
        if not self.part:
            return ""
        where = []
        if self.page >= 0:
            where.append(f"第{self.page + 1}页")
        if self.line >= 0:
            where.append(f"第{self.line + 1}行")
        label = "·".join(x for x in (self.part, self.element) if x)
        return label + (f"（{''.join(where)}）" if where else "")

    def as_json(self) -> dict[str, object]:
        return {"value": self.value, "source": self.source, "part": self.part, "element": self.element,
                "line": self.line + 1 if self.line >= 0 else None, "page": self.page + 1 if self.page >= 0 else None,
                "confidence": round(self.confidence, 2), "review": self.review}


@dataclass
class Reading:
    """What the layout reader found: the document's kind, its parts and its fields."""

    kind: str = ""
    #: part name -> (first line, last line), inclusive, 0-based.
    parts: dict[str, tuple[int, int]] | None = None
    fields: dict[str, FieldValue] | None = None


_ORGAN_SUFFIX = (
    r"(?:人民政府|政府|委员会|常务委员会|人大常委会|委|局|总局|分局|办公室|办|厅|部|处|科|院|所|中心|学校|大学|学院|中学|小学|幼儿园|医院"
    r"|卫生院|镇|乡|街道办事处|街道|公司|有限公司|集团|党组|党委|党工委|工委|管委会|管理委员会|支部|总支|协会|联合会|联社|会|社|站|队|大队"
    r"|馆|台|署|监狱|法院|检察院|银行|分行|支行|小组|领导小组|指挥部|工作组|办事处|合作社|研究室|保障部|人武部|纪委|监委|团委|妇联|工会|残联|股|室)"
)
_ORGAN = re.compile(rf"^[\u4e00-\u9fff（）()·]{{2,40}}{_ORGAN_SUFFIX}$")
_ORGAN_WORDS = re.compile(r"(?:关于|的通知|的报告|的意见|的决定|的函|的讲话|工作|情况|方案|要点|总结|计划)")
_POSTS = (r"(?:书记|副书记|县长|副县长|市长|副市长|区长|副区长|州长|副州长|省长|副省长|镇长|副镇长|乡长|副乡长|局长|副局长|主任|副主任|主席|副主席"
          r"|部长|副部长|厅长|副厅长|处长|副处长|科长|所长|院长|副院长|校长|副校长|经理|总经理|副总经理|董事长|委员|常委|秘书长|组长|队长|站长"
          r"|行长|检察长|庭长|馆长|社长|理事长|会长|政委|司令员|总会计师|总工程师|专员|调研员|巡视员|督学|总监|主任委员|负责人|代表|同志)")
_NAME = r"[\u4e00-\u9fff·]{2,4}"
_SPEAKER = re.compile(rf"^[（(]?(?P<post>[\u4e00-\u9fff、，,（）() ]{{0,40}}?{_POSTS})[\s：:]*(?P<name>{_NAME})[）)]?$")
_SPEAKER_LABEL = re.compile(r"^(?:讲话人|报告人|汇报人|发言人|主讲人|作者|执笔人?|撰稿人?)[：:\s]*(?P<name>.{2,30})$")
_NAME_ONLY = re.compile(rf"^[（(]?(?P<name>{_NAME})[）)]?$")
_NOT_NAMES = {"附件", "目录", "前言", "说明", "通知", "报告", "总结", "计划", "讲话", "序言", "摘要", "正文", "附表", "备注", "抄送", "印发",
              "同志们", "各位代表", "主送", "发文", "签发", "特急", "加急", "平急", "特提", "秘密", "机密", "绝密", "公告", "通报", "决定",
              "意见", "纪要", "请示", "批复", "议案", "命令", "函", "报告会", "开幕词", "闭幕词", "发言", "致辞", "汇报", "提纲", "结语",
              "引言", "附录", "表格", "附图"}
_URGENCY = re.compile(r"^(?:特急|加急|特提|平急)(?:★.*)?$")
_COPY_NO = re.compile(r"^(?:份号[:：]?\s*)?\d{6}$|^份号[:：]?\s*\S+$")
_SIGNER = re.compile(r"签发人[:：]")
_ISSUE_NO = re.compile(r"^[（(]?第\s*[0-9０-９一二三四五六七八九十百〇○零]+\s*[期号號][）)]?$")
_SUMMARY_MARK = re.compile(r"^(?P<body>.{2,40}?)(?:会议)?纪要$")
_CC = re.compile(r"^(?:抄\s*送|抄\s*报|分\s*送|发\s*至|报\s*送)[:：]")
_PRINTED = re.compile(r"印\s*发\s*$|印发日期|^[（(]共印\s*\d+\s*份[）)]$")
_ANNEX_NOTE = re.compile(r"^附\s*件[:：]")
_ANNEX_START = re.compile(r"^附\s*件\s*[0-9０-９一二三四五六七八九十]*\s*[:：]?$")
_NOTE_LINE = re.compile(r"^[（(](?:此件|本件|联系人|联 系 人|此文|本文).*[）)]$")
_PAGE_NO = re.compile(r"^[-—–－一\s]*[0-9０-９]{1,3}[-—–－一\s]*$|^第\s*[0-9]+\s*页(?:\s*[,，/]?\s*共\s*[0-9]+\s*页)?$|^[0-9]+\s*/\s*[0-9]+$")
_SUBTITLE = re.compile(r"^(?:——|──|—|－－|--|―+|─+)\s*\S")
_DATE_CHARS = r"[0-9０-９〇○零一二三四五六七八九十ＯOo]"
_DATE_ONLY = re.compile(
    rf"^[（(]?\s*(?:{_DATE_CHARS}\s*){{3,4}}\s*年\s*(?:{_DATE_CHARS}\s*){{1,3}}\s*月\s*(?:{_DATE_CHARS}\s*){{1,3}}\s*[日曰]\s*[）)]?$"
    r"|^[（(]?\s*(?:19|20)\d{2}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{1,2}\s*[）)]?$"
)
_SALUTATION = re.compile(r"[:：]$")
_NUMBERED_HEAD = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.、．]|第[一二三四五六七八九十]+[章节部分条])")
_TITLE_WORDS = re.compile(r"(?:通知|通报|报告|总结|计划|方案|要点|讲话|致辞|决定|意见|办法|规定|函|清单|名册|台账|纪要|安排|请示|批复|公告|通告|"
                          r"议案|命令|决议|公报|规划|细则|制度|章程|说明|情况|汇报|发言|提纲|回顾|述职|答复|复函|预案|指南|标准|守则|条例)")


def _simp(lines: list[str]) -> list[str]:
    from ..lang.textnorm import to_simplified

    if not lines:
        return []
    joined = to_simplified("\n".join(lines))
    out = joined.split("\n")
    return out if len(out) == len(lines) else [to_simplified(x) for x in lines]


def _nospace(s: str) -> str:
    return re.sub(r"[\s\u3000]+", "", s)


def _fields_apart(s: str) -> str:
    """Wide gaps (two or more spaces, a full-width space, a tab) become two spaces; single
    spaces inside Chinese text (OCR, justified PDFs) go."""
    s = re.sub(r"(?:[ \t]*[\u3000\t][ \t\u3000]*|[ ]{2,})", "  ", s.strip())
    return re.sub(r"(?<=[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]) (?=[\u3400-\u9fff\uff00-\uffef\u3000-\u303f0-9])|(?<=[0-9]) (?=[\u3400-\u9fff])", "", s)


def parse_date(text: str) -> str:
    """The ISO date of a date written alone (``二〇二四年三月五日``, ``2024年3月5日``,
    ``2024.3.5``, OCR's ``二O二四年三月五曰``); '' when it is not a valid date."""
    t = _nospace(text).strip("（）()").translate(_FULLWIDTH)
    t = t.replace("曰", "日").replace("O", "〇").replace("o", "〇").replace("Ｏ", "〇")
    m = re.fullmatch(r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日", t)
    if m:
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))) or ""
    # OCR drops the small 〇 of a year in Chinese numerals: 二一六年 is 二〇一六年
    t = re.sub(r"^二([一二])([〇○零一二三四五六七八九])年", r"二〇\1\2年", t)
    m = re.fullmatch(r"([〇○零一二三四五六七八九0-9]{4})年([一二三四五六七八九十0-9]{1,3})月([一二三四五六七八九十0-9]{1,3})日", t)
    if m:
        def num(s: str) -> int:
            return int(s) if s.isdigit() else cn_numeral_to_int(s)

        year = "".join(str(_CN_DIGITS.get(ch, ch)) for ch in m.group(1))
        if not year.isdigit():
            return ""
        return _valid(int(year), num(m.group(2)), num(m.group(3))) or ""
    m = re.fullmatch(r"((?:19|20)\d{2})[-./](\d{1,2})[-./](\d{1,2})", t)
    if m:
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))) or ""
    return ""


def _date_in(text: str) -> tuple[str, int, int] | None:
    """The first full date inside a line: (iso, start, end) in the space-free text."""
    t = _nospace(text).translate(_FULLWIDTH).replace("曰", "日")
    for m in re.finditer(r"(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|[〇○零一二三四五六七八九OＯ]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日"
                         r"|二[一二][〇○零一二三四五六七八九]年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日", t):
        iso = parse_date(m.group(0))
        if iso:
            return iso, m.start(), m.end()
    return None


def is_organ(text: str) -> bool:
    """A line that is an organ's name and nothing else (``榆川县农业农村局``)."""
    t = _nospace(text)
    return bool(_ORGAN.match(t)) and not _ORGAN_WORDS.search(t) and "关于" not in t


def _organs(text: str) -> list[str]:
    """The organs named on a signature or header line: one, or several separated by
    spaces or 、 (联合行文 side by side)."""
    pieces = [p for p in re.split(r"[\s\u3000、，,]{1,}", text.strip()) if p]
    if len(pieces) > 1 and all(is_organ(p) for p in pieces):
        return pieces
    t = _nospace(text)
    return [t] if is_organ(t) else []


def _speaker(text: str) -> str:
    """``县长 张某`` from a speaker line; '' when the line is not one."""
    t = text.strip()
    m = _SPEAKER_LABEL.match(_nospace(t))
    if m:
        return m.group("name")
    bare = t.strip("（）() ")
    m = _SPEAKER.match(_nospace(bare))
    if m and m.group("name") not in _NOT_NAMES and not _ORGAN.match(_nospace(bare)):
        post = m.group("post").strip("（）() ")
        # Keep the writer's own separation when there is one (``县长 张某``).
        spaced = re.split(r"[\s\u3000]+", bare)
        if len(spaced) >= 2 and _nospace(spaced[-1]) == m.group("name"):
            return f"{_nospace(''.join(spaced[:-1]))} {m.group('name')}"
        return f"{post} {m.group('name')}"
    return ""


def _organ_and_person(key: str) -> str:
    """The organ of an author line that names an organ and a person (``沂川市应急管理局
    宋琴娟``, the space lost in OCR): the organ is the 责任者 of a unit's report."""
    for k in range(len(key) - 2, max(len(key) - 5, 3), -1):
        if is_organ(key[:k]) and _name_only(key[k:]):
            return key[:k]
    return ""


def _name_only(text: str) -> str:
    m = _NAME_ONLY.match(_nospace(text))
    if m and m.group("name") not in _NOT_NAMES and not _TITLE_WORDS.search(m.group("name")):
        return m.group("name")
    return ""


class _Doc:
    """The lines of one document with their Simplified, space-free keys."""

    #: Lines read at the beginning and at the end of a long document: the 版头 and 标题 come
    #: first, the signature, 成文日期 and 版记 last; what lies between is body text.
    HEAD, TAIL = 80, 100
    #: Characters of a line looked at: parts and fields are short lines; longer ones are prose.
    WIDTH = 160

    def __init__(self, lines: list) -> None:
        if len(lines) > self.HEAD + self.TAIL:
            lines = lines[: self.HEAD] + lines[-self.TAIL:]
        kept = [ln for ln in lines if ln.text.strip() and not (len(ln.text.strip()) <= 20 and _PAGE_NO.match(_nospace(ln.text)))]
        for ln in kept:
            if len(ln.text) > self.WIDTH:
                ln.text = ln.text[: self.WIDTH]
        self.lines = kept
        self.orig = [_nospace(ln.text) for ln in kept]
        simplified = _simp([_fields_apart(ln.text) for ln in kept])
        #: Simplified, with wide gaps kept as two spaces (organs side by side, 文号 … 签发人)
        self.spaced = simplified
        self.keys = [_nospace(s) for s in simplified]
        self.geometry = any(ln.align for ln in kept)
        sized = [(ln.size, len(k)) for ln, k in zip(kept, self.keys, strict=True) if ln.size > 0 and not ln.table]
        weights: dict[float, int] = {}
        for size, n in sized:
            weights[round(size, 1)] = weights.get(round(size, 1), 0) + n
        self.body_size = max(weights, key=weights.get) if weights else 0.0

    def __len__(self) -> int:
        return len(self.lines)

    def big(self, i: int, factor: float = 1.15) -> bool:
        ln = self.lines[i]
        return bool(self.body_size and ln.size >= self.body_size * factor)

    def centred(self, i: int) -> bool:
        return self.lines[i].align == "center"

    def right(self, i: int) -> bool:
        ln = self.lines[i]
        return ln.align == "right" or (ln.indent >= 8 and ln.align != "center")

    def original(self, i: int, value: str) -> str:
        """``value`` (found in the Simplified key of line ``i``) in the document's own script."""
        key, orig = self.keys[i], self.orig[i]
        plain = _nospace(value)
        at = key.find(plain)
        if at >= 0 and len(key) == len(orig):
            found = orig[at:at + len(plain)]
            if " " in value and len(value.split()) == 2:  # 县长 张某: keep the separating space
                head = _nospace(value.split()[0])
                return f"{found[:len(head)]} {found[len(head):]}"
            return found
        return value

    def field(self, value: str, part: str, element: str, i: int, confidence: float) -> FieldValue:
        ln = self.lines[i] if 0 <= i < len(self.lines) else None
        if ln is not None and element not in ("成文日期", "标题下日期", "首部日期", "印发机关和日期") and "、" not in value:
            value = self.original(i, value)
        return FieldValue(value, part, element, ln.no if ln is not None else -1,
                          ln.page if ln is not None else -1, confidence)


def read_layout(lines: list, *, kind_hint: str = "") -> Reading:
    """Find the parts of an official document and read its catalogue fields.

    ``lines``: :class:`~.layout.Line` objects in reading order (geometry optional).
    Returns a :class:`Reading` whose ``fields`` hold 题名 (title), 责任者 (responsible),
    日期 (date, ISO) and 文号 / 密级 with their source and confidence; a field not found is
    absent (the caller leaves it empty and flags it)."""
    for i, ln in enumerate(lines):
        ln.no = i
    d = _Doc(lines)
    fields: dict[str, FieldValue] = {}
    parts: dict[str, tuple[int, int]] = {}
    if not len(d):
        return Reading("", parts, fields)
    head_end, head = _read_head(d, fields)
    if head_end >= 0:
        parts["版头"] = (0, head_end)
    tail_start = _find_tail(d, head_end + 1)
    if tail_start < len(d):
        parts["版记"] = (tail_start, len(d) - 1)
    body_start = head_end + 1
    body_end = tail_start - 1
    if body_start <= body_end:
        parts["主体"] = (body_start, body_end)
    kind = head.get("kind", "")
    title_end = _read_title(d, body_start, body_end, fields, head)
    if "title" not in fields and kind == "纪要" and head.get("summary_mark"):
        # a 纪要 without a title of its own is catalogued under its mark and issue
        issue = head.get("issue") or (fields["doc_number"].value if "doc_number" in fields else "")
        mark = d.original(head["mark_line"], head["summary_mark"])
        fields["title"] = d.field(f"{mark}（{issue}）" if issue else mark, "版头", "纪要标志和期号", head["mark_line"], 0.8)
    after = _read_byline(d, title_end + 1, body_end, fields)
    if after.get("speaker"):
        kind = kind or "讲话稿"
    _read_signature(d, max(after.get("next", title_end + 1), body_start), body_end, fields, head)
    # 责任者 from the 版头 when the end carries no signature (a seal only, or none)
    if "responsible" not in fields and head.get("organs"):
        fields["responsible"] = d.field("、".join(head["organs"]), "版头", "发文机关标志", head["mark_line"], 0.8)
    if "responsible" not in fields and "title" in fields:
        m = _ISSUER_IN_TITLE.match(_nospace(fields["title"].value))
        if m:
            fields["responsible"] = FieldValue(m.group(1), "主体", "标题（发文机关名称）", fields["title"].line,
                                               fields["title"].page, 0.7)
    if "date" not in fields:
        _date_near_top(d, body_start, min(body_end, title_end + 6), fields)
    if "doc_number" not in fields:
        _number_anywhere(d, fields)
    return Reading(kind or ("文件" if head.get("mark_line") is not None else "报告"), parts, fields)


def _read_head(d: _Doc, fields: dict[str, FieldValue]) -> tuple[int, dict]:
    """The 版头: 份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人 (and a 纪要's 期号 and
    organ-and-date line). Returns (index of its last line or -1, what it held)."""
    head: dict = {}
    last = -1
    organs: list[str] = []
    n = min(len(d), 16)
    i = 0
    while i < n:
        key = d.keys[i]
        line = d.lines[i]
        if _COPY_NO.match(key) and i < 4:
            last = i
        elif (m := _SECRECY.match(key.translate(_FULLWIDTH))) and i < 5:
            mark = _nospace(m.group(1))
            fields["secrecy"] = d.field({"機密": "机密", "絕密": "绝密", "祕密": "秘密"}.get(mark, mark), "版头", "密级和保密期限",
                                        i, 0.95)
            last = i
        elif _URGENCY.match(key) and i < 6:
            last = i
        elif re.fullmatch(r"(?:.{2,60}?)文件", key) and i < 8 and len(key) <= 62 and "关于" not in key:
            # 发文机关标志 "XX文件"; a joint one may stack organs on lines before "文件"
            body = key[:-2]
            found = _organs(d.spaced[i].strip()[:-2].rstrip()) or ([body] if body else [])
            organs = organs + found if organs else found
            head["mark_line"] = head.get("mark_line", i)
            head["kind"] = "文件"
            last = i
        elif key in ("文件",) and organs:
            last = i
        elif (m := _SUMMARY_MARK.match(key)) and i < 6 and "关于" not in key and head.get("kind") != "纪要" \
                and (d.big(i, 1.3) or line.red or not d.body_size or _next_is(d, i, _ISSUE_NO)
                     or (i + 1 < len(d) and bool(_DOC_NUMBER.search(d.keys[i + 1])))):
            head["mark_line"] = i
            head["kind"] = "纪要"
            head["summary_mark"] = key
            last = i
        elif _ISSUE_NO.match(key) and i < 8 and head.get("kind") == "纪要":
            head["issue"] = key
            last = i
        elif _DOC_NUMBER.search(key.translate(_FULLWIDTH)) and len(key) <= 60 and i < 12 and "关于" not in key:
            number = find_doc_number(key)
            if number:
                fields["doc_number"] = d.field(number, "版头", "发文字号", i, 0.95)
                if "函" in number and not head.get("kind"):
                    head["kind"] = "函"
                last = i
        elif _SIGNER.search(key) and i < 12:
            last = i
        elif is_organ(key) and i < 8 and not fields.get("doc_number") and _organ_mark(d, i):
            # 函 (信函格式) or a joint 版头 whose "文件" stands on its own line
            found = _organs(d.spaced[i])
            organs += found
            head["mark_line"] = head.get("mark_line", i)
            head.setdefault("kind", "函")
            last = i
        elif head.get("kind") == "纪要" and (dt := _date_in(key)) and is_organ(key[: dt[1]].rstrip("：:，,、.·")) and i < 10:
            # 纪要: "榆川县人民政府办公室    2024年3月5日" under the mark
            head["summary_organ"] = (key[: dt[1]].rstrip("：:，,、.·"), i)
            fields["date"] = d.field(dt[0], "版头", "印发机关和日期", i, 0.85)
            last = i
        else:
            # anything else ends the 版头, unless it is a blank-ish rule line
            if re.fullmatch(r"[-—_─━=＝★☆]+", key):
                last = i if last >= 0 else last
            elif last >= 0 or i >= 2:
                break
        i += 1
    if organs:
        head["organs"] = organs
    if head.get("kind") == "纪要" and "summary_organ" in head:
        organ, at = head["summary_organ"]
        fields.setdefault("responsible", d.field(organ, "版头", "纪要印发机关", at, 0.85))
    return last, head


def _next_is(d: _Doc, i: int, pattern: re.Pattern) -> bool:
    return i + 1 < len(d) and bool(pattern.match(d.keys[i + 1]))


def _organ_mark(d: _Doc, i: int) -> bool:
    """An organ's name at the top is the 发文机关标志 of a 函 (or of a joint document)
    when it is set large or red, or when a document number follows within two lines;
    otherwise it may be the first line of a title broken after the organ's name."""
    if d.lines[i].red:
        return True
    j = i + 1
    while j < len(d) and j < i + 5 and is_organ(d.keys[j]):
        j += 1  # organs stacked in a joint 版头
    if j < len(d) and (d.keys[j].endswith("文件") or bool(_DOC_NUMBER.search(d.keys[j].translate(_FULLWIDTH)))):
        return True
    if d.big(i, 1.3):
        # the mark is set larger than the title under it; a title broken after the organ's
        # name goes on in type of the same size
        nxt = d.lines[i + 1] if i + 1 < len(d) else None
        if nxt is None or not (d.big(i + 1) and nxt.size >= d.lines[i].size * 0.85):
            return True
    for j in range(i + 1, min(len(d), i + 4)):
        if _DOC_NUMBER.search(d.keys[j].translate(_FULLWIDTH)) and len(d.keys[j]) <= 60 and "关于" not in d.keys[j]:
            return True
        if not is_organ(d.keys[j]) and d.keys[j] != "文件":
            return False
    return False


def _find_tail(d: _Doc, start: int) -> int:
    """First line of the 版记 (抄送机关, 印发机关和印发日期) at the end, or len(d). Lines
    between a 抄送 line and the 印发 line (a long 抄送 list) belong to it too."""
    n = len(d)
    first = n
    for i in range(n - 1, max(start, n - 14) - 1, -1):
        key = d.keys[i]
        printed = _PRINTED.search(key) and len(key) <= 60 and (_date_in(key) or not key.endswith("印发"))
        if (_CC.match(key) or printed) and i > start:
            first = i
    return first


def _title_line_ok(d: _Doc, i: int) -> bool:
    key = d.keys[i]
    if not key or len(key) > 60:
        return False
    if re.search(r"[:：]", key):  # 考核人：… , 主送机关：
        return False
    if key.endswith(("。", "；", "，", "：", ":")) or _SALUTATION.search(key):
        return False
    if re.search(r"[，。；]", key) and len(key) > 20:
        return False
    if _DATE_ONLY.match(key) or _SUBTITLE.match(key) or _NOTE_LINE.match(key):
        return False
    return not (_ANNEX_NOTE.match(key) or _CC.match(key))


def _roughly_centred(line) -> bool:
    """A line in title type whose margins differ by little (its width, in large type,
    leaves less than a body character on either side to tell centred from full)."""
    return line.indent >= 0.3 and line.right >= 0.3 and abs(line.indent - line.right) <= 1.5


def _read_title(d: _Doc, start: int, end: int, fields: dict[str, FieldValue], head: dict) -> int:
    """题名: the 标题 — the first title-like line(s) of the 主体, joined when the title is
    broken over lines. Returns the index of its last line (start - 1 when none)."""
    i = start
    # skip a stray 版头 remnant (签发人 on its own line, a 纪要 期号)
    while i <= end and (_SIGNER.search(d.keys[i]) or _ISSUE_NO.match(d.keys[i])) and i < start + 2:
        i += 1
    if i > end or not _title_line_ok(d, i):
        return start - 1
    parts = [i]
    first = d.lines[i]
    styled = d.big(i) or first.bold or first.style.lower().startswith(("title", "heading", "标题"))
    geometric = d.geometry and styled and (first.align == "center" or (d.big(i) and (first.align == "justify"
                                                                                   or _roughly_centred(first))))
    j = i + 1
    while j <= end and len(parts) < 4:
        if not _title_line_ok(d, j):
            break
        prev = parts[-1]
        if geometric:
            ln, pl = d.lines[j], d.lines[prev]
            same = (ln.align == "center" or (d.big(j) and (ln.align == "justify" or _roughly_centred(ln)))) \
                and abs(ln.size - pl.size) <= max(0.6, pl.size * 0.08) and ln.bold == pl.bold
            # a widow of one to three characters ("知") whose box height says little
            widow = ln.align == "center" and len(d.keys[j]) <= 3 and _ends_open("".join(d.keys[k] for k in parts)) \
                and ln.size >= pl.size * 0.7
            if not (same or widow) or _speaker(d.keys[j]) \
                    or (is_organ(d.keys[j]) and not _ends_open("".join(d.keys[k] for k in parts))):
                break
            parts.append(j)
            j += 1
            continue
        # text only: join while the title so far is incomplete and the next line is short
        so_far = "".join(d.keys[k] for k in parts)
        nxt = d.keys[j]
        if d.geometry and d.lines[j].align not in ("center", "", d.lines[parts[-1]].align):
            break
        if _speaker(nxt) or _name_only(nxt) or (is_organ(nxt) and not _ends_open(so_far)):
            break
        if len(so_far) < 40 and len(nxt) < 40 and (_ends_open(so_far) or nxt.startswith(("的", "（", "(", "《"))) \
                and not _NUMBERED_HEAD.match(nxt):
            parts.append(j)
            j += 1
            continue
        break
    title = "".join(d.keys[k] for k in parts)
    # the value in the document's own script (the keys are Simplified)
    own = "".join(d.orig[k] if len(d.orig[k]) == len(d.keys[k]) else d.keys[k] for k in parts)
    # a title is never just an organ's name: that is an author line or a stray 标志
    if is_organ(title) and len(parts) == 1:
        return start - 1
    # 讲话: a subtitle line "——在…的讲话" belongs to the title
    last = parts[-1]
    if last + 1 <= end and _SUBTITLE.match(d.keys[last + 1]) and len(d.keys[last + 1]) <= 60:
        title += "——" + re.sub(r"^[—─－\-―]+", "", d.keys[last + 1])
        own += "——" + re.sub(r"^[—─－\-―]+", "", d.orig[last + 1])
        last += 1
    confidence = 0.95 if geometric else (0.85 if head.get("mark_line") is not None or _TITLE_WORDS.search(title) else 0.65)
    fields["title"] = d.field(title, "主体", "标题", parts[0], confidence)
    fields["title"].value = own
    return last


def _read_byline(d: _Doc, start: int, end: int, fields: dict[str, FieldValue]) -> dict:
    """Lines right under the title: a speech's speaker and date (``县长 张某`` /
    ``（2024年1月5日）``), a report's author line (organ, or organ and person)."""
    out: dict = {"next": start}
    i = start
    while i <= end and i < start + 4:
        key = d.keys[i]
        line = d.spaced[i].strip()
        if _SALUTATION.search(key) or len(key) > 40:
            break
        spk = _speaker(line)
        if not spk and (name := _name_only(key)) and "title" in fields and re.search(r"讲话|致辞|发言|报告|演讲|辞$", fields["title"].value):
            spk = name
        # speaker and date on one line: "县长 张某（2024年1月5日）"
        if not spk and (dt := _date_in(key)) and dt[1] > 1:
            spk = _speaker(key[: dt[1]].strip("（("))
            if spk or is_organ(key[: dt[1]].strip("（(")):
                who = spk or key[: dt[1]].strip("（(")
                if "responsible" not in fields:
                    fields["responsible"] = d.field(who, "主体", "讲话人" if spk else "作者", i, 0.8)
                fields.setdefault("date", d.field(dt[0], "主体", "标题下日期", i, 0.8))
                out["speaker"] = bool(spk)
                i += 1
                out["next"] = i
                continue
        if spk:
            fields["responsible"] = d.field(spk, "主体", "讲话人", i, 0.85)
            out["speaker"] = True
        elif _DATE_ONLY.match(key):
            iso = parse_date(key)
            if iso:
                fields.setdefault("date", d.field(iso, "主体", "标题下日期", i, 0.8))
        elif (organs := _organs(line.strip("（）() "))) and "responsible" not in fields:
            fields["responsible"] = d.field("、".join(organs), "主体", "作者", i, 0.75)
        elif (author := _organ_and_person(key)) and "responsible" not in fields:
            fields["responsible"] = d.field(author, "主体", "作者", i, 0.7)
        elif (m := re.match(r"^[（(]?(.{2,30}?)\s+((?:19|20)\d{2}年\d{1,2}月(?:\d{1,2}日)?)[）)]?$", line)) and is_organ(m.group(1)):
            fields.setdefault("responsible", d.field(_nospace(m.group(1)), "主体", "作者", i, 0.75))
        else:
            break
        i += 1
        out["next"] = i
    return out


def _signature_candidates(d: _Doc, start: int, end: int) -> list[int]:
    out = []
    for i in range(start, end + 1):
        key = d.keys[i]
        if _DATE_ONLY.match(key) and parse_date(key) and not d.lines[i].table:
            if d.geometry and d.lines[i].align in ("left", "justify", "center") and not d.right(i) \
                    and not (i > 0 and _organs(d.lines[i - 1].text)):
                continue
            out.append(i)
        elif d.lines[i].table and parse_date(key.split("\t")[-1] if "\t" in key else key):
            out.append(i)
    return out


def _read_signature(d: _Doc, start: int, end: int, fields: dict[str, FieldValue], head: dict) -> None:
    """发文机关署名 and 成文日期 at the end of the 主体 (before any 附件 and the 版记)."""
    if start > end:
        return
    cands = _signature_candidates(d, start, end)
    # organ and date on one line ("榆川县财政局  2024年3月5日"), the form of some reports
    if not cands:
        for i in range(end, max(start, end - 8) - 1, -1):
            dt = _date_in(d.keys[i])
            if dt and dt[2] == len(_nospace(d.keys[i]).translate(_FULLWIDTH).replace("曰", "日").rstrip("）)")) and dt[1] > 0:
                who = _organs(d.spaced[i].strip().rsplit("  ", 1)[0]) \
                    or _organs(d.keys[i][: dt[1]])
                if who:
                    fields["date"] = d.field(dt[0], "主体", "成文日期", i, 0.8)
                    fields.setdefault("responsible", d.field("、".join(who), "主体", "发文机关署名", i, 0.8))
                    return
        return
    chosen = None
    annex_notes = [i for i in range(start, end + 1) if _ANNEX_NOTE.match(d.keys[i])]
    if annex_notes:
        after = [c for c in cands if c > annex_notes[0]]
        chosen = after[0] if after else None
    if chosen is None:
        starts = [i for i in range(start, end + 1) if _ANNEX_START.match(d.keys[i])]
        before = [c for c in cands if not starts or c < starts[0]]
        chosen = before[-1] if before else cands[-1]
    iso = parse_date(d.keys[chosen]) or parse_date(d.keys[chosen].split("\t")[-1])
    # the signature: organ (or person) lines right above the date
    organs: list[str] = []
    first_sig = chosen
    k = chosen - 1
    while k >= start and chosen - k <= 5:
        key = d.keys[k]
        found = _organs(d.spaced[k].strip())
        if found and d.geometry and d.lines[k].align in ("left", "justify") and not d.right(k) and not d.lines[k].table:
            found = []  # a body line's wrapped end ("财政局"), not a signature
        if d.lines[k].table and "\t" in d.lines[k].text:
            cells = [c for c in d.lines[k].text.split("\t") if c.strip()]
            if cells and all(is_organ(c) for c in cells):
                found = [_nospace(c) for c in cells]
        if found:
            organs = found + organs
            first_sig = k
            k -= 1
            continue
        if _name_only(key) and not organs and (d.right(k) or not d.geometry):
            organs = [_name_only(key)]
            first_sig = k
            k -= 1
            continue
        break
    confidence = 0.95 if (d.geometry and (d.right(chosen) or d.lines[chosen].table)) or organs else 0.75
    fields["date"] = d.field(iso, "主体", "成文日期", chosen, confidence)
    if organs and not (fields.get("responsible") and fields["responsible"].element == "讲话人"):
        conf = 0.95 if len(organs) == len(head.get("organs") or organs) or not head.get("organs") else 0.85
        fields["responsible"] = d.field("、".join(_order_joint(organs, head.get("organs") or [])), "主体", "发文机关署名",
                                        first_sig, conf)


def _order_joint(signed: list[str], marked: list[str]) -> list[str]:
    """联合行文: the 主办机关 first. The 版头 lists it first; the signature normally does
    too, but where the 版头 order is known it decides."""
    if len(signed) < 2 or len(marked) < 2:
        return signed

    def rank(organ: str) -> int:
        for r, m in enumerate(marked):
            if m == organ or m in organ or organ in m:
                return r
        return len(marked)

    return sorted(signed, key=lambda o: (rank(o), signed.index(o)))


def _date_near_top(d: _Doc, start: int, end: int, fields: dict[str, FieldValue]) -> None:
    """Else a full date in the title or in the first lines of the 主体."""
    title = fields.get("title")
    if title:
        dt = _date_in(title.value)
        if dt:
            fields["date"] = FieldValue(dt[0], "主体", "标题中的日期", title.line, title.page, 0.7)
            return
    for i in range(start, min(end, start + 5) + 1):
        dt = _date_in(d.keys[i])
        if dt:
            fields["date"] = d.field(dt[0], "主体", "首部日期", i, 0.6)
            return


def _number_anywhere(d: _Doc, fields: dict[str, FieldValue]) -> None:
    """A 文号 outside the 版头: 函 put it at the top right, some copies on the first lines."""
    for i in range(min(len(d), 14)):
        key = d.keys[i]
        if len(key) <= 60 and "关于" not in key and _DOC_NUMBER.search(key.translate(_FULLWIDTH)):
            number = find_doc_number(key)
            if number:
                fields["doc_number"] = d.field(number, "版头" if i < 8 else "主体", "发文字号", i, 0.8)
                return
