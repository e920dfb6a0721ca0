"""The handover certificate (交接书) handed out for signing with the draft bundle.

A PDF: who hands over to whom, the term, the draft bundle it certifies (name and SHA-256, so
the signatures bind to exactly that draft), the materials by inventory category with counts,
the gaps found, and one signature block per configured role — each with an empty PDF
signature field named ``sig_<role>`` that signing tools fill in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...lang.i18n import ui
from ..config import SignerRole

PAGE_W, PAGE_H = 595.0, 842.0
MARGIN = 64.0
FONT = "STSong-Light"


@dataclass
class CertificateInfo:
    leader: str
    post: str
    unit: str
    incoming: str
    term_start: str
    term_end: str
    archival_code: str
    draft_name: str
    draft_sha256: str
    counts: list[tuple[str, str, int]]  # (code, category, count)
    missing: list[str]  # category labels
    exceptions: int
    needs_review: int
    marker: str = ""


def info_from_index(index: dict[str, Any], draft_name: str, draft_sha256: str, marker: str = "") -> CertificateInfo:
    """Build the certificate's facts from the draft bundle's ``index.json``."""
    b = index.get("bundle", {})
    s = index.get("summary", {})
    names: dict[str, str] = {}
    for it in index.get("items", []):
        names.setdefault(it.get("code", ""), it.get("category", ""))
    try:
        from ...inventory import default_inventory

        inv = default_inventory()
        labels = {c.code: c.name for c in inv}
    except Exception:  # pragma: no cover - inventory is shipped data
        labels = {}
    counts = [(code, names.get(code) or labels.get(code, code), int(n)) for code, n in (s.get("categories") or {}).items() if n]
    missing = [f"{code} {labels.get(code, code)}" for code in index.get("missing", [])]
    term = b.get("term") or {}
    return CertificateInfo(
        leader=b.get("leader", ""), post=b.get("post", ""), unit=b.get("unit", ""), incoming=b.get("incoming", ""),
        term_start=term.get("start", ""), term_end=term.get("end", ""), archival_code=b.get("archival_code", ""),
        draft_name=draft_name, draft_sha256=draft_sha256, counts=counts, missing=missing,
        exceptions=int(s.get("exceptions", 0)), needs_review=int(s.get("needs_review", 0)), marker=marker,
    )


def render_certificate(info: CertificateInfo, roles: tuple[SignerRole, ...], out: str | Path, lang: str | None = None) -> Path:
    """Write the certificate PDF with one empty signature field per role."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas as rl_canvas

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    t = (lambda s: ui(s, lang)) if lang else ui
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
    c.setTitle(t(f"{info.unit}{info.post}{info.leader}离任工作交接书"))
    c.setAuthor("handover-dossier")
    c.setSubject(t("离任工作交接书"))
    c.setKeywords(f"handover-dossier {info.marker} sha256:{info.draft_sha256}")
    page = 0
    y = PAGE_H - MARGIN

    def new_page() -> None:
        nonlocal y, page
        c.showPage()
        page += 1
        y = PAGE_H - MARGIN

    def line(text: str, size: float = 11, dy: float = 20, x: float = MARGIN, center: bool = False) -> None:
        nonlocal y
        if y - dy < MARGIN:
            new_page()
        c.setFont(FONT, size)
        # STSong-Light has no U+00B7 (the dot in archival codes); draw the CJK middle dot.
        s = t(text).replace("\u00b7", "\u30fb")
        if center:
            c.drawCentredString(PAGE_W / 2, y, s)
        else:
            c.drawString(x, y, s)
        y -= dy

    line("领导干部离任工作交接书", size=20, dy=40, center=True)
    line(f"单位：{info.unit or '—'}")
    line(f"移交人（离任领导）：{info.leader or '—'}    职务：{info.post or '—'}")
    line(f"接交人（接任领导）：{info.incoming or '（待填写）'}")
    line(f"任期：{info.term_start or '—'} 至 {info.term_end or '—'}")
    line(f"案卷档号：{info.archival_code or '—'}")
    line(f"所附档案包：{info.draft_name}", size=10, dy=16)
    line(f"档案包 SHA-256：{info.draft_sha256}", size=8, dy=24)
    line("一、移交材料（按基本材料清单类目）", size=12, dy=22)
    for code, name, n in info.counts:
        line(f"{code}  {name}", size=10, dy=0, x=MARGIN + 16)
        line(f"{n} 件", size=10, dy=16, x=PAGE_W - MARGIN - 60)
    total = sum(n for _, _, n in info.counts)
    line(f"合计 {total} 件；未能收入 {info.exceptions} 件；待人工复核 {info.needs_review} 件。", size=10, dy=24, x=MARGIN + 16)
    line("二、缺项", size=12, dy=22)
    if info.missing:
        row: list[str] = []
        for m in info.missing:
            row.append(m)
            if len(row) == 3:
                line("；".join(row), size=10, dy=16, x=MARGIN + 16)
                row = []
        if row:
            line("；".join(row), size=10, dy=16, x=MARGIN + 16)
    else:
        line("无", size=10, dy=16, x=MARGIN + 16)
    y -= 8
    line("三、签署（各方以数字签名签署本交接书，签署后不得修改）", size=12, dy=26)

    fields: list[tuple[str, int, tuple[int, int, int, int]]] = []
    block = 64.0
    for role in roles:
        if y - block < MARGIN:
            new_page()
        c.setFont(FONT, 11)
        c.drawString(MARGIN, y, t(f"{role.label}："))
        box = (int(MARGIN + 150), int(y - 40), int(MARGIN + 360), int(y + 12))
        c.setDash(2, 2)
        c.rect(box[0], box[1], box[2] - box[0], box[3] - box[1])
        c.setDash()
        c.setFont(FONT, 9)
        c.drawString(box[2] + 12, y - 14, t("日期：由签名记录"))
        fields.append((role.field_name, page, box))
        y -= block
    c.setFont(FONT, 8)
    c.drawString(MARGIN, MARGIN / 2, t("本交接书由 handover-dossier 生成；签署完成后系统自动归档。") + f"  {info.marker}")
    c.save()

    w = IncrementalPdfFileWriter(io.BytesIO(buf.getvalue()))
    for name, on_page, box in fields:
        append_signature_field(w, SigFieldSpec(sig_field_name=name, on_page=on_page, box=box))
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as fh:
        w.write(fh)
    tmp.replace(out)
    return out
