"""How the classifier's constants were chosen: cross-validation on the training set only.

    .venv/bin/python bench/tune_classifier.py [--folds 5] [--seed 0]

The project's training set (``corpus/train/train.jsonl``) is split into random folds; each
fold is predicted by a model trained on the others (out-of-fold), and the keyword rules
score every document. Then, for a grid of the fusion constants of
:mod:`handover_dossier.classify` (``GAMMA``: weight of the rules; ``T``: temperature), the
script prints accuracy, the abstention rate at the inventory's ``review_threshold`` and the
accuracy on the documents not abstained on. The held-out set and ``../shared`` are never
read here: they measure the choice, they do not make it.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main() -> int:
    from handover_dossier.classify import GAMMA, GAMMA_TEXT, MODEL_FLOOR, T
    from handover_dossier.classify import model as M
    from handover_dossier.classify.base import ClassifyInput
    from handover_dossier.classify.rules import score_rules
    from handover_dossier.inventory import default_inventory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    inv = default_inventory()
    codes = inv.codes
    examples = [e for e in M.load_examples() if e.code in inv]
    n = len(examples)
    rng = np.random.default_rng(args.seed)
    fold = rng.permutation(n) % args.folds
    y = np.array([codes.index(e.code) for e in examples])

    P = np.zeros((n, len(codes)))
    R = np.zeros((n, len(codes)))
    t = time.perf_counter()
    for k in range(args.folds):
        train = [e for e, f in zip(examples, fold, strict=True) if f != k]
        model = M.fit(train, codes)
        for i in np.flatnonzero(fold == k):
            e = examples[i]
            p = model.proba(e.title, e.filename, e.text)
            P[i] = [p[c] for c in codes]
    fit_s = (time.perf_counter() - t) / args.folds
    RT = np.zeros((n, len(codes)))
    for i, e in enumerate(examples):
        doc = ClassifyInput(source=e.filename, title=e.title, text=e.text, title_composed=not e.title)
        s = {r.code: r for r in score_rules(doc, inv)}
        R[i] = [s[c].score - s[c].text_score for c in codes]
        RT[i] = [s[c].text_score for c in codes]
    thr = inv.review_threshold
    print(f"{n} examples, {args.folds} folds, {fit_s:.1f} s per fit; review_threshold {thr}")
    print(f"model alone: accuracy {(P.argmax(1) == y).mean():.3f}; rules alone: {((R + RT).argmax(1) == y).mean():.3f}")
    print(f"current constants: GAMMA={GAMMA} GAMMA_TEXT={GAMMA_TEXT} T={T}")
    print(f"{'GAMMA':>6} {'G_TEXT':>6} {'T':>5} {'accuracy':>9} {'abstain':>8} {'acc(answered)':>14}")
    logp = np.log(np.maximum(P, MODEL_FLOOR))
    for gamma in (0.5, 0.75, 1.0, 1.5):
        for g_text in (0.0, 0.5, 1.0):
            for temp in (0.5, 0.75, 1.0, 1.25):
                z = (logp + gamma * R + g_text * RT) / temp
                q = np.exp(z - z.max(1, keepdims=True))
                q /= q.sum(1, keepdims=True)
                pred, conf = q.argmax(1), q.max(1)
                answered = conf >= thr
                acc_ans = (pred[answered] == y[answered]).mean() if answered.any() else float("nan")
                print(f"{gamma:>6} {g_text:>6} {temp:>5} {(pred == y).mean():>9.3f} {1 - answered.mean():>8.3f} "
                      f"{acc_ans:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
