"""Labelled official-format documents for measuring the catalogue fields (issue 15).

Every document is laid out after GB/T 9704-2012 in one of the layouts an archive meets:
版头+版记 文件 (通知, 报告, 意见, 印发通知 with an attachment), 函 (信函格式), 联合行文,
讲话稿, 纪要, a plain report without 版头, and a spreadsheet; written as DOCX (direct
formatting, or styles, or typewriter spacing; 版记 as paragraphs or as a table), as PDF
with a non-embedded CID font (ReportLab) or with embedded fonts (LibreOffice export of
the DOCX), as plain text, and as scans: image-only PDF, multi-page TIFF G4, JPEG and PNG,
slightly rotated and noisy.

The bodies are the project's held-out classification texts (``corpus/heldout``: written
separately, never trained on), so that contents are varied and each document carries a
real inventory code; organs, places, people, document numbers, dates and their styles,
line breaks of titles and layout options are drawn from a seeded generator. Labels come
from the generator, not from reading the files: ``fields.csv`` beside the code folders
(path, 题名, 责任者, 日期 ISO, 文号, 密级, 页数, layout, format).

Deterministic: the same seed gives the same documents and labels (scans and LibreOffice
PDFs are deterministic in content; their bytes may differ between tool versions).

    python corpus/official/generate.py OUT [--n 40] [--scans 10] [--seed 15]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HELDOUT = ROOT / "corpus" / "heldout"

# --------------------------------------------------------------------------- pools

_PLACE_HEAD = "沅清雁栖柏芦青岑槐松岚溪渭沣漳湄蓉桂楠澧湘沂淇汀沔涟榕梓桐琅柘郁"
_PLACE_TAIL = "川阳源安平宁丰溪山江城州泉湖林台陵水原南北口河"
_COUNTY = ("县", "县", "县", "市", "区")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "建国明华志强文军晓东海燕红梅立新永平春林宏伟德胜桂兰秀英玉洁思远子涵一鸣嘉欣振宇国庆卫东丽娟雪峰光辉志刚宇航敏慧雅琴晨阳"

#: (name, abbreviation in 文号, kind of organ)
_ORGANS = [
    ("人民政府", "政", "gov"), ("人民政府办公室", "政办", "gov"), ("财政局", "财", "dep"), ("农业农村局", "农", "dep"),
    ("教育局", "教", "dep"), ("卫生健康委员会", "卫健", "dep"), ("发展和改革委员会", "发改", "dep"), ("交通运输局", "交", "dep"),
    ("水利局", "水", "dep"), ("审计局", "审", "dep"), ("统计局", "统", "dep"), ("应急管理局", "应急", "dep"),
    ("市场监督管理局", "市监", "dep"), ("人力资源和社会保障局", "人社", "dep"), ("民政局", "民", "dep"), ("自然资源局", "自然资源", "dep"),
    ("生态环境局", "环", "dep"), ("住房和城乡建设局", "建", "dep"), ("文化和旅游局", "文旅", "dep"), ("医疗保障局", "医保", "dep"),
    ("商务局", "商", "dep"), ("林业局", "林", "dep"), ("司法局", "司", "dep"), ("退役军人事务局", "退役", "dep"),
]
_PARTY = [("委员会", "委", "party"), ("委员会办公室", "委办", "party"), ("纪律检查委员会", "纪", "party"), ("委员会组织部", "组", "party")]
_POSTS = {"gov": ["县长", "副县长", "常务副县长"], "dep": ["局长", "党组书记、局长", "副局长", "主任"], "party": ["书记", "副书记", "部长"]}
_MEETINGS = ["全县经济工作会议", "全县安全生产工作会议", "全县农业农村工作会议", "全县教育工作会议", "全县财政工作会议", "全县优化营商环境大会",
             "全县党风廉政建设工作会议", "全县防汛抗旱工作会议", "全系统半年工作推进会", "全县项目建设观摩会", "全县乡村振兴工作推进会"]

#: What a document of each code is called when its held-out text has no title of its own.
CODE_TITLES = {
    "A1": "机构设置和职能配置情况", "A3": "工作运转情况", "B1": "任期目标完成情况", "B2": "存在的问题和注意事项",
    "C1": "{year}年工作计划", "C2": "{year}年工作总结", "C4": "工作经验材料", "C5": "{year}年财政经济指标完成情况",
    "C6": "{year}年度财务收支情况", "D1": "预算外资金管理情况", "D2": "账外资金清理情况", "D3": "债权债务情况",
    "D4": "固定资产管理情况", "E1": "未尽事宜", "F1": "有关事项", "P1": "任期经济责任审计情况",
}

#: What an attachment promulgated by a notice (印发通知) of each code is called.
PLAN_TITLES = {"A3": "工作规则", "B1": "领导班子任期目标责任书", "A1": "内设机构和职责分工方案"}

# GB/T 9704 kinds -> the heldout codes whose bodies fit them
_KIND_CODES = {
    "notice": ["A1", "A3", "B1", "C1", "D3", "E1", "F1"],
    "report": ["B2", "C2", "C5", "C6", "D1", "D2", "D4", "E1", "P1"],
    "promulgate": ["C1", "A3", "B1"],
    "letter": ["F1", "E1", "D3"],
    "joint": ["C1", "A3", "C5", "B2"],
    "speech": ["C3"],
    "minutes": ["F1"],
    "plain": ["C2", "C4", "C6", "B2", "D1", "E1", "A1", "C5"],
}


def _cn_digits(n: int, zero: str = "〇") -> str:
    return "".join((zero + "一二三四五六七八九")[int(c)] for c in str(n))


def _cn_number(n: int) -> str:
    if n < 10:
        return "〇一二三四五六七八九"[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else "〇一二三四五六七八九"[tens]) + "十" + ("〇一二三四五六七八九"[ones] if ones else "")


def date_text(d: date, style: str) -> str:
    """The ways a 成文日期 is written: digits (GB/T 9704-2012), Chinese numerals (the 2000
    standard and many still), with the O-like ○."""
    if style == "cn":
        return f"{_cn_digits(d.year)}年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    if style == "cn-o":
        return f"{_cn_digits(d.year, '○')}年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    return f"{d.year}年{d.month}月{d.day}日"


# --------------------------------------------------------------------------- model


@dataclass
class Doc:
    """One document: its parts in GB/T 9704 order, and the labels."""

    kind: str
    code: str
    copy_no: str = ""
    secrecy: str = ""          # e.g. 机密★5年
    urgency: str = ""          # 特急 / 加急
    mark: list[str] = field(default_factory=list)   # 发文机关标志 organs (joint: several)
    mark_suffix: str = "文件"  # "文件", "" (函), "纪要"
    number: str = ""
    signer: str = ""           # 签发人 (上行文)
    issue_line: str = ""       # 纪要: 第N期
    minutes_organ_date: str = ""
    title_lines: list[str] = field(default_factory=list)
    subtitle: str = ""
    byline: list[str] = field(default_factory=list)
    addressee: str = ""
    body: list[str] = field(default_factory=list)
    annex_note: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    signature_side_by_side: bool = False
    date: str = ""
    note: str = ""
    annex_title: str = ""
    annex_body: list[str] = field(default_factory=list)
    cc: str = ""
    printed: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def _organ(rng: random.Random, place: str, kind: str | None = None) -> tuple[str, str, str]:
    pool = [o for o in _ORGANS + _PARTY if kind is None or o[2] == kind]
    name, abbr, k = rng.choice(pool)
    if k == "party":
        return f"中共{place}{name}", abbr, k
    return f"{place}{name}", abbr, k


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))


def _place(rng: random.Random) -> tuple[str, str]:
    head = rng.choice(_PLACE_HEAD)
    tail = rng.choice(_PLACE_TAIL)
    return head + tail + rng.choice(_COUNTY), head


def _heldout(code: str) -> list[tuple[str, list[str]]]:
    """(title or '', body paragraphs) of the held-out texts of ``code``."""
    out = []
    for f in sorted((HELDOUT / code).glob("*.txt")):
        lines = [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not lines:
            continue
        title = ""
        if len(lines[0]) <= 40 and not lines[0].endswith(("。", "；")) and not re.search(r"[，：:\t]", lines[0]):
            title, lines = lines[0], lines[1:]
        # the generator writes its own 文号, signature and date
        lines = [ln for ln in lines if not re.fullmatch(r".{1,12}[〔\[（(]\d{4}[〕\]）)]\d{1,4}号", ln)]
        while lines and (len(lines[-1]) <= 24 and not lines[-1].endswith("。")):
            lines.pop()
        if len(lines) >= 2:
            out.append((title, [ln for ln in lines if len(ln) >= 6][:14]))
    return out


def _split_title(rng: random.Random, title: str) -> list[str]:
    """Break a long title over lines the way typesetters do (梯形/菱形): before 关于, after
    关于…的 or at a balanced point; short titles stay on one line."""
    if len(title) <= 20 or rng.random() < 0.25:
        return [title]
    m = re.search(r"关于", title)
    if m and 4 <= m.start() <= len(title) - 8 and rng.random() < 0.5:
        return [title[: m.start()], title[m.start():]]
    cut = len(title) // 2 + rng.randint(-3, 3)
    # never split inside 《》 or （）
    for delta in range(0, 8):
        for c in (cut + delta, cut - delta):
            if 6 <= c <= len(title) - 4 and title.count("《", 0, c) == title.count("》", 0, c) \
                    and title.count("（", 0, c) == title.count("）", 0, c) \
                    and not (title[c - 1].isascii() and title[c].isascii()) and title[c] not in "年月日号》）的":
                parts = [title[:c], title[c:]]
                if len(parts[1]) > 24 and rng.random() < 0.5:  # three lines (菱形)
                    return [parts[0], *_split_title(rng, parts[1])]
                return parts
    return [title]


def make_doc(rng: random.Random, kind: str, bodies: dict[str, list]) -> Doc:
    place, head = _place(rng)
    code = rng.choice([c for c in _KIND_CODES[kind] if bodies.get(c)])
    src_title, src_body = rng.choice(bodies[code])
    src_body = list(src_body)
    year = rng.randint(2016, 2024)
    when = date(year, 1, 1) + timedelta(days=rng.randint(10, 350))
    dstyle = rng.choice(["digits", "digits", "cn", "cn-o"] if kind != "speech" else ["digits", "digits", "cn"])
    d = Doc(kind=kind, code=code)
    organ, abbr, okind = _organ(rng, place, "gov" if kind == "minutes" else None)
    if rng.random() < 0.15 and kind in ("notice", "report", "promulgate", "joint"):
        d.copy_no = f"{rng.randint(1, 300):06d}"
        d.secrecy = rng.choice(["秘密", "机密", "秘密★1年", "机密★5年", "秘密★6个月"])
    if rng.random() < 0.12 and kind in ("notice", "promulgate", "joint", "letter"):
        d.urgency = rng.choice(["特急", "加急"])
    n = rng.randint(1, 160)
    type_char = {"notice": "发", "report": "报", "promulgate": "发", "letter": "函", "joint": "发"}.get(kind, "发")
    core = re.sub(r"^.*?(?:局|委员会|政府|办公室|集团|公司|学校|医院|中心|镇|乡|街道)(?=\d{4}|关于|[^\d]{2})", "", src_title) if src_title else ""
    core = core or src_title
    doc_year = when.year
    labels_title = ""
    labels_resp = ""
    if kind in ("notice", "report", "promulgate", "joint", "letter"):
        organs = [organ]
        if kind == "joint":
            while len(organs) < rng.choice((2, 2, 3)):
                o2 = _organ(rng, place, "dep")[0]
                if o2 not in organs:
                    organs.append(o2)
        d.mark = organs
        d.mark_suffix = "" if kind == "letter" else "文件"
        d.number = f"{head}{abbr}{type_char}〔{doc_year}〕{n}号"
        if kind == "report" and rng.random() < 0.5:
            d.signer = _person(rng)
        # the title
        if kind == "promulgate":
            # the attachment is the held-out document itself, under its own title, so that
            # title and content agree with the code
            if re.search(r"(计划|要点|方案|办法|规定|制度|规则|细则|责任书)$", core or ""):
                plan = core
            elif src_title:
                plan = src_title
            else:
                plan = f"{doc_year}年{rng.choice(['重点工作任务分工方案', '工作要点', '工作实施方案', '工作计划'])}" \
                    if code == "C1" else f"{organ}{PLAN_TITLES.get(code, '工作规则')}"
            title = f"{organs[0] if rng.random() < 0.6 else ''}关于印发《{plan}》的通知"
            d.annex_title = plan
            d.annex_body = src_body
            d.body = [f"现将《{plan}》印发给你们，请结合实际，认真抓好贯彻落实。执行中遇到的问题，请及时报告。"]
            d.annex_note = [f"附件：{plan}"]
        elif kind == "letter":
            subject = core.strip("关于的函") if core else "有关事项"
            title = f"关于{re.sub(r'^关于', '', subject)}的函" if not subject.endswith("函") else subject
            title = re.sub(r"的函的函$", "的函", title)
            d.body = src_body[: rng.randint(2, 4)]
        else:
            wenzhong = {"notice": "通知", "report": "报告", "joint": "通知"}[kind]
            if src_title and src_title.startswith("关于") and src_title.endswith(("通知", "报告", "意见", "决定", "请示", "通报", "批复")):
                title = src_title
            elif core:
                title = f"关于{re.sub(r'^关于', '', core)}的{wenzhong}"
                title = re.sub(r"的(通知|报告|意见)的(通知|报告)$", r"的\1", title)
            else:
                title = f"关于{CODE_TITLES.get(code, '{year}年有关工作情况').format(year=doc_year)}的{wenzhong}"
            if rng.random() < 0.4 and kind != "joint":
                title = organs[0] + title
            d.body = src_body
        d.title_lines = _split_title(rng, title)
        labels_title = title
        d.addressee = rng.choice(["各乡镇人民政府，县政府各部门：", "县人民政府：", "各有关单位：", "市财政局：", "各股室、局属各单位：", "县委、县政府："]) \
            if kind != "letter" else rng.choice(["市交通运输局：", "县自然资源局：", "省农业农村厅：", f"{_place(rng)[0]}人民政府办公室："])
        d.signature = organs
        # side by side only when they fit on one line (else one organ a line, as typesetters do)
        d.signature_side_by_side = kind == "joint" and rng.random() < 0.5 and len("\u3000\u3000".join(organs)) <= 26
        d.date = date_text(when, dstyle)
        labels_resp = "、".join(organs)
        if rng.random() < 0.4:
            d.note = rng.choice(["（此件公开发布）", "（此件不公开）", f"（联系人：{_person(rng)}，电话：{rng.randint(1000000, 9999999)}）"])
        if rng.random() < 0.75 and kind != "letter":
            d.cc = "抄送：" + rng.choice(["县委办公室，县人大常委会办公室，县政协办公室。", "市财政局，县审计局。", "县纪委监委，县委组织部。",
                                       "县委各部门，县人大常委会办公室，县政协办公室，县法院，县检察院。"])
            printer = organs[0] if organs[0].endswith("办公室") else (organs[0].replace("人民政府", "人民政府办公室") if "人民政府" in organs[0]
                                                                else organs[0] + "办公室")
            d.printed = f"{printer}  {date_text(when + timedelta(days=rng.randint(1, 4)), 'digits')}印发"
    elif kind == "speech":
        meeting = rng.choice(_MEETINGS).replace("全县", f"全{place[-1]}")
        title = src_title if src_title and re.search(r"讲话|致辞|发言", src_title) else f"在{meeting}上的讲话"
        if rng.random() < 0.3:
            theme = rng.choice(["凝心聚力 奋勇争先", "真抓实干 勇毅前行", "坚定信心 攻坚克难", "守正创新 担当作为"])
            d.title_lines = [theme]
            d.subtitle = "——" + title
            labels_title = theme.replace(" ", "") + "——" + title
        else:
            d.title_lines = _split_title(rng, title)
            labels_title = title
        person = _person(rng)
        post = rng.choice(_POSTS[okind if okind in _POSTS else "gov"])
        form = rng.random()
        if form < 0.45:
            d.byline = [f"{post}  {person}", f"（{date_text(when, dstyle)}）"]
            labels_resp = f"{post} {person}"
        elif form < 0.7:
            d.byline = [f"（{date_text(when, dstyle)}）", f"{person}"]
            labels_resp = person
        else:
            d.byline = [f"{organ}{post}  {person}", f"（{date_text(when, dstyle)}）"]
            labels_resp = f"{organ}{post} {person}"
        d.body = ["同志们：", *src_body] if not src_body[0].endswith("：") else src_body
    elif kind == "minutes":
        times = rng.randint(3, 60)
        gov = organ if organ.endswith("人民政府") else f"{place}人民政府"
        d.mark = [f"{gov}常务会议纪要"]
        d.mark_suffix = ""
        d.issue_line = f"第{times}期" if rng.random() < 0.6 else ""
        d.number = "" if d.issue_line else f"{head}政阅〔{doc_year}〕{times}号"
        office = gov.replace("人民政府", "人民政府办公室")
        d.minutes_organ_date = f"{office}  {date_text(when, dstyle)}"
        labels_resp = office
        topics = rng.sample(["研究部署春耕生产工作", "审议2024年重点项目计划", "研究农村公路养护资金安排", "听取一季度经济运行情况汇报",
                             "研究城区学校建设有关事项", "审议政府投资项目管理办法", "研究安全生产专项整治工作"], 3)
        mayor = _person(rng)
        d.body = [f"{date_text(when, 'digits')}，县长{mayor}主持召开县政府第{times}次常务会议，研究{topics[0]}等事项。现纪要如下：",
                  f"一、关于{topics[0]}", "会议指出，各乡镇、各部门要进一步提高认识，压实责任，确保各项任务按期完成。",
                  f"二、关于{topics[1]}", "会议原则同意相关方案，由县财政局会同有关部门抓紧细化资金安排。",
                  f"三、关于{topics[2]}", "会议要求，相关部门要加强协调配合，及时研究解决工作中遇到的困难和问题。",
                  f"出席：{mayor}、{_person(rng)}、{_person(rng)}、{_person(rng)}", f"列席：{_person(rng)}、{_person(rng)}"]
        if rng.random() < 0.5:
            title = f"{gov}第{times}次常务会议纪要"
            d.title_lines = [title]
        else:
            title = f"{d.mark[0]}（{d.issue_line or d.number}）"
        labels_title = title
        d.labels_date_iso = when.isoformat()  # type: ignore[attr-defined]
    else:  # plain report: no 版头
        title = src_title or f"{organ}{CODE_TITLES.get(code, '工作情况报告').format(year=doc_year)}"
        d.title_lines = _split_title(rng, title)
        labels_title = title
        d.body = src_body
        form = rng.random()
        if form < 0.55:
            d.signature = [organ]
            d.date = date_text(when, dstyle)
            labels_resp = organ
        elif form < 0.8:
            d.byline = [organ if rng.random() < 0.5 else f"（{organ}）", f"（{date_text(when, 'digits')}）"]
            labels_resp = organ
        else:
            person = _person(rng)
            d.byline = [f"{organ}  {person}"]
            d.signature = []
            d.date = date_text(when, dstyle)
            labels_resp = organ
    if not labels_title:
        labels_title = ""
    d.labels = {"题名": labels_title, "责任者": labels_resp, "日期": getattr(d, "labels_date_iso", when.isoformat()),
                "文号": d.number, "密级": re.sub(r"★.*$", "", d.secrecy)}
    return d


# --------------------------------------------------------------------------- DOCX

_RED = "E60000"
#: Document and file dates of the generated files (their content dates are in the text).
_FIXED_TIME = datetime(2024, 1, 1, 9, 0, 0)


def write_docx(d: Doc, out: Path, rng: random.Random, *, style: str) -> None:
    """``style``: "direct" (alignment and fonts on each paragraph), "styles" (built-in
    Title style, right alignment by paragraph style), "typewriter" (spaces push the
    signature and date right), "table" (版记 and joint signature in tables)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    doc = docx.Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    align_map = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                 "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}

    def para(text: str, *, size: float = 16, align: str = "justify", bold: bool = False, red: bool = False,
             indent: float = 0, right: float = 0, font: str = "仿宋_GB2312", style_name: str | None = None):
        p = doc.add_paragraph(style=style_name) if style_name else doc.add_paragraph()
        fmt = p.paragraph_format
        if style_name is None or align != "left":
            fmt.alignment = align_map[align]
        fmt.space_before = fmt.space_after = Pt(0)
        if indent:
            fmt.first_line_indent = Pt(size * indent)
        if right:
            fmt.right_indent = Pt(size * right)
        if text:
            run = p.add_run(text)
            run.font.size = Pt(size)
            run.bold = bold
            run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
            if red:
                run.font.color.rgb = RGBColor.from_string(_RED)
        return p

    def pushed(text: str, right_chars: int) -> str:
        # typewriter alignment: full-width spaces up to the right edge minus right_chars
        width = 28
        return "\u3000" * max(2, width - right_chars - len(text)) + text

    if d.copy_no:
        para(d.copy_no, align="left", font="黑体")
    if d.secrecy:
        para(d.secrecy, align="left", font="黑体")
    if d.urgency:
        para(d.urgency, align="left", font="黑体")
    if d.mark:
        para("")
        if len(d.mark) > 1 and style == "table":
            t = doc.add_table(rows=len(d.mark), cols=2)
            for r, organ in enumerate(d.mark):
                t.cell(r, 0).text = organ
            merged = t.cell(0, 1).merge(t.cell(len(d.mark) - 1, 1))
            merged.text = d.mark_suffix or ""
        elif len(d.mark) > 1:
            for k, organ in enumerate(d.mark):
                para(organ + (d.mark_suffix if k == len(d.mark) - 1 and rng.random() < 0.5 else ""), size=26, align="center",
                     red=True, font="方正小标宋简体")
            if not any(x.endswith(d.mark_suffix) for x in [d.mark[-1]]) and d.mark_suffix and \
                    not doc.paragraphs[-1].text.endswith(d.mark_suffix):
                para(d.mark_suffix, size=26, align="center", red=True, font="方正小标宋简体")
        else:
            label = d.mark[0] + d.mark_suffix
            para(label, size=30 if len(label) <= 14 else 24, align="center", red=True, font="方正小标宋简体")
        para("")
    if d.issue_line:
        para(d.issue_line, align="center")
    if d.number and d.signer:
        para(f"{d.number}\u3000\u3000\u3000\u3000\u3000\u3000签发人：{d.signer}", align="left", indent=1)
    elif d.number:
        para(d.number, align="right" if d.kind == "letter" else "center", right=1 if d.kind == "letter" else 0)
    if d.minutes_organ_date:
        para(d.minutes_organ_date, align="center")
    if d.mark:
        para("")
    for k, line in enumerate(d.title_lines):
        if style == "styles":
            p = para(line, size=22, align="center", bold=k >= 0, font="方正小标宋简体", style_name="Title")
        else:
            para(line, size=22, align="center", font="方正小标宋简体")
    if d.subtitle:
        para(d.subtitle, size=16, align="center", font="楷体_GB2312")
    for line in d.byline:
        para(line, align="center", font="楷体_GB2312")
    para("")
    if d.addressee:
        para(d.addressee, align="left")
    for text in d.body:
        heading = re.match(r"^[一二三四五六七八九十]+、", text) and len(text) <= 30
        para(text, indent=2, font="黑体" if heading else "仿宋_GB2312")
    if d.annex_note:
        para("")
        for k, line in enumerate(d.annex_note):
            para(line, indent=2 if k == 0 else 5, align="left")
    if d.signature or d.date:
        para("")
        para("")
        if d.signature_side_by_side and len(d.signature) > 1:
            if style == "table":
                t = doc.add_table(rows=1, cols=len(d.signature))
                for k, organ in enumerate(d.signature):
                    t.cell(0, k).text = organ
            else:
                para("\u3000\u3000".join(d.signature), align="right", right=2)
        else:
            for organ in d.signature:
                if style == "typewriter":
                    para(pushed(organ, 2), align="left")
                else:
                    para(organ, align="right", right=2)
        if d.date:
            if style == "typewriter":
                para(pushed(d.date, 4), align="left")
            else:
                para(d.date, align="right", right=4)
    if d.note:
        para(d.note, indent=2, align="left")
    if d.annex_body:
        p = para("")
        p.add_run().add_break(WD_BREAK.PAGE)
        para("附件", align="left", font="黑体")
        para(d.annex_title, size=22, align="center", font="方正小标宋简体")
        para("")
        for text in d.annex_body:
            para(text, indent=2)
    if d.cc or d.printed:
        para("")
        if style == "table":
            rows = [r for r in (d.cc, d.printed) if r]
            t = doc.add_table(rows=len(rows), cols=1)
            for k, r in enumerate(rows):
                t.cell(k, 0).text = r
        else:
            if d.cc:
                para(d.cc, align="left", size=14, indent=0.5)
            if d.printed:
                organ, _, when = d.printed.partition("  ")
                para(f"{organ}{'　' * 6}{when}", align="left", size=14, indent=0.5)
    # page number footer
    fp = sec.footer.paragraphs[0]
    fp.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    fp._p.append(fld)
    cp = doc.core_properties
    cp.title = rng.choice(["", "", d.labels["题名"], (d.mark[0] + d.mark_suffix) if d.mark else ""])
    cp.author = rng.choice(["", "Administrator", "user"])
    cp.created = cp.modified = _FIXED_TIME  # byte-for-byte the same on every run
    buf = io.BytesIO()
    doc.save(buf)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    sys.path.insert(0, str(ROOT / "plugin"))
    from handover_dossier.samplecorpus.docgen import normalize_zip

    normalize_zip(out, _FIXED_TIME)


def set_docx_pages(path: Path, pages: int) -> None:
    """Record the page count in docProps/app.xml, as Word does on every save."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == "docProps/app.xml":
                text = data.decode("utf-8")
                text = re.sub(r"<Pages>\d+</Pages>", f"<Pages>{pages}</Pages>", text) if "<Pages>" in text else \
                    text.replace("</Properties>", f"<Pages>{pages}</Pages></Properties>")
                data = text.encode("utf-8")
            z.writestr(info, data)
    path.write_bytes(out.getvalue())


# --------------------------------------------------------------------------- PDF (CID font, not embedded)

_MM = 72 / 25.4


def write_pdf(d: Doc, out: Path, rng: random.Random) -> int:
    """A text PDF in ReportLab's built-in STSong-Light (not embedded), laid out on the
    GB/T 9704 grid: 156 × 225 mm text block, 22 lines of 3号 type. Returns the pages."""
    from reportlab.pdfgen import canvas as rl_canvas

    sys.path.insert(0, str(ROOT / "plugin"))
    from handover_dossier.samplecorpus.docgen import _register_pdf_font, wrap_text

    font = _register_pdf_font()
    W, H = 210 * _MM, 297 * _MM
    left, right, top, bottom = 28 * _MM, 26 * _MM, 37 * _MM, 35 * _MM
    tw = W - left - right
    line_h = 225 * _MM / 22
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(W, H), invariant=1, pageCompression=1)
    c.setTitle(d.labels["题名"] if rng.random() < 0.3 else "")
    state = {"y": H - top, "page": 1}

    def new_page() -> None:
        label = f"— {state['page']} —"
        c.setFont(font, 14)
        c.drawString((W - c.stringWidth(label, font, 14)) / 2, bottom - 14 * _MM, label)
        c.showPage()
        state["page"] += 1
        state["y"] = H - top

    def line(text: str, *, size: float = 16, align: str = "left", x: float | None = None, red: bool = False,
             height: float | None = None, pad: float = 0) -> None:
        h = height or max(line_h, size * 1.4)
        if state["y"] - h < bottom:
            new_page()
        state["y"] -= h
        c.setFillColorRGB(0.9, 0, 0) if red else c.setFillColorRGB(0, 0, 0)
        c.setFont(font, size)
        w = c.stringWidth(text, font, size)
        if align == "center":
            xx = (W - w) / 2
        elif align == "right":
            xx = W - right - pad - w
        else:
            xx = left + (x or 0)
        c.drawString(xx, state["y"] + (h - size) / 2, text)

    def paragraph(text: str, indent: float = 2) -> None:
        for k, piece in enumerate(wrap_text(text, 16, tw, first_indent=16 * indent)):
            line(piece, x=16 * indent if k == 0 else 0)

    def rule(red: bool = True) -> None:
        state["y"] -= 6
        c.setStrokeColorRGB(0.9, 0, 0) if red else c.setStrokeColorRGB(0, 0, 0)
        c.setLineWidth(1.2)
        c.line(left, state["y"], W - right, state["y"])
        state["y"] -= 6

    for top_line in (d.copy_no, d.secrecy, d.urgency):
        if top_line:
            line(top_line)
    if d.mark:
        state["y"] -= line_h * 0.6
        labels = [o for o in d.mark]
        if d.mark_suffix:
            if len(labels) == 1:
                labels = [labels[0] + d.mark_suffix]
            else:
                labels[-1] = labels[-1] + d.mark_suffix
        for lab in labels:
            size = min(30.0, tw / max(len(lab), 1) * 0.95)
            line(lab, size=size, align="center", red=True, height=size * 1.5)
        state["y"] -= line_h * 0.6
    if d.issue_line:
        line(d.issue_line, align="center")
    if d.number and d.signer:
        line(d.number, x=16)
        state["y"] += line_h
        line(f"签发人：{d.signer}", align="right", pad=16)
    elif d.number:
        line(d.number, align="right" if d.kind == "letter" else "center", pad=16)
    if d.minutes_organ_date:
        organ, _, when = d.minutes_organ_date.partition("  ")
        line(organ, x=16)
        state["y"] += line_h
        line(when, align="right", pad=16)
    if d.mark:
        rule()
        state["y"] -= line_h * 0.5
    for piece in d.title_lines:
        for sub in wrap_text(piece, 22, tw - 44):
            line(sub, size=22, align="center", height=36)
    if d.subtitle:
        line(d.subtitle, align="center")
    for b in d.byline:
        line(b, align="center")
    state["y"] -= line_h * 0.5
    if d.addressee:
        paragraph(d.addressee, indent=0)
    for text in d.body:
        paragraph(text)
    if d.annex_note:
        state["y"] -= line_h
        for k, note in enumerate(d.annex_note):
            for j, piece in enumerate(wrap_text(note, 16, tw - (32 if k == 0 else 80))):
                line(piece, x=(32 if k == 0 else 80) + (48 if j else 0))
    if d.signature or d.date:
        state["y"] -= line_h * 1.5
        if d.signature_side_by_side and len(d.signature) > 1 and len("\u3000\u3000".join(d.signature)) <= 26:
            line("\u3000\u3000".join(d.signature), align="right", pad=32)
        else:
            for organ in d.signature:
                line(organ, align="right", pad=32)
        if d.date:
            line(d.date, align="right", pad=64)
    if d.note:
        paragraph(d.note)
    if d.annex_body:
        new_page()
        line("附件")
        line(d.annex_title, size=22, align="center", height=36)
        for text in d.annex_body:
            paragraph(text)
    if d.cc or d.printed:
        needed = line_h * (3 + (1 if d.cc and len(d.cc) > 28 else 0))
        if state["y"] - needed < bottom:
            new_page()
        state["y"] = bottom + needed
        rule(red=False)
        if d.cc:
            for piece in wrap_text(d.cc, 14, tw - 28):
                line(piece, size=14, x=14)
        if d.printed:
            organ, _, when = d.printed.partition("  ")
            line(organ, size=14, x=14)
            state["y"] += line_h
            line(when, size=14, align="right", pad=14)
        rule(red=False)
    label = f"— {state['page']} —"
    c.setFont(font, 14)
    c.drawString((W - c.stringWidth(label, font, 14)) / 2, bottom - 14 * _MM, label)
    c.showPage()
    c.save()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return state["page"]


def write_txt(d: Doc, out: Path) -> None:
    """Plain text as office systems export it: centred lines and the signature pushed
    right with full-width spaces."""
    lines: list[str] = []
    for x in (d.copy_no, d.secrecy, d.urgency):
        if x:
            lines.append(x)
    if d.mark:
        lines += [o for o in d.mark[:-1]] + [d.mark[-1] + d.mark_suffix]
    if d.issue_line:
        lines.append(d.issue_line)
    if d.number:
        lines.append(d.number + (f"\u3000\u3000签发人：{d.signer}" if d.signer else ""))
    if d.minutes_organ_date:
        lines.append(d.minutes_organ_date)
    lines += ["\u3000" * 4 + t for t in d.title_lines]
    if d.subtitle:
        lines.append("\u3000" * 4 + d.subtitle)
    lines += ["\u3000" * 8 + b for b in d.byline]
    if d.addressee:
        lines.append(d.addressee)
    lines += ["\u3000\u3000" + b for b in d.body]
    lines += ["\u3000\u3000" + n for n in d.annex_note]
    if d.signature_side_by_side and len(d.signature) > 1:
        lines.append("\u3000" * 10 + "\u3000\u3000".join(d.signature))
    else:
        lines += ["\u3000" * 18 + s for s in d.signature]
    if d.date:
        lines.append("\u3000" * 20 + d.date)
    if d.note:
        lines.append("\u3000\u3000" + d.note)
    if d.annex_body:
        lines += ["附件", "\u3000" * 4 + d.annex_title] + ["\u3000\u3000" + b for b in d.annex_body]
    if d.cc:
        lines.append(d.cc)
    if d.printed:
        organ, _, when = d.printed.partition("  ")
        lines.append(f"{organ}\u3000\u3000\u3000\u3000{when}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_xlsx(rng: random.Random, out: Path) -> dict[str, str]:
    """A spreadsheet with a title row (merged), an 编制单位/日期 row, a header and rows."""
    sys.path.insert(0, str(ROOT / "plugin"))
    from handover_dossier.samplecorpus.docgen import write_xlsx as _xlsx

    place, _ = _place(rng)
    organ = _organ(rng, place, "dep")[0]
    year = rng.randint(2018, 2024)
    made = date(year, rng.randint(1, 12), rng.randint(1, 28))
    kind, code = rng.choice([("固定资产台账", "D4"), ("债权债务明细表", "D3"), ("干部职工花名册", "A2"), ("预算外资金情况表", "D1"),
                             ("财务收支情况表", "C6"), ("任期目标完成情况表", "B1")])
    caption = f"{organ}{kind}"
    if rng.random() < 0.5:
        caption += rng.choice([f"（截至{year}年{made.month}月{made.day}日）", f"（{year}年度）", f"（{year - 4}—{year}年，单位：万元）", "（单位：元）"])
    rows: list[list[object]] = [[caption]]
    with_meta = rng.random() < 0.6
    if with_meta:
        rows.append([f"编制单位：{organ}", "", "", f"填报日期：{made.year}年{made.month}月{made.day}日"])
    rows.append(["序号", "项目", "金额（万元）", "备注"])
    for k in range(rng.randint(4, 12)):
        rows.append([k + 1, rng.choice(["办公设备", "车辆", "房屋", "工程款", "往来款", "专项资金", "人员经费"]), round(rng.uniform(1, 900), 2), ""])
    first = rng.choice(["Sheet1", kind[:6], "来源构成", "汇总"])
    sheets = {first: rows, "说明": [["填表说明"], ["1", "金额以万元为单位"]]}
    _xlsx(out, sheets, core_title=rng.choice(["", out.stem]))
    sys.path.pop(0)
    label_title = re.sub(r"（\s*(?:金额)?单位：[^（）]{1,8}）$", "", caption)
    label_title = re.sub(r"，\s*单位：[^（），]{1,8}(?=）)", "", label_title)
    return {"题名": label_title, "责任者": organ if with_meta else "", "日期": made.isoformat() if with_meta else "",
            "文号": "", "密级": "", "页数": "2", "code": code}


# --------------------------------------------------------------------------- scans


def scan_pages(pdf: Path, rng: random.Random, dpi: int = 200, color: bool = True) -> list:
    """Page images of a PDF as a scanner returns them: slightly rotated, noisy, a little
    blurred, uneven contrast."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    doc = pdfium.PdfDocument(str(pdf))
    images = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            im = page.render(scale=dpi / 72, grayscale=not color).to_pil().convert("RGB" if color else "L")
            page.close()
            angle = rng.uniform(-1.8, 1.8)
            fill = (255, 255, 255) if color else 255
            im = im.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=fill)
            arr = np.asarray(im).astype(np.int16)
            nrng = np.random.default_rng(rng.randint(0, 2**31))
            arr = arr + nrng.normal(0, rng.uniform(6, 16), arr.shape).astype(np.int16)
            speckle = nrng.random(arr.shape[:2]) < rng.uniform(0.0005, 0.003)
            arr[speckle] = 0
            arr = np.clip(arr * rng.uniform(0.9, 1.0) + rng.uniform(0, 18), 0, 255).astype(np.uint8)
            im = Image.fromarray(arr)
            if rng.random() < 0.6:
                im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
            images.append(im)
    finally:
        doc.close()
    return images


def save_scan(images: list, out: Path, fmt: str, rng: random.Random) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":  # image-only PDF, JPEG inside, as copiers make them
        images[0].save(out, "PDF", resolution=150.0, save_all=True, append_images=images[1:], quality=45,
                       creationDate=_FIXED_TIME.timetuple(), modDate=_FIXED_TIME.timetuple())
    elif fmt == "tif":  # bilevel CCITT G4, multi-page
        bw = [im.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1") for im in images]
        bw[0].save(out, "TIFF", compression="group4", save_all=True, append_images=bw[1:], dpi=(200, 200))
    elif fmt == "jpg":
        images[0].save(out, "JPEG", quality=rng.randint(40, 65), dpi=(150, 150))
    else:  # a phone or scanner PNG in 16 grey levels
        images[0].convert("L").quantize(16).save(out, "PNG", optimize=True, dpi=(150, 150))


# --------------------------------------------------------------------------- the set


def _convert_with_libreoffice(docs: list[Path], outdir: Path) -> None:
    """DOCX -> PDF with embedded fonts (LibreOffice export), in one LibreOffice run."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not docs:
        raise SystemExit("LibreOffice (soffice) is needed for the embedded-font PDFs")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir",
                        str(outdir), *map(str, docs)], check=True, capture_output=True, timeout=600)


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


PLAN = [  # (layout kind, share)
    ("notice", 0.16), ("promulgate", 0.1), ("report", 0.12), ("letter", 0.1), ("joint", 0.12), ("speech", 0.13),
    ("minutes", 0.09), ("plain", 0.12), ("xlsx", 0.06),
]
FORMATS = [("docx", 0.35), ("pdf", 0.3), ("pdf-embedded", 0.2), ("txt", 0.15)]
SCANS = [("pdf", 0.4), ("tif", 0.2), ("jpg", 0.2), ("png", 0.2)]


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in table)
    for key, w in table:
        r -= w
        if r <= 0:
            return key
    return table[-1][0]


def generate(out: Path, n: int = 40, scans: int = 10, seed: int = 15) -> list[dict[str, str]]:
    """Write ``n`` text documents and ``scans`` scans under ``out/<code>/`` and their labels
    to ``out/fields.csv``. Returns the label rows."""
    rng = random.Random(seed)
    bodies = {code: _heldout(code) for code in sorted({c for cs in _KIND_CODES.values() for c in cs})}
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    pending_lo: list[tuple[Path, dict[str, str]]] = []
    work = Path(tempfile.mkdtemp(prefix="official-gen-"))
    kinds = [k for k, _ in PLAN]
    total = n + scans
    for k in range(total):
        is_scan = k >= n
        # cover every layout first, then draw by share
        kind = kinds[k % len(kinds)] if k < len(kinds) or (is_scan and k - n < len(kinds) - 1) else _pick(rng, PLAN)
        if is_scan and kind == "xlsx":
            kind = "notice"
        if kind == "xlsx":
            path = out / "tmp.xlsx"
            labels = write_xlsx(rng, path)
            code = labels.pop("code")
            name = f"{k + 1:03d}-表格.xlsx"
            final = out / code / name
            final.parent.mkdir(parents=True, exist_ok=True)
            path.replace(final)
            rows.append({"path": f"{code}/{name}", **labels, "layout": "表格", "format": "xlsx"})
            continue
        d = make_doc(rng, kind, bodies)
        layout = {"notice": "文件", "promulgate": "文件", "report": "文件", "letter": "函", "joint": "联合行文", "speech": "讲话稿",
                  "minutes": "纪要", "plain": "报告"}[kind]
        stem = f"{k + 1:03d}-{layout}"
        if is_scan:
            fmt = _pick(rng, SCANS)
            if fmt in ("jpg", "png"):  # one image is one page: keep the document to one page
                d.body = d.body[:2]
                d.annex_body = []
                d.annex_note = []
                d.cc = d.cc if rng.random() < 0.5 else ""
            pdf = work / f"{stem}.pdf"
            pages = write_pdf(d, pdf, rng)
            if fmt in ("jpg", "png") and pages > 1:
                d.body = d.body[:1]
                d.printed = d.cc = ""
                pages = write_pdf(d, pdf, rng)
            images = scan_pages(pdf, rng, dpi=200 if fmt == "tif" else 150, color=fmt in ("jpg", "pdf"))
            name = f"{stem}-扫描.{fmt}"
            save_scan(images[:1] if fmt in ("jpg", "png") else images, out / d.code / name, fmt, rng)
            rows.append({"path": f"{d.code}/{name}", **d.labels, "页数": str(1 if fmt in ("jpg", "png") else pages),
                         "layout": layout, "format": f"scan-{fmt}"})
            continue
        fmt = _pick(rng, FORMATS)
        if fmt == "txt":
            name = f"{stem}.txt"
            write_txt(d, out / d.code / name)
            rows.append({"path": f"{d.code}/{name}", **d.labels, "页数": "1", "layout": layout, "format": "txt"})
        elif fmt == "pdf":
            name = f"{stem}.pdf"
            pages = write_pdf(d, out / d.code / name, rng)
            rows.append({"path": f"{d.code}/{name}", **d.labels, "页数": str(pages), "layout": layout, "format": "pdf-cid"})
        else:
            style = rng.choice(["direct", "styles", "typewriter", "table"])
            name = f"{stem}.docx"
            target = out / d.code / name
            write_docx(d, target, rng, style=style)
            row = {"path": f"{d.code}/{name}", **d.labels, "页数": "", "layout": layout,
                   "format": "docx" if fmt == "docx" else "pdf-embedded"}
            pending_lo.append((target, row))
            rows.append(row)
    # one LibreOffice run renders every DOCX: its page count is the DOCX's (Word records
    # it in docProps/app.xml), and for "pdf-embedded" the PDF replaces the DOCX
    if pending_lo:
        lo_out = work / "lo"
        _convert_with_libreoffice([p for p, _ in pending_lo], lo_out)
        for target, row in pending_lo:
            pdf = lo_out / (target.stem + ".pdf")
            pages = _pdf_pages(pdf)
            row["页数"] = str(pages)
            if row["format"] == "pdf-embedded":
                final = target.with_suffix(".pdf")
                shutil.move(str(pdf), final)
                target.unlink()
                row["path"] = row["path"][:-5] + ".pdf"
            else:
                set_docx_pages(target, pages)
    shutil.rmtree(work, ignore_errors=True)
    rows.sort(key=lambda r: r["path"])
    with (out / "fields.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "题名", "责任者", "日期", "文号", "密级", "页数", "layout", "format"])
        w.writeheader()
        w.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=40, help="text documents (DOCX, PDF, TXT, XLSX)")
    ap.add_argument("--scans", type=int, default=10, help="scanned documents (image PDF, TIFF G4, JPEG, PNG)")
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    rows = generate(args.out, args.n, args.scans, args.seed)
    print(f"{len(rows)} documents written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
