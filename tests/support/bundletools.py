"""Build small bundles from real documents, and forge tampered copies of them.

``make_items`` writes real DOCX/PDF/XLSX/TXT documents with ``handover_dossier.samplecorpus.docgen`` and
describes them as catalogue items (digests computed once, as the fetch stage does).
``rewrite`` copies a bundle while letting a test change members, and can re-sign the
manifests of chosen algorithms - how an attacker who knows BagIt would hide a change, so
that each test isolates the one check it is about.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from handover_dossier.bundle.assemble import BundleMeta, ExceptionRow, Item, write_bundle
from handover_dossier.hashing import digest_file
from handover_dossier.inventory import Inventory, default_inventory
from handover_dossier.samplecorpus.docgen import write_docx, write_pdf, write_txt, write_xlsx

META = BundleMeta(leader="陈立华", post="局长", unit="云溪县交通运输局", term_start="2021-01-04",
                  term_end="2023-12-29", fonds="Z109", incoming="周明远", compiler="王档案", checker="李审核")

# (code, title, kind, date, secrecy)
DOCS = [
    ("A1", "云溪县交通运输局职能配置和内设机构规定", "docx", "2021-03-01", ""),
    ("B1", "局长任期目标责任书", "pdf", "2021-02-01", ""),
    ("B2", "存在的问题和注意事项清单", "docx", "2023-12-20", "秘密"),
    ("C1", "2021年工作计划", "docx", "2021-01-20", ""),
    ("C1", "2022年工作要点", "pdf", "2022-02-10", ""),
    ("C1", "2023年工作计划", "txt", "2023-02-01", ""),
    ("C2", "2021年度工作总结", "docx", "2021-12-28", ""),
    ("C2", "2022年度工作总结", "docx", "2022-12-27", ""),
    ("C2", "2023年度工作总结", "pdf", "2023-12-26", ""),
    ("C6", "2023年部门决算报表", "xlsx", "2024-02-01", ""),
    ("D3", "债权债务明细表", "xlsx", "2023-11-30", ""),
    ("E1", "未尽事宜说明", "txt", "2023-12-25", ""),
    ("F1", "其他交接事项说明", "docx", "2023-12-28", ""),
    ("P1", "任期经济责任审计报告", "pdf", "2023-10-10", ""),
]


def make_items(folder: Path, docs: list[tuple[str, str, str, str, str]] | None = None,
               inventory: Inventory | None = None, duplicate: bool = True) -> list[Item]:
    """Real documents in ``folder`` and their items (the last document twice when
    ``duplicate``: identical content under another source name)."""
    inventory = inventory or default_inventory()
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for n, (code, title, kind, date, secrecy) in enumerate(docs or DOCS, 1):
        path = folder / f"{n:02d}-{title}.{kind}"
        body = [f"{title}。", "一、基本情况。本材料为测试用真实文档。", "二、主要内容。"]
        if kind == "docx":
            write_docx(path, title, body, issuer="云溪县交通运输局", secrecy=secrecy or None)
        elif kind == "pdf":
            write_pdf(path, title, body, issuer="云溪县交通运输局")
        elif kind == "xlsx":
            write_xlsx(path, {"表1": [[title], ["项目", "金额"], ["合计", 100]]})
        else:
            write_txt(path, title, body)
        items.append(_item(path, code, title, kind, date, secrecy, inventory))
    if duplicate:
        first = items[3]
        copy = folder / "副本-2021年工作计划.docx"
        copy.write_bytes(first.local.read_bytes())
        items.append(_item(copy, first.code, first.title, "docx", first.date, "", inventory))
    return items


def _item(path: Path, code: str, title: str, kind: str, date: str, secrecy: str, inventory: Inventory) -> Item:
    digests, size = digest_file(path)
    return Item(code=code, category=inventory.get(code).name, title=title, source=f"材料/{path.name}", size=size,
                digests=digests, local=path, format="text" if kind == "txt" else kind, date=date, year=date[:4],
                responsible="云溪县交通运输局", pages=1, secrecy=secrecy, reason="测试", method="rules")


def build(out: Path, work: Path, *, meta: BundleMeta = META, inventory: Inventory | None = None,
          created: datetime | None = None, items: list[Item] | None = None) -> Path:
    inventory = inventory or default_inventory()
    items = items if items is not None else make_items(work / "docs", inventory=inventory)
    write_bundle(out, items, [ExceptionRow("材料/~$草稿.docx", "Office 临时锁定文件，不是文档", kind="not-a-document")],
                 meta, inventory, source="/srv/离任材料", created=created)
    return out


#: ``created`` of the shared bundle (zip entries and bag-info carry it).
WHEN = datetime(2024, 1, 15, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def good_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One intact bundle (with PDF renditions) shared by the assemble, verify and
    signature tests: built once per test session because LibreOffice takes seconds."""
    work = tmp_path_factory.mktemp("good-bundle")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOSSIER_PDF", "1")  # conftest turns PDFs off for speed; this bundle has them
        return build(work / "good.zip", work, created=WHEN)


def read_members(bundle: Path) -> tuple[str, dict[str, bytes]]:
    """(bag root, {path inside the bag: bytes})."""
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        root = names[0].split("/", 1)[0]
        return root, {n[len(root) + 1 :]: zf.read(n) for n in names}


def index_of(members: dict[str, bytes]) -> dict:
    return json.loads(members["data/index.json"])


def put_index(members: dict[str, bytes], index: dict) -> None:
    members["data/index.json"] = (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def resign(members: dict[str, bytes], algorithms: tuple[str, ...] = ("sha256", "sm3")) -> None:
    """Recompute the payload manifests and tag manifests of ``algorithms`` (others untouched)."""
    payload = sorted(n for n in members if n.startswith("data/"))
    for alg in algorithms:
        members[f"manifest-{alg}.txt"] = "".join(
            f"{hashlib.new(alg, members[p]).hexdigest()}  {p}\n" for p in payload).encode()
    oxum = f"{sum(len(members[p]) for p in payload)}.{len(payload)}"
    info = members["bag-info.txt"].decode("utf-8").splitlines()
    members["bag-info.txt"] = "".join(
        (f"Payload-Oxum: {oxum}" if line.startswith("Payload-Oxum:") else line) + "\n" for line in info).encode()
    for alg in algorithms:
        tags = sorted(n for n in members if "/" not in n and not n.startswith("tagmanifest-"))
        members[f"tagmanifest-{alg}.txt"] = "".join(
            f"{hashlib.new(alg, members[t]).hexdigest()}  {t}\n" for t in tags).encode()


def replace_consistently(members: dict[str, bytes], path: str, data: bytes) -> None:
    """Put ``data`` at ``path`` and make the catalogue row and every manifest agree with it,
    so that only the property under test can fail."""
    members[path] = data
    idx = index_of(members)
    for it in idx["items"]:
        if it["path"] == path:
            it.update(sha256=hashlib.sha256(data).hexdigest(), sm3=hashlib.new("sm3", data).hexdigest(), size=len(data))
    put_index(members, idx)
    resign(members)


def rewrite(src: Path, dst: Path, edit: Callable[[dict[str, bytes]], None], *,
            extra: dict[str, bytes] | None = None) -> Path:
    """Copy ``src`` to ``dst`` after ``edit(members)``; ``extra`` adds raw zip members
    (full names, e.g. ``../evil.txt``) outside the bag root."""
    root, members = read_members(src)
    edit(members)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            zf.writestr(f"{root}/{name}", members[name])
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return dst
