"""The "low" findings of the security review (docs/SECURITY.md), each replayed."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import zipfile
from pathlib import Path

import docx
import pytest
from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.bundle.render import bundle_context, render_docx
from handover_dossier.inventory import default_inventory
from handover_dossier.verify.checks import BundleUnreadable, verify_bundle
from support.bundletools import WHEN, read_members


def test_a_title_containing_the_renderers_row_marks_renders(good_bundle: Path, tmp_path: Path, monkeypatch) -> None:
    """Before: a title with the renderer's U+2063 sentinel broke every list of > 400 rows."""
    import handover_dossier.bundle.render as render

    index = json.loads(read_members(good_bundle)[1]["data/index.json"])
    hostile = ["\u2063HD-ROWS-END\u2063", "\u2063HD-ROWS-START\u2063", "\u2063"]
    items = []
    for k in range(25):
        it = dict(index["items"][k % len(index["items"])], seq=k + 1, archival_code=f"Z109-2023-Y-{k + 1:04d}")
        it["title"] = f"题名{k + 1}{hostile[k % 3]}结尾"
        items.append(it)
    ctx = bundle_context({**index, "items": items}, default_inventory())
    monkeypatch.setattr(render, "ROW_CHUNK", 10)  # 25 rows: three chunks, as > 400 rows would be
    out = tmp_path / "catalogue.docx"
    render_docx("catalogue.docx", ctx, out, when=WHEN, lang="zh-Hans", rows="items")
    rows = [[c.text for c in r.cells] for r in docx.Document(str(out)).tables[0].rows][1:]
    assert [r[0] for r in rows] == [f"{n:04d}" for n in range(1, 26)]
    titles = [next(c for c in r if c.startswith("题名")) for r in rows]
    assert titles == [f"题名{k + 1}{hostile[k % 3]}结尾" for k in range(25)]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_verify_a_file_folder_name_clash_is_exit_2_not_a_crash(tmp_path: Path, capsys) -> None:
    """Before: a traceback and exit 1."""
    from handover_dossier.cli import main

    bad = _zip(tmp_path / "clash.zip", {"包/bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                                        "包/data/文件": b"a file ...", "包/data/文件/其中.txt": b"... and a folder"})
    with pytest.raises(BundleUnreadable, match="既是文件又是文件夹"):
        verify_bundle(bad)
    capsys.readouterr()
    assert main(["verify", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "既是文件又是文件夹" in err and "Traceback" not in err


def test_a_bundle_replaced_in_the_dms_is_not_unpacked(good_bundle: Path, tmp_path: Path, monkeypatch) -> None:
    """Before: a whole (possibly hostile) bundle was extracted and parsed before its SHA-256
    was compared with the registry's."""
    from handover_dossier.app.config import load_settings
    from handover_dossier.app.records import registry
    from handover_dossier.app.records.owner import SYSTEM
    from handover_dossier.app.service import Service
    from handover_dossier.hashing import digest_file

    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL", "DOSSIER_MODE"):
        monkeypatch.delenv(var, raising=False)
    svc = Service(load_settings({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(tmp_path / "dms")}))
    folder = tmp_path / "dms" / "档案"
    folder.mkdir(parents=True)
    (folder / good_bundle.name).write_bytes(good_bundle.read_bytes())
    digests, size = digest_file(good_bundle, ("sha256",))
    registry.record_bundle(svc.engine, registry.read_index(good_bundle),
                           registry.Filed("local", "本机用户", "/档案", good_bundle.name, digests["sha256"], size))
    code = registry.read_index(good_bundle)["bundle"]["archival_code"]
    assert registry.fetch_bundle(svc.engine, svc.dms, code, tmp_path / "ok", viewer=SYSTEM, who="t", as_owner=True).ok
    # someone with write access to the DMS replaces it (same size, other bytes)
    data = bytearray(good_bundle.read_bytes())
    data[100] ^= 0xFF
    (folder / good_bundle.name).write_bytes(bytes(data))
    got = registry.fetch_bundle(svc.engine, svc.dms, code, tmp_path / "bad", viewer=SYSTEM, who="t", as_owner=True)
    assert not got.ok and got.report is None and "未解包校验" in got.problems[0]
    assert list((tmp_path / "bad").iterdir()) == []
    # and a file larger than registered is cut off while it streams in
    (folder / good_bundle.name).write_bytes(good_bundle.read_bytes() + b"\0" * 4096)
    with pytest.raises(registry.RegistryError, match="大于归档登记的大小"):
        registry.fetch_bundle(svc.engine, svc.dms, code, tmp_path / "big", viewer=SYSTEM, who="t", as_owner=True)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_caches_database_and_bundles_are_private(tmp_path: Path, monkeypatch) -> None:
    """Before: world-readable (0755/0644) caches of a leader's documents, database and bundles."""
    from handover_dossier.app.config import load_settings
    from handover_dossier.app.service import Service
    from handover_dossier.connectors.local import LocalConnector
    from handover_dossier.pipeline import assemble
    from handover_dossier.samplecorpus.docgen import write_txt

    os.umask(0o022)
    cache = tmp_path / "open-cache"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    monkeypatch.setenv("DOSSIER_CACHE", str(cache))
    src = tmp_path / "src"
    src.mkdir()
    write_txt(src / "说明.txt", "说明", ["交接说明。"])
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    assemble(src, out)
    assert mode(cache) == 0o700 and mode(out) == 0o600
    fresh = tmp_path / "new-cache"
    monkeypatch.setenv("DOSSIER_CACHE", str(fresh))
    assemble(src, tmp_path / "out" / "c.zip")
    assert mode(fresh) == 0o700
    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL", "DOSSIER_MODE"):
        monkeypatch.delenv(var, raising=False)
    svc = Service(load_settings({"DOSSIER_DATA_DIR": str(tmp_path / "data")}))
    assert mode(svc.settings.data_dir) == 0o700 and mode(svc.settings.data_dir / "dossier.db") == 0o600
    filed = LocalConnector(tmp_path / "archive").put("b.zip", out)
    assert mode(Path(filed.ref)) == 0o600


def test_a_slash_in_a_leader_name_never_nests_folders() -> None:
    from handover_dossier.app.config import load_settings
    from handover_dossier.app.flows import dossier_path, handover_path

    s = load_settings({"DOSSIER_DOSSIER_FOLDER": "/干部人事档案/{unit}/{leader}"})
    meta = BundleMeta(leader="张三/../../系统", unit="..", post="局长/书记")
    assert dossier_path(s, "/交接材料/张三-2019-2024", meta) == "/干部人事档案/＿/张三／..／..／系统"
    h = load_settings({"DOSSIER_HANDOVER_FOLDER": "{parent}/{leader}-{post}-交接"})
    assert handover_path(h, "/交接材料/张三-2019-2024", meta) == "/交接材料/张三／..／..／系统-局长／书记-交接"


def test_stale_partial_uploads_are_removed(dav_server, dav_credentials, tmp_path: Path) -> None:
    """Before: ``.~dossier-*.tmp`` left by an interrupted upload stayed in the dossier folder."""
    from handover_dossier.filing import file_bundle

    folder = dav_server.root / "dossiers"
    folder.mkdir()
    old, young = folder / ".~dossier-0123456789abcdef.tmp", folder / ".~dossier-fedcba9876543210.tmp"
    for p in (old, young):
        p.write_bytes(b"half a bundle")
    past = time.time() - 2 * 3600
    os.utime(old, (past, past))
    src = tmp_path / "包.zip"
    src.write_bytes(b"bundle bytes " * 100)
    res = file_bundle(src, dav_server.url("dossiers"), verify_first=False)
    assert not old.exists() and young.exists()  # a young one may be another upload in flight
    assert sorted(p.name for p in folder.iterdir()) == sorted([young.name, res.name])
    local = tmp_path / "local"
    local.mkdir()
    part = local / ".part-abc.zip"
    part.write_bytes(b"x")
    os.utime(part, (past, past))
    file_bundle(src, str(local), verify_first=False)
    assert not part.exists()
    assert hashlib.sha256((local / "包.zip").read_bytes()).hexdigest() == hashlib.sha256(src.read_bytes()).hexdigest()


def test_verify_bounds_the_tag_files_it_parses_in_process(tmp_path: Path, monkeypatch) -> None:
    """A catalogue or manifest that expands to gigabytes is refused from its declared size,
    before anything is decompressed (the documents themselves are checked in capped workers)."""
    import handover_dossier.verify.checks as checks

    monkeypatch.setattr(checks, "MAX_TAG_BYTES", 1 << 20)  # the real cap is 128 MB: same rule, small file
    bomb = _zip(tmp_path / "bomb.zip", {"包/bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                                        "包/data/index.json": b"[" + b" " * (2 << 20) + b"]",
                                        "包/manifest-sha256.txt": b""})
    with pytest.raises(BundleUnreadable, match="过大"):
        verify_bundle(bomb)
