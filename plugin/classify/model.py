"""The statistical half of the classifier: character n-gram TF-IDF + logistic regression.

Chinese needs no word segmentation for this: character 1-3-grams of the title and of the
leading text carry the document type ("总结", "讲话", "决算", "同志们"). Two views are
vectorised separately and each L2-normalised, so the short title is not drowned by the
body: the *head* (title + file name) and the *body* (first ``BODY_CHARS`` characters).
All text is converted to Simplified (OpenCC) and digits are folded to ``0`` first.

Training data: ``corpus/train/train.jsonl`` shipped with the project (one JSON object per
line: code, title, filename, text, ...), plus, for a unit, the corrections its archivists
confirmed (see :mod:`.training`). The fitted model is stored as plain arrays (``.npz``:
vocabulary, idf, weights; no pickle, so loading a cached model never runs code) under
``resources.cache_dir()/models``, keyed by a hash of everything it was trained from;
when the training data, the inventory or this code's ``MODEL_VERSION`` change, the key
changes and the model is retrained on first use.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..inventory import Inventory
from ..lang.textnorm import nfc, to_simplified
from ..runtime.resources import cache_dir, corpus_dir, private_dir

#: Bump when features or training change: cached models are then retrained.
MODEL_VERSION = "1"
#: Leading characters of the body the model reads (classification needs the beginning).
BODY_CHARS = 1500
#: Relative weight of the two views in the feature vector.
HEAD_WEIGHT = 1.0
BODY_WEIGHT = 1.0
#: Inverse regularisation strength of the logistic regression.
C = 20.0
#: Body n-grams seen in fewer training documents are dropped (noise, names, numbers).
BODY_MIN_DF = 2

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_NAME_NOISE = re.compile(r"[\s_\-—–.()（）\[\]【】]+")


# --------------------------------------------------------------------------- examples
@dataclass(frozen=True)
class Example:
    """One labelled document."""

    code: str
    title: str
    filename: str
    text: str
    weight: float = 1.0
    origin: str = ""


def training_file() -> Path:
    """The project's labelled training set."""
    return corpus_dir() / "train" / "train.jsonl"


def load_examples(path: str | Path | None = None) -> list[Example]:
    """Read a JSONL training file (``code``, ``title``, ``filename``, ``text``; other keys ignored)."""
    p = Path(path) if path else training_file()
    return parse_examples(p.read_bytes(), str(p))


def parse_examples(data: bytes, origin: str = "") -> list[Example]:
    """Examples from JSONL bytes; a malformed line raises ValueError naming it."""
    out = []
    for lineno, line in enumerate(data.decode("utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(Example(str(row["code"]).strip(), str(row.get("title") or ""), str(row.get("filename") or ""),
                               str(row.get("text") or ""), float(row.get("weight", 1.0)), str(row.get("origin", ""))))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"训练数据 {origin} 第 {lineno} 行格式错误：{exc}") from exc
    return out


# --------------------------------------------------------------------------- features
def _fold(text: str) -> str:
    return _DIGITS.sub("0", to_simplified(nfc(text)))


def views(title: str, name: str, text: str) -> tuple[str, str]:
    """(head, body) as the model sees them. ``title`` is the document's own heading ('' if
    it has none); ``name`` the file name; ``text`` the extracted text."""
    stem = name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    head = _fold(f"{title} {_NAME_NOISE.sub(' ', stem)}").strip()
    body = _fold(_SPACES.sub(" ", text[: BODY_CHARS * 2])[:BODY_CHARS])
    return head, body


def example_views(ex: Example) -> tuple[str, str]:
    """Views of a training example as extraction would present the document: the heading
    is the first line of the extracted text."""
    text = f"{ex.title}\n{ex.text}" if ex.title and not ex.text.lstrip().startswith(ex.title) else ex.text
    return views(ex.title, ex.filename, text)


def ngrams(text: str, n_max: int = 3) -> Counter[str]:
    """Character 1..n_max-grams (spaces never inside an n-gram)."""
    grams = [chunk[i : i + n] for chunk in text.split(" ") for n in range(1, n_max + 1)
             for i in range(len(chunk) - n + 1)]
    return Counter(grams)  # counted in C


class _View:
    """Vocabulary and idf of one view; turns n-gram counts into an L2-normalised tf-idf row."""

    def __init__(self, vocab: dict[str, int], idf: np.ndarray) -> None:
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float64)

    @classmethod
    def fit(cls, counts: Sequence[Counter[str]], min_df: int) -> _View:
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        terms = sorted(t for t, c in df.items() if c >= min_df)
        n = len(counts)
        idf = [math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms]
        return cls({t: i for i, t in enumerate(terms)}, np.array(idf))

    def row(self, counts: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        get = self.vocab.get
        idx = np.fromiter((get(t, -1) for t in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        keep = idx >= 0
        idx = idx[keep]
        vals = (1.0 + np.log(tf[keep])) * self.idf[idx]
        norm = float(np.sqrt(vals @ vals)) or 1.0
        return idx, vals / norm


class TextModel:
    """A fitted model: two views and a linear layer. ``proba`` gives P(code | document)."""

    def __init__(self, codes: list[str], head: _View, body: _View, coef: np.ndarray, intercept: np.ndarray,
                 info: dict | None = None) -> None:
        self.codes = codes
        self.head = head
        self.body = body
        self.coef = coef  # (n_codes, n_head + n_body)
        self.intercept = intercept
        self.info = info or {}

    def logits(self, head: str, body: str) -> np.ndarray:
        idx, vals = _joint_row(self.head, self.body, ngrams(head), ngrams(body))
        return self.coef[:, idx] @ vals + self.intercept

    def proba(self, title: str, name: str, text: str) -> dict[str, float]:
        z = self.logits(*views(title, name, text))
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.codes, p.tolist(), strict=True))

    # -- persistence: plain arrays, no pickle ----------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                codes=np.array(self.codes),
                head_terms=np.array(sorted(self.head.vocab, key=self.head.vocab.get)),
                head_idf=self.head.idf,
                body_terms=np.array(sorted(self.body.vocab, key=self.body.vocab.get)),
                body_idf=self.body.idf,
                coef=self.coef.astype(np.float32),
                intercept=self.intercept,
                info=np.array(json.dumps(self.info, ensure_ascii=False)),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> TextModel:
        with np.load(path, allow_pickle=False) as z:
            head = _View({t: i for i, t in enumerate(z["head_terms"].tolist())}, z["head_idf"])
            body = _View({t: i for i, t in enumerate(z["body_terms"].tolist())}, z["body_idf"])
            return cls(z["codes"].tolist(), head, body, z["coef"].astype(np.float64), z["intercept"],
                       json.loads(str(z["info"])))


def _joint_row(head: _View, body: _View, hc: Counter[str], bc: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
    hi, hv = head.row(hc)
    bi, bv = body.row(bc)
    return np.concatenate([hi, bi + len(head.vocab)]), np.concatenate([hv * HEAD_WEIGHT, bv * BODY_WEIGHT])


def _matrix(head: _View, body: _View, counts: Sequence[tuple[Counter[str], Counter[str]]]):
    from scipy.sparse import csr_matrix

    rows = [_joint_row(head, body, hc, bc) for hc, bc in counts]
    indptr = np.cumsum([0] + [len(r[0]) for r in rows])
    indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
    shape = (len(counts), len(head.vocab) + len(body.vocab))
    return csr_matrix((data, indices, indptr), shape=shape)


def fit(examples: Sequence[Example], codes: Sequence[str] | None = None) -> TextModel:
    """Train on ``examples``. ``codes`` fixes the output order (the inventory's); codes
    without examples get no weights and a probability of zero from the model."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    counts = [(ngrams(h), ngrams(b)) for h, b in (example_views(e) for e in examples)]
    head = _View.fit([c[0] for c in counts], min_df=1)
    body = _View.fit([c[1] for c in counts], min_df=BODY_MIN_DF)
    X = _matrix(head, body, counts)
    y = [e.code for e in examples]
    weights = np.array([e.weight for e in examples])
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    # One BLAS thread: the problem is small, and more threads only contend (measured 4 s
    # against 0.8 s on 2 cores).
    with threadpool_limits(1):
        clf.fit(X, y, sample_weight=weights)
    learned = [str(c) for c in clf.classes_]
    order = list(codes) if codes else learned
    coef = np.zeros((len(order), X.shape[1]))
    intercept = np.full(len(order), -1e4)  # codes never seen in training: probability ~0
    if len(learned) == 2:  # binary LR stores one row; expand to two
        rows = {learned[1]: clf.coef_[0] / 2, learned[0]: -clf.coef_[0] / 2}
        icpt = {learned[1]: clf.intercept_[0] / 2, learned[0]: -clf.intercept_[0] / 2}
    else:
        rows = {c: clf.coef_[i] for i, c in enumerate(learned)}
        icpt = {c: clf.intercept_[i] for i, c in enumerate(learned)}
    for i, c in enumerate(order):
        if c in rows:
            coef[i] = rows[c]
            intercept[i] = icpt[c]
    info = {"examples": len(examples), "codes": dict(Counter(y)), "version": MODEL_VERSION}
    return TextModel(order, head, body, coef, intercept, info)


# --------------------------------------------------------------------------- cache
_memo: dict[str, TextModel] = {}
_lock = threading.Lock()


def models_dir() -> Path:
    """Where trained models are cached (``DOSSIER_MODEL_CACHE`` overrides)."""
    env = os.environ.get("DOSSIER_MODEL_CACHE")
    return private_dir(Path(env)) if env else cache_dir() / "models"


def model_key(training: bytes, inventory: Inventory, extra: bytes = b"") -> str:
    """Hash of everything a model is trained from."""
    inv = json.dumps([[c.code, c.name, c.keywords, c.text_keywords, c.exclude] for c in inventory],
                     ensure_ascii=False).encode()
    h = hashlib.sha256()
    for part in (MODEL_VERSION.encode(), training, inv, extra):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:32]


def cached_model(key: str, build) -> TextModel:
    """The model stored under ``key``; built with ``build()`` and stored when absent."""
    with _lock:
        model = _memo.get(key)
        if model is not None:
            return model
        path = models_dir() / f"{key}.npz"
        if path.is_file():
            try:
                model = TextModel.load(path)
            except (OSError, ValueError, KeyError):
                model = None  # a damaged cache entry is rebuilt
        if model is None:
            model = build()
            try:
                model.save(path)
            except OSError:
                pass  # a read-only cache only costs a retrain next time
        _memo[key] = model
        return model


def default_model(inventory: Inventory) -> TextModel | None:
    """The model trained on the project's training set, or None when it is not available
    (no file, or a file that cannot be parsed: the keyword rules then decide alone, and
    ``dossier train`` reports the problem)."""
    path = training_file()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    key = model_key(data, inventory)

    def build() -> TextModel:
        examples = [e for e in parse_examples(data, str(path)) if e.code in inventory]
        if len({e.code for e in examples}) < 2:
            raise ValueError(f"训练数据 {path} 中少于两个清单类目的样本")
        return fit(examples, inventory.codes)

    try:
        return cached_model(key, build)
    except ValueError:
        return None
