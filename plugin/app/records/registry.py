"""The registry of filed bundles, searched when records are queried, and the access log.

One row per filed bundle — leader, post, unit, term, archival code, created, where it lies in
the DMS, SHA-256, counts per category and the catalogue titles — so a query never needs the
DMS. Pulling a bundle back (:func:`fetch_bundle`) streams it from the DMS, runs ``verify`` on
it before handing it over, and writes who/when/what/result to the access log either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, exists, false, func, or_, select
from sqlalchemy.engine import Engine

from ...connectors import ConnectorError
from ...lang.textnorm import to_simplified, to_traditional
from ..dms import DMS, norm
from .owner import Principal, scoped
from .store import access_log, bundle_categories, bundle_items, bundles, dumps, loads, now


class RegistryError(Exception):
    """Lookup or retrieval failed (message in Chinese)."""


def read_index(bundle: Path) -> dict[str, Any]:
    with zipfile.ZipFile(bundle) as zf:
        names = [n for n in zf.namelist() if n.endswith("/data/index.json")]
        if not names:
            raise RegistryError("档案包中没有 data/index.json")
        return json.loads(zf.read(names[0]))


def _year(value: str) -> int | None:
    return int(value[:4]) if value[:4].isdigit() else None


@dataclass
class Filed:
    dms: str
    user: str
    folder: str
    name: str
    sha256: str
    size: int


def record_bundle(engine: Engine, index: dict[str, Any], filed: Filed, *, draft_id: int | None = None,
                  signatures: dict[str, Any] | None = None) -> int:
    """Insert (or, for the same draft, replace) the registry row of a filed bundle."""
    b = index.get("bundle", {})
    term = b.get("term") or {}
    s = index.get("summary", {})
    counts = {k: int(v) for k, v in (s.get("categories") or {}).items()}
    names: dict[str, str] = {}
    for it in index.get("items", []):
        names.setdefault(it.get("code", ""), it.get("category", ""))
    row = dict(
        archival_code=b.get("archival_code", ""), leader=b.get("leader", ""), post=b.get("post", ""),
        unit=b.get("unit", ""), term_start=term.get("start", ""), term_end=term.get("end", ""),
        year_from=_year(term.get("start", "")) or _year(term.get("end", "")),
        year_to=_year(term.get("end", "")) or _year(term.get("start", "")),
        created=b.get("created", ""), filed_at=now(), dms=filed.dms, user=filed.user, folder=norm(filed.folder),
        name=filed.name, sha256=filed.sha256, size=filed.size, items=int(s.get("items", 0)),
        exceptions=int(s.get("exceptions", 0)), counts=dumps(counts), signatures=dumps(signatures or {}),
        source=b.get("source", ""),
    )
    with engine.begin() as c:
        old = None
        if draft_id is not None:
            old = c.execute(select(bundles.c.id).where(bundles.c.draft_id == draft_id)).scalar()
        if old is None:
            old = c.execute(select(bundles.c.id).where(bundles.c.sha256 == filed.sha256)).scalar()
        if old is not None:
            c.execute(bundles.update().where(bundles.c.id == old).values(**row, draft_id=draft_id))
            c.execute(delete(bundle_items).where(bundle_items.c.bundle_id == old))
            c.execute(delete(bundle_categories).where(bundle_categories.c.bundle_id == old))
            bundle_id = old
        else:
            bundle_id = c.execute(bundles.insert().values(**row, draft_id=draft_id)).inserted_primary_key[0]
        items = [dict(bundle_id=bundle_id, seq=int(it.get("seq", 0)), code=it.get("code", ""),
                      category=it.get("category", ""), title=it.get("title", ""), date=it.get("date", "") or "",
                      archival_code=it.get("archival_code", "") or "") for it in index.get("items", [])]
        if items:
            c.execute(bundle_items.insert(), items)
        cats = [dict(bundle_id=bundle_id, code=code, name=names.get(code, ""), count=n) for code, n in counts.items()]
        if cats:
            c.execute(bundle_categories.insert(), cats)
    return int(bundle_id)


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["counts"] = loads(d.get("counts"))
    d["signatures"] = loads(d.get("signatures"))
    return d


def search(engine: Engine, *, viewer: Principal, text: str = "", leader: str = "", unit: str = "",
           year: int | None = None, category: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Filed bundles ``viewer`` may see matching every given criterion, newest first. ``text``
    matches the leader, post, unit, archival code and catalogue titles, in either script."""
    q = scoped(select(bundles).order_by(bundles.c.filed_at.desc(), bundles.c.id.desc()).limit(limit),
               bundles.c.user, viewer)

    def variants(value: str) -> list[str]:
        v = value.strip()
        return list(dict.fromkeys([v, to_simplified(v), to_traditional(v)]))

    if leader:
        q = q.where(or_(*[bundles.c.leader.contains(v, autoescape=True) for v in variants(leader)]))
    if unit:
        q = q.where(or_(*[bundles.c.unit.contains(v, autoescape=True) for v in variants(unit)]))
    if year is not None:
        q = q.where(and_(bundles.c.year_from <= year, bundles.c.year_to >= year))
    if category:
        cat = category.strip().upper() if category.strip().isascii() else category.strip()
        q = q.where(exists().where(and_(
            bundle_categories.c.bundle_id == bundles.c.id, bundle_categories.c.count > 0,
            or_(bundle_categories.c.code == cat, *[bundle_categories.c.name.contains(v, autoescape=True)
                                                    for v in variants(category)]))))
    if text.strip():
        conds = []
        for v in variants(text):
            conds += [bundles.c.leader.contains(v, autoescape=True), bundles.c.post.contains(v, autoescape=True),
                      bundles.c.unit.contains(v, autoescape=True), bundles.c.archival_code.contains(v, autoescape=True),
                      exists().where(and_(bundle_items.c.bundle_id == bundles.c.id,
                                          bundle_items.c.title.contains(v, autoescape=True)))]
        q = q.where(or_(*conds))
    with engine.connect() as c:
        return [_row(r) for r in c.execute(q)]


def get(engine: Engine, code: str, *, viewer: Principal) -> dict[str, Any] | None:
    """The newest bundle filed under archival ``code`` that ``viewer`` may see (with its
    catalogue); None when there is none — another user's bundle does not exist for them."""
    with engine.connect() as c:
        r = c.execute(scoped(select(bundles).where(bundles.c.archival_code == code), bundles.c.user, viewer)
                      .order_by(bundles.c.filed_at.desc(), bundles.c.id.desc())).first()
        if r is None:
            return None
        d = _row(r)
        d["catalogue"] = [dict(x._mapping) for x in c.execute(
            select(bundle_items).where(bundle_items.c.bundle_id == d["id"]).order_by(bundle_items.c.seq))]
        d["categories"] = [dict(x._mapping) for x in c.execute(
            select(bundle_categories).where(bundle_categories.c.bundle_id == d["id"]).order_by(bundle_categories.c.code))]
        d["last_check"] = _last_check(c, code)
    return d


def count(engine: Engine, *, viewer: Principal) -> int:
    """How many filed bundles ``viewer`` may see."""
    with engine.connect() as c:
        return int(c.execute(scoped(select(func.count()).select_from(bundles), bundles.c.user, viewer)).scalar() or 0)


# -- access log ----------------------------------------------------------------------------
def log_access(engine: Engine, who: str, what: str, action: str, result: str, detail: str = "") -> None:
    with engine.begin() as c:
        c.execute(access_log.insert().values(at=now(), who=who or "", what=what, action=action, result=result,
                                             detail=detail))


def access_entries(engine: Engine, what: str | None = None, limit: int = 100, *,
                   viewer: Principal) -> list[dict[str, Any]]:
    """Access-log entries, newest first: all of them for an administrator, else only the
    viewer's own retrievals (the log says who read which leader's records)."""
    q = select(access_log).order_by(access_log.c.id.desc()).limit(limit)
    if not viewer.admin:
        q = q.where(access_log.c.who == viewer.user) if viewer.user else q.where(false())
    if what:
        q = q.where(access_log.c.what == what)
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]


def _last_check(c: Any, code: str) -> dict[str, Any] | None:
    r = c.execute(select(access_log).where(access_log.c.what == code, access_log.c.action.in_(("fetch", "download", "verify")))
                  .order_by(access_log.c.id.desc())).first()
    return dict(r._mapping) if r else None


# -- retrieval -------------------------------------------------------------------------------
@dataclass
class Fetched:
    path: Path
    record: dict[str, Any]
    report: Any  # verify.VerifyReport
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def fetch_bundle(engine: Engine, dms: DMS, code: str, out_dir: str | Path, *, viewer: Principal, who: str,
                 as_owner: bool = False, action: str = "fetch") -> Fetched:
    """Pull the bundle filed under ``code`` (one ``viewer`` may see) back from the DMS into
    ``out_dir`` and verify it.

    The DMS is read as the viewer's own user: the app never reads as another user on a
    request, so an archivist fetching a colleague's bundle needs read access to it in
    Nextcloud. Only the server-side command line (``as_owner``) reads as the bundle's owner. The file is handed over (left in ``out_dir``) only when its SHA-256
    matches the registry — checked while it streams in, before anything is unpacked — and
    verification passes; otherwise it is removed and the failure returned. Every call is
    written to the access log.
    """
    from ...verify.checks import BundleUnreadable, verify_bundle

    rec = get(engine, code, viewer=viewer)
    if rec is None:
        log_access(engine, who, code, action, "not-found")
        raise RegistryError(f"登记簿中没有档号为 {code} 的档案包")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / rec["name"]
    fd, tmp_name = tempfile.mkstemp(prefix=".fetch-", suffix=".zip", dir=out_dir)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as fh:
            conn = dms.connector(rec["folder"], rec["user"] if as_owner else viewer.user)
            try:
                entry = conn.stat(rec["name"])
                if entry is None:
                    raise RegistryError(f"档案包在 DMS 中已不存在：{dms.describe(rec['folder'] + '/' + rec['name'])}")
                written = 0
                with conn.open(entry) as src:
                    # The registry knows the size: a server that keeps sending is cut off
                    # at once instead of filling the disk.
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > int(rec["size"]):
                            raise RegistryError("取回的档案包大于归档登记的大小（档案包在 DMS 中被替换或改动）")
                        fh.write(chunk)
                        digest.update(chunk)
            finally:
                conn.close()
    except (ConnectorError, OSError, RegistryError) as exc:
        tmp.unlink(missing_ok=True)
        log_access(engine, who, code, action, "error", str(exc))
        raise RegistryError(str(exc) if isinstance(exc, RegistryError | ConnectorError) else f"取回失败：{exc}") from exc
    if digest.hexdigest() != rec["sha256"]:
        # Not ours: never unpacked or parsed (it may be anything a DMS user put there).
        tmp.unlink(missing_ok=True)
        problems = ["SHA-256 与归档登记不一致（档案包在 DMS 中被替换或改动），未解包校验"]
        log_access(engine, who, code, action, "verify-failed", problems[0])
        return Fetched(dest, rec, None, problems)
    try:
        report = verify_bundle(tmp)
    except BundleUnreadable as exc:
        tmp.unlink(missing_ok=True)
        log_access(engine, who, code, action, "verify-failed", str(exc))
        raise RegistryError(f"取回的档案包无法读取：{exc}") from exc
    problems = [f"{f.item or '档案包'}：{f.message}" for f in report.failures]
    if problems:
        tmp.unlink(missing_ok=True)
        log_access(engine, who, code, action, "verify-failed", "；".join(problems)[:2000])
        return Fetched(dest, rec, report, problems)
    tmp.replace(dest)
    log_access(engine, who, code, action, "ok", f"{len(report.checks)} 项检查通过")
    return Fetched(dest, rec, report, [])
