"""Classify stage: put each document into exactly one inventory category.

Decision order, first match wins:
1. a DMS tag ``交接:<code>`` on the document (the archivist's correction in the DMS);
2. the sidecar mapping file (the archivist's correction outside the DMS);
3. the classifier: keyword rules read from the inventory data, combined with the
   statistical model (see :mod:`.model`) into one probability per category.

The combination is log-linear, normalised over the inventory:
``log P(code) = (log P_model(code) + GAMMA * title_rules(code) + GAMMA_TEXT * text_rules(code)) / T``.
Rule scores are additive evidence (a title keyword is worth about 4.5), so a decisive
title keyword multiplies the odds of its category by ~e^4.5, while the model decides
when the title says nothing (neutral file names, body-only documents); keywords in the
text count half, since the model reads the text too. GAMMA, GAMMA_TEXT and T were chosen
by cross-validation on the training set only (``bench/tune_classifier.py``: the largest
coverage at the review threshold with >= 99% out-of-fold accuracy), not on the
evaluation sets.

Every decision carries a confidence (the combined probability of the chosen category)
and a Chinese reason. Below the inventory's ``review_threshold`` the item is still placed
but flagged ``needs_review``.
"""

from __future__ import annotations

import math

from ..inventory import Inventory, default_inventory
from .base import Classification, ClassifyInput
from .overrides import Mapping, category_from_tags
from .rules import RuleScore, score_rules

__all__ = ["Classification", "Classifier", "ClassifyInput", "Mapping"]

#: Weight of the keyword-rule evidence from the title, file name and folders against the
#: model's log-probability.
GAMMA = 1.0
#: Weight of the keyword evidence from the leading text (which the model reads as well).
GAMMA_TEXT = 0.5
#: Temperature of the combined distribution (calibrates the confidence).
T = 0.5
#: Floor for the model's probability, so that a category without training examples can
#: still win on strong keyword evidence.
MODEL_FLOOR = 1e-4
#: Confidence cap when the document has no readable text (classified by its name only).
NAME_ONLY_CAP = 0.5


class Classifier:
    """Classifier bound to one inventory (and, optionally, one unit's corrections).

    ``model``: a :class:`~.model.TextModel`; by default the project's model (or the unit's,
    when ``unit`` names a unit with confirmed corrections, see :mod:`.training`), trained
    on first use and cached. ``use_model=False`` gives the keyword rules alone.
    """

    def __init__(
        self,
        inventory: Inventory | None = None,
        mapping: Mapping | None = None,
        model: object | None = None,
        *,
        unit: str = "",
        use_model: bool = True,
    ) -> None:
        self.inventory = inventory or default_inventory()
        self.mapping = mapping or Mapping()
        self.unit = unit
        self._model = model
        self._model_loaded = model is not None or not use_model

    @property
    def model(self):
        """The statistical model in use, or None (rules only)."""
        if not self._model_loaded:
            from .training import model_for_unit

            self._model = model_for_unit(self.inventory, self.unit)
            self._model_loaded = True
        return self._model

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
        scores = score_rules(doc, inv)
        model = self.model
        if model is None:
            return self._rules_only(doc, scores)
        return self._combined(doc, scores, model)

    def category_by_name(self, doc: ClassifyInput) -> str:
        """The category a document that could not be read belongs to, judged by what is
        known without its content: the archivist's tag or mapping, else a keyword in its
        file name that points to one category more than any other. '' when nothing says
        (a guess from folders or the model alone would claim too much)."""
        tagged = category_from_tags(doc.tags, self.inventory)
        if tagged:
            return tagged[0].code
        mapped = self.mapping.lookup(doc.source)
        if mapped:
            return mapped
        scores = score_rules(ClassifyInput(source=doc.source, tags=doc.tags), self.inventory)
        top, second = scores[0], scores[1]
        named = any(ev.startswith("文件名含") for ev in top.evidence)
        return top.code if named and top.score > second.score else ""

    # -- rules and model together ------------------------------------------------------
    def _combined(self, doc: ClassifyInput, scores: list[RuleScore], model) -> Classification:
        inv = self.inventory
        title = doc.title if not doc.title_composed else ""
        p_model = model.proba(title, doc.name, doc.text)
        by_code = {s.code: s for s in scores}
        logits = {}
        for code in inv.codes:
            pm = max(p_model.get(code, 0.0), MODEL_FLOOR)
            rs = by_code[code]
            logits[code] = (math.log(pm) + GAMMA * (rs.score - rs.text_score) + GAMMA_TEXT * rs.text_score) / T
        top = max(logits.values())
        total = sum(math.exp(v - top) for v in logits.values())
        probs = {c: math.exp(v - top) / total for c, v in logits.items()}
        ranked = sorted(probs, key=probs.get, reverse=True)
        code = ranked[0]
        confidence = probs[code]
        cat = inv.get(code)
        reason = self._reason(code, by_code, scores, p_model)
        if doc.text_missing:
            reason += "；无可读正文，仅凭名称判断"
            confidence = min(confidence, NAME_ONLY_CAP)
        confidence = round(min(confidence, 0.99), 2)
        needs_review = confidence < inv.review_threshold or doc.text_missing
        alternatives = [(c, round(probs[c], 2)) for c in ranked[1:3] if probs[c] >= 0.01]
        return Classification(cat.code, cat.name, confidence, reason, needs_review, "combined", alternatives)

    def _reason(self, code: str, by_code: dict[str, RuleScore], scores: list[RuleScore], p_model: dict[str, float]) -> str:
        """``标题含“工作总结”；模型 0.93`` — the evidence for the chosen category, and where
        the keywords pointed elsewhere, say so."""
        parts = list(by_code[code].evidence[:2])
        best_rule = scores[0]
        if best_rule.code != code and best_rule.score > 0:
            parts.append(f"另有关键词指向 {best_rule.code}（{best_rule.evidence[0]}）")
        parts.append(f"模型 {p_model.get(code, 0.0):.2f}")
        if not by_code[code].evidence and best_rule.score <= 0:
            parts.insert(0, "无明显关键词")
        return "；".join(parts)

    # -- rules alone (no training data available) -------------------------------------
    def _rules_only(self, doc: ClassifyInput, scores: list[RuleScore]) -> Classification:
        inv = self.inventory
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
            confidence = min(confidence, NAME_ONLY_CAP)
        needs_review = confidence < inv.review_threshold or doc.text_missing
        alternatives = [(s.code, round(s.score, 2)) for s in scores[1:3] if s.score > 0]
        return Classification(cat.code, cat.name, confidence, reason, needs_review, "rules", alternatives)
