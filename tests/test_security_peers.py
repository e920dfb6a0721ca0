"""A hostile DMS server (docs/SECURITY.md): a real WsgiDAV server on loopback, with the
fault-injection proxy in front of it playing the hostile part."""

from __future__ import annotations

from pathlib import Path

from handover_dossier.pipeline import assemble
from handover_dossier.samplecorpus.docgen import write_txt
from support.faultproxy import Fault, Rule


def test_download_stops_at_the_listed_size_plus_a_margin(dav_server, dav_credentials, fault_proxy_factory,
                                                         tmp_path: Path, monkeypatch) -> None:
    """Before: a document listed at 10 B streamed 300 MB into the cache."""
    folder = dav_server.root / "src"
    folder.mkdir()
    write_txt(folder / "2023年度工作总结.txt", "2023年度工作总结", ["一年来，圆满完成了各项目标任务。"])
    (folder / "说明.txt").write_bytes(b"0123456789")  # listed as 10 bytes
    proxy = fault_proxy_factory(dav_server.base, [Rule(Fault("flood", after_bytes=300 << 20), path=r"说明\.txt$")])
    monkeypatch.setenv("DOSSIER_HOST", f"{proxy.host}")
    result = assemble(proxy.url("src"), tmp_path / "out.zip")
    (exc,) = result.index["exceptions"]
    assert exc["source"] == "说明.txt" and "远超文件大小" in exc["reason"] and "10 字节" in exc["reason"]
    flood = proxy.injected("flood")
    assert flood and all(r.sent < 64 << 20 for r in flood)  # cut off long before 300 MB
    assert [it["source"] for it in result.index["items"]] == ["2023年度工作总结.txt"]
