"""Speed of the extract and classify stages, measured separately (not a test).

    .venv/bin/python bench/extract_classify.py [--n 40] [--pages 30] [--workers 2]

1. Generates a corpus with ``handover_dossier.samplecorpus.docgen`` (DOCX, multi-page text PDF, XLSX,
   GBK TXT, OFD) plus, when ``../shared/corpus/real-dev`` is present, the real documents.
2. PDF text readers side by side on the same PDFs (the generated ones and the real ones):
   pypdfium2, pypdf, pdfplumber — all pages, pages/s, and whether they agree on the text.
3. Extraction as the pipeline runs it (``extract_document``: the first pages only), per
   format: documents/s and pages/s, in one process and with the worker pool.
4. Classification on the extracted inputs: model training time, then documents/s.

Prints a table; nothing is asserted. Speed figures depend on the machine: the table says
which one.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_DEV = ROOT.parent / "shared" / "corpus" / "real-dev"

PARAS = [
    "一年来，在县委、县政府的坚强领导下，我局认真贯彻落实各项决策部署，圆满完成了全年目标任务，各项工作取得了新成效。",
    "一、主要工作成效",
    "全年完成交通固定资产投资12.6亿元，同比增长8.3%，新改建农村公路126公里，完成危桥改造18座，客运站点覆盖率达到100%。",
    "（一）项目建设提速增效。坚持把项目建设作为推动交通发展的主抓手，实行领导包抓、专班推进、周调度月通报机制。",
    "二、存在的问题",
    "一是项目资金筹措压力较大，二是农村公路养护机制还不健全，三是行业安全监管仍有薄弱环节。",
]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPU, Python {platform.python_version()}"


def _ofd(path: Path, lines: list[str]) -> Path:
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f"<ofd:OFD {ns}><ofd:DocBody><ofd:DocInfo><ofd:Title>部门决算</ofd:Title></ofd:DocInfo>"
                              "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        z.writestr("Doc_0/Document.xml", f'<ofd:Document {ns}><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                                         "</ofd:Pages></ofd:Document>")
        objs = "".join(f'<ofd:TextObject ID="{i}" Boundary="20 {20 + 8 * i} 170 7" Size="5"><ofd:TextCode X="0" Y="5">'
                       f"{t}</ofd:TextCode></ofd:TextObject>" for i, t in enumerate(lines))
        z.writestr("Doc_0/Pages/Page_0/Content.xml", f"<ofd:Page {ns}><ofd:Content><ofd:Layer>{objs}</ofd:Layer>"
                                                     "</ofd:Content></ofd:Page>")
    return path


def make_corpus(dest: Path, n: int, pages: int) -> list[tuple[Path, str]]:
    from handover_dossier import docgen

    files: list[tuple[Path, str]] = []
    for i in range(n):
        title = f"榆川县交通运输局{2019 + i % 5}年工作总结"
        files.append((docgen.write_docx(dest / f"docx/{i:04d}.docx", title, PARAS * 6, issuer="榆川县交通运输局",
                                        doc_number=f"榆交发〔2023〕{i + 1}号", date_text="二〇二三年十二月二十日"), "docx"))
        files.append((docgen.write_pdf(dest / f"pdf/{i:04d}.pdf", title, PARAS, issuer="榆川县交通运输局",
                                       pages_min=pages), "pdf"))
        rows = [["榆川县交通运输局固定资产台账"], ["资产编号", "名称", "原值", "购置日期"]]
        rows += [[f"ZC-{j:04d}", "办公电脑", 5600.0 + j, "2021-03-01"] for j in range(200)]
        files.append((docgen.write_xlsx(dest / f"xlsx/{i:04d}.xlsx", {"固定资产": rows}), "xlsx"))
        files.append((docgen.write_txt(dest / f"txt/{i:04d}.txt", title, PARAS * 4, encoding="gbk"), "text"))
        files.append((_ofd(dest / f"ofd/{i:04d}.ofd", [title, *PARAS]), "ofd"))
    return files


# --------------------------------------------------------------------------- PDF readers
def _pdfium(path: Path) -> tuple[int, str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    out = []
    for i in range(len(doc)):
        page = doc[i]
        tp = page.get_textpage()
        out.append(tp.get_text_range())
        tp.close()
        page.close()
    n = len(doc)
    doc.close()
    return n, "\n".join(out)


def _pypdf(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    r = PdfReader(str(path))
    return len(r.pages), "\n".join(p.extract_text() or "" for p in r.pages)


def _pdfplumber(path: Path) -> tuple[int, str]:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return len(pdf.pages), "\n".join(p.extract_text() or "" for p in pdf.pages)


def _han(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))


def bench_pdf_readers(pdfs: list[Path], label: str) -> list[str]:
    rows = []
    texts: dict[str, list[str]] = {}
    for name, fn in (("pypdfium2", _pdfium), ("pypdf", _pypdf), ("pdfplumber", _pdfplumber)):
        t = time.perf_counter()
        pages = 0
        got = []
        for p in pdfs:
            try:
                n, text = fn(p)
            except Exception:  # a reader that cannot open a file scores no pages for it
                n, text = 0, ""
            pages += n
            got.append(_han(text))
        dt = time.perf_counter() - t
        texts[name] = got
        rows.append((name, pages, dt))
    ref = texts["pypdfium2"]
    out = [f"PDF text readers — {label}: {len(pdfs)} files, all pages"]
    out.append(f"  {'reader':<11} {'pages':>6} {'seconds':>8} {'pages/s':>8}  Han chars vs pypdfium2")
    for name, pages, dt in rows:
        same = sum(1 for a, b in zip(ref, texts[name], strict=True) if a == b)
        chars = sum(len(t) for t in texts[name])
        out.append(f"  {name:<11} {pages:>6} {dt:>8.2f} {pages / dt:>8.0f}  {chars} chars, identical in {same}/{len(pdfs)} files")
    return out


# --------------------------------------------------------------------------- pipeline stages
def bench_extract(files: list[tuple[Path, str]], workers: int):
    from handover_dossier.extract import Limits, extract_document
    from handover_dossier.transfer.workers import Job, extract_all

    limits = Limits()
    out = ["Extraction as in the pipeline (first pages only; pages = document page counts)"]
    out.append(f"  {'format':<8} {'docs':>5} {'pages':>7} {'seconds':>8} {'docs/s':>8} {'pages/s':>9}")
    results = {}
    kinds = sorted({k for _, k in files})
    total_t, total_docs, total_pages = 0.0, 0, 0
    for kind in kinds:
        sel = [(p, k) for p, k in files if k == kind]
        t = time.perf_counter()
        pages = 0
        for p, _ in sel:
            ex = extract_document(p, p.name, limits)
            pages += ex.pages or 1
            results[p] = ex
        dt = time.perf_counter() - t
        total_t += dt
        total_docs += len(sel)
        total_pages += pages
        out.append(f"  {kind:<8} {len(sel):>5} {pages:>7} {dt:>8.2f} {len(sel) / dt:>8.1f} {pages / dt:>9.0f}")
    out.append(f"  {'all, 1 process':<14} {total_docs:>5} {total_pages:>7} {total_t:>8.2f} {total_docs / total_t:>8.1f} "
               f"{total_pages / total_t:>9.0f}")
    jobs = [Job(i, str(p), p.name) for i, (p, _) in enumerate(files)]
    t = time.perf_counter()
    n = sum(1 for _ in extract_all(jobs, limits, workers))
    dt = time.perf_counter() - t
    out.append(f"  {f'all, {workers} workers':<14} {n:>5} {total_pages:>7} {dt:>8.2f} {n / dt:>8.1f} {total_pages / dt:>9.0f}")
    return out, results


def bench_classify(extracted: dict) -> list[str]:
    from handover_dossier.classify import Classifier, ClassifyInput
    from handover_dossier.classify.model import default_model, models_dir
    from handover_dossier.inventory import default_inventory

    out = ["Classification (extracted inputs; keyword rules + model)"]
    inv = default_inventory()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DOSSIER_MODEL_CACHE"] = tmp  # cold: train from scratch
        t = time.perf_counter()
        model = default_model(inv)
        train_s = time.perf_counter() - t
        if model is None:
            out.append("  no training data (corpus/train/train.jsonl): rules only")
        else:
            out.append(f"  model training: {train_s:.2f} s on {model.info.get('examples')} examples "
                       f"(cached afterwards under {models_dir().name}/)")
        inputs = [ClassifyInput(source=p.name, title=ex.title, text=ex.text, title_composed=ex.title_composed)
                  for p, ex in extracted.items()]
        pages = sum(ex.pages or 1 for ex in extracted.values())
        for label, clf in (("rules only", Classifier(inv, use_model=False)), ("rules + model", Classifier(inv, model=model))):
            if label == "rules + model" and model is None:
                continue
            t = time.perf_counter()
            for doc in inputs:
                clf.classify(doc)
            dt = time.perf_counter() - t
            out.append(f"  {label:<14} {len(inputs):>5} docs {dt:>7.2f} s {len(inputs) / dt:>8.0f} docs/s "
                       f"{pages / dt:>9.0f} pages/s")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="documents per format")
    ap.add_argument("--pages", type=int, default=30, help="pages per generated PDF")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    print(f"machine: {_machine()}")
    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as tmp:
        dest = Path(tmp)
        t = time.perf_counter()
        files = make_corpus(dest, args.n, args.pages)
        print(f"corpus: {len(files)} generated documents in {time.perf_counter() - t:.1f} s")
        real = sorted(p for p in REAL_DEV.rglob("*") if p.is_file() and p.suffix.lower() in {".pdf", ".docx", ".txt"})
        gen_pdfs = [p for p, k in files if k == "pdf"]
        for line in bench_pdf_readers(gen_pdfs[: max(5, args.n // 4)], f"generated, {args.pages} pages each"):
            print(line)
        real_pdfs = [p for p in real if p.suffix.lower() == ".pdf"]
        if real_pdfs:
            for line in bench_pdf_readers(real_pdfs, "real government PDFs (../shared/corpus/real-dev)"):
                print(line)
        kinds = {".pdf": "real-pdf", ".docx": "real-docx", ".txt": "real-txt"}
        files += [(p, kinds[p.suffix.lower()]) for p in real]
        lines, extracted = bench_extract(files, args.workers)
        for line in lines:
            print(line)
        for line in bench_classify(extracted):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
