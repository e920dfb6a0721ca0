"""The pipeline: fetch -> extract -> classify -> assemble (-> file).

It only sees a :class:`~handover_dossier.connectors.Connector`, never a concrete DMS. Every
listed document ends up either as an item or as an exception with a reason; only a
failure to list the source or to write the bundle stops a run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assemble import BundleError, BundleInfo, BundleMeta, ExceptionRow, Item, created_time, write_bundle
from .classify import Classification, Classifier, ClassifyInput, Mapping
from .classify.overrides import MAPPING_NAME
from .classify.year import document_year as classify_year
from .connectors import Connector, ConnectorError, DocumentUnavailable, Entry, open_connector
from .extract import Extracted, ExtractionError, Limits, screen_name
from .fetch import Fetched, Fetcher, walk_source
from .inventory import Inventory, default_inventory
from .progress import Progress
from .resources import cache_dir
from .workers import Job, extract_all


class AssembleError(RuntimeError):
    """No bundle could be made; ``str()`` is a one-line Chinese reason."""


@dataclass
class AssembleResult:
    bundle: BundleInfo
    stage_seconds: dict[str, float]
    fetch: dict[str, int]
    index: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return self.index["summary"]

    def as_json(self) -> dict[str, Any]:
        idx = self.index
        return {
            "bundle": str(self.bundle.path),
            "sha256": self.bundle.sha256,
            "size": self.bundle.size,
            "archival_code": idx["bundle"]["archival_code"],
            "summary": idx["summary"],
            "missing": idx["missing"],
            "findings": (idx.get("gaps") or {}).get("findings", []),
            "renditions": idx.get("renditions", {}),
            "exceptions": idx["exceptions"],
            "needs_review": [
                {"seq": it["seq"], "source": it["source"], "code": it["code"], "reason": it["reason"]}
                for it in idx["items"]
                if it["needs_review"]
            ],
            "stage_seconds": self.stage_seconds,
            "fetch": self.fetch,
        }


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def document_year(ex: Extracted, source: str) -> str:
    """The year a document belongs to (see :mod:`.classify.year`: the title's year wins)."""
    return classify_year(ex.title, ex.date, source)


def assemble(
    source: str | Connector,
    out: str | Path,
    *,
    meta: BundleMeta | None = None,
    inventory: Inventory | None = None,
    mapping: Mapping | None = None,
    classifier: Classifier | None = None,
    workers: int | None = None,
    fetch_threads: int = 8,
    limits: Limits | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
    only_term: bool = False,
) -> AssembleResult:
    """Build a bundle from ``source`` (folder path, URL or connector) into ``out``.

    ``only_term``: take only the documents last modified within the term
    (``meta.term_start`` .. ``meta.term_end``; Nextcloud selects them with DAV SEARCH).
    """
    meta = meta or BundleMeta()
    inventory = inventory or default_inventory()
    limits = limits or Limits()
    progress = progress or Progress()
    timings: dict[str, float] = {}
    created = created_time()

    t = time.perf_counter()
    try:
        connector = source if isinstance(source, Connector) else open_connector(str(source))
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    term = (meta.term_start, meta.term_end) if only_term else None
    if term is not None and not all(term):
        raise AssembleError("按任期筛选（--only-term）需要同时给出任期开始和结束日期")
    progress.start("list")
    try:
        entries: list[Entry] = list(walk_source(connector, term))
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    progress.finish("list")
    timings["list"] = time.perf_counter() - t
    if mapping is None:
        mapping = _sidecar_mapping(connector, entries, inventory)
    entries = [e for e in entries if e.path != MAPPING_NAME]
    if not entries:
        within = f"（按修改时间筛选任期 {term[0]} 至 {term[1]} 内的文件后）" if term else ""
        raise AssembleError(f"来源中没有任何文件{within}：{connector.display_url}")

    exceptions: list[ExceptionRow] = []
    to_fetch: list[Entry] = []
    for e in entries:
        reason = e.problem or screen_name(e.name)
        if reason:
            exceptions.append(ExceptionRow(e.path, reason, kind="listing" if e.problem else "not-a-document", size=e.size))
        else:
            to_fetch.append(e)

    # -- fetch ---------------------------------------------------------------------
    t = time.perf_counter()
    if cache is None and connector.local_path(to_fetch[0] if to_fetch else Entry("", 0)) is None:
        cache = cache_dir() / "fetch"
    fetcher = Fetcher(connector, cache)
    fetched: list[Fetched] = []
    progress.start("fetch", len(to_fetch))
    try:
        for e, got in fetcher.fetch_all(to_fetch, fetch_threads):
            if isinstance(got, DocumentUnavailable):
                exceptions.append(ExceptionRow(e.path, f"无法获取：{got}", kind="unavailable", size=e.size))
            else:
                fetched.append(got)
            progress.advance("fetch")
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    progress.finish("fetch")
    fetched.sort(key=lambda f: f.entry.path)
    timings["fetch"] = time.perf_counter() - t

    # -- extract (identical content is read once) -----------------------------------
    t = time.perf_counter()
    by_hash: dict[str, list[Fetched]] = {}
    for f in fetched:
        by_hash.setdefault(f.digests["sha256"], []).append(f)
    jobs = [Job(i, str(group[0].local), group[0].entry.name) for i, group in enumerate(by_hash.values())]
    groups = list(by_hash.values())
    n_workers = workers if workers is not None else (default_workers() if len(jobs) >= 16 else 1)
    results: dict[int, Extracted | ExtractionError] = {}
    progress.start("extract", len(fetched))
    for job, result in extract_all(jobs, limits, n_workers, on_done=lambda j: progress.advance("extract", len(groups[j.key]))):
        results[job.key] = result
    progress.finish("extract")
    timings["extract"] = time.perf_counter() - t

    # -- classify ------------------------------------------------------------------
    t = time.perf_counter()
    classifier = classifier or Classifier(inventory, mapping, unit=meta.unit)
    items: list[Item] = []
    progress.start("classify", len(fetched))
    for key, group in enumerate(groups):
        result = results[key]
        first_decision: Classification | None = None
        for f in group:
            if isinstance(result, ExtractionError):
                exceptions.append(
                    ExceptionRow(f.entry.path, result.reason, kind=result.kind, size=f.size, sha256=f.digests["sha256"])
                )
                progress.advance("classify")
                continue
            decision = classifier.classify(
                ClassifyInput(
                    source=f.entry.path,
                    title=result.title,
                    text=result.text,
                    tags=f.entry.tags,
                    title_composed=result.title_composed,
                    text_missing=result.needs_review and not result.text.strip(),
                )
            )
            # Identical content is one document: copies follow the first copy's category
            # unless the archivist tagged or mapped a copy explicitly.
            if first_decision is not None and decision.method not in ("tag", "mapping"):
                decision = first_decision
            first_decision = first_decision or decision
            items.append(_item(f, result, decision, meta))
            progress.advance("classify")
    progress.finish("classify")
    timings["classify"] = time.perf_counter() - t

    # -- assemble ------------------------------------------------------------------
    t = time.perf_counter()
    exceptions.sort(key=lambda ex: ex.source)
    progress.start("assemble", 1)
    try:
        bundle = write_bundle(
            Path(out), items, exceptions, meta, inventory, source=connector.display_url, created=created
        )
    except OSError as exc:
        raise AssembleError(f"写入档案包失败：{exc.strerror or exc}") from exc
    except BundleError as exc:
        raise AssembleError(str(exc)) from exc
    progress.advance("assemble")
    progress.finish("assemble")
    timings["assemble"] = time.perf_counter() - t
    timings = {k: round(v, 3) for k, v in timings.items()}
    return AssembleResult(bundle, timings, fetcher.stats.as_dict(), bundle.index)


def _item(f: Fetched, ex: Extracted, decision: Classification, meta: BundleMeta) -> Item:
    needs_review = decision.needs_review or (ex.needs_review and decision.method not in ("tag", "mapping"))
    reason = decision.reason
    if ex.needs_review and ex.notes and decision.method not in ("tag", "mapping"):
        reason = "；".join([reason, *ex.notes[:1]])
    return Item(
        code=decision.code,
        category=decision.category,
        title=ex.title,
        title_composed=ex.title_composed,
        source=f.entry.path,
        size=f.size,
        digests=f.digests,
        local=f.local,
        format=ex.format,
        date=ex.date,
        year=document_year(ex, f.entry.path),
        doc_number=ex.doc_number,
        responsible=ex.responsible or meta.unit,
        pages=ex.pages,
        secrecy=ex.secrecy,
        confidence=decision.confidence,
        needs_review=needs_review,
        reason=reason,
        method=decision.method,
        notes=list(ex.notes),
    )


def _sidecar_mapping(connector: Connector, entries: list[Entry], inventory: Inventory) -> Mapping:
    for e in entries:
        if e.path == MAPPING_NAME:
            with connector.open(e) as f:
                data = f.read(1 << 20).decode("utf-8-sig", errors="replace")
            try:
                return Mapping.parse(data, inventory, origin=e.path)
            except ValueError as exc:
                raise AssembleError(str(exc)) from exc
    return Mapping()
