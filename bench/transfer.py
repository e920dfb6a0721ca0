"""Transfer throughput of ``dossier assemble`` from a loopback WebDAV server (not a test).

    .venv/bin/python bench/transfer.py [--docs 500] [--large 0 --large-mb 50] [--fetch-threads 8] [--pdf]

1. Writes N distinct documents with ``handover_dossier.samplecorpus.docgen`` (DOCX, multi-page text PDF,
   XLSX, TXT in UTF-8 and GBK; Chinese names in nested folders), plus the bundled sample
   corpus (``handover_dossier.samplecorpus``) with its problem files; ``--large K`` adds K
   large scanned-size files (random bytes named .pdf: fetched in full, then recorded as
   exceptions) to measure MB/s on big bodies and show that memory stays flat.
2. Serves them with a real WsgiDAV server (the test suite's fixture) on 127.0.0.1.
3. Runs ``dossier assemble URL -o OUT --json`` in a fresh process: cold (empty download
   cache), then warm (same cache, nothing changed), and prints for each run the wall time,
   MB and documents fetched, MB/s and documents/s over the whole run and over the fetch
   stage alone, the GETs the server answered, and the peak RSS of the run's processes.

The trained classifier model is cached beforehand (a one-off cost unrelated to transfer);
the catalogue's PDF renditions (LibreOffice, a fixed ~4 s) are off unless ``--pdf``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

PARAS = [
    "一年来，在县委、县政府的坚强领导下，我局认真贯彻落实各项决策部署，圆满完成了全年目标任务。",
    "全年完成交通固定资产投资12.6亿元，同比增长8.3%，新改建农村公路126公里，完成危桥改造18座。",
    "坚持把项目建设作为推动交通发展的主抓手，实行领导包抓、专班推进、周调度月通报机制。",
    "一是项目资金筹措压力较大，二是农村公路养护机制还不健全，三是行业安全监管仍有薄弱环节。",
    "下一步，我们将聚焦短板弱项，强化资金保障，完善养护机制，压实安全责任，推动各项工作再上新台阶。",
]
KINDS = [("工作计划", "C1"), ("工作总结", "C2"), ("讲话", "C3"), ("经验材料", "C4"), ("财务收支表", "C6"),
         ("固定资产清单", "D4"), ("问题清单", "B2"), ("人员名册", "A2")]


def make_corpus(root: Path, n: int, large: int = 0, large_mb: int = 50) -> int:
    """N distinct documents (deterministic) and ``large`` big files; returns the total bytes."""
    from handover_dossier import docgen
    from handover_dossier.samplecorpus import generate

    generate(root / "示例")
    for i in range(n):
        year = 2019 + i % 6
        kind, _code = KINDS[i % len(KINDS)]
        folder = root / f"{year}年" / f"{kind}"
        folder.mkdir(parents=True, exist_ok=True)
        title = f"云溪县交通运输局{year}年{kind}（第{i:04d}号）"
        body = [f"{PARAS[(i + k) % len(PARAS)]}（{i}-{k}）" for k in range(6 + i % 9)]
        fmt = i % 5
        if fmt == 0:
            docgen.write_docx(folder / f"{title}.docx", title, body, issuer="云溪县交通运输局",
                              doc_number=f"云交发〔{year}〕{i}号", date_text=f"{year}年3月{1 + i % 28}日")
        elif fmt == 1:
            docgen.write_pdf(folder / f"{title}.pdf", title, body, issuer="云溪县交通运输局",
                             date_text=f"{year}年6月{1 + i % 28}日", pages_min=1 + i % 12)
        elif fmt == 2:
            rows = [[f"{title}"], ["项目", "预算数", "决算数"]] + [[f"项目{k}", 1000.0 * k + i, 990.5 * k] for k in range(40)]
            docgen.write_xlsx(folder / f"{title}.xlsx", {"表1": rows}, core_title=title)
        elif fmt == 3:
            docgen.write_txt(folder / f"{title}.txt", title, body * 20, encoding="gbk")
        else:
            docgen.write_txt(folder / f"{title} #{i}.txt", title, body * 5)
    for k in range(large):
        big = root / "扫描件" / f"扫描件-{k:02d}（{large_mb}MB）.pdf"
        big.parent.mkdir(parents=True, exist_ok=True)
        with open(big, "wb") as f:
            for _ in range(large_mb):
                f.write(os.urandom(1 << 20))
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, dict, int, int]:
    """(seconds, --json output, exit code, peak RSS in KB of the process and its children)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        # wait4: the largest resident set of this child and of the descendants it waited for
        # (the extraction worker processes), not of earlier runs.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode("utf-8", "replace"))
    return seconds, json.loads(out or b"{}"), proc.returncode, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--large", type=int, default=0, help="number of large files to add")
    ap.add_argument("--large-mb", type=int, default=50, help="size of each large file in MB")
    ap.add_argument("--fetch-threads", type=int, default=8)
    ap.add_argument("--pdf", action="store_true", help="also render the catalogue PDFs (LibreOffice)")
    args = ap.parse_args()

    from support.webdav_server import DAV_PASSWORD, DAV_USER, DavServer

    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp:
        tmp_path = Path(tmp)
        t = time.perf_counter()
        total = make_corpus(tmp_path / "dav" / "corpus", args.docs, args.large, args.large_mb)
        n_files = sum(1 for p in (tmp_path / "dav" / "corpus").rglob("*") if p.is_file())
        print(f"corpus: {n_files} files, {total / 1e6:.1f} MB, written in {time.perf_counter() - t:.1f} s")
        server = DavServer(tmp_path / "dav")
        env = dict(os.environ)
        env.update(DOSSIER_USER=DAV_USER, DOSSIER_PASSWORD=DAV_PASSWORD, DOSSIER_CACHE=str(tmp_path / "cache"),
                   DOSSIER_MODEL_CACHE=str(tmp_path / "models"), SOURCE_DATE_EPOCH="1717200000")
        if not args.pdf:
            env["DOSSIER_PDF"] = "0"
        # Train and cache the classifier once, outside the measured runs.
        from handover_dossier.samplecorpus import generate

        generate(tmp_path / "warmup")
        subprocess.run([sys.executable, "-m", "handover_dossier.cli", "assemble", str(tmp_path / "warmup"), "-o",
                        str(tmp_path / "warmup.zip"), "--json"], env=env, check=True, capture_output=True)

        cmd = [sys.executable, "-m", "handover_dossier.cli", "assemble", server.url("corpus"), "-o",
               str(tmp_path / "out.zip"), "--json", "--fetch-threads", str(args.fetch_threads)]
        rows = []
        for label in ("cold", "warm"):
            server.reset_log()
            seconds, data, code, peak = run(cmd, env)
            if code != 0:
                print(f"{label}: failed (exit {code})")
                return 1
            f, st = data["fetch"], data["stage_seconds"]
            gets = len(server.body_gets())
            rows.append((label, seconds, f, st, gets, peak))
        server.stop()

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"fetch threads {args.fetch_threads}; catalogue PDF {'on' if args.pdf else 'off'}")
    print(f"{'run':5} {'wall s':>7} {'docs':>5} {'MB':>6} {'docs/s':>7} {'MB/s':>6} | {'fetch s':>7} "
          f"{'fetch docs/s':>12} {'fetch MB/s':>10} | {'GETs':>5} {'cached':>6} {'peak RSS MB':>11}")
    for label, seconds, f, st, gets, peak in rows:
        mb = f["bytes_total"] / 1e6
        fs = max(st.get("fetch", 0.0), 1e-9)
        print(f"{label:5} {seconds:7.2f} {f['documents']:5d} {mb:6.1f} {f['documents'] / seconds:7.1f} "
              f"{mb / seconds:6.2f} | {fs:7.2f} {f['documents'] / fs:12.1f} {f['bytes_downloaded'] / 1e6 / fs:10.1f} | "
              f"{gets:5d} {f['cached']:6d} {peak / 1024:11.0f}")
        print(f"      stages: {', '.join(f'{k} {v:.2f}s' for k, v in st.items())}")
    print("MB/s and docs/s over the whole run count every document of the bundle; 'fetch MB/s' counts only "
          "bytes downloaded during the fetch stage (0 when everything came from the cache).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
