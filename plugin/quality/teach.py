"""Teaching a unit's model from an archivist's corrections (``dossier train SOURCE --unit U``).

Every corrected document in SOURCE (a DMS tag ``交接:C6`` or a line in
``dossier-mapping.csv``) is read through the pipeline exactly as ``assemble`` reads it,
stored as a confirmed example for the unit (:mod:`handover_dossier.classify.training`) and
the unit's model is retrained.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..classify.model import Example, default_model
from ..classify.overrides import MAPPING_NAME, Mapping, category_from_tags
from ..classify.training import (
    CORRECTION_WEIGHT,
    KEEP_CHARS,
    TrainingError,
    load_corrections,
    unit_model,
    write_corrections,
)
from ..connectors import ConnectorError, DocumentUnavailable, Entry, open_connector
from ..extract import ExtractionError
from ..inventory import Inventory
from ..pipeline import read_documents

__all__ = ["TrainReport", "collect_corrections", "train_unit"]


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
    labelled: list[tuple[Entry, str]] = []
    for e in entries:
        if e.problem or e.path == MAPPING_NAME:
            continue
        tagged = category_from_tags(e.tags, inventory)
        code = tagged[0].code if tagged else mapping.lookup(e.path)
        if code:
            labelled.append((e, code))
    codes = {e.path: code for e, code in labelled}
    unreadable: list[tuple[str, str]] = []
    examples: list[Example] = []
    for e, res in read_documents(connector, entries=[e for e, _ in labelled], workers=workers):
        if isinstance(res, DocumentUnavailable):
            unreadable.append((e.path, str(res)))
        elif isinstance(res, ExtractionError):
            unreadable.append((e.path, res.reason))
        else:
            examples.append(Example(codes[e.path], res.title if not res.title_composed else "", e.name,
                                    res.text[:KEEP_CHARS], CORRECTION_WEIGHT, f"correction:{e.path}"))
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
        write_corrections(unit, corrections)
    model = unit_model(inventory, unit, corrections) if corrections else default_model(inventory)
    by_code: dict[str, int] = {}
    for e in corrections:
        by_code[e.code] = by_code.get(e.code, 0) + 1
    return TrainReport(unit, len(found) - replaced, replaced, len(corrections),
                       int(model.info.get("examples", 0)) if model else 0, unreadable, by_code)
