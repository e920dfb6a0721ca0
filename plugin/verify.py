"""Verify a bundle: is it intact and complete?

Checks are grouped by the four properties of DA/T 70 (真实性 authenticity, 完整性
integrity, 可用性 usability, 安全性 security). Each check names the file it concerns.
Digests are recomputed by streaming every member straight from the zip; the bag is also
validated independently with bagit-python.

Exit codes (CLI): 0 intact and complete, 1 a check failed, 2 the bundle cannot be read.
"""

from __future__ import annotations

import json
import re
import stat
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .assemble import CATALOGUE_NAME, GENERATED, INDEX_NAME
from .bagit_compat import validate_bag
from .hashing import CHUNK, MultiHasher, sm3_available
from .names import is_safe_member

PROPERTIES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}
SUPPORTED_FORMATS = {"1"}

_EXECUTABLE_EXT = re.compile(r"\.(exe|dll|bat|cmd|com|scr|msi|vbs|js|jar|ps1|sh|docm|xlsm|pptm|dotm)$", re.I)


class BundleUnreadable(Exception):
    """The file is not a readable bundle at all (exit code 2)."""


@dataclass
class Check:
    property: str
    name: str
    ok: bool
    item: str = ""
    message: str = ""


@dataclass
class VerifyReport:
    bundle: str
    format_version: str = ""
    checks: list[Check] = field(default_factory=list)
    items: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, prop: str, name: str, ok: bool, item: str = "", message: str = "") -> None:
        self.checks.append(Check(prop, name, ok, item, message))

    def as_json(self) -> dict[str, Any]:
        summary: dict[str, dict[str, int]] = {}
        for c in self.checks:
            s = summary.setdefault(c.property, {"passed": 0, "failed": 0})
            s["passed" if c.ok else "failed"] += 1
        return {
            "bundle": self.bundle,
            "ok": self.ok,
            "format_version": self.format_version,
            "items": self.items,
            "properties": summary,
            "failures": [asdict(c) for c in self.failures],
            "checks": [asdict(c) for c in self.checks],
        }


def _read_manifest(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, path = line.partition(" ")
        path = path.lstrip(" *").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        out[path] = digest.lower()
    return out


def verify_bundle(path: str | Path, *, use_bagit: bool = True) -> VerifyReport:
    """Run every check on the bundle at ``path``."""
    path = Path(path)
    report = VerifyReport(str(path))
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleUnreadable(f"找不到档案包：{path}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleUnreadable(f"不是有效的档案包（ZIP 无法打开）：{exc}") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        _security(report, infos)
        roots = {i.filename.split("/", 1)[0] for i in infos if "/" in i.filename}
        bagit_txt = [i.filename for i in infos if i.filename.count("/") == 1 and i.filename.endswith("/bagit.txt")]
        if len(bagit_txt) != 1:
            raise BundleUnreadable("档案包中找不到唯一的 BagIt 包（bagit.txt）")
        root = bagit_txt[0].split("/", 1)[0]
        if len(roots) > 1 or any("/" not in i.filename for i in infos):
            report.add("security", "single-root", False, "", "档案包中有 BagIt 包之外的文件")
        members = {i.filename[len(root) + 1 :]: i for i in infos if i.filename.startswith(root + "/")}
        _bag(report, zf, members)
        index = _index(report, zf, members)
    if use_bagit and report.ok:
        with tempfile.TemporaryDirectory(prefix="dossier-verify-") as tmp:
            with zipfile.ZipFile(path) as zf2:
                for info in zf2.infolist():
                    if is_safe_member(info.filename):
                        zf2.extract(info, tmp)
            problems = validate_bag(Path(tmp) / root)
            report.add("authenticity", "bagit-library", not problems, "", "；".join(problems[:5]) or "bagit-python 校验通过")
    if index is not None:
        report.items = len(index.get("items", []))
    return report


def _security(report: VerifyReport, infos: list[zipfile.ZipInfo]) -> None:
    bad = [i.filename for i in infos if not is_safe_member(i.filename)]
    for name in bad:
        report.add("security", "safe-path", False, name, "成员路径不安全（绝对路径、反斜杠或 ..）")
    links = [i.filename for i in infos if stat.S_ISLNK(i.external_attr >> 16)]
    for name in links:
        report.add("security", "no-symlink", False, name, "档案包中含符号链接")
    execs = [i.filename for i in infos if _EXECUTABLE_EXT.search(i.filename)]
    for name in execs:
        report.add("security", "no-executable", False, name, "档案包中含可执行程序或带宏文档")
    if not (bad or links or execs):
        report.add("security", "members", True, "", f"{len(infos)} 个成员路径安全，无可执行内容")


def _digest_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, algorithms: list[str]) -> tuple[dict[str, str], int]:
    mh = MultiHasher(algorithms)
    with zf.open(info) as f:
        while chunk := f.read(CHUNK):
            mh.update(chunk)
    return mh.hexdigests(), mh.size


def _bag(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> None:
    manifests: dict[str, dict[str, str]] = {}
    for name, info in members.items():
        m = re.fullmatch(r"manifest-(\w+)\.txt", name)
        if m:
            manifests[m.group(1)] = _read_manifest(zf.read(info))
    if not manifests:
        report.add("integrity", "manifest", False, "", "没有载荷清单（manifest-*.txt）")
        return
    usable = [alg for alg in manifests if alg != "sm3" or sm3_available()]
    for alg in manifests:
        if alg not in usable:
            report.add("authenticity", f"manifest-{alg}", False, "", f"本机无法计算 {alg.upper()}，未校验")
    payload = {n: i for n, i in members.items() if n.startswith("data/")}
    listed = set().union(*(set(m) for m in manifests.values()))
    for name in sorted(listed - set(payload)):
        report.add("integrity", "file-present", False, name, "清单中列出的文件在档案包中不存在")
    for name in sorted(set(payload) - listed):
        report.add("integrity", "file-listed", False, name, "档案包中有清单未列出的多余文件")
    mismatches = 0
    total = 0
    for name in sorted(set(payload) & listed):
        digests, size = _digest_member(zf, payload[name], usable)
        total += size
        for alg in usable:
            expected = manifests[alg].get(name)
            if expected is None:
                report.add("integrity", f"manifest-{alg}", False, name, f"{alg.upper()} 清单中缺少此文件")
                mismatches += 1
            elif digests[alg] != expected:
                report.add("authenticity", f"fixity-{alg}", False, name, f"{alg.upper()} 摘要不符：文件内容已被改动")
                mismatches += 1
    if not mismatches:
        report.add("authenticity", "fixity", True, "", f"{len(payload)} 个文件的 {'、'.join(a.upper() for a in usable)} 摘要全部相符")

    for name, info in members.items():
        m = re.fullmatch(r"tagmanifest-(\w+)\.txt", name)
        if not m or (m.group(1) == "sm3" and not sm3_available()):
            continue
        alg = m.group(1)
        for tag, expected in _read_manifest(zf.read(info)).items():
            if tag not in members:
                report.add("integrity", "tagfile-present", False, tag, "标签清单中列出的文件不存在")
                continue
            digests, _ = _digest_member(zf, members[tag], [alg])
            if digests[alg] != expected:
                report.add("authenticity", f"tag-fixity-{alg}", False, tag, f"{alg.upper()} 摘要不符：标签文件已被改动")

    info_txt = members.get("bag-info.txt")
    if info_txt is None:
        report.add("integrity", "bag-info", False, "bag-info.txt", "缺少 bag-info.txt")
        return
    fields = dict(
        line.split(":", 1) for line in zf.read(info_txt).decode("utf-8").splitlines() if ":" in line and not line.startswith(" ")
    )
    oxum = fields.get("Payload-Oxum", "").strip()
    expect = f"{total}.{len(payload)}"
    if oxum and oxum == expect:
        report.add("integrity", "payload-oxum", True, "bag-info.txt", f"Payload-Oxum {oxum} 相符")
    else:
        report.add("integrity", "payload-oxum", False, "bag-info.txt", f"Payload-Oxum 为 {oxum or '空'}，实际为 {expect}")


_DATE = re.compile(r"^(?:19|20)\d{2}(?:-\d{2}(?:-\d{2})?)?$")


def _index(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict[str, Any] | None:
    info = members.get(f"data/{INDEX_NAME}")
    if info is None:
        report.add("integrity", "index", False, f"data/{INDEX_NAME}", "缺少机读目录 index.json")
        return None
    try:
        index = json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.add("usability", "index", False, f"data/{INDEX_NAME}", f"index.json 无法解析：{exc}")
        return None
    version = str(index.get("format_version", ""))
    report.format_version = version
    if version not in SUPPORTED_FORMATS:
        report.add("usability", "format-version", False, f"data/{INDEX_NAME}", f"不支持的档案包格式版本：{version or '未标明'}")
        return index
    items = index.get("items", [])
    payload = {n for n in members if n.startswith("data/")}
    referenced = {f"data/{g}" for g in GENERATED}
    ok = True
    seqs = []
    for it in items:
        seq = it.get("seq")
        seqs.append(seq)
        label = it.get("path") or f"第{seq}件"
        p = it.get("path", "")
        referenced.add(p)
        if p not in payload:
            report.add("integrity", "item-file", False, label, f"目录第 {seq} 件在档案包中没有对应文件")
            ok = False
            continue
        for key in ("code", "category", "title", "source", "sha256", "archival_code"):
            if not it.get(key):
                report.add("integrity", "item-metadata", False, label, f"目录第 {seq} 件缺少必填项 {key}")
                ok = False
        if it.get("date") and not _DATE.match(str(it["date"])):
            report.add("integrity", "item-date", False, label, f"目录第 {seq} 件日期格式不正确：{it['date']}")
            ok = False
    for name in sorted(payload - referenced):
        report.add("integrity", "file-catalogued", False, name, "档案包中的文件在目录中没有对应条目")
        ok = False
    if seqs != list(range(1, len(items) + 1)):
        report.add("integrity", "numbering", False, f"data/{INDEX_NAME}", "件号不连续或不从 1 开始：" + _gaps(seqs))
        ok = False
    summary = index.get("summary", {})
    counts = Counter(it.get("code") for it in items)
    if summary.get("items") != len(items) or summary.get("exceptions") != len(index.get("exceptions", [])):
        report.add("integrity", "counts", False, f"data/{INDEX_NAME}", "目录统计数与条目数不符")
        ok = False
    for code, n in (summary.get("categories") or {}).items():
        if counts.get(code, 0) != n:
            report.add("integrity", "counts", False, f"data/{INDEX_NAME}", f"类目 {code} 统计为 {n} 件，实有 {counts.get(code, 0)} 件")
            ok = False
    # sha256 in the catalogue must agree with the manifest (the manifest is checked against the bytes)
    manifest = members.get("manifest-sha256.txt")
    if manifest is not None:
        sums = _read_manifest(zf.read(manifest))
        for it in items:
            p = it.get("path", "")
            if p in sums and it.get("sha256") != sums[p]:
                report.add("authenticity", "item-sha256", False, p, f"目录第 {it.get('seq')} 件记录的 SHA-256 与清单不符")
                ok = False
    if f"data/{CATALOGUE_NAME}" not in payload:
        report.add("integrity", "catalogue", False, f"data/{CATALOGUE_NAME}", "缺少卷内目录")
        ok = False
    if ok:
        report.add("integrity", "catalogue", True, f"data/{INDEX_NAME}", f"目录 {len(items)} 件，件号连续，文件与条目一一对应")
    return index


def _gaps(seqs: list[Any]) -> str:
    nums = [s for s in seqs if isinstance(s, int)]
    if not nums:
        return "没有件号"
    missing = sorted(set(range(1, max(nums) + 1)) - set(nums))
    dup = sorted(n for n, c in Counter(nums).items() if c > 1)
    parts = []
    if missing:
        parts.append("缺 " + "、".join(str(n) for n in missing[:10]))
    if dup:
        parts.append("重复 " + "、".join(str(n) for n in dup[:10]))
    return "；".join(parts) or "顺序错误"
