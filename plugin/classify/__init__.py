"""Classify stage: put each document into exactly one inventory category.

Decision order, first match wins:
1. a DMS tag ``交接:<code>`` on the document (the archivist's correction in the DMS);
2. the sidecar mapping file (the archivist's correction outside the DMS);
3. the classifier: keyword rules read from the inventory data, combined with the
   statistical model when one is available (see :mod:`.model`).

Every decision carries a confidence and a Chinese reason. Below the inventory's
``review_threshold`` the item is still placed but flagged ``needs_review``.
"""

from __future__ import annotations

import math

from ..inventory import Inventory, default_inventory
from .base import Classification, ClassifyInput
from .overrides import Mapping, category_from_tags
from .rules import score_rules

__all__ = ["Classification", "Classifier", "ClassifyInput", "Mapping"]


class Classifier:
    """Classifier bound to one inventory (and, optionally, one unit's corrections)."""

    def __init__(self, inventory: Inventory | None = None, mapping: Mapping | None = None, model: object | None = None) -> None:
        self.inventory = inventory or default_inventory()
        self.mapping = mapping or Mapping()
        self.model = model

    def classify(self, doc: ClassifyInput) -> Classification:
        inv = self.inventory
        tagged = category_from_tags(doc.tags, inv)
        if tagged:
            cat, tag = tagged
            return Classification(cat.code, cat.name, 1.0, f"文件标签“{tag}”指定", method="tag")
        mapped = self.mapping.lookup(doc.source)
        if mapped:
            cat = inv.get(mapped)
            return Classification(cat.code, cat.name, 1.0, "映射文件指定", method="mapping")
        return self._decide(doc)

    def _decide(self, doc: ClassifyInput) -> Classification:
        inv = self.inventory
        scores = score_rules(doc, inv)
        top, second = scores[0], scores[1]
        if top.score <= 0:
            cat = inv.get(inv.fallback)
            return Classification(
                cat.code, cat.name, 0.2, "未找到任何类目特征，暂归入" + cat.name, needs_review=True, method="fallback"
            )
        # Map the evidence margin to a confidence: a decisive title keyword with no rival
        # gives ~0.9+, two categories with similar evidence ~0.5.
        margin = top.score - second.score
        confidence = 1.0 / (1.0 + math.exp(-(margin - 0.6) * 1.6))
        confidence = round(min(0.99, confidence * min(1.0, 0.45 + top.score / 6)), 2)
        cat = inv.get(top.code)
        reason = "；".join(top.evidence)
        if doc.text_missing:
            reason += "；无可读正文，仅凭名称判断"
            confidence = min(confidence, 0.5)
        needs_review = confidence < inv.review_threshold or doc.text_missing
        alternatives = [(s.code, round(s.score, 2)) for s in scores[1:3] if s.score > 0]
        return Classification(cat.code, cat.name, confidence, reason, needs_review, "rules", alternatives)
