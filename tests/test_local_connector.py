"""The local-folder connector: deterministic listing, NFC names, symlink policy, atomic put."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from handover_dossier.connectors import ConnectorError, open_connector
from handover_dossier.connectors.local import LocalConnector


def test_walk_is_sorted_nfc_and_recursive(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    nfd = unicodedata.normalize("NFD", "é总结.txt")
    (tmp_path / nfd).write_text("x")
    paths = [e.path for e in LocalConnector(tmp_path).walk()]
    assert paths == sorted(paths)
    assert "b/z.txt" in paths and "a.txt" in paths
    assert unicodedata.normalize("NFC", "é总结.txt") in paths


def test_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.txt").write_text("hello")
    os.symlink(root / "sub" / "real.txt", root / "inside-link.txt")
    os.symlink("/etc", root / "outside-dir")
    os.symlink(tmp_path, root / "parent-link")
    os.symlink(root / "nowhere", root / "dangling")
    os.symlink(root / "sub", root / "loop-dir")
    entries = {e.path: e for e in LocalConnector(root).walk()}
    assert entries["inside-link.txt"].problem == "" and entries["inside-link.txt"].size == 5
    assert "之外" in entries["outside-dir"].problem
    assert "之外" in entries["parent-link"].problem
    assert "不存在" in entries["dangling"].problem
    assert "文件夹" in entries["loop-dir"].problem


def test_special_files_are_reported(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (e,) = LocalConnector(tmp_path).walk()
    assert e.path == "pipe" and "不是普通文件" in e.problem


def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "f.txt").write_text("x")
    locked.chmod(0)
    try:
        entries = list(LocalConnector(tmp_path).walk())
    finally:
        locked.chmod(0o755)
    if os.geteuid() == 0:  # root reads everything: the folder is walked normally
        assert [e.path for e in entries] == ["locked/f.txt"]
    else:
        assert entries[0].problem.startswith("无法读取文件夹")


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="不存在"):
        list(open_connector(str(tmp_path / "nope")).walk())


def test_put_is_atomic_and_stat(tmp_path: Path) -> None:
    src = tmp_path / "bundle.zip"
    src.write_bytes(b"x" * 1000)
    conn = LocalConnector(tmp_path / "dest")
    conn.mkdirs("")
    entry = conn.put("子目录/bundle.zip", src)
    assert entry.size == 1000
    assert (tmp_path / "dest" / "子目录" / "bundle.zip").read_bytes() == src.read_bytes()
    assert not [p for p in (tmp_path / "dest" / "子目录").iterdir() if p.name.startswith(".part")]
    assert conn.stat("子目录/bundle.zip").size == 1000
    assert conn.stat("nothing") is None
    assert conn.tag("子目录/bundle.zip", "已归档") is False
