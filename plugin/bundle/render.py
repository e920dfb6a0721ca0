"""Render the human-readable documents of a bundle from docxtpl templates.

Templates live in ``templates/`` so that archivists can restyle them in Word; this module
only fills them. All documents of a bundle are filled from one context built from
``index.json`` (:func:`bundle_context`), so what a person reads and what a machine reads
cannot disagree. Output is deterministic (fixed timestamps and document properties) and,
on request, converted to Traditional script.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..inventory import Inventory
from ..lang.i18n import ui
from ..runtime.memtrim import release_memory
from ..runtime.resources import templates_dir
from .gaps import count_text, unreadable_text
from .ziputil import normalize_zip, normalized_info

SECRET_MARKS = ("绝密", "机密", "秘密")


class TemplateError(RuntimeError):
    """A template is missing or broken (message in Chinese)."""


@dataclass(frozen=True)
class Document:
    """One rendered document of the bundle: its template and its name inside ``data/``."""

    template: str
    stem: str
    title: str
    #: the context list the document has one table row for ("" for fixed-size documents)
    rows: str = ""


#: The bundle's own documents, in reading order (file names sort in that order too).
DOCUMENTS: tuple[Document, ...] = (
    Document("cover.docx", "00-封面", "封面"),
    Document("catalogue.docx", "01-卷内目录", "卷内目录", rows="items"),
    Document("certificate.docx", "02-交接书", "领导干部离任工作交接书"),
    Document("transfer_list.docx", "03-移交清单", "移交清单", rows="items"),
    Document("gap_report.docx", "04-缺项与问题报告", "缺项与问题报告"),
    Document("reference_table.docx", "05-备考表", "备考表"),
    Document("public_catalogue.docx", "06-卷内目录（公开版）", "卷内目录（公开版）", rows="public_items"),
)


def _localize(value: Any, lang: str) -> Any:
    if lang != "zh-Hant":
        return value
    if isinstance(value, str):
        return ui(value, lang)
    if isinstance(value, _Sentinel):
        return value  # its mark must survive
    if isinstance(value, dict):
        return {k: _localize(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localize(v, lang) for v in value]
    return value


#: Above this many rows a list document is rendered in chunks of this size and streamed
#: into the output (:func:`_render_streamed`): a 20,000-row catalogue built as one XML
#: tree would take gigabytes; chunk by chunk it takes what 400 rows take.
ROW_CHUNK = 400

def _marks() -> tuple[str, str]:
    """Sentinel texts that mark the rows before and after a chunk of rows: new random ones
    for every document, so that no title can contain them (a title is any text a document
    or a DMS gave us -- U+2063 included; a fixed mark in a title broke long catalogues)."""
    import secrets

    nonce = secrets.token_hex(12)
    return f"\u2063HD-ROWS-START-{nonce}\u2063", f"\u2063HD-ROWS-END-{nonce}\u2063"
_TR = re.compile(r"<w:tr[ >/]")


class _Sentinel(dict):
    """A row whose every field renders as ``mark`` (so it can be found in the XML)."""

    def __init__(self, mark: str) -> None:
        super().__init__()
        self.mark = mark

    def __missing__(self, key: str) -> str:
        return self.mark


def _load(template: str) -> Any:
    from docxtpl import DocxTemplate

    path = templates_dir() / template
    if not path.exists():
        raise TemplateError(f"找不到模板文件：{path}")
    return DocxTemplate(str(path))


def _finish(tpl: Any, *, when: datetime, lang: str, title: str | None) -> None:
    if lang == "zh-Hant":
        _localize_static_text(tpl)
    props = tpl.docx.core_properties
    naive = when.replace(tzinfo=None)
    props.created = props.modified = naive
    props.last_printed = naive
    props.revision = 1
    if title:
        props.title = ui(title, lang)


def render_docx(template: str, context: dict[str, Any], out: Path, *, when: datetime, lang: str = "zh-Hans",
                title: str | None = None, rows: str = "") -> Path:
    """Fill ``templates/<template>`` with ``context`` and write ``out``. ``rows`` names the
    context list the document has one table row for: a long list is streamed."""
    try:
        if rows and len(context.get(rows) or ()) > ROW_CHUNK:
            streamed = _render_streamed(template, context, out, when=when, lang=lang, title=title, rows=rows)
            if streamed:
                return out
        tpl = _load(template)
        tpl.render(_localize(context, lang), autoescape=True)
        _finish(tpl, when=when, lang=lang, title=title)
        tpl.save(str(out))
    except TemplateError:
        raise
    except Exception as exc:  # jinja syntax errors in a user-edited template, etc.
        raise TemplateError(f"模板 {template} 渲染失败：{exc}") from exc
    normalize_zip(out, when)
    return out


def _row_span(xml: str, mark: str) -> tuple[int, int] | None:
    """(start, end) of the one table row that contains ``mark``, or None."""
    i = xml.find(mark)
    if i < 0:
        return None
    starts = [m.start() for m in _TR.finditer(xml, 0, i)]
    if not starts:
        return None
    end = xml.find("</w:tr>", i)
    if end < 0:
        return None
    start, end = starts[-1], end + len("</w:tr>")
    if _TR.search(xml, start + 1, end) or xml.find(mark, end) >= 0:
        return None  # a nested table, or the mark in more than one row: not a simple row list
    return start, end


def _render_streamed(template: str, context: dict[str, Any], out: Path, *, when: datetime, lang: str,
                     title: str | None, rows: str) -> bool:
    """Render a document with a long row list chunk by chunk, streaming the rows into the
    output's ``word/document.xml``. Each chunk is rendered by the template itself between
    two sentinel rows, so every row looks exactly as the template says. Returns False
    (nothing written) when the template's row list cannot be located this way -- a row
    using ``loop.index``, a nested table -- and the caller renders the whole document."""
    import zipfile

    from lxml import etree

    items = context[rows]
    tpl = _load(template)
    loop = re.search(r"\{%[^%]*\bfor\s+\w+\s+in\s+" + re.escape(rows) + r"\b[^%]*%\}(.*?)\{%[^%]*\bendfor\b",
                     (tpl.init_docx() or tpl.patch_xml(tpl.get_xml())), re.S)
    if loop is None or "loop." in loop.group(1):
        return False  # a loop we cannot see, or row numbers from the loop: they would restart per chunk
    mark_start, mark_end = _marks()
    first = dict(context)
    first[rows] = [*items[:ROW_CHUNK], _Sentinel(mark_end)]
    tpl.render(_localize(first, lang), autoescape=True)
    _finish(tpl, when=when, lang=lang, title=title)
    tmp = out.with_name(out.name + ".first")
    tpl.save(str(tmp))
    del tpl
    try:
        with zipfile.ZipFile(tmp) as src:
            xml = src.read("word/document.xml").decode("utf-8")
            span = _row_span(xml, mark_end)
            if span is None:
                return False
            prefix, suffix = xml[: span[0]], xml[span[1]:]
            del xml
            # Other lists render nothing in the chunk documents: only their rows are kept.
            lean = {k: ([] if isinstance(v, list) and k != rows else v) for k, v in context.items()}
            with zipfile.ZipFile(out, "w") as dst:
                for info in src.infolist():
                    with dst.open(normalized_info(info, when), "w") as w:
                        if info.filename != "word/document.xml":
                            with src.open(info) as r:
                                shutil.copyfileobj(r, w, 1 << 20)
                            continue
                        w.write(prefix.encode("utf-8"))
                        for k in range(ROW_CHUNK, len(items), ROW_CHUNK):
                            chunk = dict(lean)
                            chunk[rows] = [_Sentinel(mark_start), *items[k:k + ROW_CHUNK], _Sentinel(mark_end)]
                            part = _load(template)
                            part.render(_localize(chunk, lang), autoescape=True)
                            body = etree.tostring(part.docx.element, encoding="unicode")
                            a, b = _row_span(body, mark_start), _row_span(body, mark_end)
                            if a is None or b is None:
                                raise TemplateError(f"模板 {template} 的表格行无法分段生成")
                            w.write(body[a[1]:b[0]].encode("utf-8"))
                            del part, body
                            release_memory()
                        w.write(suffix.encode("utf-8"))
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _localize_static_text(tpl: Any) -> None:
    """Convert the template's own fixed wording (headings, column names) to Traditional."""
    doc = tpl.docx
    parts = [doc.element.body]
    # headers and footers: docxtpl replaced their parts while rendering, so take them from
    # the relationships (python-docx's section.footer may still point at the old part)
    for rel in doc.part.rels.values():
        if rel.reltype.endswith(("/header", "/footer")) and not rel.is_external:
            element = getattr(rel.target_part, "_element", None)
            if element is not None:
                parts.append(element)
    for part in parts:
        for el in part.iter():
            if el.tag.endswith("}t") and el.text:
                el.text = ui(el.text, "zh-Hant")


def render_documents(index: dict[str, Any], inventory: Inventory, outdir: Path, *, when: datetime,
                     lang: str = "zh-Hans", on_rendered: Callable[[], None] | None = None,
                     ) -> list[tuple[Document, Path, int]]:
    """Render every document of :data:`DOCUMENTS` into ``outdir``; returns (document,
    path, number of list rows in it). ``on_rendered`` is called after each one (progress)."""
    context = bundle_context(index, inventory)
    out = []
    for doc in DOCUMENTS:
        path = outdir / f"{doc.stem}.docx"
        render_docx(doc.template, context, path, when=when, lang=lang, title=doc.title, rows=doc.rows)
        out.append((doc, path, len(context[doc.rows]) if doc.rows else 0))
        if on_rendered is not None:
            on_rendered()
    return out


# -- the context -------------------------------------------------------------------
def is_public(item: dict[str, Any]) -> bool:
    """May this item appear in the public catalogue? Not when it bears a secrecy marking
    (秘密/机密/绝密) or its category is marked ``public = false`` in the inventory."""
    secrecy = str(item.get("secrecy") or "")
    if any(mark in secrecy for mark in SECRET_MARKS):
        return False
    return bool(item.get("public", True))


def _size_text(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _cn_date(iso: str) -> str:
    try:
        d = datetime.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{d.year}年{d.month}月{d.day}日"


def _date_text(value: str) -> str:
    return (value or "").replace("-", "")


def bundle_context(index: dict[str, Any], inventory: Inventory) -> dict[str, Any]:
    """Template variables for every document of a bundle (v1 and v2 indexes)."""
    b = index["bundle"]
    term = b.get("term") or {}
    summary = dict(index.get("summary") or {})
    items: list[dict[str, Any]] = []
    for it in index.get("items", []):
        remark = []
        if it.get("duplicate_of"):
            remark.append(f"与第{int(it['duplicate_of']):04d}件内容相同")
        if it.get("needs_review"):
            remark.append("待复核")
        if it.get("fields_review"):
            remark.append("著录待核：" + "、".join(it["fields_review"]))
        code = it.get("code", "")
        label = inventory.get(code).label if code in inventory else f"{code} {it.get('category', '')}".strip()
        items.append({
            **it,
            "seq_text": f"{it['seq']:04d}",
            "title_text": f"[{it['title']}]" if it.get("title_composed") else it.get("title", ""),
            "date_text": _date_text(it.get("date") or ""),
            "pages": it.get("pages") or "",
            "remark": "；".join(remark),
            "category_text": label,
            "format_text": str(it.get("format") or "").upper().replace("TEXT", "TXT"),
            "size_text": _size_text(it.get("size")),
            "path_short": str(it.get("path", "")).removeprefix("data/"),
            "sha256_short": str(it.get("sha256", ""))[:16],
        })
    public_items = [it for it in items if is_public(it)]
    counts: dict[str, int] = {}
    for it in items:
        counts[it.get("code", "")] = counts.get(it.get("code", ""), 0) + 1
    gaps = index.get("gaps") or {}
    generated = set(gaps.get("generated") or [])
    unreadable = gaps.get("unreadable") or {}
    categories = []
    for c in inventory:
        n = counts.get(c.code, 0)
        remark = ""
        if not n:
            remark = ("交接书由本档案包生成，签署后归入" if c.code in generated else
                      "已有但无法读取" if c.code in unreadable else "缺")
        categories.append({"code": c.code, "name": c.name, "count": n, "remark": remark})
    findings = list(gaps.get("findings") or [])
    one_sided = [f for f in findings if f.get("kind") == "one-sided"]
    missing = list(index.get("missing") or [])
    missing_rows = [
        {"code": c, "name": inventory.get(c).name,
         "description": (f"已有但无法读取：{unreadable_text(unreadable[c])}" if c in unreadable
                         else inventory.get(c).description)}
        for c in missing if c in inventory and c not in generated
    ]
    review_items = [it for it in items if it.get("needs_review")]
    duplicates = sum(1 for it in items if it.get("duplicate_of"))
    exceptions = list(index.get("exceptions") or [])
    retention_counts = {"永久": 0, "定期30年": 0, "定期10年": 0}
    for it in items:
        r = it.get("retention") or (inventory.get(it["code"]).retention if it.get("code") in inventory else "")
        if r in retention_counts:
            retention_counts[r] += 1
    dates = sorted(d for d in (it.get("date") or "" for it in items) if d)
    date_range = b.get("date_range") or ({"start": dates[0], "end": dates[-1]} if dates else {})
    audit_present = gaps.get("audit_present")
    audit_codes = "、".join((gaps.get("roles") or {}).get("audit") or [])
    if audit_present is None:
        audit_text = "清单未指定离任审计类目，未作检查。"
    elif audit_present:
        audit_text = f"已收入离任（经济责任）审计材料（{audit_codes}）。"
    else:
        audit_text = (f"未收入离任（经济责任）审计报告（{audit_codes}）。交接应以审计发现的问题为基础，"
                      "建议取得审计报告后再办理交接，或在交接书中注明审计安排。")
    roles = gaps.get("roles") or {}
    plan_label = "、".join(inventory.get(c).name for c in roles.get("plan", []) if c in inventory) or "工作计划"
    summary_label = "、".join(inventory.get(c).name for c in roles.get("summary", []) if c in inventory) or "工作总结"
    return {
        "bundle": {
            **b,
            "term_text": f"{term.get('start') or '—'} 至 {term.get('end') or '—'}",
            "created_date": str(b.get("created", ""))[:10],
            "created_cn": _cn_date(str(b.get("created", ""))),
            "post_paren": f"（{b['post']}）" if b.get("post") else "",
            "incoming_text": b.get("incoming") or "＿＿＿＿",
            "date_range_text": (f"{date_range['start']} 至 {date_range['end']}" if date_range else "—"),
            "retention": b.get("retention") or "永久",
            "compiler": b.get("compiler") or "",
            "checker": b.get("checker") or "",
        },
        "summary": {
            **summary,
            # ``summary.items`` would be dict.items() in a template: counts get plain names.
            "item_count": len(items),
            "duplicates": duplicates,
            "covered": summary.get("covered", len(inventory) - len(missing)),
            "exceptions_text": (f"另有 {len(exceptions)} 件未收入，见卷内目录" if exceptions else ""),
        },
        "items": items,
        "public_items": public_items,
        "public": {"count": len(public_items), "withheld": len(items) - len(public_items)},
        "categories": categories,
        "findings": findings,
        "one_sided": one_sided,
        "missing_rows": missing_rows,
        "years": list(gaps.get("years") or []),
        "gaps": {
            "summary_text": (f"经对照《{b.get('inventory', {}).get('title') or inventory.title}》检查，发现缺项与问题"
                             f"{count_text(findings)}：“缺项”指清单类目或任期年度缺少材料、没有离任审计报告，"
                             "“问题”指材料只反映成绩、未反映问题等片面性情况。" if findings else
                             f"经对照《{b.get('inventory', {}).get('title') or inventory.title}》检查，未发现缺项和片面性问题。"),
            "audit_text": audit_text,
            "balance_text": "成绩类材料与问题、债权债务、未尽事宜类材料均有收录。" if gaps.get("positives") else
                            "未收入任期成绩类材料，未作片面性检查。",
            "years_text": gaps.get("term_note") or "未按年度检查。",
            "plan_label": plan_label,
            "summary_label": summary_label,
        },
        "exceptions": exceptions,
        "missing": missing,
        "missing_text": "、".join(inventory.get(c).label for c in missing if c in inventory),
        "review_items": review_items,
        "retention_counts": retention_counts,
    }
