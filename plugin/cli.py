"""The ``dossier`` command line.

Messages are Chinese (Simplified by default; ``--lang zh-Hant`` for Traditional). Exit
codes: 0 success; 1 a check failed (verify) or the command failed; 2 the input could not
be read / bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .lang.i18n import set_language, ui
from .version import __version__


def _print(text: str = "", *, err: bool = False) -> None:
    print(ui(text), file=sys.stderr if err else sys.stdout)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def _fail(message: str, code: int = 1) -> int:
    _print(f"错误：{message}", err=True)
    return code


# -- assemble --------------------------------------------------------------------
def _meta(args: argparse.Namespace):
    from .bundle.assemble import BundleMeta
    from .lang.i18n import get_language

    return BundleMeta(
        leader=args.leader or "",
        post=args.post or "",
        unit=args.unit or "",
        term_start=args.term_start or "",
        term_end=args.term_end or "",
        fonds=args.fonds or "",
        incoming=getattr(args, "incoming", "") or "",
        lang=get_language(),
        compiler=getattr(args, "compiler", "") or "",
        checker=getattr(args, "checker", "") or "",
    )


def _check_date(value: str | None, flag: str) -> str | None:
    import datetime as dt

    if value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{flag} 应为 YYYY-MM-DD 格式的日期：{value}"
    return None


def cmd_assemble(args: argparse.Namespace) -> int:
    from .classify import Mapping
    from .inventory import InventoryError, default_inventory, load_inventory
    from .pipeline import AssembleError, assemble
    from .runtime.progress import BarProgress, Progress

    for value, flag in ((args.term_start, "--term-start"), (args.term_end, "--term-end")):
        problem = _check_date(value, flag)
        if problem:
            return _fail(problem, 2)
    from .extract.corrections import FieldCorrections
    from .extract.passwords import Passwords

    try:
        inventory = load_inventory(args.inventory) if args.inventory else default_inventory()
        mapping = Mapping.load(args.mapping, inventory) if args.mapping else None
        passwords = Passwords.load(args.passwords) if args.passwords else None
        corrections = FieldCorrections.load(args.fields) if args.fields else None
    except (InventoryError, ValueError, OSError) as exc:
        return _fail(str(exc), 2)
    out = Path(args.output)
    progress = Progress() if args.json else BarProgress()
    try:
        result = assemble(
            args.source,
            out,
            meta=_meta(args),
            inventory=inventory,
            mapping=mapping,
            workers=args.workers,
            progress=progress,
            fetch_threads=args.fetch_threads,
            only_term=args.only_term,
            reuse=not args.rebuild,
            passwords=passwords,
            corrections=corrections,
        )
    except AssembleError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("已中断，未生成档案包（已下载的文件保留在缓存中，重新运行将从中断处继续）", 130)
    filed = None
    if args.file_to:
        from .filing import FilingError, file_bundle

        try:
            filed = file_bundle(out, args.file_to, source=args.source)
        except FilingError as exc:
            if args.json:
                _print_json(result.as_json())
            return _fail(str(exc))
    if args.json:
        data = result.as_json()
        if filed:
            data["filed"] = filed.__dict__
        _print_json(data)
    else:
        _summary(result.as_json(), inventory)
        if filed:
            _filed(filed)
    return 0


def _filed(res) -> None:
    where = f"{res.location.rstrip('/')}/{res.name}"
    _print(f"已归档到：{where}" + ("（已存在相同档案包，未重复上传）" if res.skipped else "（已核对大小）"))
    if res.tagged or res.source_tagged:
        _print("  已打标签「已归档」：" + "、".join(x for x, ok in (("档案包", res.tagged), ("来源文件夹", res.source_tagged)) if ok))
    for w in res.warnings:
        _print(f"  注意：{w}")


#: How many findings / items for review the summary lists before saying how many more there are.
SHOWN_FINDINGS = 10
SHOWN_REVIEW = 20


def _summary(data: dict[str, Any], inventory) -> None:
    s = data["summary"]
    if data.get("up_to_date"):
        _print(f"档案包已是最新：{data['bundle']}（来源文件与选项均未变化，未重新生成；如需重新生成请加 --rebuild）")
    else:
        _print(f"档案包已生成：{data['bundle']}")
    _print(f"  档号：{data['archival_code']}")
    _print(
        f"  共 {s['documents']} 份文件：收入 {s['items']} 件，例外 {s['exceptions']} 件；待人工复核 {s['needs_review']} 件"
        + (f"；著录项待核 {s['fields_review']} 件" if s.get("fields_review") else "")
    )
    unreadable = data.get("unreadable") or {}
    # The 交接书 (P2) is generated by the bundle itself: not a missing category.
    skip = set(unreadable) | set(data.get("generated") or [])
    names = [inventory.get(c).label if c in inventory else c for c in data["missing"] if c not in skip]
    present = [f"{inventory.get(c).label if c in inventory else c}（{len(docs)} 份）" for c, docs in unreadable.items()]
    _print(f"  覆盖类目 {s['covered']}/{len(s['categories'])}"
           + (f"；没有材料的类目 {len(names)} 个：{'、'.join(names)}" if names else "")
           + (f"；已有但无法读取：{'、'.join(present)}" if present else ""))
    if data["exceptions"]:
        _print("  未收入的文件：")
        for ex in data["exceptions"]:
            _print(f"    - {ex['source']}：{ex['reason']}")
    if data["needs_review"]:
        _print("  待复核：")
        for it in data["needs_review"][:SHOWN_REVIEW]:
            _print(f"    - 第{it['seq']:04d}件 {it['source']} → {it['code']}（{it['reason']}）")
        if len(data["needs_review"]) > SHOWN_REVIEW:
            _print(f"    …… 另有 {len(data['needs_review']) - SHOWN_REVIEW} 件，见卷内目录备注栏")
    if data.get("findings"):
        from .bundle.gaps import count_text

        findings = data["findings"]
        _print(f"  缺项与问题{count_text(findings)}，详见档案包中的《缺项与问题报告》：")
        for f in findings[:SHOWN_FINDINGS]:
            _print(f"    - [{f['severity']}] {f['message']}")
        if len(findings) > SHOWN_FINDINGS:
            _print(f"    …… 另有 {len(findings) - SHOWN_FINDINGS} 项，见《缺项与问题报告》")
    pdf = (data.get("renditions") or {}).get("pdf") or {}
    if pdf and not pdf.get("made"):
        _print(f"  提示：{pdf.get('note') or '未生成 PDF 版本'}")
    if data.get("fetch", {}).get("documents"):
        from .transfer.fetch import describe_fetch

        _print(f"  获取：{describe_fetch(data['fetch'])}")
    _print(f"  SHA-256：{data['sha256']}")


# -- verify ----------------------------------------------------------------------
def cmd_verify(args: argparse.Namespace) -> int:
    from .lang.i18n import get_language
    from .verify.checks import PROPERTIES, BundleUnreadable, ReportError, verify_bundle, write_report
    from .verify.signatures import load_trust_roots

    try:
        roots = load_trust_roots(args.trust_root or [])
    except (OSError, ValueError) as exc:
        return _fail(f"无法读取信任根证书：{exc}", 2)
    try:
        report = verify_bundle(args.bundle, use_bagit=not args.fast, trust_roots=roots or None)
    except BundleUnreadable as exc:
        if args.json:
            _print_json({"bundle": args.bundle, "ok": False, "error": str(exc)})
        return _fail(str(exc), 2)
    if args.json:
        _print_json(report.as_json())
    else:
        counts = report.as_json()["properties"]
        if report.ok:
            _print(f"校验通过：{args.bundle}（{report.items} 件，{len(report.checks)} 项检查全部通过）")
        else:
            _print(f"校验未通过：{args.bundle}（{len(report.failures)} 项失败）")
        _print("  " + "　".join(f"{PROPERTIES[k]} 通过 {v['passed']} 项、未通过 {v['failed']} 项" for k, v in counts.items()))
        for c in report.failures:
            _print(f"  ✗ [{PROPERTIES.get(c.property, c.property)}] {c.item or '档案包'}：{c.message}（{c.name}）")
        for c in report.warnings:
            _print(f"  ？[{PROPERTIES.get(c.property, c.property)}] {c.item or '档案包'}：{c.message}（{c.name}）")
    if args.report:
        try:
            written = write_report(report, args.report, lang=get_language())
        except ReportError as exc:
            return _fail(str(exc), 2)
        if not args.json:
            _print(f"检测报告已保存：{written}")
    return 0 if report.ok else 1


# -- classify --------------------------------------------------------------------
def cmd_classify(args: argparse.Namespace) -> int:
    from .classify import Classifier, ClassifyInput
    from .extract import ExtractionError, extract_document
    from .lang.textnorm import nfc

    classifier = Classifier()
    rows = []
    files: list[tuple[Path, str]] = []
    for raw in args.paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    files.append((f, nfc(f.relative_to(p).as_posix())))
        elif p.is_file():
            files.append((p, nfc(p.name)))
        else:
            rows.append({"path": raw, "error": "文件不存在"})
    for f, rel in files:
        try:
            ex = extract_document(f, f.name)
        except ExtractionError as exc:
            rows.append({"path": str(f), "error": exc.reason})
            continue
        d = classifier.classify(ClassifyInput(source=rel, title=ex.classifier_title()[0], text=ex.text, title_composed=ex.classifier_title()[1],
                                              text_missing=ex.needs_review and not ex.text.strip()))
        rows.append({"path": str(f), "code": d.code, "category": d.category, "confidence": d.confidence,
                     "needs_review": d.needs_review or ex.needs_review, "reason": d.reason, "title": ex.title,
                     "date": ex.date, "kind": ex.layout_kind, "fields": ex.fields})
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            if "error" in r:
                _print(f"{r['path']}\t—\t无法读取：{r['error']}")
            else:
                flag = "  待复核" if r["needs_review"] else ""
                _print(f"{r['path']}\t{r['code']} {r['category']}\t{r['confidence']:.2f}\t{r['reason']}{flag}")
                _print_fields(r["fields"])
    return 0 if all("error" not in r for r in rows) else 1


def _print_fields(fields: dict[str, Any]) -> None:
    """One indented line per catalogue field: value, where it was found, confidence."""
    from .bundle.assemble import FIELD_LABELS

    for key, label in FIELD_LABELS.items():
        f = fields.get(key) or {}
        if not f.get("value") and not f.get("review"):
            continue
        value = f.get("value") or "（未找到）"
        where = f"　{f['source']}" if f.get("source") else ""
        flag = "　待核" if f.get("review") else ""
        _print(f"    {label}：{value}{where}　{f.get('confidence', 0):.2f}{flag}")


# -- eval / train ----------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    from .classify import Classifier
    from .pipeline import default_workers
    from .quality.evaluate import EvaluationError, evaluate, format_report

    try:
        result = evaluate(args.labeled_dir, Classifier(unit=args.unit or ""), workers=args.workers or default_workers())
    except EvaluationError as exc:
        return _fail(str(exc), 2)
    if args.json:
        _print_json(result.as_json())
    else:
        _print(format_report(result))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .classify import Mapping
    from .classify.training import TrainingError, train_default
    from .inventory import InventoryError, default_inventory, load_inventory
    from .pipeline import default_workers
    from .quality.teach import train_unit

    try:
        inventory = load_inventory(args.inventory) if args.inventory else default_inventory()
        mapping = Mapping.load(args.mapping, inventory) if args.mapping else None
    except (InventoryError, ValueError, OSError) as exc:
        return _fail(str(exc), 2)
    try:
        if not args.source:
            model = train_default(inventory)
            data = {"unit": "", "examples": model.info.get("examples", 0), "by_code": model.info.get("codes", {})}
            if args.json:
                _print_json(data)
            else:
                _print(f"已训练通用模型：{data['examples']} 份标注样本，覆盖 {len(data['by_code'])} 个类目")
            return 0
        report = train_unit(args.source, args.unit or "", inventory, mapping, workers=args.workers or default_workers())
    except TrainingError as exc:
        return _fail(str(exc))
    if args.json:
        _print_json(report.__dict__)
        return 0
    _print(f"单位“{report.unit}”：新纳入 {report.added} 条人工更正，更新 {report.replaced} 条，累计 {report.total_corrections} 条")
    if report.by_code:
        _print("  按类目：" + "，".join(f"{c} {n} 条" for c, n in sorted(report.by_code.items())))
    _print(f"  该单位的模型已更新（训练样本共 {report.examples} 份）；之后用 --unit {report.unit} 生成档案包即使用此模型")
    for path, reason in report.unreadable:
        _print(f"  未能纳入：{path}：{reason}")
    if not report.total_corrections:
        _print("  未找到任何人工更正（文件标签“交接:类目代码”或映射文件 dossier-mapping.csv）", err=True)
    return 0


# -- file ------------------------------------------------------------------------
def cmd_file(args: argparse.Namespace) -> int:
    from .filing import FilingError, file_bundle, recorded_source

    try:
        res = file_bundle(args.bundle, args.dest, source=recorded_source(args.bundle, near=args.dest))
    except FilingError as exc:
        return _fail(str(exc))
    except FileNotFoundError:
        return _fail(f"找不到档案包：{args.bundle}", 2)
    if args.json:
        _print_json(res.__dict__)
    else:
        _filed(res)
    return 0


# -- demo ------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from .bundle.assemble import BundleMeta
    from .inventory import default_inventory
    from .lang.i18n import get_language
    from .pipeline import AssembleError, assemble
    from .runtime.progress import BarProgress, Progress
    from .samplecorpus import LEADER, generate
    from .verify.checks import verify_bundle

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    corpus = Path(args.corpus) if args.corpus else out.parent / "sample-corpus"
    generate(corpus)
    meta = BundleMeta(
        leader=LEADER["leader"], post=LEADER["post"], unit=LEADER["unit"], term_start=LEADER["term_start"],
        term_end=LEADER["term_end"], fonds=LEADER.get("fonds", ""), incoming=LEADER.get("incoming", ""),
        lang=get_language(),
    )
    if not args.json:
        _print(f"示例：{meta.unit}{meta.post}{meta.leader}离任交接（任期 {meta.term_start} 至 {meta.term_end}）")
        _print(f"示例文档已生成：{corpus}")
    try:
        result = assemble(corpus, out, meta=meta, progress=Progress() if args.json else BarProgress(), workers=args.workers)
    except AssembleError as exc:
        return _fail(str(exc))
    report = verify_bundle(out)
    if args.json:
        _print_json({**result.as_json(), "verify": report.as_json()})
    else:
        _summary(result.as_json(), default_inventory())
        if report.ok:
            _print(f"校验通过：{len(report.checks)} 项检查全部通过（含 bagit-python 独立校验）")
        else:
            _print(f"校验未通过：{len(report.failures)} 项失败")
            for c in report.failures:
                _print(f"  ✗ {c.item}：{c.message}")
        # "total" is the whole run; the stages overlap (fetch streams into extract), so
        # their sum is not the time taken.
        st = result.stage_seconds
        stages = "，".join(f"{k} {v:.2f}s" for k, v in st.items() if k != "total" and v is not None)
        _print(f"用时：{st.get('total', 0.0):.1f} 秒（{stages}）")
    return 0 if report.ok else 1


# -- parser ----------------------------------------------------------------------
def _add_meta(p: argparse.ArgumentParser) -> None:
    p.add_argument("--leader", help="离任领导姓名")
    p.add_argument("--post", help="职务")
    p.add_argument("--unit", help="单位")
    p.add_argument("--term-start", help="任期开始 YYYY-MM-DD")
    p.add_argument("--term-end", help="任期结束 YYYY-MM-DD")
    p.add_argument("--fonds", help="全宗号（用于档号）")
    p.add_argument("--incoming", help="接任领导姓名")
    p.add_argument("--compiler", help="立卷人（备考表）")
    p.add_argument("--checker", help="检查人（备考表）")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dossier", description="离任交接档案包：获取、归类、打包、归档、校验")
    parser.add_argument("--version", action="version", version=f"handover-dossier {__version__}")
    parser.add_argument("--lang", help="输出语言：zh-Hans（简体，默认）或 zh-Hant（繁体）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("assemble", help="从来源生成档案包")
    p.add_argument("source", help="来源：本地文件夹或 WebDAV/Nextcloud 地址")
    p.add_argument("-o", "--output", required=True, help="输出的档案包 .zip")
    _add_meta(p)
    p.add_argument("--inventory", help="自定义清单文件（TOML）")
    p.add_argument("--mapping", help="人工归类映射文件（CSV：路径,类目代码）")
    p.add_argument("--fields", help="著录项更正文件（CSV：路径,题名,责任者,日期,文号,密级,页数；默认读来源根目录的 dossier-fields.csv）")
    p.add_argument("--passwords", help="加密 PDF 的密码文件（CSV：路径,密码；默认读取来源根目录的 dossier-passwords.csv）")
    p.add_argument("--workers", type=int, default=None, help="读取文档的进程数（默认按 CPU 核数）")
    p.add_argument("--file-to", help="生成后归档到此文件夹或地址（本地文件夹、WebDAV 或 Nextcloud 地址）")
    p.add_argument("--only-term", action="store_true", help="只收入任期内（按修改时间）的文件；需同时给出任期起止日期")
    p.add_argument("--fetch-threads", type=int, default=8, help="同时下载的文件数（默认 8）")
    p.add_argument("--rebuild", action="store_true", help="即使来源和选项均未变化也重新生成档案包")
    p.add_argument("--json", action="store_true", help="输出机读结果（JSON）")
    p.set_defaults(func=cmd_assemble)

    p = sub.add_parser("verify", help="校验档案包（四性检测）")
    p.add_argument("bundle")
    p.add_argument("--fast", action="store_true", help="跳过 bagit-python 独立校验")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", help="另存可归档的检测报告（.docx 或 .pdf）")
    p.add_argument("--trust-root", action="append", help="签名验证使用的信任根证书（PEM/DER，可多次指定）")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("classify", help="对文件归类并说明理由")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("eval", help="在已标注的文件夹上测量归类准确率")
    p.add_argument("labeled_dir", help="已标注文件夹：每个类目代码一个子文件夹（如 C2/）")
    p.add_argument("--unit", help="使用该单位的模型（见 dossier train）")
    p.add_argument("--workers", type=int, default=None, help="读取文档的进程数")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train", help="把人工更正纳入本单位的归类模型")
    p.add_argument("source", nargs="?", help="含人工更正的来源（文件标签“交接:C6”或 dossier-mapping.csv）；省略则只训练通用模型")
    p.add_argument("--unit", help="单位名称：更正只用于该单位的模型")
    p.add_argument("--mapping", help="人工归类映射文件（CSV：路径,类目代码）")
    p.add_argument("--inventory", help="自定义清单文件（TOML）")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("file", help="把档案包归档到文件夹或 DMS")
    p.add_argument("bundle")
    p.add_argument("dest", help="目标：本地文件夹或 WebDAV/Nextcloud 文件夹地址")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_file)

    p = sub.add_parser("demo", help="用内置示例文档演示完整流程")
    p.add_argument("-o", "--output", default=os.path.join("demo-out", "sample-bundle.zip"))
    p.add_argument("--corpus", help="示例文档写入的文件夹（默认在输出旁）")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    # serve / query / fetch / case: the Nextcloud plugin's side (imports stay lazy there)
    from .app.commands import add_parsers as _add_app_parsers

    _add_app_parsers(sub)
    # worker / batch: the scale-out on Redis (RQ)
    from .scale.cli import add_parsers as _add_scale_parsers

    _add_scale_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import logging

    # Library warnings (pypdf's "EOF marker not found" ...) are English noise for the
    # archivist; every problem they hint at is reported as a Chinese reason instead.
    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    for noisy in ("pypdf", "pdfminer", "openpyxl", "docx", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    parser = build_parser()
    args = parser.parse_args(argv)
    set_language(args.lang or os.environ.get("DOSSIER_LANG"))
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("已中断", 130)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
