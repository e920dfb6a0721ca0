"""Measured accuracy: run the real extract + classify stages over a labelled folder.

``LABELED_DIR`` holds one sub-folder per inventory code (``C2/``, ``C6/`` ...); every file
below a code folder is a document of that code (files at the top level, such as a
``labels.csv``, are ignored). Each document goes through the same extraction and
classification as in ``dossier assemble``, so the numbers describe the product, not a
model in isolation.

Reported: accuracy over all documents; macro-F1 over the codes present; the abstention
rate (documents flagged ``needs_review`` or unreadable, i.e. those an archivist must look
at); accuracy on the documents it did not abstain on; the confusion matrix; precision and
recall per code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classify import Classifier, ClassifyInput
from ..extract import Extracted, ExtractionError, Limits
from ..inventory import Inventory
from ..lang.textnorm import nfc
from ..pipeline import read_files


class EvaluationError(ValueError):
    """The labelled folder cannot be used (message in Chinese)."""


@dataclass
class Outcome:
    path: str
    truth: str
    predicted: str
    confidence: float
    abstained: bool
    reason: str


@dataclass
class EvalResult:
    outcomes: list[Outcome]
    codes: list[str]
    skipped: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def accuracy(self) -> float:
        return _ratio(sum(o.truth == o.predicted for o in self.outcomes), self.n)

    @property
    def abstention(self) -> float:
        return _ratio(sum(o.abstained for o in self.outcomes), self.n)

    @property
    def answered(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.abstained]

    @property
    def accuracy_answered(self) -> float:
        answered = self.answered
        return _ratio(sum(o.truth == o.predicted for o in answered), len(answered))

    def confusion(self) -> dict[str, dict[str, int]]:
        """truth -> predicted -> count, over the codes that occur."""
        table: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            row = table.setdefault(o.truth, {})
            row[o.predicted] = row.get(o.predicted, 0) + 1
        return table

    def per_code(self) -> dict[str, dict[str, float]]:
        truth = Counter(o.truth for o in self.outcomes)
        pred = Counter(o.predicted for o in self.outcomes)
        hits = Counter(o.truth for o in self.outcomes if o.truth == o.predicted)
        out: dict[str, dict[str, float]] = {}
        for code in self.present_codes:
            p = _ratio(hits[code], pred[code])
            r = _ratio(hits[code], truth[code])
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            out[code] = {"support": truth[code], "predicted": pred[code], "precision": round(p, 4),
                         "recall": round(r, 4), "f1": round(f1, 4)}
        return out

    @property
    def present_codes(self) -> list[str]:
        seen = {o.truth for o in self.outcomes} | {o.predicted for o in self.outcomes}
        return [c for c in self.codes if c in seen]

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the codes that occur as truth (a code only ever predicted, never
        true, lowers precision of nothing and is left out, as in scikit-learn's default
        over ``labels=truth``)."""
        truth_codes = [c for c in self.codes if any(o.truth == c for o in self.outcomes)]
        per = self.per_code()
        return _ratio(sum(per[c]["f1"] for c in truth_codes), len(truth_codes))

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "abstention_rate": round(self.abstention, 4),
            "answered": len(self.answered),
            "accuracy_answered": round(self.accuracy_answered, 4),
            "confusion": self.confusion(),
            "per_code": self.per_code(),
            "errors": [o.__dict__ for o in self.outcomes if o.truth != o.predicted],
            "abstained": [o.__dict__ for o in self.outcomes if o.abstained],
            "skipped": self.skipped,
        }


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def labelled_files(root: Path, inventory: Inventory) -> tuple[list[tuple[Path, str]], list[str]]:
    """(file, code) for every document under a code folder; and the folders skipped."""
    if not root.is_dir():
        raise EvaluationError(f"找不到标注文件夹：{root}")
    files: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        cat = inventory.resolve(nfc(sub.name))
        if cat is None:
            skipped.append(sub.name)
            continue
        for f in sorted(sub.rglob("*")):
            if f.is_file() and not f.is_symlink() and not f.name.startswith("."):
                files.append((f, cat.code))
    if not files:
        raise EvaluationError(f"标注文件夹 {root} 中没有按类目代码命名的子文件夹（如 C2/）或其中没有文件")
    return files, skipped


def evaluate(
    root: str | Path,
    classifier: Classifier | None = None,
    *,
    workers: int = 1,
    limits: Limits | None = None,
) -> EvalResult:
    """Extract and classify every labelled document under ``root``; compare with the labels."""
    classifier = classifier or Classifier()
    inventory = classifier.inventory
    root = Path(root)
    files, skipped = labelled_files(root, inventory)
    limits = limits or Limits()
    results: dict[int, Extracted | ExtractionError] = dict(
        read_files(((i, f, nfc(f.name)) for i, (f, _) in enumerate(files)), workers=workers, limits=limits)
    )
    outcomes: list[Outcome] = []
    for i, (f, truth) in enumerate(files):
        rel = nfc(f.relative_to(root).as_posix())
        res = results[i]
        if isinstance(res, ExtractionError):
            outcomes.append(Outcome(rel, truth, inventory.fallback, 0.0, True, f"无法读取：{res.reason}"))
            continue
        decision = classifier.classify(
            ClassifyInput(
                source=nfc(f.name),  # the code folder is the label: never shown to the classifier
                title=res.classifier_title()[0],
                text=res.text,
                title_composed=res.classifier_title()[1],
                text_missing=res.needs_review and not res.text.strip(),
            )
        )
        outcomes.append(
            Outcome(rel, truth, decision.code, decision.confidence, decision.needs_review or res.needs_review,
                    decision.reason)
        )
    return EvalResult(outcomes, inventory.codes, skipped)


def format_report(result: EvalResult) -> str:
    """The report an archivist or developer reads (Chinese)."""
    lines = [
        f"文档 {result.n} 份",
        f"准确率：{result.accuracy:.1%}（{sum(o.truth == o.predicted for o in result.outcomes)}/{result.n}）",
        f"宏平均 F1：{result.macro_f1:.3f}",
        f"待复核（弃权）率：{result.abstention:.1%}（{result.n - len(result.answered)} 份）",
        f"未弃权部分准确率：{result.accuracy_answered:.1%}"
        f"（{sum(o.truth == o.predicted for o in result.answered)}/{len(result.answered)}）",
        "",
        "混淆矩阵（行：标注类目，列：归类结果）：",
    ]
    codes = result.present_codes
    confusion = result.confusion()
    width = max(4, *(len(str(v)) + 1 for row in confusion.values() for v in row.values()))
    lines.append("      " + "".join(c.rjust(width) for c in codes))
    for t in codes:
        row = confusion.get(t)
        if row is None:
            continue
        lines.append(t.ljust(6) + "".join((str(row.get(p, "")) or ".").rjust(width) for p in codes))
    lines.append("")
    lines.append("各类目：精确率 / 召回率 / F1（标注数）")
    for code, m in result.per_code().items():
        lines.append(f"  {code}  {m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f}（{m['support']}）")
    wrong = [o for o in result.outcomes if o.truth != o.predicted]
    if wrong:
        lines.append("")
        lines.append("归类错误：")
        for o in wrong[:50]:
            flag = "（已标记待复核）" if o.abstained else ""
            lines.append(f"  {o.path}：{o.truth} → {o.predicted} {o.confidence:.2f}{flag}  {o.reason}")
    if result.skipped:
        lines.append("")
        lines.append("已跳过（不是清单中的类目代码）：" + "、".join(result.skipped))
    return "\n".join(lines)
