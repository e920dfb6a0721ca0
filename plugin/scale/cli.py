"""``dossier worker`` and ``dossier batch``: the command line of the scale-out."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from . import QUEUE


def _print(text: str = "", *, err: bool = False) -> None:
    from ..lang.i18n import ui

    print(ui(text), file=sys.stderr if err else sys.stdout, flush=True)


def _redis_url(args: argparse.Namespace) -> str | None:
    return args.redis or os.environ.get("DOSSIER_REDIS_URL")


def cmd_worker(args: argparse.Namespace) -> int:
    url = _redis_url(args)
    if not url:
        _print("错误：需要 Redis 地址（--redis redis://主机:6379/0 或环境变量 DOSSIER_REDIS_URL）", err=True)
        return 2
    from redis.exceptions import ConnectionError as RedisConnectionError

    from .jobs import JobSpecError, queue_secret
    from .worker import run_worker

    try:
        queue_secret()
    except JobSpecError as exc:
        _print(f"错误：{exc}", err=True)
        return 2
    try:
        run_worker(url, args.queue or [QUEUE], name=args.name, burst=args.burst,
                   job_monitoring_interval=args.monitor_interval, abandoned_after=args.abandoned_after,
                   maintenance_interval=args.maintenance_interval, worker_ttl=args.worker_ttl,
                   logging_level="INFO" if args.verbose else "WARNING")
    except RedisConnectionError as exc:
        _print(f"错误：无法连接 Redis（{type(exc).__name__}）：{_safe(url)}", err=True)
        return 1
    return 0


def _safe(url: str) -> str:
    from ..connectors.credentials import redact

    return redact(url)


def _describe(st: Any) -> str:
    if st.status == "finished" and st.result:
        r = st.result
        head = "已是最新" if r.get("up_to_date") else "已生成"
        return (f"{head}：{r['bundle']}（{r['items']} 件，例外 {r['exceptions']} 件，待复核 {r['needs_review']} 件；"
                f"{r['seconds']:.1f} 秒，{r.get('worker') or r.get('host')}）")
    if st.status == "failed":
        return f"失败：{st.error}"
    names = {"queued": "排队中", "started": "进行中", "deferred": "等待中", "scheduled": "计划中", "missing": "不存在"}
    progress = "，".join(f"{k} {v[0]}/{v[1]}" for k, v in st.progress.items() if v and v[1]) if st.progress else ""
    return names.get(st.status, st.status) + (f"（{progress}）" if progress else "")


def cmd_batch(args: argparse.Namespace) -> int:
    url = _redis_url(args)
    if not url:
        _print("错误：需要 Redis 地址（--redis redis://主机:6379/0 或环境变量 DOSSIER_REDIS_URL）", err=True)
        return 2
    from redis.exceptions import ConnectionError as RedisConnectionError

    from .jobs import JobSpecError
    from .queue import enqueue, read_batch, wait

    try:
        jobs = read_batch(args.jobs)
    except JobSpecError as exc:
        _print(f"错误：{exc}", err=True)
        return 2
    try:
        queued = enqueue(jobs, url, args.queue, retries=args.retries)
    except JobSpecError as exc:
        _print(f"错误：{exc}", err=True)
        return 2
    except RedisConnectionError as exc:
        _print(f"错误：无法连接 Redis（{type(exc).__name__}）：{_safe(url)}", err=True)
        return 1
    added = sum(1 for q in queued if q.added)
    if not args.json:
        _print(f"已加入队列 {added} 个档案包任务" + (f"，{len(queued) - added} 个已在队列中或正在生成" if added < len(queued) else ""))
    ids = [q.id for q in queued]
    if not args.wait:
        if args.json:
            print(json.dumps([{"id": q.id, "output": q.job.output, "added": q.added} for q in queued],
                             ensure_ascii=False, indent=1))
        return 0

    def show(current: list[Any]) -> None:
        if args.json:
            return
        done = sum(1 for s in current if s.status in ("finished", "failed"))
        _print(f"  进度：{done}/{len(current)} 个档案包已结束")

    final = wait(ids, url, args.queue, timeout=args.timeout, on_change=show)
    failed = [s for s in final if s.status != "finished"]
    if args.json:
        print(json.dumps([{"id": s.id, "output": q.job.output, "status": s.status, "result": s.result,
                           "error": s.error} for q, s in zip(queued, final, strict=True)], ensure_ascii=False, indent=1))
    else:
        for q, s in zip(queued, final, strict=True):
            _print(f"  - {q.job.output}：{_describe(s)}")
        _print(f"完成 {len(final) - len(failed)} 个，未完成 {len(failed)} 个")
    return 0 if not failed else 1


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("worker", help="工作进程：从 Redis 队列领取档案包任务并生成（可在多台机器上运行）")
    p.add_argument("--redis", help="Redis 地址，如 redis://主机:6379/0（或环境变量 DOSSIER_REDIS_URL）")
    p.add_argument("--queue", action="append", help=f"队列名（默认 {QUEUE}，可多次指定）")
    p.add_argument("--name", help="工作进程名称（默认自动生成）")
    p.add_argument("--burst", action="store_true", help="队列为空时退出")
    p.add_argument("--monitor-interval", type=int, default=10, help="任务心跳间隔（秒，默认 10）")
    p.add_argument("--abandoned-after", type=int, default=60,
                   help="心跳停止多少秒后认为工作进程已失联、任务由其他进程重做（默认 60）")
    p.add_argument("--maintenance-interval", type=int, default=60, help="检查失联任务的间隔（秒，默认 60）")
    p.add_argument("--worker-ttl", type=int, default=90, help="工作进程自身的存活登记有效期（秒，默认 90）")
    p.add_argument("--verbose", action="store_true", help="输出任务日志")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("batch", help="把一批档案包任务（JSON Lines 文件）加入 Redis 队列，可等待完成")
    p.add_argument("jobs", help="任务文件：每行一个 JSON 对象（source、output、leader、unit、term_start …）")
    p.add_argument("--redis", help="Redis 地址（或环境变量 DOSSIER_REDIS_URL）")
    p.add_argument("--queue", default=QUEUE, help=f"队列名（默认 {QUEUE}）")
    p.add_argument("--retries", type=int, default=3, help="失败或工作进程失联后重做的次数（默认 3）")
    p.add_argument("--wait", action="store_true", help="等待全部任务结束并汇总结果")
    p.add_argument("--timeout", type=float, default=None, help="--wait 的最长等待秒数")
    p.add_argument("--json", action="store_true", help="输出机读结果（JSON）")
    p.set_defaults(func=cmd_batch)
