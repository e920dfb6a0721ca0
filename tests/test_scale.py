"""Scale-out on a real Redis (Debian's redis-server) with real RQ worker processes.

20 bundles are made by 3 ``dossier worker`` processes; each must be byte-identical to the
bundle a single process makes from the same source (SOURCE_DATE_EPOCH). One worker is
killed with SIGKILL, together with the job process it forked (a machine that dies),
while its job waits for a document held back by the fault-injection proxy: another
worker must run that job again, and the output folder must end up with exactly one
bundle per job and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import psutil
import pytest
from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.pipeline import assemble
from handover_dossier.samplecorpus import docgen
from handover_dossier.scale.jobs import BundleJob, JobSpecError
from handover_dossier.scale.queue import enqueue, read_batch, states, wait
from support.faultproxy import Fault, Rule

SDE = "1719705600"
QUEUE_SECRET = "shared-secret-of-this-test-" + "q" * 16
N_BUNDLES = 20
SLOW = 7  # the job whose worker is killed
UNITS = ["云溪县交通运输局", "云溪县财政局", "云溪县教育局", "云溪县卫生健康局", "云溪县自然资源局"]


def _corpus(root: Path, k: int) -> Path:
    """A small, distinct corpus for bundle ``k`` (real documents, one large enough that a
    held-back download keeps the job busy)."""
    unit = UNITS[k % len(UNITS)]
    root.mkdir(parents=True)
    year = 2019 + k % 5
    docgen.write_txt(root / f"{year}年工作计划.txt", f"{unit}{year}年工作计划",
                     [f"全年计划完成重点项目{k + 3}个。", "加强预算执行管理。"])
    docgen.write_txt(root / "工作总结" / f"{year}年度工作总结.txt", f"{unit}{year}年度工作总结",
                     [f"一年来圆满完成各项目标任务，第{k}项工作获评先进。"], encoding="gbk")
    docgen.write_txt(root / "财务" / "债权债务明细.txt", "债权债务明细", [f"应付工程款{100 + k}万元，尚未结清。"])
    docgen.write_docx(root / "讲话" / "在全局工作会议上的讲话.docx", "在全局工作会议上的讲话",
                      ["同志们：", f"今天召开第{k + 1}次全局工作会议。"], issuer=unit)
    (root / "空文件.txt").write_bytes(b"")
    if k == SLOW:
        docgen.write_pdf(root / "任期经济责任审计报告.pdf", "任期经济责任审计报告",
                         ["审计发现的主要问题及整改情况。" * 6] * 30, issuer="云溪县审计局", pages_min=8)
    return root


def _meta(k: int) -> BundleMeta:
    return BundleMeta(leader=f"干部{k:02d}", post="局长", unit=UNITS[k % len(UNITS)], term_start="2019-04-15",
                      term_end="2024-06-30", fonds="Z107")


def _start_worker(name: str, redis_url: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "handover_dossier.cli", "worker", "--redis", redis_url, "--name", name,
           "--monitor-interval", "1", "--abandoned-after", "2", "--maintenance-interval", "1", "--worker-ttl", "16"]
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _kill_tree(proc: subprocess.Popen) -> list[int]:
    """SIGKILL a worker and every process below it (the job it forked): a dead machine."""
    parent = psutil.Process(proc.pid)
    victims = [parent, *parent.children(recursive=True)]
    for p in victims:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=30)
    return [p.pid for p in victims]


def test_twenty_bundles_on_three_workers_survive_a_killed_worker(
    redis_url, dav_server_factory, fault_proxy_factory, dav_credentials, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE)
    monkeypatch.setenv("DOSSIER_QUEUE_SECRET", QUEUE_SECRET)  # batch signs, workers check
    served = tmp_path / "dav"
    sources: list[str] = []
    dav = dav_server_factory(served)
    proxy = fault_proxy_factory(dav.base)
    for k in range(N_BUNDLES):
        if k == SLOW:  # this one comes from a WebDAV server, through the fault proxy
            _corpus(served / f"c{k:02d}", k)
            sources.append(proxy.url(f"c{k:02d}"))
        else:
            sources.append(str(_corpus(tmp_path / "src" / f"c{k:02d}", k)))

    # The single-process bundles.
    ref = tmp_path / "ref"
    ref.mkdir()
    for k, src in enumerate(sources):
        assemble(src, ref / f"b{k:02d}.zip", meta=_meta(k))

    # From now on the proxy holds back the first download of the audit report for 8 s.
    proxy.set_rules([Rule(Fault("slow", delay=8.0), path="审计报告", per_path=1)])
    out = tmp_path / "out"
    batch = tmp_path / "jobs.jsonl"
    lines = []
    for k, src in enumerate(sources):
        m = _meta(k)
        lines.append(json.dumps({"source": src, "output": f"out/b{k:02d}.zip", "leader": m.leader, "post": m.post,
                                 "unit": m.unit, "term_start": m.term_start, "term_end": m.term_end,
                                 "fonds": m.fonds}, ensure_ascii=False))
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")

    env = dict(os.environ, DOSSIER_CACHE=str(tmp_path / "worker-cache"))
    workers = {f"w{i}": _start_worker(f"w{i}", redis_url, env, tmp_path / f"w{i}.log") for i in range(3)}
    try:
        res = subprocess.run([sys.executable, "-m", "handover_dossier.cli", "batch", str(batch), "--redis", redis_url,
                              "--json"], env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        queued = json.loads(res.stdout)
        assert len(queued) == N_BUNDLES and all(q["added"] for q in queued)
        ids = [q["id"] for q in queued]
        slow_id = ids[SLOW]

        # Wait until a worker is inside the slow job, then kill that worker (and its job process).
        deadline = time.monotonic() + 60
        victim = ""
        while time.monotonic() < deadline and not victim:
            (st,) = states([slow_id], redis_url)
            if st.status == "started" and st.worker:
                victim = st.worker
            else:
                time.sleep(0.1)
        assert victim in workers, f"the slow job did not start: {st}"
        time.sleep(1.0)  # well inside the 8 s the proxy holds the download back
        (st,) = states([slow_id], redis_url)
        assert st.status == "started" and st.worker == victim
        killed = _kill_tree(workers[victim])
        assert len(killed) >= 2  # the worker and the job process it forked

        final = wait(ids, redis_url, timeout=90, poll=0.5)
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in workers.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    assert [s.status for s in final] == ["finished"] * N_BUNDLES, [(s.id, s.status, s.error) for s in final]
    # The killed worker's job was run again, to the end, by another worker.
    again = final[SLOW].result
    assert again["worker"] != victim and again["pid"] not in killed
    # Every bundle is the single-process bundle, and nothing else is in the output folder:
    # no second copy of the re-run bundle, no temporary file of the killed run.
    assert sorted(p.name for p in out.iterdir()) == [f"b{k:02d}.zip" for k in range(N_BUNDLES)]
    for k in range(N_BUNDLES):
        assert (out / f"b{k:02d}.zip").read_bytes() == (ref / f"b{k:02d}.zip").read_bytes(), k
        assert final[k].result["sha256"] == hashlib.sha256((ref / f"b{k:02d}.zip").read_bytes()).hexdigest()
    workers_used = {s.result["worker"] for s in final}
    assert len(workers_used) >= 2

    # RQ's own books agree: nothing failed, nothing still marked as running.
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    from rq.serializers import JSONSerializer

    q = Queue("dossier", connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    assert FailedJobRegistry(queue=q).get_job_ids() == []
    assert StartedJobRegistry(queue=q).get_job_ids() == []
    assert len(q) == 0


def test_the_same_bundle_is_queued_once(redis_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_QUEUE_SECRET", QUEUE_SECRET)
    src = _corpus(tmp_path / "src", 0)
    batch = tmp_path / "jobs.jsonl"
    batch.write_text(json.dumps({"source": "src", "output": "out/a.zip", "leader": "张三"}, ensure_ascii=False) + "\n"
                     + "# a comment line\n\n", encoding="utf-8")
    jobs = read_batch(batch)
    assert jobs[0].source == str(src) and jobs[0].output == str(tmp_path / "out" / "a.zip")
    first = enqueue(jobs, redis_url)
    again = enqueue(jobs, redis_url)
    assert [e.added for e in first] == [True] and [e.added for e in again] == [False]
    assert first[0].id == again[0].id
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    assert len(Queue("dossier", connection=Redis.from_url(redis_url), serializer=JSONSerializer)) == 1
    # Jobs travel as JSON (zlib-compressed by RQ): nothing stored in Redis is a pickle.
    raw = Redis.from_url(redis_url).hget(f"rq:job:{first[0].id}", "data")
    func, _instance, args, _kwargs = json.loads(zlib.decompress(raw))
    assert func == "handover_dossier.scale.jobs.assemble_bundle" and args[0]["leader"] == "张三"


def test_batch_files_are_checked(tmp_path) -> None:
    bad = tmp_path / "jobs.jsonl"
    bad.write_text(json.dumps({"source": "https://user:secret@dms.example/dav/", "output": "a.zip"}) + "\n",
                   encoding="utf-8")
    with pytest.raises(JobSpecError, match="不能包含用户名和密码"):
        read_batch(bad)
    bad.write_text(json.dumps({"source": "a", "output": "x.zip"}) + "\n" + json.dumps({"source": "b", "output": "x.zip"})
                   + "\n", encoding="utf-8")
    with pytest.raises(JobSpecError, match="同一个档案包"):
        read_batch(bad)
    bad.write_text(json.dumps({"source": "a", "output": "x.zip", "colour": "red"}) + "\n", encoding="utf-8")
    with pytest.raises(JobSpecError, match="未知的字段"):
        read_batch(bad)
    with pytest.raises(JobSpecError, match="缺少"):
        BundleJob.from_dict({"source": "a"})
    res = subprocess.run([sys.executable, "-m", "handover_dossier.cli", "batch", str(bad), "--redis", "redis://127.0.0.1:1/0"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "未知的字段" in res.stderr
