#!/usr/bin/env python3
"""Validate the labelled corpus.

Checks
  1. corpus/train/train.jsonl: every line parses, has the schema fields with valid values,
     the code is one of the 19 inventory codes; no two rows share the same text.
  2. corpus/heldout/<CODE>/*.txt: the folder name is a valid code, files are non-empty UTF-8.
  3. Counts per code (train written / composed, held-out) against the minimums.
  4. Leakage train <-> held-out: no 20-character substring is shared (texts are compared after
     Traditional->Simplified conversion with whitespace removed). Every hit is reported.
  5. Leakage from the real development set: no 20-character substring of any file in
     ../shared/corpus/real-dev (txt/docx/pdf) occurs in train or held-out.

Run:  .venv/bin/python corpus/check.py [--real-dev PATH] [-n 20]
Exit status 0 when everything passes, 1 otherwise.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter

import opencc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CODES = ["A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6",
         "D1", "D2", "D3", "D4", "E1", "F1", "P1", "P2"]
FIELDS = {"code": str, "title": str, "filename": str, "text": str, "script": str, "origin": str}
MIN_WRITTEN, MIN_TRAIN, MIN_HELDOUT = 12, 40, 8
T2S = opencc.OpenCC("t2s")
WS = re.compile(r"\s+")


def norm(text):
    return WS.sub("", T2S.convert(text))


def shingles(text, n):
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def extract(path):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".txt":
        return open(path, encoding="utf-8", errors="replace").read()
    if ext == ".docx":
        import docx
        d = docx.Document(path)
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                parts.append("\t".join(cell.text for cell in row.cells))
        return "\n".join(parts)
    if ext == ".pdf":
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(path)
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    return None


def load_train(path, errors):
    rows = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"train.jsonl:{ln}: not JSON ({e})")
            continue
        for k, typ in FIELDS.items():
            if not isinstance(r.get(k), typ):
                errors.append(f"train.jsonl:{ln}: field {k!r} missing or not {typ.__name__}")
        if r.get("code") not in CODES:
            errors.append(f"train.jsonl:{ln}: unknown code {r.get('code')!r}")
        if r.get("script") not in ("hans", "hant"):
            errors.append(f"train.jsonl:{ln}: script must be hans|hant")
        if r.get("origin") not in ("written", "composed"):
            errors.append(f"train.jsonl:{ln}: origin must be written|composed")
        if not str(r.get("text", "")).strip():
            errors.append(f"train.jsonl:{ln}: empty text")
        r["_id"] = f"train.jsonl:{ln}"
        rows.append(r)
    return rows


def load_heldout(folder, errors):
    docs = []
    for code in sorted(os.listdir(folder)):
        sub = os.path.join(folder, code)
        if not os.path.isdir(sub):
            continue
        if code not in CODES:
            errors.append(f"heldout/{code}: not an inventory code")
        for fn in sorted(os.listdir(sub)):
            p = os.path.join(sub, fn)
            try:
                with open(p, encoding="utf-8") as fh:
                    text = fh.read()
            except UnicodeDecodeError:
                errors.append(f"heldout/{code}/{fn}: not UTF-8")
                continue
            if not fn.endswith(".txt"):
                errors.append(f"heldout/{code}/{fn}: not a .txt file")
            if not text.strip():
                errors.append(f"heldout/{code}/{fn}: empty")
            docs.append({"code": code, "file": fn, "text": text, "_id": f"heldout/{code}/{fn}"})
    return docs


def overlap(targets, source_index, n, limit=None):
    """targets: list of (id, normtext); source_index: dict shingle -> source id.
    Returns list of (target id, source id, substring)."""
    hits = []
    for tid, t in targets:
        i = 0
        while i <= len(t) - n:
            s = t[i:i + n]
            if s in source_index:
                hits.append((tid, source_index[s], s))
                i += n  # report each run once
                if limit and len(hits) >= limit:
                    return hits
            else:
                i += 1
    return hits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--real-dev", default=os.path.join(ROOT, "..", "shared", "corpus", "real-dev"))
    ap.add_argument("-n", type=int, default=20, help="shared-substring length that counts as leakage")
    args = ap.parse_args()
    n = args.n
    errors, warnings = [], []

    train = load_train(os.path.join(HERE, "train", "train.jsonl"), errors)
    held = load_heldout(os.path.join(HERE, "heldout"), errors)

    # duplicates inside train
    dup = Counter(norm(r["text"]) for r in train)
    ndup = sum(v - 1 for v in dup.values() if v > 1)
    if ndup:
        errors.append(f"train.jsonl: {ndup} rows duplicate another row's text")

    # counts
    print("== counts per code ==")
    print("code\ttrain_written\ttrain_composed\ttrain_total\theldout")
    tw, tc, ho = Counter(), Counter(), Counter()
    for r in train:
        (tw if r["origin"] == "written" else tc)[r["code"]] += 1
    for d in held:
        ho[d["code"]] += 1
    for c in CODES:
        print(f"{c}\t{tw[c]}\t{tc[c]}\t{tw[c] + tc[c]}\t{ho[c]}")
        if tw[c] < MIN_WRITTEN:
            errors.append(f"{c}: only {tw[c]} written training documents (< {MIN_WRITTEN})")
        if tw[c] + tc[c] < MIN_TRAIN:
            errors.append(f"{c}: only {tw[c] + tc[c]} training documents (< {MIN_TRAIN})")
        if ho[c] < MIN_HELDOUT:
            errors.append(f"{c}: only {ho[c]} held-out documents (< {MIN_HELDOUT})")
    print(f"total\t{sum(tw.values())}\t{sum(tc.values())}\t{len(train)}\t{len(held)}")

    # shape statistics
    def share(xs):
        return f"{sum(xs)}/{len(xs)} ({100 * sum(xs) / max(1, len(xs)):.0f}%)"
    neutral = re.compile(r"^(材料|扫描件|掃描件|新建|附件|文档|文檔|Doc|未命名|微信图片|微信圖片|IMG|资料|資料|\d)")
    print("\n== shape ==")
    print("train  Traditional:", share([r["script"] == "hant" for r in train]),
          " no title:", share([not r["title"] for r in train]),
          " neutral file name:", share([bool(neutral.match(r["filename"])) for r in train]))
    lens = sorted(len(r["text"]) for r in train)
    print(f"train  text length min/median/max: {lens[0]}/{lens[len(lens) // 2]}/{lens[-1]}")
    short = [r["_id"] for r in train if not 300 <= len(r["text"]) <= 1500]
    if short:
        warnings.append(f"{len(short)} training texts outside 300-1500 characters: {short[:5]}")
    hant_held = [d for d in held if T2S.convert(d["text"]) != d["text"]]
    print("heldout Traditional:", share([d in hant_held for d in held]),
          " neutral file name (no heading):", share([bool(neutral.match(d["file"])) for d in held]))
    hl = sorted(len(d["text"]) for d in held)
    print(f"heldout text length min/median/max: {hl[0]}/{hl[len(hl) // 2]}/{hl[-1]}")

    # leakage: train <-> heldout
    print(f"\n== leakage: shared {n}-character substrings, train vs held-out ==")
    hidx = {}
    for d in held:
        for s in shingles(norm(d["text"]), n):
            hidx.setdefault(s, d["_id"])
    hits = overlap([(r["_id"] + f" [{r['code']}/{r['origin']}]", norm(r["text"])) for r in train], hidx, n)
    for tid, sid, s in hits[:50]:
        print(f"  {tid}  ~  {sid}: {s}")
    print(f"  {len(hits)} shared substrings")
    if hits:
        errors.append(f"{len(hits)} {n}-character substrings shared between train and held-out")

    # leakage: real-dev -> train/heldout
    print(f"\n== leakage: {n}-character substrings from the real development set ==")
    rd = os.path.abspath(args.real_dev)
    if not os.path.isdir(rd):
        errors.append(f"real-dev folder not found: {rd}")
    else:
        ridx, nfiles = {}, 0
        for dp, _, fns in os.walk(rd):
            for fn in fns:
                text = extract(os.path.join(dp, fn))
                if text is None:
                    continue
                nfiles += 1
                rel = os.path.relpath(os.path.join(dp, fn), rd)
                for s in shingles(norm(text), n):
                    ridx.setdefault(s, rel)
        print(f"  indexed {nfiles} real-dev files, {len(ridx)} distinct {n}-character substrings")
        targets = [(r["_id"] + f" [{r['code']}/{r['origin']}]", norm(r["text"])) for r in train]
        targets += [(d["_id"], norm(d["text"])) for d in held]
        rhits = overlap(targets, ridx, n)
        for tid, sid, s in rhits[:50]:
            print(f"  {tid}  ~  real-dev/{sid}: {s}")
        print(f"  {len(rhits)} shared substrings")
        if rhits:
            errors.append(f"{len(rhits)} {n}-character substrings shared with the real development set")

    print()
    for w in warnings:
        print("WARNING:", w)
    if errors:
        for e in errors:
            print("FAIL:", e)
        sys.exit(1)
    print("OK: all checks passed")


if __name__ == "__main__":
    main()
