"""Faults and bad input: nothing is lost, nothing half-done looks finished.

- kill -9 of a real ``dossier assemble`` (and every process it started) in the middle of
  a run; the re-run completes the same bundle as a clean run and downloads nothing twice
  but the document that was being downloaded (resumed from where it stopped);
- a full disk (a real tmpfs, mounted in a private mount namespace) under the bundle and
  under the download cache: a clear Chinese error, no partial bundle, an earlier bundle at
  the same path intact, the source untouched;
- server faults (503/429/resets/dropped connections) injected at a 10% rate through the
  fault proxy over 2,000 small documents: the bundle is the clean run's, byte for byte;
- every kind of bad input ends as a clear catalogue entry -- an exception with a Chinese
  reason, or an item with a note -- and every listed document is accounted for.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import psutil
import pytest
from handover_dossier.connectors import open_connector
from handover_dossier.connectors.http import RetryPolicy
from handover_dossier.extract import Limits
from handover_dossier.pipeline import assemble
from handover_dossier.samplecorpus import docgen
from handover_dossier.verify.checks import verify_bundle
from support.faultproxy import Fault, Rule

SDE = "1719705600"
CLI = [sys.executable, "-m", "handover_dossier.cli"]


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _index(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as zf:
        return json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("/data/index.json"))))


# --------------------------------------------------------------------------- kill -9
BIG = "15-任期工作全面总结（全文）.txt"


def _kill_corpus(root: Path) -> Path:
    """30 documents in listing order 00..29; number 15 is large (about 1.4 MB)."""
    root.mkdir(parents=True)
    for i in range(30):
        if i == 15:
            docgen.write_txt(root / BIG, "任期工作全面总结", ["任期以来，全局上下团结一心，较好完成了各项目标任务。" * 8] * 1200,
                             encoding="gbk")
        elif i % 3 == 0:
            docgen.write_docx(root / f"{i:02d}-{2019 + i % 5}年工作计划.docx", f"{2019 + i % 5}年工作计划（第{i}号）",
                              [f"全年安排重点工作{i}项。"], issuer="云溪县交通运输局")
        else:
            docgen.write_txt(root / f"{i:02d}-债权债务情况说明.txt", f"债权债务情况说明（第{i}号）",
                             [f"截至年底应付账款{i * 10}万元。"])
    return root


def test_kill_9_mid_run_then_rerun_completes_without_downloading_twice(
    dav_server, dav_credentials, fault_proxy_factory, tmp_path, monkeypatch
):
    corpus = _kill_corpus(dav_server.root / "corpus")
    cut = 300_000
    proxy = fault_proxy_factory(dav_server.base, [Rule(Fault("stall", after_bytes=cut, delay=120), path=BIG[:6])])
    url = proxy.url("corpus")
    env = dict(os.environ, DOSSIER_CACHE=str(tmp_path / "cache"), SOURCE_DATE_EPOCH=SDE)
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    # One download at a time: when the large document stalls, every document before it in
    # listing order is complete; the run is killed once the worker processes have read them.
    cmd = [*CLI, "assemble", url, "-o", str(out), "--json", "--fetch-threads", "1", "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    cache = tmp_path / "cache" / "fetch"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            parts = [p for p in cache.rglob("*.part") if p.stat().st_size >= cut] if cache.exists() else []
            read = list((tmp_path / "cache" / "extract").rglob("*.z"))
            if parts and len(list(cache.rglob("*.meta"))) == 15 and len(read) == 15:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("the run did not reach the stalled download")
        tree = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
        assert len(tree) >= 3  # the run, its fork server and extraction workers
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 of the whole run
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in tree)
    assert list(out.parent.iterdir()) == []  # nothing that looks like a bundle
    first_run = len(proxy.records)

    proxy.set_rules([])
    res = subprocess.run([*CLI, "assemble", url, "-o", str(out), "--json"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    gets: dict[str, list[tuple[int, str]]] = {}
    for r in proxy.records:
        if r.method == "GET":
            gets.setdefault(r.path.rsplit("/", 1)[-1], []).append((r.status, r.range))
    # Every document crossed the wire once; the stalled one twice: the cut first attempt,
    # then the rest of it, resumed with a Range request.
    assert set(gets) == {p.name for p in corpus.iterdir()}
    assert {name: len(v) for name, v in gets.items() if name != BIG} == {p.name: 1 for p in corpus.iterdir() if p.name != BIG}
    assert gets[BIG] == [(200, ""), (206, f"bytes={cut}-")]
    second = [r for r in proxy.records[first_run:] if r.method == "GET"]
    assert len(second) == 30 - 15  # the 15 documents fetched before the kill came from the cache
    assert data["fetch"]["cached"] == 15 and data["fetch"]["resumed"] == 1 and data["fetch"]["bytes_resumed"] == cut
    assert (data["extract"]["from_cache"], data["extract"]["read"]) == (15, 15)  # nothing read twice either
    assert verify_bundle(out).ok
    assert sorted(p.name for p in out.parent.iterdir()) == ["b.zip"]

    # The bundle is the one a clean, uninterrupted run makes.
    clean_env = dict(env, DOSSIER_CACHE=str(tmp_path / "clean-cache"))
    res = subprocess.run([*CLI, "assemble", url, "-o", str(tmp_path / "clean.zip"), "--json"], env=clean_env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == (tmp_path / "clean.zip").read_bytes()


# --------------------------------------------------------------------------- re-runs
def test_rerun_with_nothing_changed_keeps_the_bundle_and_reads_only_what_changed(
    dav_server, dav_credentials, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE)
    corpus = _kill_corpus(dav_server.root / "corpus")
    url = dav_server.url("corpus")
    out = tmp_path / "b.zip"
    cold = assemble(url, out, workers=2)
    assert (cold.extract["read"], cold.extract["from_cache"]) == (30, 0) and not cold.up_to_date
    stamp = out.stat().st_mtime_ns

    dav_server.reset_log()
    warm = assemble(url, out, workers=2)
    assert warm.up_to_date and warm.bundle.sha256 == cold.bundle.sha256
    assert out.stat().st_mtime_ns == stamp  # kept, not rewritten
    assert warm.index["items"] == cold.index["items"]
    assert dav_server.body_gets() == []  # a listing, nothing more

    # The same inputs to another output: rebuilt from the caches, byte-identical.
    again = assemble(url, tmp_path / "c.zip", workers=2)
    assert (again.extract["read"], again.extract["from_cache"]) == (0, 30)
    assert (tmp_path / "c.zip").read_bytes() == out.read_bytes()

    # One document changes: only it is downloaded and read again; the bundle is rebuilt.
    changed = corpus / "01-债权债务情况说明.txt"
    docgen.write_txt(changed, "债权债务情况说明（更正）", ["截至年底应付账款已全部结清。"])
    dav_server.reset_log()
    res = assemble(url, out, workers=2)
    assert not res.up_to_date and (res.extract["read"], res.extract["from_cache"]) == (1, 29)
    assert [r.path.rsplit("/", 1)[-1] for r in dav_server.body_gets()] == [changed.name]
    assert res.bundle.sha256 != cold.bundle.sha256 and verify_bundle(out).ok

    # Other options are other inputs; --rebuild forces a rebuild; the summary says "已是最新".
    env = dict(os.environ)
    up = subprocess.run([*CLI, "assemble", url, "-o", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0 and "档案包已是最新" in up.stdout, up.stderr
    other = subprocess.run([*CLI, "assemble", url, "-o", str(out), "--leader", "张三", "--json"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 0 and json.loads(other.stdout)["up_to_date"] is False
    forced = subprocess.run([*CLI, "assemble", url, "-o", str(out), "--leader", "张三", "--rebuild", "--json"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0 and json.loads(forced.stdout)["up_to_date"] is False
    assert json.loads(forced.stdout)["sha256"] == json.loads(other.stdout)["sha256"]


# --------------------------------------------------------------------------- disk full
_NAMESPACED = r"""
import json, os, subprocess, sys
args = json.loads(sys.argv[1])
for folder, size in args["mounts"]:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder], check=True)
results = []
for step in args["steps"]:
    res = subprocess.run(step["cmd"], env=step["env"], capture_output=True, text=True)
    listing = {f: sorted(os.listdir(f)) for f in step["list"]}
    extra = {}
    if step.get("verify"):
        v = subprocess.run([sys.executable, "-m", "handover_dossier.cli", "verify", "--fast", step["verify"]],
                           capture_output=True, text=True)
        extra = {"verify": v.returncode}
    results.append({"rc": res.returncode, "stderr": res.stderr, "stdout": res.stdout, "listing": listing, **extra})
print(json.dumps(results))
"""


def _in_private_mounts(mounts: list[tuple[str, str]], steps: list[dict], tmp_path: Path) -> list[dict]:
    """Run ``steps`` in a private mount namespace where each ``mounts`` folder is a fresh
    tmpfs of the given size (so the test never touches the machine's mounts)."""
    assert shutil.which("unshare"), "unshare (util-linux) is needed to mount a small tmpfs"
    ns = ["unshare", "-m", "--propagation", "private"] if os.geteuid() == 0 else ["unshare", "-r", "-m",
                                                                                 "--propagation", "private"]
    script = tmp_path / "namespaced.py"
    script.write_text(_NAMESPACED, encoding="utf-8")
    res = subprocess.run([*ns, sys.executable, str(script), json.dumps({"mounts": mounts, "steps": steps})],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_disk_full_leaves_no_partial_bundle_and_a_clear_error(dav_server, dav_credentials, tmp_path):
    small = tmp_path / "small"
    docgen.write_txt(small / "2023年工作总结.txt", "2023年工作总结", ["全年圆满完成各项目标任务。"])
    docgen.write_txt(small / "债权债务明细.txt", "债权债务明细", ["应付工程款120万元。"])
    big = tmp_path / "big"
    for i in range(6):  # ~6 MB of documents that do not compress: they cannot fit in 2 MB
        docgen.write_pdf(big / f"{i}-{2019 + i}年工作总结.pdf", f"{2019 + i}年工作总结", ["各项工作取得新成效。"])
        (big / f"{i}-现场照片.jpg").write_bytes(_jpeg_like(i, 1 << 20))
    docgen.write_txt(big / "财务收支说明.txt", "财务收支说明", ["收支平衡。"])
    before = _tree_digest(big)
    served = dav_server.root / "big"
    shutil.copytree(big, served)

    out_dir, cache_dir = tmp_path / "full-out", tmp_path / "full-cache"
    out_dir.mkdir()
    cache_dir.mkdir()
    env = dict(os.environ, DOSSIER_CACHE=str(tmp_path / "cache"), DOSSIER_PDF="0")
    bundle = str(out_dir / "b.zip")
    steps = [
        # 1. a small bundle fits
        {"cmd": [*CLI, "assemble", str(small), "-o", bundle], "env": env, "list": [str(out_dir)]},
        # 2. the same path, a corpus that does not fit: the disk fills while the zip is written
        {"cmd": [*CLI, "assemble", str(big), "-o", bundle], "env": env, "list": [str(out_dir)], "verify": bundle},
        # 3. the download cache is on the full disk
        {"cmd": [*CLI, "assemble", dav_server.url("big"), "-o", str(tmp_path / "c.zip")],
         "env": dict(env, DOSSIER_CACHE=str(cache_dir)), "list": [str(tmp_path)]},
    ]
    first, full, cache_full = _in_private_mounts([(str(out_dir), "2m"), (str(cache_dir), "2m")], steps, tmp_path)
    assert first["rc"] == 0 and first["listing"][str(out_dir)] == ["b.zip"], first["stderr"]

    assert full["rc"] == 1
    assert "写入档案包失败：磁盘空间不足" in full["stderr"] and "ENOSPC" in full["stderr"]
    assert "No space" not in full["stderr"] and "Traceback" not in full["stderr"]
    assert full["listing"][str(out_dir)] == ["b.zip"]  # no .part left behind
    assert full["verify"] == 0  # the earlier bundle at that path is intact

    assert cache_full["rc"] == 1
    assert "无法写入下载缓存：磁盘空间不足" in cache_full["stderr"] and "Traceback" not in cache_full["stderr"]
    assert "c.zip" not in cache_full["listing"][str(tmp_path)]

    assert _tree_digest(big) == before  # the source is untouched
    assert _tree_digest(served) == before


def _jpeg_like(seed: int, size: int) -> bytes:
    """Incompressible bytes behind a JPEG signature (an image file as far as sniffing goes)."""
    h = hashlib.sha256(str(seed).encode()).digest()
    body = bytearray()
    while len(body) < size:
        h = hashlib.sha256(h).digest()
        body += h * 64
    return b"\xff\xd8\xff\xe0" + bytes(body[:size])


# --------------------------------------------------------------------------- server faults
def _small_corpus(root: Path, n: int) -> Path:
    kinds = [("工作计划", "C1"), ("工作总结", "C2"), ("讲话", "C3"), ("债权债务明细", "D3"), ("固定资产清单", "D4"),
             ("问题清单", "B2"), ("未尽事宜说明", "E1"), ("人员名册", "A2")]
    for i in range(n):
        kind = kinds[i % len(kinds)][0]
        folder = root / f"{2019 + i % 6}年" / kind
        title = f"云溪县交通运输局{2019 + i % 6}年{kind}（第{i:04d}号）"
        if i % 100 == 0:
            docgen.write_docx(folder / f"{title}.docx", title, [f"本件为第{i}号文件。"], issuer="云溪县交通运输局")
        else:
            docgen.write_txt(folder / f"{title}.txt", title, [f"本件为第{i}号文件，记录{kind}的有关情况。"],
                             encoding="gbk" if i % 3 == 0 else "utf-8")
    return root


N_SMALL = 2000


def test_server_faults_at_ten_percent_give_the_clean_bundle(
    dav_server, dav_credentials, fault_proxy_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE)
    _small_corpus(dav_server.root / "corpus", N_SMALL)
    proxy = fault_proxy_factory(dav_server.base)
    url = proxy.url("corpus")
    policy = RetryPolicy(attempts=10, backoff=0.01, max_backoff=0.05, max_retry_after=0.1)

    clean = assemble(open_connector(url, policy=policy), tmp_path / "clean.zip", cache=tmp_path / "fetch-clean",
                     reuse=False)
    assert clean.summary["documents"] == N_SMALL and clean.summary["exceptions"] == 0

    # About one request in ten fails: 503 with Retry-After, 429 without, a connection reset
    # half-way through the body, a connection dropped before any answer; listings too.
    proxy.set_rules([
        Rule(Fault("503", retry_after="0", maintenance=True), rate=0.04, seed=1),
        Rule(Fault("429", retry_after=None), rate=0.02, seed=2),
        Rule(Fault("reset", after_fraction=0.5), rate=0.02, seed=3),
        Rule(Fault("drop"), rate=0.02, seed=4),
        Rule(Fault("503", retry_after="0"), method="PROPFIND", rate=0.1, seed=5),
    ])
    faulty = assemble(open_connector(url, policy=policy), tmp_path / "faulty.zip", cache=tmp_path / "fetch-faulty",
                      reuse=False)
    injected = proxy.injected()
    gets = [r for r in proxy.records if r.method == "GET"]
    assert len([r for r in injected if r.method == "GET"]) >= 0.07 * N_SMALL
    assert {r.fault for r in injected} >= {"503", "429", "reset", "drop"}
    assert faulty.fetch["downloaded"] == N_SMALL and len(gets) > 2 * N_SMALL
    assert faulty.fetch["retries"] + faulty.fetch["server_retries"] >= 0.07 * N_SMALL
    assert (tmp_path / "faulty.zip").read_bytes() == (tmp_path / "clean.zip").read_bytes()


# --------------------------------------------------------------------------- bad input
def _bomb_docx(path: Path) -> Path:
    """A DOCX whose document part inflates to 1 GiB (a zip bomb), written by hand."""
    mib = 1 << 20
    chunk = (b"<w:p><w:r><w:t>" + b"A" * mib)[:mib]
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    data = block * 1024 + co.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(chunk, crc)
    types = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    members = [("[Content_Types].xml", types, zlib.crc32(types), len(types), 0), ("word/document.xml", data, crc, 1 << 30, 8)]
    out, central = bytearray(), bytearray()
    for name, body, c, size, method in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0x21, c, len(body), size, len(raw), 0)
        out += raw + body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0x21, c, len(body), size,
                               len(raw), 0, 0, 0, 0, 0, offset) + raw
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(central), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def _bad_corpus(root: Path, outside: Path) -> dict[str, str]:
    """Every kind of bad input; returns name -> what must become of it."""
    from pypdf import PdfReader, PdfWriter

    root.mkdir(parents=True)
    expect: dict[str, str] = {}
    docgen.write_txt(root / "2023年工作总结.txt", "2023年工作总结", ["全年圆满完成各项目标任务。"])
    expect["2023年工作总结.txt"] = "item"
    (root / "空文件.docx").write_bytes(b"")
    expect["空文件.docx"] = "empty"
    pdf = docgen.write_pdf(root / "tmp.pdf", "2022年工作总结", ["各项工作取得新成效。"] * 40, pages_min=4)
    data = pdf.read_bytes()
    (root / "截断的报告.pdf").write_bytes(data[: len(data) // 3])
    expect["截断的报告.pdf"] = "corrupt"
    docx = docgen.write_docx(root / "tmp.docx", "工作计划", ["全年计划。"])
    raw = docx.read_bytes()
    (root / "截断的计划.docx").write_bytes(raw[: len(raw) // 2])
    expect["截断的计划.docx"] = "corrupt"
    docx.unlink()
    writer = PdfWriter(clone_from=PdfReader(str(pdf)))
    writer.encrypt(user_password="mima123", owner_password="owner456")
    with open(root / "加密的审计报告.pdf", "wb") as f:
        writer.write(f)
    expect["加密的审计报告.pdf"] = "encrypted"
    pdf.rename(root / "其实是PDF的述职报告.docx")
    expect["其实是PDF的述职报告.docx"] = "item:扩展名 .docx 与内容不符"
    _bomb_docx(root / "压缩炸弹.docx")
    expect["压缩炸弹.docx"] = "bomb"
    docgen.write_txt(root / "超大的台账.txt", "固定资产台账", ["办公电脑一台，原值5600元。"] * 6000)
    expect["超大的台账.txt"] = "item:文件过大"
    docgen.write_txt(root / "债权债务明细.txt", "债权债务明细", ["应付工程款120万元。"])
    shutil.copy(root / "债权债务明细.txt", root / "债权债务明细（副本）.txt")
    expect["债权债务明细.txt"] = "item"
    expect["债权债务明细（副本）.txt"] = "duplicate"
    for name in ("..\\..\\逃逸的文件.txt", "换行\n名称.txt", "控制\x01字符.txt", "../上级.txt".replace("/", "∕")):
        docgen.write_txt(root / name, "情况说明", [f"文件名为{name!r}的说明。"])
        expect[name] = "item"
    docgen.write_txt(root / "Report.txt", "工作报告", ["大写文件名的报告。"])
    docgen.write_txt(root / "report.txt", "工作报告（修订稿）", ["小写文件名的报告，内容不同。"])
    expect["Report.txt"] = expect["report.txt"] = "item"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "工资明细.txt").write_text("绝密工资明细：某某 12000 元", encoding="utf-8")
    (root / "外部链接.txt").symlink_to(outside / "工资明细.txt")
    expect["外部链接.txt"] = "listing"
    return expect


def _check_bad_input_bundle(bundle: Path, expect: dict[str, str]) -> None:
    idx = _index(bundle)
    items = {it["source"]: it for it in idx["items"]}
    exceptions = {ex["source"]: ex for ex in idx["exceptions"]}
    assert set(items) | set(exceptions) == set(expect)  # nothing lost
    assert not set(items) & set(exceptions)
    for name, what in expect.items():
        if what.startswith("item") or what == "duplicate":
            assert name in items, (name, exceptions.get(name))
            if ":" in what:
                assert any(what.split(":", 1)[1] in n for n in items[name].get("notes", [])) or \
                    what.split(":", 1)[1] in items[name]["reason"], items[name]
        else:
            assert name in exceptions, (name, items.get(name))
            ex = exceptions[name]
            assert ex["reason"] and any("\u4e00" <= c <= "\u9fff" for c in ex["reason"]), ex
            assert ex.get("kind") == what, ex
    assert items["债权债务明细（副本）.txt"]["duplicate_of"] == items["债权债务明细.txt"]["seq"]
    paths = [it["path"] for it in idx["items"] if "duplicate_of" not in it]
    assert len({p.lower() for p in paths}) == len(paths)  # unique even ignoring case
    assert items["Report.txt"]["path"].lower() != items["report.txt"]["path"].lower()
    for p in paths:
        assert ".." not in p.split("/") and "\\" not in p and not any(ord(c) < 32 for c in p), p
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            assert not name.startswith("/") and ".." not in name.split("/") and "\\" not in name
            assert not any(ord(c) < 32 for c in name)
            assert b"12000" not in zf.read(name)
    assert verify_bundle(bundle).ok


def test_bad_inputs_each_become_a_clear_entry_and_nothing_is_lost(tmp_path, dav_server, dav_credentials, monkeypatch):
    src = tmp_path / "src"
    expect = _bad_corpus(src, tmp_path / "outside")
    limits = Limits(max_bytes=200_000)  # the 超大 document is above it
    res = assemble(src, tmp_path / "local.zip", limits=limits, workers=2)
    _check_bad_input_bundle(tmp_path / "local.zip", expect)
    assert res.summary["documents"] == len(expect)

    # The same names through a real WebDAV server (the server decides what a symlink is:
    # WsgiDAV serves the link's target, so that entry is left out of this round).
    served = dav_server.root / "bad"
    shutil.copytree(src, served, symlinks=True)
    (served / "外部链接.txt").unlink()
    remote = dict(expect)
    del remote["外部链接.txt"]
    res = assemble(dav_server.url("bad"), tmp_path / "remote.zip", limits=limits, workers=2)
    _check_bad_input_bundle(tmp_path / "remote.zip", remote)
    local_items = {it["source"]: it["sha256"] for it in _index(tmp_path / "local.zip")["items"]}
    assert {it["source"]: it["sha256"] for it in _index(tmp_path / "remote.zip")["items"]} == local_items
