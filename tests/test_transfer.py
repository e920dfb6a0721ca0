"""The transfer engine (plugin/fetch.py + connectors/http.py) against a real WsgiDAV
server, through a fault-injecting proxy: retries, Retry-After, resets mid-body, resume
with Range, kill -9 and resume, byte-identical bundles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from email.utils import format_datetime
from pathlib import Path

import pytest
from handover_dossier.connectors import ConnectorError, DocumentUnavailable
from handover_dossier.connectors.credentials import Credentials
from handover_dossier.connectors.http import RetryPolicy, parse_retry_after
from handover_dossier.connectors.webdav import WebDavConnector
from handover_dossier.pipeline import AssembleError, assemble
from handover_dossier.transfer.fetch import Fetcher
from handover_dossier.verify.checks import verify_bundle
from support.faultproxy import Fault, Rule
from support.webdav_server import DAV_PASSWORD, DAV_USER

BIG = "总结 与 报告/2023年度工作报告（全文）.txt"


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dossier_model_cache: Path) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")  # catalogue PDF renditions are not under test here
    monkeypatch.setenv("DOSSIER_MODEL_CACHE", str(dossier_model_cache))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture
def corpus(dav_corpus: Path) -> Path:
    """The awkward-names corpus plus one large document (~2.6 MB) that transfers in many reads."""
    para = "　　任期内，全局上下团结一心，扎实推进农村公路建设、运输服务提升和安全生产各项工作，取得了明显成效。\n"
    text = "云溪县交通运输局2023年度工作报告\n\n" + "".join(f"{i:05d}{para}" for i in range(18000))
    (dav_corpus / BIG).write_text(text, encoding="utf-8")
    return dav_corpus


def connector(base_url: str, **policy) -> WebDavConnector:
    defaults = {"attempts": 4, "backoff": 0.01}
    return WebDavConnector(base_url, credentials=Credentials(DAV_USER, DAV_PASSWORD),
                           policy=RetryPolicy(**{**defaults, **policy}))


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def entry_for(conn: WebDavConnector, path: str):
    return next(e for e in conn.walk() if e.path == path)


def parts(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.part"))


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:  # a small download finished (renamed) meanwhile
        return 0


# -- whole runs --------------------------------------------------------------------------

def test_fault_injected_run_gives_a_byte_identical_bundle(
    dav_server, corpus, dav_credentials, fault_proxy_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717200000")
    proxy = fault_proxy_factory(dav_server.base)
    url = proxy.url("corpus")  # both runs through the proxy: the recorded source URL is the same
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "clean-cache"))
    clean = assemble(url, tmp_path / "clean.zip")

    proxy.set_rules([
        Rule(Fault("503", retry_after="1", maintenance=True), method="PROPFIND", path="总结 与 报告", per_path=1),
        Rule(Fault("429", retry_after=None), path=r"\.docx$", per_path=1),
        Rule(Fault("drop"), path=r"\.xlsx$", per_path=1),
        Rule(Fault("reset", after_fraction=0.5), path=r"(?<!空文件)\.(pdf|txt)$", per_path=1),
        Rule(Fault("slow", delay=0.2), method=None, rate=0.3, seed=7),
    ])
    dav_server.reset_log()
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "faulty-cache"))
    faulty = assemble(url, tmp_path / "faulty.zip")

    assert (tmp_path / "faulty.zip").read_bytes() == (tmp_path / "clean.zip").read_bytes()
    assert verify_bundle(tmp_path / "faulty.zip").ok
    assert {r.fault for r in proxy.injected()} == {"503", "429", "drop", "reset", "slow"}
    resets = len(proxy.injected("reset"))
    assert resets >= 5 and faulty.fetch["retries"] >= resets
    assert faulty.fetch["server_retries"] >= 2  # the 429 and the dropped connection during downloads
    # Every cut document continued where it broke off: a Range request answered 206 ...
    big_gets = [r for r in dav_server.log("GET") if r.path == "/corpus/" + BIG]
    assert [r.status for r in big_gets] == [200, 206] and big_gets[1].range.startswith("bytes=")
    # ... so nothing crossed the wire twice.
    assert faulty.fetch["bytes_downloaded"] == clean.fetch["bytes_downloaded"] == sum(
        p.stat().st_size for p in corpus.rglob("*") if p.is_file())


def test_kill_9_mid_download_then_resume(
    dav_server, corpus, dav_credentials, fault_proxy_factory, tmp_path, monkeypatch, dossier_model_cache
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717200000")
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOSSIER_CACHE", str(cache))
    big_size = (corpus / BIG).stat().st_size
    cut = 1_000_000
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("stall", after_bytes=cut, delay=120), path="工作报告（全文）"),
    ])
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "handover_dossier.cli", "assemble", proxy.url("corpus"), "-o", str(out)],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    n_docs = sum(1 for p in corpus.rglob("*") if p.is_file())
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            done = len(list(cache.rglob("*.meta")))
            part = [p for p in parts(cache) if _size(p) >= cut]
            if part and done == n_docs - 1:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("the download did not reach the stall point")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not out.exists() and list(out.parent.iterdir()) == []  # nothing that looks like a bundle

    proxy.set_rules([])
    dav_server.reset_log()
    res = assemble(proxy.url("corpus"), out)
    gets = dav_server.body_gets()
    assert [(r.path, r.status, r.range) for r in gets] == [("/corpus/" + BIG, 206, f"bytes={cut}-")]
    assert (res.fetch["cached"], res.fetch["resumed"], res.fetch["bytes_resumed"]) == (n_docs - 1, 1, cut)
    assert res.fetch["bytes_downloaded"] == big_size - cut
    assert parts(cache) == []
    assert verify_bundle(out).ok

    # The resumed bundle is the bundle a clean run makes.
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "clean-cache"))
    assemble(proxy.url("corpus"), tmp_path / "clean.zip")
    assert out.read_bytes() == (tmp_path / "clean.zip").read_bytes()


def test_network_loss_stops_the_run_then_the_next_run_resumes(
    dav_server, corpus, fault_proxy_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "cache"))
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("cut", after_bytes=200_000), path="工作报告（全文）"),  # every time: the line is down
    ])
    conn = connector(proxy.url("corpus"), attempts=3)
    out = tmp_path / "b.zip"
    with pytest.raises(AssembleError, match="重新运行将从中断处继续"):
        assemble(conn, out)
    assert not out.exists()
    # Three attempts, each resumed where the last broke off. Other downloads that were in flight
    # when the run stopped may have left partial files too -- how many depends on the threads'
    # timing -- but only documents of RESUME_MIN bytes or more keep a resume note (.partmeta)
    # and are continued; smaller ones are fetched again from the start. So what the next run
    # must do is read off the cache, not guessed from the scheduling.
    left = parts(tmp_path / "cache")
    resumable = {p.name: p.stat().st_size for p in left if p.with_suffix(".partmeta").exists()}
    assert sorted(resumable.values()) == [600_000]  # the corpus's other documents are all small
    assert max(p.stat().st_size for p in left) == 600_000

    proxy.set_rules([])
    dav_server.reset_log()
    res = assemble(conn, out)
    gets = [(r.path, r.status, r.range) for r in dav_server.body_gets()]
    big = [(status, rng) for path, status, rng in gets if "%E5%85%A8%E6%96%87" in path or "全文" in path]
    assert big == [(206, "bytes=600000-")]
    assert [rng for _, _, rng in gets if rng] == ["bytes=600000-"]  # everything else whole
    assert res.fetch["resumed"] == len(resumable) == 1 and res.fetch["bytes_resumed"] == 600_000
    assert parts(tmp_path / "cache") == []  # every partial file was completed or replaced
    item = next(i for i in json.loads(_index(out))["items"] if i["source"] == BIG)
    assert item["sha256"] == sha256(corpus / BIG)


def _index(bundle: Path) -> bytes:
    with zipfile.ZipFile(bundle) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("/data/index.json")))


# -- the fetcher ---------------------------------------------------------------------------

def test_resets_mid_body_resume_with_range(dav_server, corpus, fault_proxy_factory, tmp_path):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("cut", after_bytes=300_000), path="工作报告（全文）", per_path=3),
    ])
    conn = connector(proxy.url("corpus"), attempts=5)
    fetcher = Fetcher(conn, tmp_path / "cache")
    got = fetcher.fetch(entry_for(conn, BIG))
    size = (corpus / BIG).stat().st_size
    assert got.size == size and got.digests["sha256"] == sha256(corpus / BIG)
    assert got.downloaded_bytes == size  # not one byte twice
    gets = dav_server.log("GET")
    assert [(r.status, r.range) for r in gets] == [
        (200, ""), (206, "bytes=300000-"), (206, "bytes=600000-"), (206, "bytes=900000-")]
    assert all(r.headers.get("If-Range") for r in gets[1:])  # the server's etag guards each resume
    assert fetcher.stats.retries == 3


def test_server_that_ignores_range_is_read_from_the_start(dav_server, corpus, fault_proxy_factory, tmp_path):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("cut", after_bytes=100_000), path="工作报告（全文）", per_path=1),
        Rule(Fault("norange"), path="工作报告（全文）"),
    ])
    conn = connector(proxy.url("corpus"))
    got = Fetcher(conn, tmp_path / "cache").fetch(entry_for(conn, BIG))
    size = (corpus / BIG).stat().st_size
    assert got.digests["sha256"] == sha256(corpus / BIG) and got.size == size
    assert got.downloaded_bytes == 100_000 + size and got.resumed_bytes == 0
    assert [r.status for r in dav_server.log("GET")] == [200, 200]


def test_changed_document_is_not_resumed_from_a_stale_part(dav_server, corpus, fault_proxy_factory, tmp_path):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("cut", after_bytes=100_000), path="工作报告（全文）", per_path=1),
    ])
    conn = connector(proxy.url("corpus"), attempts=1)
    cache = tmp_path / "cache"
    with pytest.raises(ConnectorError, match="已下载的部分已保存"):
        Fetcher(conn, cache).fetch(entry_for(conn, BIG))
    assert [p.stat().st_size for p in parts(cache)] == [100_000]
    big = corpus / BIG
    big.write_text("云溪县交通运输局2023年度工作报告（修订稿）\n" + "　　内容已修订。\n" * 40000, encoding="utf-8")
    dav_server.reset_log()
    fetcher = Fetcher(conn, cache)
    got = fetcher.fetch(entry_for(conn, BIG))
    assert got.digests["sha256"] == sha256(big) and got.resumed_bytes == 0
    assert [r.range for r in dav_server.log("GET")] == [""]  # a new etag: the old part is thrown away
    assert fetcher.stats.new == 1


def test_size_and_checksum_are_verified(dav_server, corpus, tmp_path):
    conn = connector(dav_server.url("corpus"))
    e = entry_for(conn, "讲话 稿.txt")
    data = (corpus / "讲话 稿.txt").read_bytes()
    ok = dataclasses.replace(e, checksums={"sha1": hashlib.sha1(data).hexdigest()})
    assert Fetcher(conn, tmp_path / "a").fetch(ok).digests["sha256"] == hashlib.sha256(data).hexdigest()
    bad = dataclasses.replace(e, checksums={"md5": "0" * 32})
    with pytest.raises(DocumentUnavailable, match="MD5"):
        Fetcher(conn, tmp_path / "b").fetch(bad)
    wrong_size = dataclasses.replace(e, size=len(data) + 5)
    with pytest.raises(DocumentUnavailable, match="下载不完整"):
        Fetcher(conn, tmp_path / "c").fetch(wrong_size)
    assert list((tmp_path / "b").rglob("*.meta")) == []  # a refused body never enters the cache


def test_two_runs_sharing_a_cache_do_not_collide(dav_server, corpus, fault_proxy_factory, tmp_path):
    proxy = fault_proxy_factory(dav_server.base, [Rule(Fault("slow", delay=0.5), path="工作报告（全文）")])
    conn = connector(proxy.url("corpus"))
    entry = entry_for(conn, BIG)
    results = []

    def run() -> None:
        results.append(Fetcher(conn, tmp_path / "cache").fetch(entry))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.digests["sha256"] for r in results] == [sha256(corpus / BIG)] * 2
    assert parts(tmp_path / "cache") == [] and len(list((tmp_path / "cache").rglob("*.body.txt"))) == 1


# -- status handling -----------------------------------------------------------------------

@pytest.mark.parametrize("status", ["408", "425", "429", "500", "502", "503", "504"])
def test_transient_statuses_are_retried_honouring_retry_after(status, dav_server, corpus, fault_proxy_factory):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault(status, retry_after="7"), method="PROPFIND", per_path=2),
    ])
    waits: list[float] = []
    conn = connector(proxy.url("corpus"), sleep=waits.append)
    assert len(list(conn.walk())) == 10
    assert waits[:2] == [7.0, 7.0]  # the server's Retry-After, not our own backoff


def test_retry_after_is_capped_and_absent_means_backoff(dav_server, corpus, fault_proxy_factory):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("503", retry_after="86400", maintenance=True), method="PROPFIND", per_path=1),
        Rule(Fault("429", retry_after=None), method="GET", per_path=3),
    ])
    waits: list[float] = []
    conn = connector(proxy.url("corpus"), backoff=1.0, max_retry_after=120.0, sleep=waits.append)
    entries = list(conn.walk())
    assert waits[0] == 120.0
    waits.clear()
    with conn.open(next(e for e in entries if e.path == "讲话 稿.txt")) as f:
        assert f.read()
    assert len(waits) == 3 and 0.75 <= waits[0] <= 1.25 and 1.5 <= waits[1] <= 2.5 and 3.0 <= waits[2] <= 5.0


def test_persistent_maintenance_is_reported(dav_server, corpus, fault_proxy_factory):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("503", retry_after="1", maintenance=True), method="PROPFIND"),
    ])
    conn = connector(proxy.url("corpus"), attempts=3, sleep=lambda s: None)
    with pytest.raises(ConnectorError, match="维护模式"):
        list(conn.walk())
    assert len(proxy.injected("503")) == 3


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    future = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 <= parse_retry_after(format_datetime(future, usegmt=True)) <= 31


def test_cache_that_cannot_be_written_is_a_clear_error(dav_server, corpus, tmp_path):
    (tmp_path / "not-a-folder").write_text("x", encoding="utf-8")
    conn = connector(dav_server.url("corpus"))
    with pytest.raises(ConnectorError, match="无法写入下载缓存"):
        Fetcher(conn, tmp_path / "not-a-folder" / "cache").fetch(entry_for(conn, "讲话 稿.txt"))
