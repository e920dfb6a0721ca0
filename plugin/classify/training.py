"""Folding an archivist's confirmed corrections back into the model for that unit.

A correction is a DMS tag (``交接:C6``) on a document or a line in the unit's mapping file
(``dossier-mapping.csv``). ``dossier train SOURCE --unit U`` reads every corrected document
in SOURCE (extracts it like ``assemble`` does), stores it as a labelled example for unit
U (``cache_dir()/units/<hash of U>/corrections.jsonl``; a newer correction of the same
document replaces the older one) and trains U's model: the project's training set plus
U's corrections, each weighted ``CORRECTION_WEIGHT``. Later runs with ``--unit U`` use
that model. The tags and the mapping file stay the source of truth: if the cache is
cleared, ``dossier train`` rebuilds the same model from them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..inventory import Inventory
from ..resources import cache_dir
from ..textnorm import nfc
from .model import (
    Example,
    TextModel,
    cached_model,
    default_model,
    fit,
    load_examples,
    model_key,
    parse_examples,
    training_file,
)

#: How much a confirmed correction counts against one shipped training example.
CORRECTION_WEIGHT = 3.0
#: Characters of a corrected document's text kept as its training example.
KEEP_CHARS = 4000


class TrainingError(RuntimeError):
    """Training could not run (message in Chinese)."""


def unit_dir(unit: str) -> Path:
    digest = hashlib.sha256(nfc(unit.strip()).encode()).hexdigest()[:16]
    return cache_dir() / "units" / digest


def _corrections_file(unit: str) -> Path:
    return unit_dir(unit) / "corrections.jsonl"


def load_corrections(unit: str) -> list[Example]:
    """The confirmed corrections stored for ``unit`` (empty when none)."""
    path = _corrections_file(unit)
    if not unit.strip() or not path.is_file():
        return []
    return load_examples(path)


def _write_corrections(unit: str, examples: list[Example]) -> None:
    path = _corrections_file(unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for e in sorted(examples, key=lambda e: e.origin):
            f.write(json.dumps({"code": e.code, "title": e.title, "filename": e.filename, "text": e.text,
                                "weight": e.weight, "origin": e.origin}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    (path.parent / "unit.txt").write_text(nfc(unit.strip()) + "\n", encoding="utf-8")


def unit_model(inventory: Inventory, unit: str, corrections: list[Example]) -> TextModel | None:
    """The model for ``unit``: shipped examples + the unit's corrections."""
    try:
        base_bytes = training_file().read_bytes()
    except OSError:
        base_bytes = b""
    extra = json.dumps([[e.code, e.title, e.filename, e.text, e.weight] for e in corrections],
                       ensure_ascii=False, sort_keys=True).encode()
    key = model_key(base_bytes, inventory, b"unit\0" + extra)

    def build() -> TextModel:
        try:
            base = parse_examples(base_bytes, str(training_file())) if base_bytes else []
        except ValueError:
            base = []  # a broken shipped set: the unit's own corrections still count
        examples = [e for e in base + corrections if e.code in inventory]
        if len({e.code for e in examples}) < 2:
            raise TrainingError("训练样本不足：至少需要两个类目的已标注文档")
        return fit(examples, inventory.codes)

    return cached_model(key, build)


def model_for_unit(inventory: Inventory, unit: str = "") -> TextModel | None:
    """The model a run for ``unit`` uses: the unit's when it has corrections, else the
    project's; None when no training data is available (the rules then decide alone)."""
    corrections = load_corrections(unit) if unit else []
    if corrections:
        return unit_model(inventory, unit, corrections)
    return default_model(inventory)


@dataclass
class TrainReport:
    unit: str
    added: int
    replaced: int
    total_corrections: int
    examples: int
    unreadable: list[tuple[str, str]]
    by_code: dict[str, int]


def collect_corrections(source: str, inventory: Inventory, mapping=None, *, workers: int = 1):
    """(examples, unreadable) for every tagged or mapped document in ``source``."""
    from ..classify.overrides import MAPPING_NAME, Mapping, category_from_tags
    from ..connectors import ConnectorError, DocumentUnavailable, open_connector
    from ..extract import ExtractionError, Limits
    from ..fetch import Fetcher
    from ..workers import Job, extract_all

    try:
        connector = open_connector(source)
        entries = list(connector.walk())
    except ConnectorError as exc:
        raise TrainingError(str(exc)) from exc
    if mapping is None:
        mapping = Mapping()
        for e in entries:
            if e.path == MAPPING_NAME:
                with connector.open(e) as f:
                    data = f.read(1 << 20).decode("utf-8-sig", errors="replace")
                try:
                    mapping = Mapping.parse(data, inventory, origin=e.path)
                except ValueError as exc:
                    raise TrainingError(str(exc)) from exc
    labelled: list[tuple[object, str]] = []
    for e in entries:
        if e.problem or e.path == MAPPING_NAME:
            continue
        tagged = category_from_tags(e.tags, inventory)
        code = tagged[0].code if tagged else mapping.lookup(e.path)
        if code:
            labelled.append((e, code))
    cache = None
    if labelled and connector.local_path(labelled[0][0]) is None:
        cache = cache_dir() / "fetch"
    fetcher = Fetcher(connector, cache)
    unreadable: list[tuple[str, str]] = []
    jobs, meta = [], {}
    for i, (e, code) in enumerate(labelled):
        try:
            f = fetcher.fetch(e)
        except DocumentUnavailable as exc:
            unreadable.append((e.path, str(exc)))
            continue
        jobs.append(Job(i, str(f.local), e.name))
        meta[i] = (e, code)
    examples = []
    for job, res in extract_all(jobs, Limits(), workers):
        e, code = meta[job.key]
        if isinstance(res, ExtractionError):
            unreadable.append((e.path, res.reason))
            continue
        examples.append(Example(code, res.title if not res.title_composed else "", e.name, res.text[:KEEP_CHARS],
                                CORRECTION_WEIGHT, f"correction:{e.path}"))
    return examples, unreadable


def train_unit(source: str, unit: str, inventory: Inventory, mapping=None, *, workers: int = 1) -> TrainReport:
    """Fold the corrections found in ``source`` into ``unit``'s model and train it."""
    if not unit.strip():
        raise TrainingError("请用 --unit 指定单位：人工更正只用于该单位的模型")
    found, unreadable = collect_corrections(source, inventory, mapping, workers=workers)
    stored = {e.origin: e for e in load_corrections(unit)}
    replaced = sum(1 for e in found if e.origin in stored)
    for e in found:
        stored[e.origin] = e
    corrections = list(stored.values())
    if corrections:
        _write_corrections(unit, corrections)
    model = unit_model(inventory, unit, corrections) if corrections else default_model(inventory)
    by_code: dict[str, int] = {}
    for e in corrections:
        by_code[e.code] = by_code.get(e.code, 0) + 1
    return TrainReport(unit, len(found) - replaced, replaced, len(corrections),
                       int(model.info.get("examples", 0)) if model else 0, unreadable, by_code)


def train_default(inventory: Inventory) -> TextModel:
    """(Re)build the project's model now, so that the first run does not wait for it."""
    path = training_file()
    if not path.is_file():
        raise TrainingError(f"找不到训练数据：{path}")
    try:
        examples = [e for e in load_examples(path) if e.code in inventory]
    except ValueError as exc:
        raise TrainingError(str(exc)) from exc
    if len({e.code for e in examples}) < 2:
        raise TrainingError(f"训练数据 {path} 中少于两个清单类目的样本")
    model = default_model(inventory)
    if model is None:
        raise TrainingError(f"无法用 {path} 训练模型")
    return model
