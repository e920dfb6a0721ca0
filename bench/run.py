"""The benchmark: ``dossier assemble`` against ``rclone copy``, side by side (``make bench``).

    .venv/bin/python bench/run.py [--docs 2000] [--reuse-corpus] [--workdir DIR] [--scan-share 0.02]
                                  [--fetch-threads 8] [--skip-rclone] [--profile]

1. Generates (or, with ``--reuse-corpus``, reuses) the corpus of ``bench/corpus.py``.
2. Serves it with a real WebDAV server on loopback: WsgiDAV started through its own command
   line in a separate process (so the server does not share the client's interpreter).
3. Runs, one after the other, against the same server:

   a. ``rclone copy`` of the tree (Debian's rclone, default settings, a ``:webdav:`` remote
      on the command line) -- what an administrator would use today to copy the tree;
   b. ``dossier assemble URL -o out.zip --json`` cold: empty download and extraction caches;
   c. the same again, warm: nothing changed, so the bundle is found up to date;
   d. warm, new output: same caches, another output file, so the bundle is rebuilt
      from the download and extraction caches (what a changed option costs).

   For each: wall seconds, MB/s and documents/s over the whole run, the per-stage seconds
   and fetch/extract counts that ``assemble --json`` reports, CPU seconds and peak memory
   of the whole process tree (the command plus every process it started: extraction
   workers, Tesseract, LibreOffice), sampled with psutil: the peak of the summed RSS and
   of the summed PSS (shared pages counted once), and the load average around the run.
4. Prints a table and writes every figure to ``bench/results/<date>-<N>docs.json``.

The classifier's model is trained and cached before the timed runs (a one-off cost that a
real installation pays once). ``--profile`` also records the cold run with py-spy
(``pip install py-spy``; not a project dependency) into ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402 - bench/ is not a package

META = ["--leader", "陈立华", "--post", "局长", "--unit", "云溪县交通运输局", "--term-start", "2019-04-15",
        "--term-end", "2024-06-30", "--fonds", "Z107"]


# ---------------------------------------------------------------------------- machine
def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = 0
    try:
        mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))) * 1024
    except (OSError, StopIteration):
        pass
    rclone = subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout.splitlines()[:1]
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem / 2**30, 1), "kernel": platform.release(),
            "python": platform.python_version(), "rclone": rclone[0] if rclone else ""}


# ---------------------------------------------------------------------------- sampling
class TreeSampler(threading.Thread):
    """Peak memory and CPU time of a process and all its descendants, sampled."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_procs = 0
        #: (process, RSS MB) of every process at the moment of the peak
        self.peak_breakdown: list[tuple[str, int]] = []
        #: (seconds since start, summed RSS MB) of every sample
        self.series: list[tuple[float, int]] = []
        self.t0 = time.perf_counter()
        self.cpu: dict[int, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self._halt.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except self.psutil.Error:
                break
            rss = pss = 0
            full = n % 5 == 0
            parts = []
            for p in procs:
                try:
                    if full:
                        mi = p.memory_full_info()
                        pss += mi.pss
                        rss += mi.rss
                        one = mi.rss
                    else:
                        one = p.memory_info().rss
                        rss += one
                    parts.append((_label(p), one >> 20))
                    t = p.cpu_times()
                    self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)
                except self.psutil.Error:
                    continue
            if rss > self.peak_rss:
                self.peak_breakdown = sorted(parts, key=lambda x: -x[1])
            self.peak_rss = max(self.peak_rss, rss)
            self.series.append((round(time.perf_counter() - self.t0, 2), rss >> 20))
            if full:
                self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, len(procs))
            n += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _label(p) -> str:
    """A short name for a process of the tree: the program, and for Python what it runs."""
    try:
        cmd = p.cmdline()
    except Exception:
        return "?"
    if not cmd:
        return p.name()
    prog = Path(cmd[0]).name
    if prog.startswith("python"):
        if "forkserver" in " ".join(cmd):
            return "python (forkserver / extraction worker)"
        return "python " + " ".join(cmd[1:4])
    return prog


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> dict[str, object]:
    """Run ``cmd``; wall seconds, exit code, stdout, peak tree memory, CPU, load average."""
    load_before = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=cwd)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        sampler.stop()
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    cpu = max(sampler.cpu_seconds, usage.ru_utime + usage.ru_stime)
    return {"seconds": round(seconds, 2), "code": code, "stdout": stdout, "stderr": stderr[-4000:],
            "peak_rss_mb": round(sampler.peak_rss / 2**20), "peak_pss_mb": round(sampler.peak_pss / 2**20),
            "peak_processes": sampler.peak_procs, "peak_breakdown": sampler.peak_breakdown, "series": sampler.series,
            "cpu_seconds": round(cpu, 1),
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()]}


# ---------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WsgiDav:
    """``wsgidav`` (its command line) serving ``root`` anonymously on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        exe = Path(sys.executable).with_name("wsgidav")
        cmd = [str(exe) if exe.exists() else "wsgidav", "--host", "127.0.0.1", "--port", str(self.port),
               "--root", str(root), "--auth", "anonymous", "--no-config", "-q", "-q", "-q"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(self.url(""), method="PROPFIND", headers={"Depth": "0"})
                urllib.request.urlopen(req, timeout=2).close()
                return
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("wsgidav did not start") from None
                time.sleep(0.2)
        raise RuntimeError("wsgidav did not answer")

    def url(self, rel: str) -> str:
        from urllib.parse import quote

        return f"http://127.0.0.1:{self.port}/{quote(rel.strip('/'), safe='/')}/" if rel else f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------------------- runs
def dossier_cmd(url: str, out: Path, fetch_threads: int) -> list[str]:
    return [sys.executable, "-m", "handover_dossier.cli", "assemble", url, "-o", str(out), "--json",
            "--fetch-threads", str(fetch_threads), *META]


def row_from_dossier(label: str, run: dict, total_bytes: int, n_docs: int) -> dict:
    data = json.loads(run["stdout"] or "{}") if run["code"] == 0 else {}
    st = data.get("stage_seconds", {})
    f = data.get("fetch", {})
    x = data.get("extract", {})
    s = run["seconds"]
    # Peak of the tree while documents stream (listing, fetch, extract, classify), apart from
    # the assemble stage that follows: the stream ends ``assemble`` seconds before the end.
    stream_end = s - (st.get("assemble") or 0.0) - 0.5
    stream_peak = max((mb for t, mb in run["series"] if t <= stream_end), default=0)
    return {
        "run": label, "seconds": s, "mb_s": round(total_bytes / 1e6 / s, 1), "docs_s": round(n_docs / s, 1),
        "stages": {k: st.get(k) for k in ("list", "fetch", "extract", "classify", "assemble", "total")},
        "fetch": f, "extract": x, "up_to_date": data.get("up_to_date"), "bundle_sha256": data.get("sha256"),
        "bundle_bytes": data.get("size"), "summary": data.get("summary", {}), "peak_rss_stream_mb": stream_peak,
        **{k: run[k] for k in ("code", "peak_rss_mb", "peak_pss_mb", "peak_processes", "peak_breakdown", "cpu_seconds",
                                "load_before", "load_after")},
        "stderr": run["stderr"] if run["code"] else "",
    }


def print_table(result: dict) -> None:
    m = result["machine"]
    c = result["corpus"]
    print()
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Linux {m['kernel']}, Python {m['python']}, "
          f"{m['rclone']}")
    kinds = ", ".join(f"{k} {v['files']}" for k, v in c["by_kind"].items())
    print(f"corpus: {c['files']:,} documents, {c['bytes'] / 1e6:,.0f} MB ({kinds}); WsgiDAV on 127.0.0.1")
    head = (f"{'run':22} {'wall s':>7} {'MB/s':>6} {'docs/s':>7} | {'fetch':>6} {'extract':>7} {'classify':>8} "
            f"{'assemble':>8} | {'read':>5} {'cached':>6} | {'CPU s':>6} {'RSS MB':>6} {'PSS MB':>6} {'stream':>6} | load")
    print(head)
    print("-" * len(head))
    for r in result["runs"]:
        st = r.get("stages") or {}
        x = r.get("extract") or {}

        def fmt(v):
            return f"{v:.1f}" if isinstance(v, int | float) else "-"

        print(f"{r['run']:22} {r['seconds']:7.1f} {r['mb_s']:6.1f} {r['docs_s']:7.1f} | {fmt(st.get('fetch')):>6} "
              f"{fmt(st.get('extract')):>7} {fmt(st.get('classify')):>8} {fmt(st.get('assemble')):>8} | "
              f"{x.get('read', '-'):>5} {x.get('from_cache', '-'):>6} | {r['cpu_seconds']:6.0f} "
              f"{r['peak_rss_mb']:6} {r['peak_pss_mb']:6} {r.get('peak_rss_stream_mb', '-'):>6} | "
              f"{r['load_before'][0]:.1f}→{r['load_after'][0]:.1f}")
    t = result.get("targets") or {}
    if t:
        print(f"cold / rclone = {t.get('cold_vs_rclone')}  (target <= 1.5); warm / cold = {t.get('warm_vs_cold')} "
              f"(target <= 0.05); peak RSS {t.get('peak_rss_mb')} MB (target < 500)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scan-share", type=float, default=0.02)
    ap.add_argument("--reuse-corpus", action="store_true", help="reuse a corpus generated earlier with the same options")
    ap.add_argument("--workdir", default=os.environ.get("DOSSIER_BENCH_DIR") or str(Path.home() / ".cache" / "dossier-bench"))
    ap.add_argument("--fetch-threads", type=int, default=8)
    ap.add_argument("--skip-rclone", action="store_true")
    ap.add_argument("--profile", action="store_true", help="also record the cold run with py-spy")
    args = ap.parse_args()

    work = Path(args.workdir)
    served = work / f"serve-{args.docs}-s{args.seed}-scan{args.scan_share:g}"
    tree = served / "corpus"
    manifest = corpus_mod.existing(tree, args.docs, args.seed, args.scan_share) if args.reuse_corpus else None
    if manifest is None:
        shutil.rmtree(served, ignore_errors=True)
        served.mkdir(parents=True)
        print(f"generating {args.docs:,} documents into {tree} ...", flush=True)
        manifest = corpus_mod.generate(tree, args.docs, args.seed, args.scan_share)
        print(f"  {manifest.files:,} files, {manifest.bytes / 1e6:,.0f} MB in {manifest.seconds:.0f} s", flush=True)
    else:
        print(f"reusing {tree} ({manifest.files:,} files, {manifest.bytes / 1e6:,.0f} MB)", flush=True)
    runs_dir = work / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs_dir.mkdir(parents=True)
    env = dict(os.environ)
    env.update(DOSSIER_CACHE=str(runs_dir / "cache"), DOSSIER_MODEL_CACHE=str(work / "models"),
               SOURCE_DATE_EPOCH="1719705600", PYTHONUNBUFFERED="1")
    env.pop("DOSSIER_PDF", None)

    # The classifier is trained once per installation: not part of any timed run.
    from handover_dossier.samplecorpus import generate as sample

    sample(runs_dir / "warmup")
    subprocess.run([sys.executable, "-m", "handover_dossier.cli", "assemble", str(runs_dir / "warmup"), "-o",
                    str(runs_dir / "warmup.zip"), "--json"], env={**env, "DOSSIER_CACHE": str(runs_dir / "warmup-cache")},
                   check=True, capture_output=True)

    server = WsgiDav(served)
    url = server.url("corpus")
    rows = []
    try:
        if not args.skip_rclone:
            dest = runs_dir / "rclone-copy"
            cmd = ["rclone", "copy", ":webdav:", str(dest), "--webdav-url", url, "--config", "/dev/null"]
            run = timed(cmd, env)
            copied = sum(1 for p in dest.rglob("*") if p.is_file())
            s = run["seconds"]
            rows.append({"run": "rclone copy", "seconds": s, "mb_s": round(manifest.bytes / 1e6 / s, 1),
                         "docs_s": round(manifest.files / s, 1), "files_copied": copied, "stages": {}, "extract": {},
                         **{k: run[k] for k in ("code", "peak_rss_mb", "peak_pss_mb", "peak_processes", "cpu_seconds",
                                                "load_before", "load_after")}, "stderr": run["stderr"] if run["code"] else ""})
            print(f"rclone copy: {s:.1f} s, {copied:,} files", flush=True)
            shutil.rmtree(dest, ignore_errors=True)
        out = runs_dir / "out.zip"
        for label, target in (("dossier cold", out), ("dossier warm", out), ("dossier warm, new output", runs_dir / "out2.zip")):
            run = timed(dossier_cmd(url, target, args.fetch_threads), env)
            row = row_from_dossier(label, run, manifest.bytes, manifest.files)
            rows.append(row)
            print(f"{label}: {row['seconds']:.1f} s (exit {row['code']})", flush=True)
            if row["code"]:
                print(row["stderr"], file=sys.stderr)
        if args.profile:
            prof = HERE / "results" / f"profile-{args.docs}docs.svg"
            prof.parent.mkdir(exist_ok=True)
            env_prof = {**env, "DOSSIER_CACHE": str(runs_dir / "cache-profile")}
            subprocess.run(["py-spy", "record", "--subprocesses", "--rate", "50", "-o", str(prof), "--",
                            *dossier_cmd(url, runs_dir / "profile.zip", args.fetch_threads)],
                           env=env_prof, capture_output=True)
            print(f"profile: {prof}")
    finally:
        server.stop()

    cold = next((r for r in rows if r["run"] == "dossier cold"), None)
    warm = next((r for r in rows if r["run"] == "dossier warm"), None)
    rc = next((r for r in rows if r["run"] == "rclone copy"), None)
    targets = {}
    if cold and warm:
        targets["warm_vs_cold"] = round(warm["seconds"] / cold["seconds"], 3)
        targets["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rows if r["run"].startswith("dossier"))
        targets["peak_pss_mb"] = max(r["peak_pss_mb"] for r in rows if r["run"].startswith("dossier"))
    if cold and rc:
        targets["cold_vs_rclone"] = round(cold["seconds"] / rc["seconds"], 2)
    if cold and rows[-1]["bundle_sha256"]:
        targets["rebuild_identical"] = rows[-1]["bundle_sha256"] == cold["bundle_sha256"]
    result = {"date": datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "corpus": {**manifest.__dict__}, "options": vars(args), "runs": rows, "targets": targets}
    print_table(result)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now():%Y%m%d-%H%M}-{args.docs}docs.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"figures: {path}")
    return 0 if all(r["code"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
