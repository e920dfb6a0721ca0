"""Assemble stage: write the archive bundle.

A bundle is a zip holding one BagIt bag (RFC 8493), bundle format version 2::

    <bag>/bagit.txt
    <bag>/bag-info.txt                  Source-Organization, External-Identifier, Bagging-Date,
                                        Payload-Oxum, leader, post, unit, term, format version
    <bag>/manifest-sha256.txt           manifest-sm3.txt (SM3 through OpenSSL)
    <bag>/tagmanifest-sha256.txt        tagmanifest-sm3.txt
    <bag>/data/index.json               the machine-readable catalogue
    <bag>/data/00-封面.docx|.pdf ... 06-卷内目录（公开版）.docx|.pdf   (render.DOCUMENTS)
    <bag>/data/<code>-<类目>/<seq>-<title>.<ext>

Payload digests are the ones the fetch stage computed while streaming each document
(SHA-256 and SM3 in one pass); nothing is hashed twice for the manifests. Writing is
atomic (a temporary file renamed into place) and deterministic: entries are sorted, every
timestamp - zip entries, bag-info, documents, PDFs, ``created`` - comes from ``created``
(``SOURCE_DATE_EPOCH`` when set).

Version 1 bundles (``data/卷内目录.docx``, no rendered documents besides it) are still read
by ``dossier verify``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..hashing import CHUNK, bag_algorithms, digest_file
from ..inventory import Inventory
from ..runtime.progress import Progress
from ..version import __version__
from . import BUNDLE_FORMAT
from .archival import ArchivalConfig, ArchivalConfigError, filing_year, longest_retention
from .archival import bundle_code as _bundle_code
from .gaps import find_gaps
from .names import MAX_PATH_CHARS, safe_component, unique_name
from .pdfrender import (
    PDF_PROFILE,
    PdfUnavailable,
    convert_to_pdf,
    max_rows,
    pdf_disabled_reason,
    tool_version,
)
from .render import DOCUMENTS, TemplateError, is_public, render_documents
from .ziputil import member_info, should_compress

#: Bundle format written by this module (``index.json`` ``format_version`` and bag-info
#: ``Bundle-Format-Version``). 2 added the rendered documents, PDF renditions, gaps,
#: retention and the archival-code pattern; ``dossier verify`` still reads 1.
FORMAT_VERSION = BUNDLE_FORMAT

INDEX_NAME = "index.json"
#: The catalogue of a version-1 bundle (``data/卷内目录.docx``).
CATALOGUE_NAME = "卷内目录.docx"
#: Payload files a version-1 bundle generates itself (not source documents).
GENERATED = (INDEX_NAME, CATALOGUE_NAME)

FORMAT_EXT = {"pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx", "ofd": ".ofd", "text": ".txt"}
_FONDS = re.compile(r"^[0-9A-Za-z]{1,12}$")


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
    #: 立卷人 and 检查人 on the 备考表 (left blank for hand-filling when empty)
    compiler: str = ""
    checker: str = ""

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
    retention: str = ""
    public: bool = True

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
    #: The category the document's name (or the archivist's mapping) points to, for a
    #: document that exists but cannot be read: the gap report then says 已有但无法读取
    #: instead of calling the category missing.
    code: str = ""


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
        except (ValueError, OverflowError, OSError):
            raise BundleError(f"SOURCE_DATE_EPOCH 不是有效的时间戳：{sde}") from None
    return datetime.now(UTC).replace(microsecond=0)


def order_items(items: list[Item], inventory: Inventory) -> list[Item]:
    """Catalogue order: inventory order, then date, then source path."""
    return sorted(items, key=lambda it: (inventory.order(it.code), it.date or "9999", it.source))


def bundle_code(meta: BundleMeta, created: datetime) -> str:
    """Archival code of the bundle as a whole (the bag's External-Identifier)."""
    year = filing_year(meta.term_start, meta.term_end, created)
    return _bundle_code(meta.fonds, year, [meta.unit, meta.leader, meta.post, meta.term_start, meta.term_end])


def bag_name(meta: BundleMeta) -> str:
    parts = [p for p in (meta.unit, meta.leader) if p]
    return safe_component("-".join([*parts, "离任交接档案"]), fallback="离任交接档案")


def _manifest_path(path: str) -> str:
    # RFC 8493 §2.1.3: CR, LF and % in file names are percent-encoded in manifests.
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def number_items(items: list[Item], meta: BundleMeta, inventory: Inventory, created: datetime,
                 config: ArchivalConfig | None = None, *, root: str = "") -> list[Item]:
    """Give items their sequence number (gap-free from 1), archival code, retention and path
    inside the bag.

    Identical content is stored once: later copies point at the first copy's file and
    record ``duplicate_of``. Paths are unique even on case-insensitive file systems and
    short enough to unpack on Windows.
    """
    config = config or ArchivalConfig.from_inventory(inventory)
    year = filing_year(meta.term_start, meta.term_end, created)
    ordered = order_items(items, inventory)
    first_by_hash: dict[str, Item] = {}
    taken: set[str] = set()
    for seq, it in enumerate(ordered, 1):
        it.seq = seq
        cat = inventory.get(it.code)
        it.retention = cat.retention
        it.public = cat.public
        it.archival_code = config.item_code(fonds=meta.fonds, year=year, retention=cat.retention, seq=seq,
                                            category=cat.code)
        original = first_by_hash.get(it.sha256)
        if original is not None:
            it.path = original.path
            it.duplicate_of = original.seq
            continue
        ext = FORMAT_EXT.get(it.format) or (Path(it.source).suffix.lower()[:10] or ".bin")
        if not re.fullmatch(r"\.[0-9a-z]{1,9}", ext):
            ext = ".bin"
        folder = f"data/{safe_component(cat.folder)}/"
        budget = MAX_PATH_CHARS - len(root) - 1 - len(folder) - len(f"{seq:04d}-") - len(ext) - 3
        title = safe_component(it.title, max_chars=max(8, min(60, budget)))
        it.path = unique_name(f"{folder}{seq:04d}-{title}{ext}", taken)
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
    config: ArchivalConfig | None = None,
) -> dict[str, Any]:
    config = config or ArchivalConfig.from_inventory(inventory)
    counts = Counter(it.code for it in items)
    missing = [c.code for c in inventory if counts.get(c.code, 0) == 0]
    rows = [_item_json(it) for it in items]
    exception_rows = [{k: v for k, v in asdict(ex).items() if v not in (None, "")} for ex in exceptions]
    gaps = find_gaps(rows, inventory, meta.term_start, meta.term_end, exception_rows)
    dates = sorted(it.date for it in items if it.date)
    public = sum(1 for row in rows if is_public(row))
    return {
        "format": "handover-dossier",
        "format_version": FORMAT_VERSION,
        "generator": f"handover-dossier {__version__}",
        "bundle": {
            "leader": meta.leader,
            "post": meta.post,
            "unit": meta.unit,
            "term": {"start": meta.term_start, "end": meta.term_end},
            "incoming": meta.incoming,
            "fonds": meta.fonds or config.fonds,
            "archival_code": bundle_code(meta, created),
            "archival_pattern": config.pattern,
            "year": filing_year(meta.term_start, meta.term_end, created),
            "retention": longest_retention([it.retention for it in items]),
            "date_range": {"start": dates[0], "end": dates[-1]} if dates else {},
            "created": created.isoformat().replace("+00:00", "Z"),
            "source": source,
            "inventory": {"title": inventory.title, "version": inventory.version},
            "lang": meta.lang,
            "compiler": meta.compiler,
            "checker": meta.checker,
        },
        "summary": {
            "documents": len(items) + len(exceptions),
            "items": len(items),
            "exceptions": len(exceptions),
            "needs_review": sum(1 for it in items if it.needs_review),
            "duplicates": sum(1 for it in items if it.duplicate_of is not None),
            "public_items": public,
            "categories": {c.code: counts.get(c.code, 0) for c in inventory},
            "covered": len(inventory) - len(missing),
            "findings": len(gaps.findings),
        },
        "items": rows,
        "exceptions": exception_rows,
        "missing": missing,
        "gaps": gaps.as_json(),
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
        "retention": it.retention,
        "public": it.public,
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


def _render(index: dict[str, Any], inventory: Inventory, tmpdir: Path, created: datetime,
            lang: str, step: Callable[[], None]) -> dict[str, Path]:
    """Render the bundle's documents (docx, and PDF when possible) and record them in
    ``index`` (``documents`` and ``renditions``). Returns bag path -> local file.
    ``step`` is called per document rendered and per PDF made."""
    try:
        rendered = render_documents(index, inventory, tmpdir, when=created, lang=lang, on_rendered=step)
    except TemplateError as exc:
        raise BundleError(str(exc)) from exc
    files: dict[str, Path] = {}
    pdfs: dict[Path, Path] = {}
    note = pdf_disabled_reason()
    limit = max_rows()
    too_long = {path for _, path, rows in rendered if limit and rows > limit}
    if not note:
        todo = [p for _, p, _ in rendered if p not in too_long]
        rows = sum(r for _, p, r in rendered if p not in too_long)
        try:
            pdfs = convert_to_pdf(todo, tmpdir / "pdf", when=created, lang=lang, timeout=120 + 0.1 * rows,
                                  on_converted=step)
        except PdfUnavailable as exc:
            note = str(exc)
    documents = []
    for doc, path, rows in rendered:
        entry: dict[str, Any] = {"title": doc.title, "docx": f"data/{doc.stem}.docx"}
        files[entry["docx"]] = path
        if path in pdfs:
            entry["pdf"] = f"data/{doc.stem}.pdf"
            files[entry["pdf"]] = pdfs[path]
        elif path in too_long and not note:
            entry["pdf_note"] = (f"共 {rows} 条，超过生成 PDF 的上限 {limit} 条（DOSSIER_PDF_MAX_ROWS），"
                                 "未生成 PDF 版本，以 Word 版本为准")
        documents.append(entry)
    index["documents"] = documents
    index["renditions"] = {
        "pdf": {"made": bool(pdfs), "profile": PDF_PROFILE if pdfs else "", "tool": tool_version() if pdfs else "",
                "note": note}
    }
    return files


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
    progress: Progress | None = None,
) -> BundleInfo:
    """Write the bundle zip to ``out`` atomically. ``items`` need not be ordered.

    ``progress`` gets the stage ``assemble`` counted in steps: each document rendered, each
    PDF made and each member written -- rendering and converting take most of the time, and
    a bar stuck at 0/1 until the end told the archivist nothing."""
    created = created or created_time()
    progress = progress or Progress()
    if meta.fonds and not _FONDS.match(meta.fonds):
        raise BundleError(f"全宗号只能由 1–12 位字母或数字组成：{meta.fonds}")
    try:
        config = ArchivalConfig.from_inventory(inventory)
    except ArchivalConfigError as exc:
        raise BundleError(str(exc)) from exc
    root = bag_name(meta)
    ordered = number_items(items, meta, inventory, created, config, root=root)
    index = build_index(ordered, exceptions, meta, inventory, created, source, extra_index, config)
    algorithms = bag_algorithms()
    out = Path(out)
    if not out.parent.is_dir():
        raise BundleError(f"输出目录不存在：{out.parent}")
    # Planned steps: documents rendered, PDFs made, then members written (stored payload,
    # rendered documents, index.json, bagit.txt, bag-info.txt, two manifests per algorithm).
    n_docs = len(DOCUMENTS)
    pdf_docs = 0 if pdf_disabled_reason() else n_docs
    n_members = sum(1 for it in ordered if it.duplicate_of is None) + n_docs + pdf_docs + 3 + 2 * len(algorithms)
    planned = n_docs + pdf_docs + n_members
    progress.start("assemble", planned)
    done = 0

    def step(n: int = 1) -> None:
        nonlocal done
        done += n
        progress.advance("assemble", n)

    with tempfile.TemporaryDirectory(prefix="dossier-") as tmp:
        tmpdir = Path(tmp)
        generated = _render(index, inventory, tmpdir, created, meta.lang, step)
        idx_path = tmpdir / INDEX_NAME
        idx_path.write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        generated[f"data/{INDEX_NAME}"] = idx_path

        # payload: path in bag -> (local file, digests, size). Source documents keep the
        # digests computed while they were fetched; only generated files are hashed here.
        payload: dict[str, tuple[Path, dict[str, str], int]] = {}
        for it in ordered:
            if it.duplicate_of is None:
                payload[it.path] = (it.local, it.digests, it.size)
        for arc, p in generated.items():
            digests, size = digest_file(p, algorithms)
            payload[arc] = (p, digests, size)
        missing_alg = [a for a in algorithms if any(a not in v[1] for v in payload.values())]
        if missing_alg:
            raise BundleError(f"部分文件缺少 {'、'.join(a.upper() for a in missing_alg)} 摘要，无法生成清单")

        tag_files = _tag_files(index, meta, payload, algorithms, created)
        members = len(tag_files) + len(payload)
        if done + members < planned:  # PDFs not made (LibreOffice missing or failed, lists too long)
            step(planned - done - members)
        fd, part = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(part, "w", allowZip64=True) as zf:
                for name in sorted([*tag_files, *payload]):
                    arc = f"{root}/{name}"
                    if name in tag_files:
                        zf.writestr(member_info(arc, created, compress=True), tag_files[name], compresslevel=6)
                    else:
                        local, digests, size = payload[name]
                        _copy_member(zf, arc, local, digests["sha256"], size, created)
                    step()
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            os.replace(part, out)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise
    digests, size = digest_file(out, ("sha256",))
    return BundleInfo(out, index, digests["sha256"], size)


def _tag_files(index: dict[str, Any], meta: BundleMeta, payload: dict[str, tuple[Path, dict[str, str], int]],
               algorithms: tuple[str, ...], created: datetime) -> dict[str, bytes]:
    tag_files: dict[str, bytes] = {"bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"}
    oxum_bytes = sum(v[2] for v in payload.values())
    b = index["bundle"]
    info = [
        ("Source-Organization", meta.unit or "未填写"),
        ("External-Identifier", b["archival_code"]),
        ("External-Description", f"{meta.unit}{meta.leader}{f'（{meta.post}）' if meta.post else ''}离任交接材料"),
        ("Bagging-Date", created.date().isoformat()),
        ("Payload-Oxum", f"{oxum_bytes}.{len(payload)}"),
        ("Bag-Software-Agent", f"handover-dossier {__version__}"),
        ("Bundle-Format-Version", FORMAT_VERSION),
        ("Leader-Name", meta.leader),
        ("Leader-Post", meta.post),
        ("Leader-Unit", meta.unit),
        ("Incoming-Leader", meta.incoming),
        ("Term-Start", meta.term_start),
        ("Term-End", meta.term_end),
        ("Retention-Period", b["retention"]),
        ("Item-Count", str(index["summary"]["items"])),
    ]
    # Tag values are one line each: a newline in a user-supplied value would forge a field.
    tag_files["bag-info.txt"] = "".join(
        f"{k}: {' '.join(str(v).split())}\n" for k, v in info if str(v).strip()
    ).encode("utf-8")
    for alg in algorithms:
        lines = [f"{payload[p][1][alg]}  {_manifest_path(p)}\n" for p in sorted(payload)]
        tag_files[f"manifest-{alg}.txt"] = "".join(lines).encode("utf-8")
    for alg in algorithms:
        lines = []
        for name in sorted(tag_files):
            if name.startswith("tagmanifest-"):
                continue
            lines.append(f"{hashlib.new(alg, tag_files[name]).hexdigest()}  {name}\n")
        tag_files[f"tagmanifest-{alg}.txt"] = "".join(lines).encode("utf-8")
    return tag_files


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
