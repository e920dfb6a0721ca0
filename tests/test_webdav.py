"""The generic WebDAV connector against a real WsgiDAV server on loopback: assemble from
it, file into it, names that break naive clients, credentials, status handling."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import unicodedata
import zipfile
from pathlib import Path

import pytest
from handover_dossier import cli
from handover_dossier.connectors import ConnectorError, open_connector
from handover_dossier.connectors.credentials import Credentials, redact, resolve, scrub
from handover_dossier.connectors.http import RetryPolicy
from handover_dossier.filing import recorded_source
from handover_dossier.lang.textnorm import nfc
from handover_dossier.pipeline import assemble
from handover_dossier.transfer.fetch import describe_fetch, walk_source
from handover_dossier.verify.checks import verify_bundle
from support.faultproxy import Fault, Rule
from support.webdav_server import DAV_PASSWORD, DAV_USER, LONG_NAME, NFD_NAME


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dossier_model_cache: Path) -> None:
    # The PDF renditions of the catalogue (LibreOffice) are not what these tests look at.
    monkeypatch.setenv("DOSSIER_PDF", "0")
    monkeypatch.setenv("DOSSIER_MODEL_CACHE", str(dossier_model_cache))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("DOSSIER_USER", raising=False)
    monkeypatch.delenv("DOSSIER_PASSWORD", raising=False)


def index_of(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/data/index.json"))
        return json.loads(zf.read(name))


def all_text(bundle: Path) -> bytes:
    with zipfile.ZipFile(bundle) as zf:
        return b"".join(zf.read(n) for n in zf.namelist())


def fast_policy(**kw) -> RetryPolicy:
    return RetryPolicy(attempts=kw.pop("attempts", 4), backoff=0.01, locked_backoff=kw.pop("locked_backoff", 0.05), **kw)


def test_assemble_from_webdav_gives_the_same_items_as_the_folder(dav_server, dav_corpus, dav_credentials, tmp_path):
    url = dav_server.url("corpus")
    remote = assemble(url, tmp_path / "remote.zip")
    local = assemble(dav_corpus, tmp_path / "local.zip")
    r, loc = index_of(remote.bundle.path), index_of(local.bundle.path)
    assert r["items"] == loc["items"]
    assert r["exceptions"] == loc["exceptions"] and r["missing"] == loc["missing"]
    assert len(r["items"]) + len(r["exceptions"]) == 9  # every document accounted for
    sources = {x["source"] for x in r["items"]} | {x["source"] for x in r["exceptions"]}
    assert {LONG_NAME, nfc(NFD_NAME), "财务#100%/2023年度经费收支表?.xlsx",
            "总结 与 报告/2022年工作总结 #终稿 (100%).pdf"} <= sources
    assert r["bundle"]["source"] == url
    assert verify_bundle(remote.bundle.path).ok
    assert DAV_PASSWORD.encode() not in all_text(remote.bundle.path)
    assert remote.fetch["new"] == 9 and remote.fetch["bytes_downloaded"] == sum(
        p.stat().st_size for p in dav_corpus.rglob("*") if p.is_file())


def test_rerun_transfers_no_bodies_and_reports_what_changed(
    dav_server, dav_corpus, dav_credentials, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717200000")
    url = dav_server.url("corpus")
    first = assemble(url, tmp_path / "1.zip")
    assert first.fetch["downloaded"] == 9
    dav_server.reset_log()
    second = assemble(url, tmp_path / "2.zip")
    assert dav_server.body_gets() == []  # nothing but listings crossed the wire
    assert dav_server.log("PROPFIND")
    assert (second.fetch["cached"], second.fetch["downloaded"]) == (9, 0)
    assert describe_fetch(second.fetch) == "9 份未变（使用缓存）"
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()

    speech = dav_corpus / "讲话 稿.txt"
    speech.write_text("在全县交通工作会议上的讲话\n　　同志们：今天召开全县交通工作会议，总结工作、部署任务。\n",
                      encoding="utf-8")
    dav_server.reset_log()
    third = assemble(url, tmp_path / "3.zip")
    assert [r.path for r in dav_server.body_gets()] == ["/corpus/讲话 稿.txt"]
    assert (third.fetch["cached"], third.fetch["updated"], third.fetch["new"]) == (8, 1, 0)
    assert describe_fetch(third.fetch).startswith("8 份未变（使用缓存），1 份有更新")
    item = next(i for i in index_of(third.bundle.path)["items"] if i["source"] == "讲话 稿.txt")
    assert item["sha256"] == hashlib.sha256(speech.read_bytes()).hexdigest()


def test_awkward_names_round_trip(dav_server, dav_corpus, dav_credentials, tmp_path):
    conn = open_connector(dav_server.url("corpus"))
    entries = list(conn.walk())
    local = {nfc(p.relative_to(dav_corpus).as_posix()): p for p in dav_corpus.rglob("*") if p.is_file()}
    assert [e.path for e in entries] == sorted(local, key=lambda p: [nfc(s) for s in p.split("/")])
    for e in entries:
        assert e.path == unicodedata.normalize("NFC", e.path)
        with conn.open(e) as f:
            assert f.read() == local[e.path].read_bytes(), e.path
    nfd = next(e for e in entries if e.path == nfc(NFD_NAME))
    assert nfd.ref.endswith(NFD_NAME)  # read back under the server's own spelling
    # Writing awkward names: stored as NFC, read back, nothing left under a temporary name.
    src = tmp_path / "x.zip"
    src.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    for name in ["归档 #1 (100%).zip", "交接档案包" * 15 + ".zip", unicodedata.normalize("NFD", "ガイド.zip")]:
        got = conn.put(f"上传 区/{name}", src)
        assert got.size == src.stat().st_size and got.etag
        assert (dav_corpus / "上传 区" / nfc(name)).read_bytes() == src.read_bytes()
        assert conn.stat(f"上传 区/{name}").etag == got.etag
    assert sorted(p.name for p in (dav_corpus / "上传 区").iterdir() if p.name.startswith(".")) == []
    # WsgiDAV 4.4 percent-decodes the MOVE Destination before parsing it, so a '?' in a
    # target name cannot reach it intact: a clear refusal, no stray file, nothing overwritten.
    (dav_corpus / "上传 区" / "问卷").write_bytes(b"someone else's file")
    for name in ["问卷?.zip", "问?卷.zip"]:
        with pytest.raises(ConnectorError, match="未能存放"):
            conn.put(f"上传 区/{name}", src)
    assert (dav_corpus / "上传 区" / "问卷").read_bytes() == b"someone else's file"
    assert sorted(p.name for p in (dav_corpus / "上传 区").iterdir()) == sorted(
        ["问卷", "归档 #1 (100%).zip", "交接档案包" * 15 + ".zip", "ガイド.zip"])


def test_only_term_keeps_documents_modified_within_the_term(dav_server, dav_corpus, dav_credentials):
    import datetime as dt

    cst = dt.timezone(dt.timedelta(hours=8))
    when = {
        "计划/2021年度工作计划.docx": dt.datetime(2021, 1, 15, 9, 0, tzinfo=cst),
        "讲话 稿.txt": dt.datetime(2019, 12, 31, 23, 59, tzinfo=cst),  # the evening before the term
        "空文件.txt": dt.datetime(2022, 12, 31, 23, 30, tzinfo=cst),  # last evening of the term (UTC: 15:30)
    }
    for p in dav_corpus.rglob("*"):
        if p.is_file():
            t = when.get(nfc(p.relative_to(dav_corpus).as_posix()), dt.datetime(2024, 6, 1, tzinfo=cst)).timestamp()
            os.utime(p, (t, t))
    conn = open_connector(dav_server.url("corpus"))
    got = [e.path for e in walk_source(conn, ("2020-01-01", "2022-12-31"))]
    assert got == ["空文件.txt", "计划/2021年度工作计划.docx"]


def test_403_and_404_on_one_document_become_exceptions(
    dav_server, dav_corpus, dav_credentials, fault_proxy_factory, tmp_path
):
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("404", retry_after=None), path="讲话 稿"),
        Rule(Fault("403", retry_after=None), path="固定资产清单"),
    ])
    res = assemble(proxy.url("corpus"), tmp_path / "b.zip")
    idx = index_of(res.bundle.path)
    reasons = {e["source"]: e["reason"] for e in idx["exceptions"]}
    assert "404" in reasons["讲话 稿.txt"] and "403" in reasons["财务#100%/固定资产清单.txt"]
    assert all("无法获取" in reasons[k] for k in ("讲话 稿.txt", "财务#100%/固定资产清单.txt"))
    assert len(idx["items"]) + len(idx["exceptions"]) == 9
    assert len([r for r in proxy.records if "讲话" in r.path]) == 1  # a 404 is not retried


def test_wrong_password_is_not_retried_and_never_shown(dav_server, dav_corpus, tmp_path, capsys):
    wrong = "Wr0ng-Secret-9931"
    host = dav_server.base.split("//", 1)[1]
    code = cli.main(["assemble", f"http://{DAV_USER}:{wrong}@{host}/corpus/", "-o", str(tmp_path / "b.zip")])
    out, err = capsys.readouterr()
    assert code == 1 and not (tmp_path / "b.zip").exists()
    assert "401" in err and "应用密码" in err and wrong not in out + err
    assert len(dav_server.log()) == 1  # one refused PROPFIND, no retries


def test_cli_url_credentials_assemble_and_file(dav_server, dav_corpus, tmp_path, capsys):
    host = dav_server.base.split("//", 1)[1]
    src = f"http://{DAV_USER}:{DAV_PASSWORD}@{host}/corpus/"  # last resort, but it must work
    out_zip = tmp_path / "b.zip"
    code = cli.main(["assemble", src, "-o", str(out_zip), "--leader", "张三",
                     "--file-to", f"http://{DAV_USER}:{DAV_PASSWORD}@{host}/dossiers/", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["filed"]["location"] == f"{dav_server.base}/dossiers/"
    assert (dav_server.root / "dossiers" / "b.zip").read_bytes() == out_zip.read_bytes()
    assert DAV_PASSWORD not in out + err and DAV_PASSWORD.encode() not in all_text(out_zip)
    assert index_of(out_zip)["bundle"]["source"] == f"{dav_server.base}/corpus/"
    # `dossier file` tags the recorded source folder only on the server it files to.
    assert recorded_source(out_zip, near=f"{dav_server.base}/dossiers/") == f"{dav_server.base}/corpus/"
    assert recorded_source(out_zip, near="https://other.example/dossiers/") is None
    code = cli.main(["file", str(out_zip), f"http://{DAV_USER}:{DAV_PASSWORD}@{host}/dossiers/"])
    out, err = capsys.readouterr()
    assert code == 0 and "未重复上传" in out and DAV_PASSWORD not in out + err


def test_netrc_credentials(dav_server, dav_corpus, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {dav_server.host} login {DAV_USER} password {DAV_PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    conn = open_connector(dav_server.url("corpus"))
    assert conn.http.credentials.origin == "netrc"
    assert len(list(conn.walk())) == 9


def test_missing_source_folder_is_a_clear_error(dav_server, dav_credentials):
    with pytest.raises(ConnectorError, match="来源文件夹不存在"):
        list(open_connector(dav_server.url("没有这个文件夹")).walk())


# -- credentials (no server needed) ------------------------------------------------------

def test_redact_and_scrub() -> None:
    assert redact("https://u:p%40ss@cloud.example:8443/remote.php/dav/files/u/?token=abc&x=1") == (
        "https://cloud.example:8443/remote.php/dav/files/u/?token=***&x=1")
    creds = Credentials("u", "s3cr3t-pw", "url")
    assert "s3cr3t-pw" not in repr(creds)
    text = scrub("failed for https://u:s3cr3t-pw@h/x with s3cr3t-pw and " + creds.secrets()[0], creds.secrets())
    assert "s3cr3t-pw" not in text and "@h" not in text


def test_credential_order(monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine h.example login n password from-netrc\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    clean, c = resolve("https://url-user:from-url@h.example/dav/")
    assert clean == "https://h.example/dav/" and (c.user, c.password, c.origin) == ("n", "from-netrc", "netrc")
    monkeypatch.setenv("DOSSIER_PASSWORD", "from-env")
    monkeypatch.setenv("DOSSIER_HOST", "h.example")  # the server the password belongs to
    _, c = resolve("https://url-user:from-url@h.example/dav/")
    assert (c.user, c.password, c.origin) == ("url-user", "from-env", "env")
    # ... and only to it (docs/SECURITY.md, "credentials go only where configured")
    _, c = resolve("https://url-user:from-url@other.example/dav/")
    assert (c.password, c.origin) == ("from-url", "url")
    with pytest.raises(ConnectorError, match="只发送给 DOSSIER_HOST"):
        resolve("https://other.example/dav/")
    monkeypatch.delenv("DOSSIER_HOST")
    with pytest.raises(ConnectorError, match="未用 DOSSIER_HOST 指定"):
        resolve("https://other.example/dav/")
    monkeypatch.delenv("DOSSIER_PASSWORD")
    _, c = resolve("https://url-user:from-url@other.example/dav/")
    assert (c.user, c.password, c.origin) == ("url-user", "from-url", "url")
    assert resolve("https://other.example/dav/") == ("https://other.example/dav/", None)


def test_threads_share_one_connector(dav_server, dav_corpus, dav_credentials):
    conn = open_connector(dav_server.url("corpus"))
    entries = list(conn.walk())
    results: dict[str, bytes] = {}

    def read(e):
        with conn.open(e) as f:
            results[e.path] = f.read()

    threads = [threading.Thread(target=read, args=(e,)) for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[e.path] == (dav_corpus / e.path).read_bytes() for e in entries if e.path != nfc(NFD_NAME))
