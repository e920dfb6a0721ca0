"""Keyword rules read from the inventory data.

Cues, strongest first: a keyword in the document's own title; the same in the file name;
a keyword in a folder name; keywords and typical phrases in the leading text. Chinese
titles put the document type last ("XX局2023年工作总结"), so the keyword that ends last in
the title weighs most. All matching happens on Simplified text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..inventory import Category, Inventory
from ..lang.textnorm import to_simplified
from .base import ClassifyInput

LEAD_CHARS = 1500


@dataclass
class RuleScore:
    code: str
    #: total evidence (title, file name, folder and leading text)
    score: float
    evidence: list[str]
    #: the part of ``score`` that comes from the leading text (the model reads the text
    #: too, so the combination weighs this part separately)
    text_score: float = 0.0


def _title_hits(title: str, cat: Category) -> list[tuple[int, str]]:
    """(end position, keyword) for each keyword found in ``title``."""
    hits = []
    for kw in cat.keywords:
        pos = title.rfind(kw)
        if pos >= 0:
            hits.append((pos + len(kw), kw))
    return hits


_NOISE = re.compile(r"[\s\d_\-—–.()（）\[\]【】]+")


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def score_rules(doc: ClassifyInput, inventory: Inventory) -> list[RuleScore]:
    """Score every category; highest first. Scores are additive evidence, not probabilities."""
    title = to_simplified(doc.title if not doc.title_composed else "")
    name = to_simplified(_stem(doc.name))
    folders = [to_simplified(f) for f in doc.folders]
    lead = to_simplified(doc.text[:LEAD_CHARS])

    per_title: dict[str, list[tuple[int, str]]] = {}
    last_end = -1
    for cat in inventory:
        hits = _title_hits(title, cat)
        if hits:
            per_title[cat.code] = hits
            last_end = max(last_end, *(h[0] for h in hits))

    results = []
    for cat in inventory:
        score = 0.0
        ev: list[str] = []
        hits = per_title.get(cat.code)
        if hits:
            best = max(hits, key=lambda h: (h[0], len(h[1])))
            score += 3.0 + 0.1 * len(best[1])
            if best[0] == last_end:
                score += 1.5
            ev.append(f"标题含“{best[1]}”")
        else:
            name_hits = [kw for kw in cat.keywords if kw in name]
            if name_hits:
                kw = max(name_hits, key=len)
                score += 2.5 + 0.1 * len(kw)
                ev.append(f"文件名含“{kw}”")
        for excl in cat.exclude:
            if excl in title or excl in name:
                score -= 2.5
                ev.append(f"标题含排除词“{excl}”")
                break
        folder_hits = [kw for kw in cat.keywords if any(kw in f for f in folders)]
        if folder_hits:
            score += 0.8
            ev.append(f"所在文件夹含“{max(folder_hits, key=len)}”")
        text_score = 0.0
        text_hits = [kw for kw in cat.keywords if kw in lead]
        if text_hits:
            text_score += min(2.0, 0.7 * len(text_hits))
            ev.append("正文含“" + "”“".join(text_hits[:3]) + "”")
        phrase_hits = [kw for kw in cat.text_keywords if kw in lead]
        if phrase_hits:
            text_score += min(1.5, 0.4 * len(phrase_hits))
            ev.append("正文含“" + "”“".join(phrase_hits[:3]) + "”")
        total = max(score + text_score, 0.0)
        results.append(RuleScore(cat.code, total, ev, min(text_score, total)))
    results.sort(key=lambda r: r.score, reverse=True)
    return results
