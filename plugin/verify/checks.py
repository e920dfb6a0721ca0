"""Verify a bundle: the four-property check (四性检测) of DA/T 70.

Every check has a property (真实性 authenticity, 完整性 integrity, 可用性 usability,
安全性 security), names the file or catalogue row it concerns, and records its result:

- authenticity: each payload file's SHA-256 and SM3 against the manifests, the tag files
  against the tag manifests, the catalogue's digests and sizes against the files, the
  signatures of signed PDFs (pyHanko), and the whole bag again with bagit-python;
- integrity: every catalogue row has its file and every file its row, numbering is
  gap-free from 1, archival codes follow the bundle's pattern, counts and Payload-Oxum
  agree, required metadata is present and well-formed;
- usability: each file opens with its format's reader; the format version is known;
- security: member names cannot escape the bag, nothing lies outside it, no links, no
  executables, macros or active content, no encrypted members.

Each member is read from the zip once: streamed to a private temporary folder while all
digests are computed, then opened there for the usability and security checks.

Results: pass, fail, or warn (could not be decided here - e.g. an SM2 signature, or PDF
renditions that were never made); only a fail makes the bundle fail. CLI exit codes: 0 all
checks pass, 1 a check failed, 2 the file cannot be read as a bundle.

Version 1 bundles (no rendered documents besides ``data/卷内目录.docx``) are read too.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..bundle.archival import BUNDLE_CODE_RE, ArchivalConfig
from ..bundle.assemble import CATALOGUE_NAME, GENERATED, INDEX_NAME
from ..bundle.names import MAX_PATH_CHARS, is_case_collision, is_safe_member
from ..bundle.ziputil import UTF8_FLAG
from ..hashing import CHUNK, MultiHasher, sm3_available
from ..version import __version__
from .bagit_compat import validate_bag
from .content import check_members

PROPERTIES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}
SUPPORTED_FORMATS = {"1", "2"}
PASS, FAIL, WARN = "pass", "fail", "warn"
RESULT_NAMES = {PASS: "通过", FAIL: "未通过", WARN: "无法判定"}

#: Chinese names of the checks, for reports.
CHECK_NAMES = {
    "fixity-sha256": "SHA-256 摘要",
    "fixity-sm3": "SM3 摘要",
    "manifest": "载荷清单",
    "tag-fixity-sha256": "标签文件 SHA-256",
    "tag-fixity-sm3": "标签文件 SM3",
    "catalogue-digest": "目录记录的摘要和大小",
    "signature": "电子签名",
    "bagit-library": "BagIt 独立校验",
    "file-present": "清单文件存在",
    "file-listed": "文件列入清单",
    "file-catalogued": "文件在目录中有条目",
    "item-file": "目录条目有对应文件",
    "item-metadata": "著录项目",
    "archival-code": "档号规范性",
    "numbering": "件号连续性",
    "duplicate": "重复内容引用",
    "counts": "数量相符",
    "payload-oxum": "Payload-Oxum",
    "bag-info": "bag-info 元数据",
    "bundle-metadata": "档案包元数据",
    "documents": "档案包文书",
    "renditions": "PDF 版本",
    "index": "机读目录",
    "format-version": "格式版本",
    "readable": "格式可读",
    "safe-path": "成员路径安全",
    "outside-bag": "包外文件",
    "no-symlink": "符号链接",
    "encrypted": "加密成员",
    "name-encoding": "文件名编码",
    "case-collision": "大小写冲突",
    "active-content": "可执行程序、宏和活动内容",
    "tag-files": "包内非载荷文件",
}

#: DA/T 70-2018 archiving-stage item codes each check corresponds to (numbering taken from
#: secondary sources; see ../shared/docs/archival-standards.md §1.4).
DAT70 = {
    "fixity-sha256": "1-1", "fixity-sm3": "1-1", "signature": "1-1", "catalogue-digest": "1-10",
    "item-file": "1-11", "tag-fixity-sha256": "1-14", "tag-fixity-sm3": "1-14", "bagit-library": "1-14",
    "archival-code": "1-2~1-8", "counts": "2-1", "payload-oxum": "2-2", "item-metadata": "2-4",
    "bag-info": "2-3", "numbering": "2-6", "file-present": "2-11", "file-catalogued": "2-11",
    "index": "3-1", "readable": "3-3", "encrypted": "3-8", "active-content": "4-2",
}


class BundleUnreadable(Exception):
    """The file is not a readable bundle at all (exit code 2)."""


@dataclass
class Check:
    property: str
    name: str
    ok: bool
    item: str = ""
    message: str = ""
    result: str = ""
    ref: str = ""
    #: the payload file the check concerns ("" for bag-level checks)
    path: str = ""

    def __post_init__(self) -> None:
        if not self.result:
            self.result = PASS if self.ok else FAIL
        if not self.ref and self.name in DAT70:
            self.ref = f"DA/T 70 {DAT70[self.name]}"


@dataclass
class VerifyReport:
    bundle: str
    format_version: str = ""
    checks: list[Check] = field(default_factory=list)
    items: int = 0
    archival_code: str = ""
    unit: str = ""
    leader: str = ""
    sha256: str = ""
    checked_at: str = ""
    #: payload path -> catalogue sequence numbers (for per-item reports)
    item_paths: dict[str, list[int]] = field(default_factory=dict)
    #: bag-info.txt fields, cross-checked against the catalogue
    bag_fields: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.result == WARN]

    def add(self, prop: str, name: str, ok: bool, item: str = "", message: str = "", *, warn: bool = False,
            path: str = "") -> Check:
        if not path and item.startswith("data/"):
            path = item
        check = Check(prop, name, ok or warn, item, message, WARN if warn else (PASS if ok else FAIL), path=path)
        self.checks.append(check)
        return check

    def as_json(self) -> dict[str, Any]:
        summary: dict[str, dict[str, int]] = {}
        for prop in PROPERTIES:
            summary[prop] = {"passed": 0, "failed": 0, "warnings": 0}
        for c in self.checks:
            s = summary.setdefault(c.property, {"passed": 0, "failed": 0, "warnings": 0})
            s[{PASS: "passed", FAIL: "failed", WARN: "warnings"}[c.result]] += 1
        return {
            "bundle": self.bundle,
            "ok": self.ok,
            "format_version": self.format_version,
            "archival_code": self.archival_code,
            "sha256": self.sha256,
            "checked_at": self.checked_at,
            "items": self.items,
            "properties": summary,
            "failures": [asdict(c) for c in self.failures],
            "warnings": [asdict(c) for c in self.warnings],
            "checks": [asdict(c) for c in self.checks],
        }


def _read_manifest(data: bytes) -> tuple[dict[str, str], list[str]]:
    """Manifest lines -> {path: digest}; also the lines that could not be parsed."""
    out: dict[str, str] = {}
    bad: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        digest, _, path = line.partition(" ")
        path = path.lstrip(" *").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        if not re.fullmatch(r"[0-9a-fA-F]{32,128}", digest) or not path:
            bad.append(line[:80])
            continue
        out[path] = digest.lower()
    return out, bad


def _now() -> str:
    import os

    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde and sde.isdigit():
        return datetime.fromtimestamp(int(sde), UTC).isoformat().replace("+00:00", "Z")
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def verify_bundle(path: str | Path, *, use_bagit: bool = True, trust_roots: list[Any] | None = None) -> VerifyReport:
    """Run every check on the bundle at ``path``.

    ``trust_roots``: certificates (see :func:`signatures.load_trust_roots`) that signatures
    on signed PDFs must chain to; without them signer identity is not asserted.
    """
    path = Path(path)
    report = VerifyReport(str(path), checked_at=_now())
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleUnreadable(f"找不到档案包：{path}") from None
    except IsADirectoryError:
        raise BundleUnreadable(f"不是档案包文件，而是文件夹：{path}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleUnreadable(f"不是有效的档案包（ZIP 无法打开）：{exc}") from None
    report.sha256 = _file_sha256(path)
    with zf, tempfile.TemporaryDirectory(prefix="dossier-verify-") as tmp:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        bagit_txt = [i.filename for i in infos if i.filename.count("/") == 1 and i.filename.endswith("/bagit.txt")]
        if len(bagit_txt) != 1:
            raise BundleUnreadable("档案包中找不到唯一的 BagIt 包（bagit.txt）")
        root = bagit_txt[0].split("/", 1)[0]
        _members(report, infos, root)
        members = {i.filename[len(root) + 1 :]: i for i in infos
                   if i.filename.startswith(root + "/") and is_safe_member(i.filename)}
        clash = _file_folder_clash(members)
        if clash:
            raise BundleUnreadable(f"档案包中的“{clash}”既是文件又是文件夹（成员名冲突），无法解包校验")
        for name, info in members.items():
            # Tag files and the catalogue are parsed in this process: their declared size
            # (zipfile never yields more) is bounded first.
            if ("/" not in name or name == f"data/{INDEX_NAME}") and info.file_size > MAX_TAG_BYTES:
                raise BundleUnreadable(f"档案包中的“{name}”过大（{info.file_size >> 20} MB），不是正常的清单或目录，未解包")
        workdir = Path(tmp) / "bag"
        needed = sum(i.file_size for i in members.values())
        free = shutil.disk_usage(tmp).free
        if needed > free:
            raise BundleUnreadable(f"解压校验需要 {needed >> 20} MB 临时空间，当前只有 {free >> 20} MB")
        digests = _extract(zf, members, workdir, _algorithms(zf, members))
        manifests = _bag(report, zf, members, digests)
        try:
            index = _index(report, zf, members, digests, manifests)
        except (TypeError, AttributeError, KeyError, ValueError):
            # a catalogue of the wrong shape (hand-edited, damaged): a finding, not a crash
            report.add("integrity", "index", False, f"data/{INDEX_NAME}",
                       "index.json 结构不正确：某些字段的类型与档案包格式不符")
            index = None
        _contents(report, members, workdir, trust_roots)
        if use_bagit and report.ok:
            problems = validate_bag(workdir)
            report.add("authenticity", "bagit-library", not problems, "",
                       "；".join(problems[:5]) or "bagit-python 独立校验通过（含 SM3 清单）")
    if index is not None:
        report.items = len(index.get("items", []))
        b = index.get("bundle") or {}
        report.archival_code = str(b.get("archival_code", ""))
        report.unit, report.leader = str(b.get("unit", "")), str(b.get("leader", ""))
    return report


#: Largest manifest, bag-info or index.json read (a 100,000-item catalogue is ~100 MB).
MAX_TAG_BYTES = 128 << 20


def _file_folder_clash(members: dict[str, zipfile.ZipInfo]) -> str:
    """A member name that is a file and also the folder of another member ('' when none):
    such a zip cannot be unpacked anywhere without one overwriting the other."""
    names = set(members)
    for name in names:
        parts = name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in names:
                return "/".join(parts[:i])
    return ""


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _algorithms(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> list[str]:
    algs = set()
    for name in members:
        m = re.fullmatch(r"(?:tag)?manifest-(\w+)\.txt", name)
        if m:
            algs.add(m.group(1).lower())
    return sorted(a for a in algs if a in hashlib.algorithms_available and (a != "sm3" or sm3_available()))


def _extract(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], workdir: Path,
             algorithms: list[str]) -> dict[str, tuple[dict[str, str], int]]:
    """Stream each member to ``workdir`` once, computing every digest on the way."""
    out: dict[str, tuple[dict[str, str], int]] = {}
    for name, info in sorted(members.items()):
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        mh = MultiHasher(algorithms)
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(CHUNK):
                    mh.update(chunk)
                    dst.write(chunk)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError) as exc:
            # a damaged or encrypted member: recorded as unreadable, never a crash
            target.unlink(missing_ok=True)
            out[name] = ({"error": str(exc)[:120]}, -1)
            continue
        out[name] = (mh.hexdigests(), mh.size)
    return out


# -- security of the container -----------------------------------------------------
def _members(report: VerifyReport, infos: list[zipfile.ZipInfo], root: str) -> None:
    problems = 0
    for i in infos:
        name = i.filename
        if not is_safe_member(name):
            report.add("security", "safe-path", False, name, "成员路径不安全（绝对路径、反斜杠或 ..），可能写到解压目录之外")
            problems += 1
            continue
        if not name.startswith(root + "/"):
            report.add("security", "outside-bag", False, name, "BagIt 包之外的文件")
            problems += 1
        if stat.S_ISLNK(i.external_attr >> 16):
            report.add("security", "no-symlink", False, name, "档案包中含符号链接")
            problems += 1
        if i.flag_bits & 0x1:
            report.add("security", "encrypted", False, name, "成员已加密，无法校验，长期保存的文件不得加密")
            problems += 1
        if not name.isascii() and not i.flag_bits & UTF8_FLAG:
            report.add("usability", "name-encoding", False, name, "文件名未标记 UTF-8 编码，在其他系统中可能显示为乱码")
            problems += 1
        if len(name) > MAX_PATH_CHARS + 60:
            report.add("usability", "safe-path", False, name, f"路径过长（{len(name)} 字符），解压到 Windows 时可能失败")
            problems += 1
    for name, n in sorted(Counter(i.filename for i in infos).items()):
        if n > 1:
            report.add("security", "safe-path", False, name, f"同名成员出现 {n} 次，解压时后者会覆盖前者")
            problems += 1
    for name in is_case_collision([i.filename for i in infos]):
        report.add("security", "case-collision", False, name, "与另一成员仅大小写不同，在 Windows/macOS 上解压会互相覆盖")
        problems += 1
    if not problems:
        report.add("security", "safe-path", True, "", f"{len(infos)} 个成员路径安全，均在 BagIt 包内，无链接、无加密")


# -- the bag: manifests, tag manifests, bag-info ------------------------------------
def _bag(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
         digests: dict[str, tuple[dict[str, str], int]]) -> dict[str, dict[str, str]]:
    manifests: dict[str, dict[str, str]] = {}
    for name in sorted(members):
        m = re.fullmatch(r"manifest-(\w+)\.txt", name)
        if m:
            entries, bad = _read_manifest(zf.read(members[name]))
            manifests[m.group(1).lower()] = entries
            for line in bad:
                report.add("integrity", "manifest", False, name, f"清单中有无法解析的行：{line}")
    if not manifests:
        report.add("integrity", "manifest", False, "", "没有载荷清单（manifest-*.txt）")
        return manifests
    usable = [alg for alg in manifests if alg in hashlib.algorithms_available and (alg != "sm3" or sm3_available())]
    for alg in manifests:
        if alg not in usable:
            report.add("authenticity", f"fixity-{alg}", False, "", f"本机无法计算 {alg.upper()}，该清单未校验", warn=True)
    if "sm3" not in manifests:
        report.add("authenticity", "manifest", False, "", "缺少 SM3 清单（manifest-sm3.txt），只能以 SHA-256 校验",
                   warn=True)
    payload = sorted(n for n in members if n.startswith("data/"))
    listed = set().union(*(set(m) for m in manifests.values()))
    for name in sorted(listed - set(payload)):
        report.add("integrity", "file-present", False, name, "清单中列出的文件在档案包中不存在")
    for name in payload:
        got, size = digests.get(name, ({}, -1))
        if size < 0:
            report.add("usability", "readable", False, name, f"成员无法从压缩包中读出：{got.get('error', '')}")
            continue
        for alg in usable:
            expected = manifests[alg].get(name)
            if expected is None:
                report.add("integrity", "file-listed", False, name, f"文件未列入 {alg.upper()} 清单（多余文件）")
            elif got.get(alg) != expected:
                report.add("authenticity", f"fixity-{alg}", False, name, f"{alg.upper()} 摘要不符：文件内容已被改动")
            else:
                report.add("authenticity", f"fixity-{alg}", True, name, f"{alg.upper()} 摘要相符")
    _tag_manifests(report, zf, members, digests)
    _bag_info(report, zf, members, digests, payload)
    return manifests


def _tag_manifests(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                   digests: dict[str, tuple[dict[str, str], int]]) -> None:
    tagged: set[str] = set()
    found = False
    for name in sorted(members):
        m = re.fullmatch(r"tagmanifest-(\w+)\.txt", name)
        if not m:
            continue
        found = True
        alg = m.group(1).lower()
        entries, bad = _read_manifest(zf.read(members[name]))
        for line in bad:
            report.add("integrity", "manifest", False, name, f"标签清单中有无法解析的行：{line}")
        if alg not in hashlib.algorithms_available or (alg == "sm3" and not sm3_available()):
            continue
        for tag, expected in sorted(entries.items()):
            tagged.add(tag)
            if tag not in members:
                report.add("integrity", "file-present", False, tag, "标签清单中列出的文件不存在")
            elif digests.get(tag, ({}, 0))[0].get(alg) != expected:
                report.add("authenticity", f"tag-fixity-{alg}", False, tag, f"{alg.upper()} 摘要不符：标签文件已被改动")
            else:
                report.add("authenticity", f"tag-fixity-{alg}", True, tag, f"{alg.upper()} 摘要相符")
    if not found:
        report.add("authenticity", "tag-fixity-sha256", False, "", "缺少标签清单（tagmanifest-*.txt）")
    for name in sorted(members):
        if "/" in name or name.startswith("tagmanifest-") or name in ("bagit.txt",):
            continue
        if name not in tagged:
            report.add("security", "tag-files", False, name, "包根目录中有未列入标签清单的文件")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bag_info(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
              digests: dict[str, tuple[dict[str, str], int]], payload: list[str]) -> None:
    info_txt = members.get("bag-info.txt")
    if info_txt is None:
        report.add("integrity", "bag-info", False, "bag-info.txt", "缺少 bag-info.txt")
        return
    fields: dict[str, str] = {}
    for line in zf.read(info_txt).decode("utf-8", "replace").splitlines():
        if ":" in line and not line.startswith((" ", "\t")):
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    missing = [k for k in ("Source-Organization", "External-Identifier", "Bagging-Date", "Payload-Oxum")
               if not fields.get(k)]
    bad_date = fields.get("Bagging-Date") and not _ISO_DATE.match(fields["Bagging-Date"])
    if missing or bad_date:
        msg = ("缺少 " + "、".join(missing)) if missing else ""
        if bad_date:
            msg += ("；" if msg else "") + f"Bagging-Date 格式不正确：{fields['Bagging-Date']}"
        report.add("integrity", "bag-info", False, "bag-info.txt", msg)
    else:
        report.add("integrity", "bag-info", True, "bag-info.txt", "Source-Organization、External-Identifier、Bagging-Date、"
                   "Payload-Oxum 齐全")
    sizes = [digests.get(n, ({}, 0))[1] for n in payload]
    total = sum(s for s in sizes if s > 0)
    expect = f"{total}.{len(payload)}"
    oxum = fields.get("Payload-Oxum", "")
    report.add("integrity", "payload-oxum", oxum == expect, "bag-info.txt",
               f"Payload-Oxum {oxum} 相符" if oxum == expect else f"Payload-Oxum 为 {oxum or '空'}，实际为 {expect}")
    report.bag_fields = fields


# -- the catalogue ------------------------------------------------------------------
_DATE = re.compile(r"^(?:19|20)\d{2}(?:-\d{2}(?:-\d{2})?)?$")
_V1_CODE = re.compile(r"^\S+-(?P<seq>\d{4,})$")


def _index(report: VerifyReport, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
           digests: dict[str, tuple[dict[str, str], int]], manifests: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    name = f"data/{INDEX_NAME}"
    info = members.get(name)
    if info is None:
        report.add("integrity", "index", False, name, "缺少机读目录 index.json")
        return None
    try:
        index = json.loads(zf.read(info).decode("utf-8"))
        if not isinstance(index, dict) or not isinstance(index.get("items", []), list):
            raise ValueError("结构不正确")
    except (ValueError, UnicodeDecodeError) as exc:
        report.add("usability", "index", False, name, f"index.json 无法解析：{exc}")
        return None
    version = str(index.get("format_version", ""))
    report.format_version = version
    if version not in SUPPORTED_FORMATS:
        report.add("usability", "format-version", False, name, f"不支持的档案包格式版本：{version or '未标明'}")
        return index
    report.add("usability", "format-version", True, name, f"档案包格式版本 {version}")
    items = [it for it in index.get("items", []) if isinstance(it, dict)]
    payload = {n for n in members if n.startswith("data/")}
    sha_manifest = manifests.get("sha256", {})
    sm3_manifest = manifests.get("sm3", {})
    pattern = str((index.get("bundle") or {}).get("archival_pattern") or "")
    code_re = ArchivalConfig(pattern=pattern).regex() if pattern and "件号" in pattern else _V1_CODE
    seqs: list[Any] = []
    by_seq: dict[int, dict[str, Any]] = {}
    for it in items:
        seq = it.get("seq")
        seqs.append(seq)
        if isinstance(seq, int):
            by_seq.setdefault(seq, it)
        p = str(it.get("path", ""))
        label = f"第{seq:04d}件 {p}" if isinstance(seq, int) else (p or "目录条目")
        if isinstance(seq, int):
            report.item_paths.setdefault(p, []).append(seq)
        if p not in payload:
            report.add("integrity", "item-file", False, label, "目录条目在档案包中没有对应文件", path=p)
        else:
            report.add("integrity", "item-file", True, label, "目录条目有对应文件", path=p)
        _item_metadata(report, it, label, p)
        code = str(it.get("archival_code", ""))
        m = code_re.match(code)
        if not m:
            report.add("integrity", "archival-code", False, label, f"档号“{code}”不符合档号规则“{pattern or '…-件号'}”",
                       path=p)
        elif int(m.group("seq")) != seq or len(m.group("seq")) < 4:
            report.add("integrity", "archival-code", False, label, f"档号“{code}”中的件号与序号 {seq} 不一致", path=p)
        else:
            report.add("integrity", "archival-code", True, label, f"档号 {code} 规范", path=p)
        if p in payload:
            _catalogue_digest(report, it, label, p, sha_manifest, sm3_manifest, digests)
    _numbering(report, seqs, name)
    _duplicates(report, items, by_seq)
    referenced = {str(it.get("path", "")) for it in items} | {name}
    documents = index.get("documents")
    if version == "1" or documents is None:
        referenced |= {f"data/{g}" for g in GENERATED}
        if f"data/{CATALOGUE_NAME}" not in payload:
            report.add("integrity", "documents", False, f"data/{CATALOGUE_NAME}", "缺少卷内目录")
    else:
        _documents(report, index, documents, payload, referenced)
    for p in sorted(payload - referenced):
        report.add("integrity", "file-catalogued", False, p, "档案包中的文件在目录中没有对应条目")
    if not payload - referenced:
        report.add("integrity", "file-catalogued", True, name, f"{len(payload)} 个文件均在目录中有条目")
    _counts(report, index, items, name)
    _bundle_metadata(report, index, name, report.bag_fields)
    return index


def _item_metadata(report: VerifyReport, it: dict[str, Any], label: str, path: str) -> None:
    problems = [f"缺少{key}" for key in ("code", "category", "title", "source", "sha256", "archival_code", "path")
                if not it.get(key)]
    if it.get("date") and not _DATE.match(str(it["date"])):
        problems.append(f"日期格式不正确：{it['date']}")
    if it.get("year") and not re.fullmatch(r"(?:19|20)\d{2}", str(it["year"])):
        problems.append(f"年度格式不正确：{it['year']}")
    if it.get("sha256") and not re.fullmatch(r"[0-9a-f]{64}", str(it["sha256"])):
        problems.append("SHA-256 格式不正确")
    if problems:
        report.add("integrity", "item-metadata", False, label, "；".join(problems), path=path)
    else:
        report.add("integrity", "item-metadata", True, label, "必填著录项目齐全，日期格式正确", path=path)


def _catalogue_digest(report: VerifyReport, it: dict[str, Any], label: str, p: str, sha_manifest: dict[str, str],
                      sm3_manifest: dict[str, str], digests: dict[str, tuple[dict[str, str], int]]) -> None:
    problems = []
    if p in sha_manifest and it.get("sha256") != sha_manifest[p]:
        problems.append("目录记录的 SHA-256 与清单不符")
    if it.get("sm3") and p in sm3_manifest and it.get("sm3") != sm3_manifest[p]:
        problems.append("目录记录的 SM3 与清单不符")
    size = digests.get(p, ({}, -1))[1]
    if isinstance(it.get("size"), int) and size >= 0 and it["size"] != size:
        problems.append(f"目录记录的大小 {it['size']} 与文件实际大小 {size} 不符")
    if problems:
        report.add("authenticity", "catalogue-digest", False, label, "；".join(problems), path=p)
    else:
        report.add("authenticity", "catalogue-digest", True, label, "目录记录的摘要、大小与文件一致", path=p)


def _numbering(report: VerifyReport, seqs: list[Any], name: str) -> None:
    if seqs == list(range(1, len(seqs) + 1)):
        report.add("integrity", "numbering", True, name, f"件号 0001–{len(seqs):04d} 连续，无重复")
        return
    nums = [s for s in seqs if isinstance(s, int)]
    parts = []
    if len(nums) != len(seqs):
        parts.append("有条目缺少件号")
    if nums:
        missing = sorted(set(range(1, max(nums) + 1)) - set(nums))
        dup = sorted(n for n, c in Counter(nums).items() if c > 1)
        if missing:
            parts.append("缺 " + "、".join(f"{n:04d}" for n in missing[:10]))
        if dup:
            parts.append("重复 " + "、".join(f"{n:04d}" for n in dup[:10]))
    report.add("integrity", "numbering", False, name, "件号不连续或顺序错误：" + ("；".join(parts) or "顺序错误"))


def _duplicates(report: VerifyReport, items: list[dict[str, Any]], by_seq: dict[int, dict[str, Any]]) -> None:
    for it in items:
        dup = it.get("duplicate_of")
        if dup is None:
            continue
        first = by_seq.get(dup) if isinstance(dup, int) else None
        label = f"第{it.get('seq', 0):04d}件" if isinstance(it.get("seq"), int) else "目录条目"
        if first is None or first.get("path") != it.get("path") or first.get("sha256") != it.get("sha256") or \
                not isinstance(it.get("seq"), int) or dup >= it["seq"]:
            report.add("integrity", "duplicate", False, label, f"“与第{dup}件内容相同”的引用不成立")


def _documents(report: VerifyReport, index: dict[str, Any], documents: Any, payload: set[str],
               referenced: set[str]) -> None:
    if not isinstance(documents, list) or not documents:
        report.add("integrity", "documents", False, f"data/{INDEX_NAME}", "目录中没有记录档案包文书（封面、卷内目录、交接书等）")
        return
    pdf_made = bool(((index.get("renditions") or {}).get("pdf") or {}).get("made"))
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        for key in ("docx", "pdf"):
            p = doc.get(key)
            if not p:
                if key == "pdf" and doc.get("pdf_note"):
                    report.add("usability", "renditions", False, str(doc.get("docx")), str(doc["pdf_note"]), warn=True)
                elif key == "pdf" and pdf_made:
                    report.add("integrity", "documents", False, str(doc.get("docx")), "缺少该文书的 PDF 版本")
                continue
            referenced.add(str(p))
            if str(p) not in payload:
                report.add("integrity", "documents", False, str(p), f"缺少档案包文书“{doc.get('title', '')}”")
            else:
                report.add("integrity", "documents", True, str(p), f"档案包文书“{doc.get('title', '')}”存在")
    note = ((index.get("renditions") or {}).get("pdf") or {}).get("note", "")
    if not pdf_made:
        report.add("usability", "renditions", False, f"data/{INDEX_NAME}", f"档案包未含 PDF 版本：{note or '原因未记录'}",
                   warn=True)


def _counts(report: VerifyReport, index: dict[str, Any], items: list[dict[str, Any]], name: str) -> None:
    summary = index.get("summary") or {}
    exceptions = index.get("exceptions") or []
    counts = Counter(it.get("code") for it in items)
    problems = []
    if summary.get("items") != len(items):
        problems.append(f"统计件数 {summary.get('items')} 与目录条目数 {len(items)} 不符")
    if summary.get("exceptions") != len(exceptions):
        problems.append(f"统计例外数 {summary.get('exceptions')} 与例外条目数 {len(exceptions)} 不符")
    if "documents" in summary and summary.get("documents") != len(items) + len(exceptions):
        problems.append("来源文件总数 ≠ 收入件数 + 例外件数")
    for code, n in (summary.get("categories") or {}).items():
        if counts.get(code, 0) != n:
            problems.append(f"类目 {code} 统计为 {n} 件，实有 {counts.get(code, 0)} 件")
    bag_count = (report.bag_fields or {}).get("Item-Count")
    if bag_count is not None and bag_count != str(len(items)):
        problems.append(f"bag-info 的 Item-Count {bag_count} 与目录条目数 {len(items)} 不符")
    if problems:
        report.add("integrity", "counts", False, name, "；".join(problems))
    else:
        report.add("integrity", "counts", True, name, f"统计数与目录一致（{len(items)} 件，例外 {len(exceptions)} 件）")


def _bundle_metadata(report: VerifyReport, index: dict[str, Any], name: str, bag_fields: dict[str, str]) -> None:
    b = index.get("bundle") or {}
    problems = []
    code = str(b.get("archival_code", ""))
    if not BUNDLE_CODE_RE.match(code):
        problems.append(f"案卷档号格式不正确：{code or '空'}")
    if bag_fields.get("External-Identifier") not in (None, code):
        problems.append("bag-info 的 External-Identifier 与案卷档号不一致")
    pattern = b.get("archival_pattern")
    if pattern is not None and "件号" not in str(pattern):
        problems.append(f"档号规则“{pattern}”中没有“件号”")
    version = str(index.get("format_version", ""))
    if bag_fields.get("Bundle-Format-Version") not in (None, version):
        problems.append("bag-info 的 Bundle-Format-Version 与 index.json 不一致")
    term = b.get("term") or {}
    for key in ("start", "end"):
        value = str(term.get(key) or "")
        if value and not _ISO_DATE.match(value):
            problems.append(f"任期{'开始' if key == 'start' else '结束'}日期格式不正确：{value}")
    if term.get("start") and term.get("end") and str(term["start"]) > str(term["end"]):
        problems.append("任期开始日期晚于结束日期")
    try:
        datetime.fromisoformat(str(b.get("created", "")).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"创建时间格式不正确：{b.get('created')}")
    if problems:
        report.add("integrity", "bundle-metadata", False, name, "；".join(problems))
    else:
        report.add("integrity", "bundle-metadata", True, name, f"案卷档号 {code}、任期和创建时间格式正确")


# -- usability and security of the contents -----------------------------------------
def _contents(report: VerifyReport, members: dict[str, zipfile.ZipInfo], workdir: Path,
              trust_roots: list[Any] | None) -> None:
    """Usability, active content and signatures of every payload file, parsed in a capped
    worker process (:func:`.content.check_members`): a hostile member costs at most the
    cap and the time limit, and becomes a failed check."""
    from .signatures import FAIL as SIG_FAIL
    from .signatures import PASS as SIG_PASS

    todo = [(workdir / name, name) for name in sorted(n for n in members if n.startswith("data/"))
            if (workdir / name).is_file()]
    for _local, name, checked in check_members(todo, trust_roots):
        ins = checked.inspection
        report.add("usability", "readable", ins.usable, name, ins.usable_note)
        if ins.hazards:
            report.add("security", "active-content", False, name, "；".join(ins.hazards))
        else:
            report.add("security", "active-content", True, name, "无可执行程序、宏或活动内容")
        if checked.signature_error:
            report.add("authenticity", "signature", False, name, checked.signature_error, path=name)
            continue
        if checked.signatures:
            for r in checked.signatures:
                label = f"{name}（签名 {r.field}{'，' + r.signer if r.signer else ''}）"
                report.add("authenticity", "signature", r.status == SIG_PASS, label, r.message,
                           warn=r.status not in (SIG_PASS, SIG_FAIL), path=name)


# -- the filed report -----------------------------------------------------------------
class ReportError(RuntimeError):
    """The verification report could not be written (message in Chinese)."""


def report_context(report: VerifyReport) -> dict[str, Any]:
    """Template variables of ``templates/verify_report.docx``."""
    mark = {PASS: "✓", FAIL: "✗", WARN: "？"}
    props = []
    for key, label in PROPERTIES.items():
        checks = [c for c in report.checks if c.property == key]
        failed = sum(1 for c in checks if c.result == FAIL)
        warned = sum(1 for c in checks if c.result == WARN)
        verdict = "未通过" if failed else ("通过（有无法判定项）" if warned else "通过")
        props.append({"name": label, "total": len(checks), "passed": len(checks) - failed - warned, "failed": failed,
                      "verdict": verdict})

    def row(c: Check) -> dict[str, Any]:
        return {"property_name": PROPERTIES.get(c.property, c.property),
                "check_name": CHECK_NAMES.get(c.name, c.name) + (f"（{c.ref}）" if c.ref else ""),
                "item": c.item or "档案包", "message": c.message, "result": RESULT_NAMES[c.result]}

    files: dict[str, dict[str, str]] = {}
    bundle_checks = []
    for c in report.checks:
        path = c.path
        if path:
            cell = files.setdefault(path, {p: "—" for p in PROPERTIES})
            current = cell[c.property]
            if current == "—" or c.result == FAIL or (c.result == WARN and current == mark[PASS]):
                cell[c.property] = mark[c.result]
        else:
            bundle_checks.append(row(c))
    rows = []
    for path in sorted(files):
        seqs = report.item_paths.get(path, [])
        rows.append({"seq": "、".join(f"{s:04d}" for s in seqs) or "—", "path": path.removeprefix("data/"),
                     **files[path]})
    failures = [row(c) for c in report.checks if c.result != PASS]
    return {
        "report": {
            "bundle_name": Path(report.bundle).name,
            "archival_code": report.archival_code or "—",
            "unit": report.unit,
            "leader": report.leader,
            "format_version": report.format_version or "—",
            "sha256": report.sha256,
            "checked_at": report.checked_at.replace("T", " ").replace("Z", " UTC"),
            "tool": f"handover-dossier {__version__}（dossier verify）",
            "verdict": ("通过：四性检测全部合格" if report.ok and not report.warnings else
                        "通过（有无法判定项，见下文）" if report.ok else f"未通过：{len(report.failures)} 项检测不合格"),
        },
        "properties": props,
        "failures": failures,
        "bundle_checks": bundle_checks,
        "files": rows,
    }


def write_report(report: VerifyReport, out: str | Path, *, lang: str = "zh-Hans") -> Path:
    """File the verification report as ``.docx`` or ``.pdf`` (by suffix)."""
    from ..bundle.pdfrender import PdfUnavailable, convert_to_pdf
    from ..bundle.render import TemplateError, render_docx

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".docx", ".pdf"):
        raise ReportError(f"检测报告只能保存为 .docx 或 .pdf：{out.name}")
    if not out.parent.is_dir():
        raise ReportError(f"报告的保存目录不存在：{out.parent}")
    when = datetime.fromisoformat(report.checked_at.replace("Z", "+00:00")) if report.checked_at else datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="dossier-report-") as tmp:
        docx = Path(tmp) / "四性检测报告.docx"
        try:
            render_docx("verify_report.docx", report_context(report), docx, when=when, lang=lang, title="档案包四性检测报告")
        except TemplateError as exc:
            raise ReportError(str(exc)) from exc
        result = docx
        if suffix == ".pdf":
            try:
                result = convert_to_pdf([docx], Path(tmp) / "pdf", when=when, lang=lang)[docx]
            except PdfUnavailable as exc:
                raise ReportError(f"无法生成 PDF 报告：{exc}；可改用 .docx") from exc
        tmp_out = out.with_name(f".{out.name}.part")
        tmp_out.write_bytes(result.read_bytes())
        tmp_out.replace(out)
    return out
