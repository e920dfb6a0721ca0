"""Assemble stage: write the archive bundle.

A bundle is a zip holding one BagIt bag (RFC 8493)::

    <bag>/bagit.txt
    <bag>/bag-info.txt                  Source-Organization, External-Identifier, Payload-Oxum, ...
    <bag>/manifest-sha256.txt           and manifest-sm3.txt when OpenSSL has SM3
    <bag>/tagmanifest-sha256.txt        and tagmanifest-sm3.txt
    <bag>/data/index.json               the machine-readable catalogue
    <bag>/data/卷内目录.docx             the human-readable catalogue (DA/T 22-2015 columns)
    <bag>/data/<code>-<类目>/<seq>-<title>.<ext>

Writing is atomic (a temporary file renamed into place) and deterministic: entries are
sorted, every timestamp comes from ``created`` (``SOURCE_DATE_EPOCH`` when set).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import BUNDLE_FORMAT, __version__
from .hashing import CHUNK, bag_algorithms, digest_file
from .inventory import Inventory
from .names import safe_component
from .render import render_docx
from .ziputil import member_info, should_compress

INDEX_NAME = "index.json"
CATALOGUE_NAME = "卷内目录.docx"
#: Payload files the bundle generates itself (not source documents).
GENERATED = (INDEX_NAME, CATALOGUE_NAME)

FORMAT_EXT = {"pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx", "ofd": ".ofd", "text": ".txt"}


@dataclass
class BundleMeta:
    """Who and what the handover is about (all optional; recorded as given)."""

    leader: str = ""
    post: str = ""
    unit: str = ""
    term_start: str = ""
    term_end: str = ""
    #: 全宗号 (fonds number) used in archival codes
    fonds: str = ""
    incoming: str = ""
    lang: str = "zh-Hans"

    @property
    def year(self) -> str:
        return (self.term_end or self.term_start)[:4]


@dataclass
class Item:
    """One catalogue row (a document that made it into the bundle)."""

    code: str
    category: str
    title: str
    source: str
    size: int
    digests: dict[str, str]
    local: Path
    format: str
    date: str = ""
    year: str = ""
    doc_number: str = ""
    responsible: str = ""
    pages: int | None = None
    secrecy: str = ""
    confidence: float = 1.0
    needs_review: bool = False
    reason: str = ""
    method: str = ""
    title_composed: bool = False
    notes: list[str] = field(default_factory=list)
    # filled in by the writer
    seq: int = 0
    path: str = ""
    archival_code: str = ""
    duplicate_of: int | None = None

    @property
    def sha256(self) -> str:
        return self.digests["sha256"]


@dataclass
class ExceptionRow:
    """A source document that is not an item, and why."""

    source: str
    reason: str
    kind: str = ""
    size: int | None = None
    sha256: str = ""


@dataclass
class BundleInfo:
    path: Path
    index: dict[str, Any]
    sha256: str
    size: int


class BundleError(RuntimeError):
    """No bundle could be written (message in Chinese)."""


def created_time() -> datetime:
    """Bundle creation time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        try:
            return datetime.fromtimestamp(int(sde), UTC)
        except ValueError:
            raise BundleError(f"SOURCE_DATE_EPOCH 不是有效的时间戳：{sde}") from None
    return datetime.now(UTC).replace(microsecond=0)


def order_items(items: list[Item], inventory: Inventory) -> list[Item]:
    """Catalogue order: inventory order, then date, then source path."""
    return sorted(items, key=lambda it: (inventory.order(it.code), it.date or "9999", it.source))


def bundle_code(meta: BundleMeta, created: datetime) -> str:
    """Archival code of the bundle as a whole (the bag's External-Identifier)."""
    fonds = meta.fonds or "0000"
    year = meta.year or str(created.year)
    ident = hashlib.sha256("|".join([meta.unit, meta.leader, meta.post, meta.term_start, meta.term_end]).encode()).hexdigest()
    return f"{fonds}-LRJJ·{year}-{ident[:6].upper()}"


def item_code(meta: BundleMeta, retention_code: str, seq: int, created: datetime) -> str:
    """Item archival code, default pattern 全宗号-年度-保管期限-件号."""
    return f"{meta.fonds or '0000'}-{meta.year or created.year}-{retention_code}-{seq:04d}"


def bag_name(meta: BundleMeta) -> str:
    parts = [p for p in (meta.unit, meta.leader) if p]
    return safe_component("-".join([*parts, "离任交接档案"]), fallback="离任交接档案")


def _manifest_path(path: str) -> str:
    # RFC 8493 §2.1.3: CR, LF and % in file names are percent-encoded in manifests.
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def number_items(items: list[Item], meta: BundleMeta, inventory: Inventory, created: datetime) -> list[Item]:
    """Give items their sequence number, archival code and path inside the bag.

    Identical content is stored once: later copies point at the first copy's file and
    record ``duplicate_of``.
    """
    ordered = order_items(items, inventory)
    first_by_hash: dict[str, Item] = {}
    for seq, it in enumerate(ordered, 1):
        it.seq = seq
        cat = inventory.get(it.code)
        it.archival_code = item_code(meta, cat.retention_code, seq, created)
        original = first_by_hash.get(it.sha256)
        if original is not None:
            it.path = original.path
            it.duplicate_of = original.seq
            continue
        ext = FORMAT_EXT.get(it.format) or (Path(it.source).suffix.lower()[:10] or ".bin")
        it.path = f"data/{safe_component(cat.folder)}/{seq:04d}-{safe_component(it.title)}{ext}"
        first_by_hash[it.sha256] = it
    return ordered


def build_index(
    items: list[Item],
    exceptions: list[ExceptionRow],
    meta: BundleMeta,
    inventory: Inventory,
    created: datetime,
    source: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    counts = Counter(it.code for it in items)
    missing = [c.code for c in inventory if counts.get(c.code, 0) == 0]
    return {
        "format": "handover-dossier",
        "format_version": BUNDLE_FORMAT,
        "generator": f"handover-dossier {__version__}",
        "bundle": {
            "leader": meta.leader,
            "post": meta.post,
            "unit": meta.unit,
            "term": {"start": meta.term_start, "end": meta.term_end},
            "incoming": meta.incoming,
            "fonds": meta.fonds,
            "archival_code": bundle_code(meta, created),
            "created": created.isoformat().replace("+00:00", "Z"),
            "source": source,
            "inventory": {"title": inventory.title, "version": inventory.version},
            "lang": meta.lang,
        },
        "summary": {
            "documents": len(items) + len(exceptions),
            "items": len(items),
            "exceptions": len(exceptions),
            "needs_review": sum(1 for it in items if it.needs_review),
            "categories": {c.code: counts.get(c.code, 0) for c in inventory},
            "covered": len(inventory) - len(missing),
        },
        "items": [_item_json(it) for it in items],
        "exceptions": [{k: v for k, v in asdict(ex).items() if v not in (None, "")} for ex in exceptions],
        "missing": missing,
        **(extra or {}),
    }


def _item_json(it: Item) -> dict[str, Any]:
    row: dict[str, Any] = {
        "seq": it.seq,
        "archival_code": it.archival_code,
        "code": it.code,
        "category": it.category,
        "title": it.title,
        "title_composed": it.title_composed,
        "date": it.date,
        "year": it.year,
        "doc_number": it.doc_number,
        "responsible": it.responsible,
        "pages": it.pages,
        "secrecy": it.secrecy,
        "confidence": it.confidence,
        "needs_review": it.needs_review,
        "reason": it.reason,
        "method": it.method,
        "format": it.format,
        "size": it.size,
        "source": it.source,
        "sha256": it.sha256,
        "path": it.path,
    }
    if "sm3" in it.digests:
        row["sm3"] = it.digests["sm3"]
    if it.duplicate_of is not None:
        row["duplicate_of"] = it.duplicate_of
    if it.notes:
        row["notes"] = it.notes
    return row


def catalogue_context(index: dict[str, Any], inventory: Inventory) -> dict[str, Any]:
    """Template variables for the catalogue and the other rendered documents."""
    b = index["bundle"]
    term = b["term"]
    items = []
    for it in index["items"]:
        remark = []
        if it.get("duplicate_of"):
            remark.append(f"与第{it['duplicate_of']}件内容相同")
        if it.get("needs_review"):
            remark.append("待复核")
        items.append(
            {
                **it,
                "seq_text": f"{it['seq']:04d}",
                "title_text": f"[{it['title']}]" if it.get("title_composed") else it["title"],
                "date_text": (it.get("date") or "").replace("-", ""),
                "pages": it.get("pages") or "",
                "remark": "；".join(remark),
            }
        )
    missing_names = [inventory.get(c).label for c in index["missing"] if c in inventory]
    return {
        "bundle": {
            **b,
            "term_text": f"{term['start'] or '—'} 至 {term['end'] or '—'}",
            "created_date": b["created"][:10],
        },
        "summary": index["summary"],
        "items": items,
        "exceptions": index["exceptions"],
        "missing": index["missing"],
        "missing_text": "、".join(missing_names),
    }


def write_bundle(
    out: Path,
    items: list[Item],
    exceptions: list[ExceptionRow],
    meta: BundleMeta,
    inventory: Inventory,
    *,
    source: str,
    created: datetime | None = None,
    extra_index: dict[str, Any] | None = None,
) -> BundleInfo:
    """Write the bundle zip to ``out`` atomically. ``items`` need not be ordered."""
    created = created or created_time()
    ordered = number_items(items, meta, inventory, created)
    index = build_index(ordered, exceptions, meta, inventory, created, source, extra_index)
    algorithms = bag_algorithms()
    out = Path(out)
    if not out.parent.is_dir():
        raise BundleError(f"输出目录不存在：{out.parent}")
    with tempfile.TemporaryDirectory(prefix="dossier-") as tmp:
        tmpdir = Path(tmp)
        generated: dict[str, Path] = {}
        idx_path = tmpdir / INDEX_NAME
        idx_path.write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        generated[f"data/{INDEX_NAME}"] = idx_path
        cat_path = tmpdir / "catalogue.docx"
        render_docx("catalogue.docx", catalogue_context(index, inventory), cat_path, when=created, lang=meta.lang)
        generated[f"data/{CATALOGUE_NAME}"] = cat_path

        # payload: path in bag -> (local file, digests, size)
        payload: dict[str, tuple[Path, dict[str, str], int]] = {}
        for it in ordered:
            if it.duplicate_of is None:
                payload[it.path] = (it.local, it.digests, it.size)
        for arc, p in generated.items():
            digests, size = digest_file(p, algorithms)
            payload[arc] = (p, digests, size)

        tag_files: dict[str, bytes] = {}
        tag_files["bagit.txt"] = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        oxum_bytes = sum(v[2] for v in payload.values())
        info = [
            ("Source-Organization", meta.unit or "未填写"),
            ("External-Identifier", index["bundle"]["archival_code"]),
            ("External-Description", f"{meta.unit}{meta.leader}{f'（{meta.post}）' if meta.post else ''}离任交接材料"),
            ("Bagging-Date", created.date().isoformat()),
            ("Payload-Oxum", f"{oxum_bytes}.{len(payload)}"),
            ("Bag-Software-Agent", f"handover-dossier {__version__}"),
            ("Bundle-Format-Version", BUNDLE_FORMAT),
            ("Leader-Name", meta.leader),
            ("Leader-Post", meta.post),
            ("Leader-Unit", meta.unit),
            ("Term-Start", meta.term_start),
            ("Term-End", meta.term_end),
        ]
        tag_files["bag-info.txt"] = "".join(f"{k}: {v}\n" for k, v in info if v).encode("utf-8")
        for alg in algorithms:
            lines = [f"{payload[p][1][alg]}  {_manifest_path(p)}\n" for p in sorted(payload)]
            tag_files[f"manifest-{alg}.txt"] = "".join(lines).encode("utf-8")
        for alg in algorithms:
            lines = []
            for name in sorted(tag_files):
                if name.startswith("tagmanifest-"):
                    continue
                h = hashlib.new(alg, tag_files[name]).hexdigest()
                lines.append(f"{h}  {name}\n")
            tag_files[f"tagmanifest-{alg}.txt"] = "".join(lines).encode("utf-8")

        root = bag_name(meta)
        fd, part = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(part, "w", allowZip64=True) as zf:
                members = sorted([*tag_files, *payload])
                for name in members:
                    arc = f"{root}/{name}"
                    if name in tag_files:
                        zf.writestr(member_info(arc, created, compress=True), tag_files[name], compresslevel=6)
                        continue
                    local, digests, size = payload[name]
                    _copy_member(zf, arc, local, digests["sha256"], size, created)
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            os.replace(part, out)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise
    digests, size = digest_file(out, ("sha256",))
    return BundleInfo(out, index, digests["sha256"], size)


def _copy_member(zf: zipfile.ZipFile, arc: str, local: Path, sha256: str, size: int, when: datetime) -> None:
    """Stream one payload file into the zip, re-checking its digest on the way: a source
    changed between fetch and assembly must not produce a bundle whose manifest lies."""
    h = hashlib.sha256()
    n = 0
    info = member_info(arc, when, compress=should_compress(arc, size))
    info.file_size = size
    with open(local, "rb") as src, zf.open(info, "w", force_zip64=size > (1 << 31)) as dst:
        while chunk := src.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
            dst.write(chunk)
    if n != size or h.hexdigest() != sha256:
        raise BundleError(f"文件在处理过程中被修改：{arc}（请重新运行）")
