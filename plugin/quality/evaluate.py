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

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classify import Classifier, ClassifyInput
from ..extract import Extracted, ExtractionError, Limits
from ..inventory import Inventory
from ..lang.textnorm import nfc, to_simplified
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


#: Catalogue fields measured when the labelled folder has a ``fields.csv``: field key ->
#: its column (the DA/T 22 catalogue column).
FIELD_COLUMNS = {"title": "题名", "responsible": "责任者", "date": "日期", "doc_number": "文号", "secrecy": "密级",
                 "pages": "页数"}
#: Name of the field labels beside the code folders.
FIELDS_FILE = "fields.csv"


def normalise_field(value: str) -> str:
    """The comparison form of a field: full/half width folded (NFKC), whitespace dropped,
    Traditional converted to Simplified, dates as digits only."""
    v = unicodedata.normalize("NFKC", value or "")
    v = re.sub(r"\s+", "", v)
    v = to_simplified(v)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}", v):
        v = v.replace("-", "")
    return v


@dataclass
class FieldOutcome:
    path: str
    field: str
    truth: str
    predicted: str
    #: "scan" for scanned documents (image PDF, TIFF, JPEG, PNG), else "text".
    group: str = "text"
    source: str = ""
    confidence: float = 0.0

    @property
    def ok(self) -> bool:
        return normalise_field(self.truth) == normalise_field(self.predicted)


@dataclass
class EvalResult:
    outcomes: list[Outcome]
    codes: list[str]
    skipped: list[str] = field(default_factory=list)
    fields: list[FieldOutcome] = field(default_factory=list)
    #: path -> "scan" / "text" (documents listed in fields.csv, or recognised by format)
    groups: dict[str, str] = field(default_factory=dict)

    def field_accuracy(self, group: str | None = None) -> dict[str, dict[str, float]]:
        """Per field: documents labelled, right, accuracy (optionally of one group)."""
        out: dict[str, dict[str, float]] = {}
        for key in FIELD_COLUMNS:
            rows = [f for f in self.fields if f.field == key and (group is None or f.group == group)]
            if rows:
                right = sum(f.ok for f in rows)
                out[key] = {"documents": len(rows), "right": right, "accuracy": round(right / len(rows), 4)}
        return out

    def group_classification(self, group: str) -> dict[str, float]:
        """Classification on one group (scans): accuracy on the decided, abstention."""
        rows = [o for o in self.outcomes if self.groups.get(o.path) == group]
        decided = [o for o in rows if not o.abstained]
        return {"documents": len(rows), "abstained": len(rows) - len(decided),
                "abstention_rate": round(_ratio(len(rows) - len(decided), len(rows)), 4),
                "accuracy_decided": round(_ratio(sum(o.truth == o.predicted for o in decided), len(decided)), 4)}

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
            **({"fields": self.field_accuracy(),
                "fields_by_group": {g: self.field_accuracy(g) for g in ("text", "scan") if any(f.group == g for f in self.fields)},
                "scans": self.group_classification("scan"),
                "field_errors": [{**f.__dict__, "field": FIELD_COLUMNS[f.field]} for f in self.fields if not f.ok]}
               if self.fields else {}),
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
    labels = read_field_labels(root)
    outcomes: list[Outcome] = []
    field_outcomes: list[FieldOutcome] = []
    groups: dict[str, str] = {}
    for i, (f, truth) in enumerate(files):
        rel = nfc(f.relative_to(root).as_posix())
        res = results[i]
        label = labels.get(rel)
        groups[rel] = _group(rel, label)
        if label is not None:
            got = res.fields if isinstance(res, Extracted) else {}
            for key, column in FIELD_COLUMNS.items():
                if column in label:
                    v = got.get(key) or {}
                    field_outcomes.append(FieldOutcome(rel, key, label[column], str(v.get("value") or ""), groups[rel],
                                                       str(v.get("source") or ""), float(v.get("confidence") or 0.0)))
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
    return EvalResult(outcomes, inventory.codes, skipped, field_outcomes, groups)


_SCAN_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp")


def _group(rel: str, label: dict[str, str] | None) -> str:
    fmt = (label or {}).get("format", "")
    if fmt.startswith("scan") or rel.lower().endswith(_SCAN_SUFFIXES):
        return "scan"
    return "text"


def read_field_labels(root: Path) -> dict[str, dict[str, str]]:
    """``fields.csv`` beside the code folders: path (relative, as in the folder) and the
    catalogue columns 题名, 责任者, 日期 (ISO), 文号, 密级, 页数. Absent: no field labels."""
    p = root / FIELDS_FILE
    if not p.is_file():
        return {}
    with p.open(encoding="utf-8-sig", newline="") as f:
        return {nfc(row["path"]): {k: (v or "").strip() for k, v in row.items() if k != "path"}
                for row in csv.DictReader(f) if row.get("path")}


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
    if result.fields:
        lines += ["", "著录项准确率（规范化后完全一致：空白、全半角、繁简）："]
        groups = [g for g in ("text", "scan") if any(f.group == g for f in result.fields)]
        per = {g: result.field_accuracy(g) for g in groups}
        for key, m in result.field_accuracy().items():
            extra = "；".join(f"{'扫描件' if g == 'scan' else '文本文件'} {per[g][key]['accuracy']:.1%}" for g in groups if key in per[g])
            lines.append(f"  {FIELD_COLUMNS[key]}：{m['accuracy']:.1%}（{int(m['right'])}/{int(m['documents'])}）"
                         + (f"　{extra}" if len(groups) > 1 else ""))
        if "scan" in groups:
            sc = result.group_classification("scan")
            lines.append(f"  扫描件归类：已决定部分准确率 {sc['accuracy_decided']:.1%}，待复核（弃权）率 {sc['abstention_rate']:.1%}"
                         f"（{int(sc['abstained'])}/{int(sc['documents'])}）")
        wrong = [f for f in result.fields if not f.ok]
        if wrong:
            lines += ["", "著录项错误："]
            for f in wrong[:60]:
                lines.append(f"  {f.path}：{FIELD_COLUMNS[f.field]} 应为“{f.truth}”，读得“{f.predicted}”"
                             + (f"（{f.source}）" if f.source else ""))
    return "\n".join(lines)
