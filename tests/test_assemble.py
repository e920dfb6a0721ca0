"""The bundle writer: BagIt layout, bag-info, manifests from the fetch digests, archival
codes, safe names, duplicates, the public catalogue, PDF renditions and their absence."""

from __future__ import annotations

import hashlib
import importlib
import json
import zipfile
from pathlib import Path

import docx
import pytest
from handover_dossier.bundle.assemble import BundleError, BundleMeta, ExceptionRow, Item, write_bundle
from handover_dossier.bundle.names import MAX_PATH_CHARS, is_safe_member, safe_component, unique_name
from handover_dossier.bundle.ziputil import UTF8_FLAG
from handover_dossier.hashing import digest_file
from handover_dossier.inventory import default_inventory, load_inventory
from handover_dossier.verify.checks import verify_bundle
from support.bundletools import META, build, make_items, read_members

# the module, not the package-level ``handover_dossier.bundle.assemble()`` function of the same name
assemble_mod = importlib.import_module("handover_dossier.bundle.assemble")


@pytest.fixture()
def built(good_bundle: Path) -> tuple[Path, str, dict[str, bytes]]:
    root, members = read_members(good_bundle)
    return good_bundle, root, members


def _docx_text(data: bytes) -> str:
    import io

    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def test_bag_layout_and_bag_info(built) -> None:
    _, root, members = built
    assert root == "云溪县交通运输局-陈立华-离任交接档案"
    assert members["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    for name in ("manifest-sha256.txt", "manifest-sm3.txt", "tagmanifest-sha256.txt", "tagmanifest-sm3.txt",
                 "data/index.json", "data/00-封面.docx", "data/01-卷内目录.docx", "data/02-交接书.docx",
                 "data/03-移交清单.docx", "data/04-缺项与问题报告.docx", "data/05-备考表.docx",
                 "data/06-卷内目录（公开版）.docx", "data/01-卷内目录.pdf", "data/02-交接书.pdf"):
        assert name in members, name
    info = dict(line.split(": ", 1) for line in members["bag-info.txt"].decode().splitlines())
    index = json.loads(members["data/index.json"])
    assert info["Source-Organization"] == "云溪县交通运输局"
    assert info["External-Identifier"] == index["bundle"]["archival_code"]
    assert info["Bagging-Date"] == "2024-01-15"
    assert info["Leader-Name"] == "陈立华" and info["Leader-Post"] == "局长" and info["Leader-Unit"] == "云溪县交通运输局"
    assert info["Term-Start"] == "2021-01-04" and info["Term-End"] == "2023-12-29"
    assert info["Bundle-Format-Version"] == "2" and info["Retention-Period"] == "永久"
    payload = [n for n in members if n.startswith("data/")]
    assert info["Payload-Oxum"] == f"{sum(len(members[n]) for n in payload)}.{len(payload)}"
    assert index["format_version"] == "2" and index["bundle"]["created"] == "2024-01-15T08:00:00Z"


def test_manifests_cover_every_payload_file_with_both_digests(built) -> None:
    _, _, members = built
    payload = sorted(n for n in members if n.startswith("data/"))
    for alg in ("sha256", "sm3"):
        lines = members[f"manifest-{alg}.txt"].decode().splitlines()
        listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
        assert sorted(listed) == payload
        for name in payload:
            assert listed[name] == hashlib.new(alg, members[name]).hexdigest()
        tags = {line.split("  ", 1)[1] for line in members[f"tagmanifest-{alg}.txt"].decode().splitlines()}
        assert tags == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt"}


def test_fetch_digests_are_reused_not_recomputed(tmp_path: Path, monkeypatch) -> None:
    """Manifest digests of source documents come from the Item (the fetch stage's single
    pass); only the bundle's own generated files are hashed by the writer."""
    items = make_items(tmp_path / "docs")
    hashed: list[Path] = []
    real = assemble_mod.digest_file

    def spy(path, *args, **kwargs):
        hashed.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(assemble_mod, "digest_file", spy)
    monkeypatch.setenv("DOSSIER_PDF", "0")
    build(tmp_path / "b.zip", tmp_path, items=items)
    sources = {it.local for it in items}
    assert hashed and not sources & set(hashed)
    assert hashed[-1] == tmp_path / "b.zip"  # the bundle's own SHA-256 for the caller


def test_numbering_codes_retention_and_order(built) -> None:
    _, _, members = built
    index = json.loads(members["data/index.json"])
    inv = default_inventory()
    items = index["items"]
    assert [it["seq"] for it in items] == list(range(1, len(items) + 1))
    assert [inv.order(it["code"]) for it in items] == sorted(inv.order(it["code"]) for it in items)
    for it in items:
        retention = inv.get(it["code"]).retention
        code = {"永久": "Y", "定期30年": "D30", "定期10年": "D10"}[retention]
        assert it["archival_code"] == f"Z109-2023-{code}-{it['seq']:04d}"
        assert it["retention"] == retention
        assert it["path"].split("/")[2].startswith(f"{it['seq']:04d}-") or it.get("duplicate_of")
    assert index["bundle"]["archival_pattern"] == "全宗号-年度-保管期限-件号"
    assert index["bundle"]["date_range"] == {"start": "2021-01-20", "end": "2024-02-01"}


def test_duplicate_content_stored_once(built) -> None:
    _, _, members = built
    index = json.loads(members["data/index.json"])
    copies = [it for it in index["items"] if it["title"] == "2021年工作计划"]
    assert len(copies) == 2
    first, second = sorted(copies, key=lambda it: it["seq"])
    assert second["duplicate_of"] == first["seq"] and second["path"] == first["path"]
    assert sum(1 for n in members if n.startswith("data/C1-")) == 3  # 3 distinct plans, 4 catalogue rows
    assert index["summary"]["duplicates"] == 1
    assert "与第0004件内容相同" in _docx_text(members["data/01-卷内目录.docx"])


def test_zip_entries_sorted_utf8_flagged_fixed_time(built) -> None:
    out, _, _ = built
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert all(i.flag_bits & UTF8_FLAG for i in infos)
    assert {i.date_time for i in infos} == {(2024, 1, 15, 8, 0, 0)}
    assert all((i.external_attr >> 16) == 0o100644 for i in infos)


def test_unsafe_titles_give_safe_unique_names(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")  # PDFs are covered elsewhere; keep this test quick
    inv = default_inventory()
    titles = ["../../etc/passwd", "C:\\Windows\\system32", "CON", "情况说明\x00\x07<>|?*", "Report", "REPORT",
              "关于" + "很长的标题" * 60]
    docs = [("F1", f"说明{n}", "txt", f"2022-01-0{n}", "") for n in range(1, len(titles) + 1)]
    items = make_items(tmp_path / "docs", docs, duplicate=False)
    for it, title in zip(items, titles, strict=True):
        it.title = title  # the extracted title, as a document may carry it
    out = build(tmp_path / "b.zip", tmp_path, items=items)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert all(is_safe_member(n) for n in names)
    assert len({n.casefold() for n in names}) == len(names)
    assert max(len(n) for n in names) <= MAX_PATH_CHARS
    assert not any(".." in n or "\\" in n or "\x00" in n for n in names)
    assert verify_bundle(out).ok
    folder = f"/data/{inv.get('F1').folder}/"
    assert any(n.endswith(f"{folder}0005-Report.txt") for n in names)
    assert any(n.endswith(f"{folder}0006-REPORT.txt") for n in names)
    assert any(f"{folder}0003-" in n and "CON" not in n.rsplit("/", 1)[1][:8] for n in names)


def test_unique_name_and_safe_component() -> None:
    taken: set[str] = set()
    assert unique_name("data/A/0001-x.txt", taken) == "data/A/0001-x.txt"
    assert unique_name("data/a/0001-X.TXT", taken) == "data/a/0001-X-2.TXT"
    assert unique_name("data/A/0001-x.txt", taken) == "data/A/0001-x-3.txt"
    assert safe_component("..") == "未命名"
    assert safe_component("a/b\\c") == "a_b_c"
    assert len(safe_component("字" * 200).encode()) <= 150


def test_public_catalogue_leaves_out_secret_and_not_public(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    toml = (Path(default_inventory().source).read_text(encoding="utf-8")
            .replace('name = "其他交接事项"', 'name = "其他交接事项"\npublic = false'))
    inv_path = tmp_path / "inventory.toml"
    inv_path.write_text(toml, encoding="utf-8")
    inv = load_inventory(inv_path)
    out = build(tmp_path / "b.zip", tmp_path, inventory=inv)
    _, members = read_members(out)
    public = _docx_text(members["data/06-卷内目录（公开版）.docx"])
    full = _docx_text(members["data/01-卷内目录.docx"])
    assert "存在的问题和注意事项清单" in full and "存在的问题和注意事项清单" not in public  # 秘密
    assert "其他交接事项说明" in full and "其他交接事项说明" not in public  # public = false
    assert "2022年度工作总结" in public
    assert "不予公开的文件（2 件）" in public
    index = json.loads(members["data/index.json"])
    assert index["summary"]["public_items"] == len(index["items"]) - 2


def test_archival_pattern_from_inventory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    toml = Path(default_inventory().source).read_text(encoding="utf-8")
    toml += '\n[archival]\npattern = "全宗号-门类代码·年度-保管期限-件号"\nclass_code = "WS"\n'
    (tmp_path / "inv.toml").write_text(toml, encoding="utf-8")
    inv = load_inventory(tmp_path / "inv.toml")
    out = build(tmp_path / "b.zip", tmp_path, inventory=inv)
    index = json.loads(read_members(out)[1]["data/index.json"])
    assert index["items"][0]["archival_code"] == "Z109-WS·2023-Y-0001"
    assert verify_bundle(out, use_bagit=False).ok


def test_no_libreoffice_is_recorded_not_fatal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "1")  # wanted, but there is no LibreOffice:
    monkeypatch.setenv("DOSSIER_SOFFICE", "")
    out = build(tmp_path / "b.zip", tmp_path)
    _, members = read_members(out)
    assert not any(n.endswith(".pdf") and n.startswith("data/0") for n in members)
    index = json.loads(members["data/index.json"])
    pdf = index["renditions"]["pdf"]
    assert pdf["made"] is False and "未安装 LibreOffice" in pdf["note"]
    report = verify_bundle(out, use_bagit=False)
    assert report.ok
    assert any(c.name == "renditions" and "未安装 LibreOffice" in c.message for c in report.warnings)


def test_long_lists_skip_pdf_with_a_note(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "1")
    monkeypatch.setenv("DOSSIER_PDF_MAX_ROWS", "5")
    out = build(tmp_path / "b.zip", tmp_path)
    _, members = read_members(out)
    index = json.loads(members["data/index.json"])
    docs = {d["title"]: d for d in index["documents"]}
    assert "pdf" not in docs["卷内目录"] and "超过生成 PDF 的上限 5 条" in docs["卷内目录"]["pdf_note"]
    assert docs["领导干部离任工作交接书"]["pdf"] == "data/02-交接书.pdf" and "data/02-交接书.pdf" in members
    report = verify_bundle(out, use_bagit=False)
    assert report.ok and any(c.name == "renditions" for c in report.warnings)


def test_bad_inputs_give_clear_errors_and_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    items = make_items(tmp_path / "docs", duplicate=False)
    with pytest.raises(BundleError, match="全宗号"):
        write_bundle(tmp_path / "a.zip", items, [], BundleMeta(fonds="Z/109"), default_inventory(), source="x")
    with pytest.raises(BundleError, match="输出目录不存在"):
        write_bundle(tmp_path / "nope" / "a.zip", items, [], META, default_inventory(), source="x")
    # a source that changed after it was fetched: its digest no longer matches
    items[0].local.write_bytes(items[0].local.read_bytes() + b"!")
    with pytest.raises(BundleError, match="被修改"):
        write_bundle(tmp_path / "c.zip", items, [], META, default_inventory(), source="x")
    # a broken user-edited template
    tpl = tmp_path / "templates"
    tpl.mkdir()
    for f in Path(default_inventory().source).parent.iterdir():
        if f.suffix in (".toml", ".docx"):
            (tpl / f.name).write_bytes(f.read_bytes())
    (tpl / "cover.docx").write_bytes(b"PK\x03\x04 not a docx")
    monkeypatch.setenv("DOSSIER_TEMPLATES", str(tpl))
    items = make_items(tmp_path / "docs2", duplicate=False)
    with pytest.raises(BundleError, match=r"cover\.docx"):
        write_bundle(tmp_path / "d.zip", items, [], META, default_inventory(), source="x")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".zip", ".part")) == []


def test_every_source_is_item_or_exception(built) -> None:
    _, _, members = built
    index = json.loads(members["data/index.json"])
    assert index["summary"]["documents"] == len(index["items"]) + len(index["exceptions"]) == 16
    assert index["exceptions"] == [{"source": "材料/~$草稿.docx", "reason": "Office 临时锁定文件，不是文档",
                                    "kind": "not-a-document"}]


def test_item_fields(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("说明", encoding="utf-8")
    digests, size = digest_file(path)
    it = Item(code="F1", category="其他交接事项", title="说明", source="x.txt", size=size, digests=digests, local=path,
              format="text")
    assert it.sha256 == digests["sha256"] and it.public and it.retention == ""
    assert ExceptionRow("a", "b").kind == ""
