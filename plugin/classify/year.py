"""The year a document belongs to (its 年度), for the catalogue and the gap report.

Not simply the year of its date: a work plan dated December 2023 titled "2024年工作要点"
belongs to 2024, and "2023年工作总结" written in January 2024 belongs to 2023. So a year
named in the title wins over the document's date; for a span ("2022—2023学年",
"2021-2025年") the end year counts (the year the period completes). The file name is the
last resort.
"""

from __future__ import annotations

import re

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_SPAN = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-—–~～至到]\s*((?:19|20)\d{2})(?!\d)\s*(?:年|学年|年度)?")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)\s*(?:年|年度|学年)")
_BARE_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.])")
_CN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年")
_CN = {"〇": "0", "○": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
       "八": "8", "九": "9"}


def _year_in(text: str, *, bare: bool) -> str:
    text = text.translate(_FULLWIDTH)
    m = _SPAN.search(text)
    if m and m.group(1) < m.group(2):
        return m.group(2)
    m = _YEAR.search(text)
    if m:
        return m.group(1)
    m = _CN_YEAR.search(text)
    if m:
        year = "".join(_CN[c] for c in m.group(1))
        if "1900" <= year <= "2099":
            return year
    if bare:
        m = _BARE_YEAR.search(text)
        if m:
            return m.group(1)
    return ""


def document_year(title: str, date: str, name: str = "") -> str:
    """``YYYY`` the document belongs to, or '' when nothing says."""
    return (
        _year_in(title, bare=False)
        or (date[:4] if date[:4].isdigit() else "")
        or _year_in(name.rsplit("/", 1)[-1], bare=True)
    )
