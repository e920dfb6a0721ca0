"""``dossier serve / query / fetch / case``: the app's command-line side.

Only argparse is imported at module level; everything else is imported inside the commands
so that ``dossier assemble`` never pays for FastAPI or SQLAlchemy.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from ..lang.i18n import ui


def _print(text: str = "", *, err: bool = False) -> None:
    print(ui(text), file=sys.stderr if err else sys.stdout)


def _json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\n")


def _settings(args: argparse.Namespace):
    from .config import ConfigError, load_settings

    try:
        return load_settings(config_file=getattr(args, "config", None))
    except ConfigError as exc:
        _print(f"错误：{exc}", err=True)
        raise SystemExit(2) from None


def _service(args: argparse.Namespace):
    from .service import Service

    return Service(_settings(args))


def _who(args: argparse.Namespace) -> str:
    try:
        return getattr(args, "user", None) or getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return "unknown"


def cmd_serve(args: argparse.Namespace) -> int:
    from .config import ConfigError, check_bind
    from .server import serve

    settings = _settings(args)
    try:
        check_bind(settings, args.host or settings.host)
    except ConfigError as exc:
        _print(f"错误：{exc}", err=True)
        return 2
    if settings.exapp:
        _print(f"以 Nextcloud ExApp 模式运行：{settings.app_id} {settings.app_version}，Nextcloud {settings.nextcloud_url}")
    else:
        _print(f"单机模式：文档根目录 {settings.dms_root}，数据目录 {settings.data_dir}")
    host = args.host or settings.host
    port = args.port or settings.port
    _print(f"服务地址：http://{host}:{port}/")
    serve(settings, host=host, port=port, log_level=args.log_level)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from .records import registry
    from .records.owner import SYSTEM

    svc = _service(args)
    rows = registry.search(svc.engine, viewer=SYSTEM, text=" ".join(args.text or []), leader=args.leader or "", unit=args.unit or "",
                           year=args.year, category=args.category or "")
    if args.json:
        _json([{k: r[k] for k in ("archival_code", "leader", "post", "unit", "term_start", "term_end", "created",
                                  "dms", "folder", "name", "sha256", "size", "items", "exceptions", "counts")}
               | {"location": svc.dms.describe(f"{r['folder']}/{r['name']}")} for r in rows])
        return 0
    if not rows:
        _print("没有符合条件的档案包。")
        return 0
    for r in rows:
        _print(f"{r['archival_code']}\t{r['unit']}{r['post']}{r['leader']}\t{r['term_start']} 至 {r['term_end']}\t"
               f"{r['items']} 件\t{svc.dms.describe(r['folder'] + '/' + r['name'])}")
    _print(f"共 {len(rows)} 个档案包。")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from .records import registry
    from .records.owner import SYSTEM

    svc = _service(args)
    try:
        # The operator on the server reads as the bundle's owner (there is no request user).
        got = registry.fetch_bundle(svc.engine, svc.dms, args.code, args.output, viewer=SYSTEM, who=_who(args),
                                    as_owner=True)
    except registry.RegistryError as exc:
        if args.json:
            _json({"code": args.code, "ok": False, "error": str(exc)})
        _print(f"错误：{exc}", err=True)
        return 2
    if args.json:
        _json({"code": args.code, "ok": got.ok, "path": str(got.path) if got.ok else None, "problems": got.problems,
               "sha256": got.record["sha256"]})
    elif got.ok:
        _print(f"已取回并校验通过：{got.path}（{len(got.report.checks)} 项检查全部通过）")
    else:
        _print(f"取回的档案包校验未通过，未交付：{args.code}", err=True)
        for p in got.problems:
            _print(f"  ✗ {p}", err=True)
    return 0 if got.ok else 1


def cmd_case(args: argparse.Namespace) -> int:
    from .records import cases
    from .records.owner import SYSTEM

    svc = _service(args)
    limit = svc.settings.deadline_days
    if args.case_command == "open":
        # A case belongs to the user whose assemblies it describes: in ExApp mode a Nextcloud
        # user (--user or DOSSIER_NOTIFY_USER), standalone the local operator.
        owner = args.user or svc.settings.notify_user or ("" if svc.settings.exapp else svc.settings.local_user)
        if not owner:
            _print("错误：ExApp 模式下请用 --user 指定案件所属的 Nextcloud 用户（或设置 DOSSIER_NOTIFY_USER）", err=True)
            return 2
        try:
            case = cases.open_case(svc.engine, leader=args.leader, announced=args.announced, post=args.post or "",
                                   unit=args.unit or "", incoming=args.incoming or "", term_start=args.term_start or "",
                                   term_end=args.term_end or "", folder=args.folder or "", user=owner)
        except cases.CaseError as exc:
            _print(f"错误：{exc}", err=True)
            return 2
        data = case.as_json(svc.today(), limit)
        if args.json:
            _json(data)
        else:
            _print(f"已新建交接案件 #{case.id}：{case.unit}{case.post}{case.leader}，宣布日期 {case.announced}，"
                   f"期限 {data['deadline']}（剩余 {data['days_left']} 天）")
        return 0
    rows = [c.as_json(svc.today(), limit) for c in cases.list_cases(svc.engine, viewer=SYSTEM, open_only=not args.all)]
    if args.json:
        _json(rows)
        return 0
    if not rows:
        _print("暂无进行中的交接案件。")
    for c in rows:
        left = f"已超期 {-c['days_left']} 天" if c["days_left"] < 0 else f"剩余 {c['days_left']} 天"
        draft = "已签署归档" if c["filed_at"] else ("已生成草稿" if c["draft_at"] else "待生成草稿")
        left = "已完成" if c["filed_at"] else left
        _print(f"#{c['id']}\t{c['unit']}{c['post']}{c['leader']}\t宣布 {c['announced']}\t{left}\t{draft}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add serve / query / fetch / case to the ``dossier`` parser."""
    p = sub.add_parser("serve", help="运行 Nextcloud 插件服务（无 AppAPI 环境时为单机模式）")
    p.add_argument("--host", help="监听地址（默认 APP_HOST 或 127.0.0.1）")
    p.add_argument("--port", type=int, help="端口（默认 APP_PORT 或 9030）")
    p.add_argument("--config", help="配置文件（TOML）")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("query", help="检索已归档的档案包登记簿")
    p.add_argument("text", nargs="*", help="关键词（题名、姓名、单位、档号）")
    p.add_argument("--leader", help="离任领导")
    p.add_argument("--unit", help="单位")
    p.add_argument("--year", type=int, help="任期覆盖的年度")
    p.add_argument("--category", help="类目代码或名称，如 C6")
    p.add_argument("--config", help="配置文件（TOML）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("fetch", help="从 DMS 取回档案包并校验")
    p.add_argument("code", help="档号")
    p.add_argument("-o", "--output", required=True, help="保存到的文件夹")
    p.add_argument("--user", help="记入利用记录的利用人（默认当前系统用户）")
    p.add_argument("--config", help="配置文件（TOML）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("case", help="交接案件：新建、列出")
    csub = p.add_subparsers(dest="case_command", required=True)
    o = csub.add_parser("open", help="新建交接案件")
    o.add_argument("--leader", required=True, help="离任领导")
    o.add_argument("--announced", required=True, help="宣布任职变动的日期 YYYY-MM-DD")
    o.add_argument("--post", help="职务")
    o.add_argument("--unit", help="单位")
    o.add_argument("--incoming", help="接任领导")
    o.add_argument("--term-start", help="任期开始 YYYY-MM-DD")
    o.add_argument("--term-end", help="任期结束 YYYY-MM-DD")
    o.add_argument("--folder", help="材料所在文件夹（DMS 中的路径）")
    o.add_argument("--user", help="接收提醒的 Nextcloud 用户")
    o.add_argument("--config", help="配置文件（TOML）")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_case)
    ls = csub.add_parser("list", help="列出交接案件及剩余天数")
    ls.add_argument("--all", action="store_true", help="包括已完成的案件")
    ls.add_argument("--config", help="配置文件（TOML）")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_case)
