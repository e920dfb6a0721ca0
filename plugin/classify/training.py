"""A unit's model: the project's training set plus the unit's confirmed corrections.

A correction is a DMS tag (``交接:C6``) on a document or a line in the unit's mapping file
(``dossier-mapping.csv``). The corrected documents are read elsewhere
(:mod:`handover_dossier.quality.teach`, through the pipeline); here they are stored as
labelled examples for unit U (``cache_dir()/units/<hash of U>/corrections.jsonl``; a newer
correction of the same document replaces the older one) and U's model is trained from the
project's training set plus U's corrections, each weighted ``CORRECTION_WEIGHT``. Later runs
with ``--unit U`` use that model. The tags and the mapping file stay the source of truth: if
the cache is cleared, ``dossier train`` rebuilds the same model from them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..inventory import Inventory
from ..lang.textnorm import nfc
from ..runtime.resources import cache_dir
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


def write_corrections(unit: str, examples: list[Example]) -> None:
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
