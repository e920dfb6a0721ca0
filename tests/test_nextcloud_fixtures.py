"""The Nextcloud connector against exchanges recorded from a real Nextcloud 27 server.

No Nextcloud can run here, so a small loopback HTTP server *replays* the recorded
responses in ``../shared/fixtures/nextcloud/`` (status, headers, body exactly as
recorded) and keeps what our client sent. Each test checks both directions: the
request we build (method, percent-encoding of the path, Depth, Destination,
OC-Total-Length, body) against the recorded request, and our parsing of the recorded
answer. A request the recordings do not contain gets status 599 ("not recorded"), never
an invented answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
import unicodedata
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from handover_dossier.connectors import (
    AuthenticationError,
    ConnectorError,
    DocumentUnavailable,
    QuotaExceededError,
)
from handover_dossier.connectors import open_connector as open_webdav
from handover_dossier.connectors.credentials import Credentials
from handover_dossier.connectors.http import HttpError, RetryPolicy, TransferInterrupted
from handover_dossier.connectors.nextcloud import NC_PROPS, NextcloudConnector, parse_checksums, search_body
from handover_dossier.connectors.webdav import parse_multistatus, propfind_body
from handover_dossier.transfer.fetch import Fetcher

SECRET = "app-password-never-shown-4711"
ROOT = "/remote.php/dav/files/archivist/交接材料/张三-2019-2024/"
UPLOAD_DIR = re.compile(r"(/remote\.php/dav/uploads/archivist/)[^/]+")
DROP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "set-cookie", "host"}


def load(shared: Path, name: str) -> Any:
    return json.loads((shared / "fixtures" / "nextcloud" / f"{name}.json").read_text(encoding="utf-8"))


def body_bytes(body: Any) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, dict) and "base64" in body:
        return base64.b64decode(body["base64"])
    return b""


def _norm(path: str) -> str:
    return UPLOAD_DIR.sub(r"\1<upload>", unquote(urlsplit(path).path)).rstrip("/")


class Replay:
    """Serves recorded exchanges on 127.0.0.1 and records the requests it gets.

    ``sequential``: a flow; the n-th request gets the n-th recorded answer (paths must
    match, an upload folder's random name aside). Otherwise answers are looked up by
    method, decoded path and Depth.
    """

    def __init__(self, exchanges: list[dict], *, sequential: bool = False) -> None:
        self.exchanges = exchanges
        self.sequential = sequential
        self.received: list[dict] = []
        self._lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body}
                ex = replay.answer(req)
                if ex is None:
                    payload = b"not recorded"
                    self.send_response(599, "Not Recorded")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                resp = ex["response"]
                payload = body_bytes(resp.get("body")) if self.command != "HEAD" else b""
                self.send_response(resp["status"], resp.get("reason"))
                for k, v in resp["headers"].items():
                    if k.lower() in DROP_HEADERS:
                        continue
                    for item in v if isinstance(v, list) else [v]:
                        self.send_header(k, item)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, req: dict) -> dict | None:
        with self._lock:
            self.received.append(req)
            if self.sequential:
                i = len(self.received) - 1
                if i >= len(self.exchanges):
                    return None
                ex = self.exchanges[i]
                rec = ex["request"]
                if rec["method"] != req["method"] or _norm(rec["url_path"]) != _norm(req["path"]):
                    return None
                return ex
            for ex in self.exchanges:
                rec = ex["request"]
                if rec["method"] != req["method"] or _norm(rec["url_path"]) != _norm(req["path"]):
                    continue
                if "Depth" in rec["headers"] and rec["headers"]["Depth"] != req["headers"].get("Depth"):
                    continue
                return ex
            return None

    def url(self, path: str = ROOT) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay_factory():
    servers: list[Replay] = []

    def make(exchanges: list[dict], *, sequential: bool = False) -> Replay:
        r = Replay(exchanges, sequential=sequential)
        servers.append(r)
        return r

    yield make
    for r in servers:
        r.close()


def connector(replay: Replay, path: str = ROOT, sleeps: list | None = None, **options: Any) -> NextcloudConnector:
    policy = RetryPolicy(attempts=3, backoff=0.0, locked_attempts=2, locked_backoff=0.0,
                         sleep=(sleeps.append if sleeps is not None else (lambda s: None)))
    return NextcloudConnector(replay.url(path), credentials=Credentials("archivist", SECRET, "env"), policy=policy,
                              **options)


def prop_names(xml: bytes, container: str = "{DAV:}prop") -> list[str]:
    root = ET.fromstring(xml)
    prop = next(root.iter(container))
    return [el.tag for el in prop]


def same_destination(ours: str, recorded: str) -> bool:
    a, b = urlsplit(ours), urlsplit(recorded)
    return a.scheme == b.scheme and a.path == b.path  # the host is the replay's port, not :8080


# -- listing ----------------------------------------------------------------------------

def test_walk_builds_recorded_requests_and_parses_answers(shared_dir: Path, replay_factory) -> None:
    # 财务/ was only recorded with an empty (allprop) body: its answer lacks the oc:/nc:
    # properties, which the connector must tolerate (no id: the cache falls back to the path).
    names = ["propfind-depth1-chinese-folder", "propfind-depth1-chinese-subfolder-files",
             "propfind-depth1-subfolder-tags", "propfind-depth1-allprop-empty-body"]
    fixtures = {n: load(shared_dir, n) for n in names}
    replay = replay_factory(list(fixtures.values()))
    conn = connector(replay)
    entries = list(conn.walk())

    assert [e.path for e in entries] == [
        "总结/2019-2023年度工作总结.pdf",
        "总结/述职报告 2023 #终稿 (完成率 100%).txt",
        "移交说明.txt",
        "计划/2020年度工作计划.docx",
        "计划/2021年工作要点.txt",
        "财务/2023年度经费收支表.xlsx",
        "财务/固定资产清单.txt",
    ]
    # Requests: one Depth-1 PROPFIND per folder, paths encoded exactly as recorded.
    assert [r["method"] for r in replay.received] == ["PROPFIND"] * 4
    recorded_paths = {fx["request"]["url_path"] for fx in fixtures.values()}
    assert {r["path"] for r in replay.received} == recorded_paths
    full = fixtures["propfind-depth1-chinese-folder"]["request"]
    for r in replay.received:
        assert r["headers"]["Depth"] == "1"
        assert r["headers"]["Content-Type"] == full["headers"]["Content-Type"]
        assert r["body"] == full["body"].encode("utf-8")  # byte for byte the recorded body
    ns = {"d": "DAV:", "oc": "http://owncloud.org/ns", "nc": "http://nextcloud.org/ns"}
    assert prop_names(replay.received[0]["body"]) == [f"{{{ns[p]}}}{n}" for p, n in NC_PROPS]

    by = {e.path: e for e in entries}
    pdf = by["总结/2019-2023年度工作总结.pdf"]
    assert (pdf.id, pdf.size, pdf.etag) == ("336", 2896, "a675865373f1e5834a44d81034ee7157")
    assert pdf.checksums == {"sha1": "95cc079bdfb877ec6a4b41fe395d456aa0d3d452"}
    assert pdf.tags == ("移交材料",)
    assert pdf.mtime == dt.datetime(2023, 12, 28, 1, 30, tzinfo=dt.UTC).timestamp()
    assert pdf.content_type == "application/pdf"
    assert by["移交说明.txt"].tags == ("移交材料",)
    assert by["计划/2020年度工作计划.docx"].tags == ("待移交", "重要")  # private tags (oc:tags)
    assert by["财务/固定资产清单.txt"].id == ""  # allprop answer: no oc:fileid
    assert by["财务/固定资产清单.txt"].etag == "acb45312420bbdd1b6fbdc15102b8152"
    # Nextcloud facts kept beside the entries: shared subfolder, permissions.
    assert conn.nodes["总结/2019-2023年度工作总结.pdf"].permissions == "RGDNVW"


def test_shared_mount_is_walked_like_a_folder(shared_dir: Path) -> None:
    # Parsing only: the user root lists the folder admin shared with archivist.
    fx = load(shared_dir, "propfind-depth1-user-root-shared-mount")
    conn = NextcloudConnector("http://127.0.0.1:8080/remote.php/dav/files/archivist/", credentials=None)
    res = {r.path: r for r in parse_multistatus(fx["response"]["body"].encode())}
    shared = res["/remote.php/dav/files/archivist/档案室共享模板/"]
    assert shared.is_collection
    conn.entry_from("档案室共享模板", shared)
    info = conn.nodes["档案室共享模板"]
    assert (info.mount_type, info.owner, info.permissions) == ("shared", "admin", "SGDNV")
    assert conn._rel(shared.path) == "档案室共享模板"


def test_checksums_parsing() -> None:
    el = ET.fromstring('<oc:checksums xmlns:oc="http://owncloud.org/ns"><oc:checksum>SHA1:AB MD5:cd ADLER32:01'
                       "</oc:checksum></oc:checksums>")
    assert parse_checksums(el) == {"sha1": "ab", "md5": "cd"}  # adler32 cannot be recomputed by hashlib
    assert parse_checksums(None) == {}


# -- SEARCH (--only-term) ---------------------------------------------------------------

def test_search_by_term_request_and_answer(shared_dir: Path, replay_factory) -> None:
    fx = load(shared_dir, "search-lastmodified-range")
    replay = replay_factory([fx])
    conn = connector(replay, "/remote.php/dav/files/archivist/交接材料/")
    entries = list(conn.walk_modified("2021-01-01", "2023-12-31"))
    assert [e.path for e in entries] == [
        "张三-2019-2024/总结/2019-2023年度工作总结.pdf",
        "张三-2019-2024/总结/述职报告 2023 #终稿 (完成率 100%).txt",
        "张三-2019-2024/计划/2021年工作要点.txt",
        "张三-2019-2024/财务/固定资产清单.txt",
    ]
    assert entries[0].id == "336" and entries[0].size == 2896
    [req] = replay.received
    rec = fx["request"]
    assert (req["method"], req["path"]) == (rec["method"], rec["url_path"])
    assert req["headers"]["Content-Type"] == rec["headers"]["Content-Type"]
    ours, theirs = ET.fromstring(req["body"]), ET.fromstring(rec["body"].encode())
    d = "{DAV:}"
    # Same shape: scope (raw UTF-8 path, depth infinity) and and(gt, lt) on d:getlastmodified.
    assert ours.find(f"{d}basicsearch/{d}from/{d}scope/{d}href").text == theirs.find(
        f"{d}basicsearch/{d}from/{d}scope/{d}href").text == "/files/archivist/交接材料"
    assert ours.find(f"{d}basicsearch/{d}from/{d}scope/{d}depth").text == "infinity"
    for tree in (ours, theirs):
        cond = tree.find(f"{d}basicsearch/{d}where/{d}and")
        assert [c.tag for c in cond] == [f"{d}gt", f"{d}lt"]
        assert all(c.find(f"{d}prop/{d}getlastmodified") is not None for c in cond)
    literals = [c.find(f"{d}literal").text for c in ours.find(f"{d}basicsearch/{d}where/{d}and")]
    # Term days are China time: 2021-01-01 00:00 CST = 2020-12-31 16:00 UTC (gt: one second before).
    assert literals == ["2020-12-31T15:59:59Z", "2023-12-31T16:00:00Z"]
    # We select the full listing property set (the recording selected a subset; Nextcloud's
    # SEARCH answers any DAV property, docs/nextcloud-integration.md §3.3); no d:limit.
    assert "{http://nextcloud.org/ns}system-tags" in prop_names(req["body"])


def test_search_errors_are_clear_and_not_retried(shared_dir: Path, replay_factory) -> None:
    replay = replay_factory([load(shared_dir, "search-bad-scope-other-user")])
    conn = connector(replay, "/remote.php/dav/files/archivist/交接材料/")
    with pytest.raises(ConnectorError, match="当前用户自己的文件夹"):
        list(conn.walk_modified("2021-01-01", "2023-12-31"))
    assert len(replay.received) == 1  # a 500 for a bad scope is not worth retrying
    replay2 = replay_factory([load(shared_dir, "search-bad-scope-missing-folder")])
    with pytest.raises(ConnectorError, match="不存在"):
        list(connector(replay2, "/remote.php/dav/files/archivist/交接材料/").walk_modified("2021-01-01", "2023-12-31"))


def test_search_body_escapes_scope() -> None:
    body = search_body("/files/u/a&b<c", dt.datetime(2021, 1, 1, tzinfo=dt.UTC), dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
    assert ET.fromstring(body).find("{DAV:}basicsearch/{DAV:}from/{DAV:}scope/{DAV:}href").text == "/files/u/a&b<c"


# -- GET ----------------------------------------------------------------------------------

def test_get_special_name_path_encoding(shared_dir: Path, replay_factory) -> None:
    fx = load(shared_dir, "get-file-name-with-hash-percent-space")
    listing = load(shared_dir, "propfind-depth1-chinese-subfolder-files")
    replay = replay_factory([fx])
    conn = connector(replay)
    res = next(r for r in parse_multistatus(listing["response"]["body"].encode()) if "述职报告" in r.path)
    entry = conn.entry_from("总结/" + res.name, res)
    with conn.open(entry) as f:
        data = f.read()
    assert data == body_bytes(fx["response"]["body"])
    # %20, %23, %25, %28, %29: exactly the recorded request line.
    assert replay.received[0]["path"] == fx["request"]["url_path"]


def test_fetch_verifies_server_checksum(shared_dir: Path, replay_factory, tmp_path: Path) -> None:
    fx = load(shared_dir, "get-file-pdf")
    listing = load(shared_dir, "propfind-depth1-chinese-subfolder-files")
    replay = replay_factory([fx])
    conn = connector(replay)
    res = next(r for r in parse_multistatus(listing["response"]["body"].encode()) if r.path.endswith(".pdf"))
    entry = conn.entry_from("总结/" + res.name, res)
    got = Fetcher(conn, tmp_path / "cache").fetch(entry)
    data = body_bytes(fx["response"]["body"])
    assert got.size == 2896 and got.local.read_bytes() == data
    assert hashlib.sha1(data).hexdigest() == entry.checksums["sha1"]  # the recorded oc:checksums held
    assert replay.received[0]["path"] == fx["request"]["url_path"]
    # A listing whose checksum does not match what arrives: the document is refused.
    import dataclasses

    bad = dataclasses.replace(entry, checksums={"sha1": "0" * 40}, id="other")
    with pytest.raises(DocumentUnavailable, match="SHA1"):
        Fetcher(conn, tmp_path / "cache2").fetch(bad)


def test_missing_file_404_is_a_document_problem(shared_dir: Path, replay_factory) -> None:
    fx = load(shared_dir, "error-get-missing-file-404")
    replay = replay_factory([fx])
    conn = connector(replay)
    from handover_dossier.connectors import Entry

    path = unquote(fx["request"]["url_path"])
    with pytest.raises(DocumentUnavailable, match="404"):
        conn.open(Entry(path="不存在的文件.pdf", size=1, ref=path))
    assert len(replay.received) == 1


# -- errors -------------------------------------------------------------------------------

def test_wrong_app_password_401_is_not_retried(shared_dir: Path, replay_factory) -> None:
    fx = load(shared_dir, "error-wrong-app-password-401")
    # Recorded as PROPFIND Depth 0 of the user root; walk sends Depth 1 to the same URL. The
    # answer to a wrong password does not depend on Depth, so Depth is not matched here.
    fx["request"]["headers"].pop("Depth", None)
    replay = replay_factory([fx])
    conn = connector(replay, "/remote.php/dav/files/archivist/")
    with pytest.raises(AuthenticationError) as info:
        list(conn.walk())
    assert len(replay.received) == 1  # never retried: repeated failures feed brute-force throttling
    msg = str(info.value)
    assert "401" in msg and "应用密码" in msg and "用户 archivist" in msg and SECRET not in msg


def test_maintenance_503_is_retried_then_reported(shared_dir: Path, replay_factory) -> None:
    fx = load(shared_dir, "maintenance-propfind-503")
    fx["request"]["headers"].pop("Depth", None)
    replay = replay_factory([fx])
    sleeps: list[float] = []
    conn = connector(replay, sleeps=sleeps)
    with pytest.raises(TransferInterrupted, match="维护模式"):
        list(conn.walk())
    assert len(replay.received) == 3 and len(sleeps) == 2  # attempts=3: two waits between


def test_quota_precheck_and_507_on_put(shared_dir: Path, replay_factory, tmp_path: Path) -> None:
    flow = load(shared_dir, "quota-exceeded-put-507")
    replay = replay_factory(flow[1:])
    conn = connector(replay, "/remote.php/dav/files/archivist/")
    with pytest.raises(QuotaExceededError, match="需要 2,097,152 字节，可用 1,076,180 字节"):
        conn.before_upload("/remote.php/dav/files/archivist/", 2097152)
    sent = replay.received[0]
    rec = flow[1]["request"]
    assert (sent["method"], sent["path"], sent["headers"]["Depth"]) == ("PROPFIND", rec["url_path"], "0")
    recorded_props = prop_names(rec["body"].encode())
    assert set(recorded_props) <= set(prop_names(sent["body"]))  # plus oc:permissions (create right)
    # The PUT itself: Content-Length is sent, so the server refuses with 507 before storing.
    big = tmp_path / "超出配额.bin"
    big.write_bytes(b"\0" * 2097152)
    put_path = unquote(flow[2]["request"]["url_path"])
    with pytest.raises(QuotaExceededError, match="存储空间不足") as info:
        conn.upload_file(put_path, big, big.stat().st_size)
    assert "2,097,152" in str(info.value)
    put = replay.received[-1]
    assert put["method"] == "PUT" and put["headers"]["Content-Length"] == "2097152"
    assert put["path"] == flow[2]["request"]["url_path"]


# -- uploads ------------------------------------------------------------------------------

def pattern_file(path: Path, unit: bytes, size: int) -> Path:
    path.write_bytes((unit * (size // len(unit) + 1))[:size])
    return path


def test_chunked_upload_v2_matches_recorded_flow(shared_dir: Path, replay_factory, tmp_path: Path) -> None:
    flow = load(shared_dir, "chunked-upload-v2-12mb")
    replay = replay_factory(flow, sequential=True)
    conn = connector(replay, chunk_threshold=10 << 20, chunk_size=5 << 20)
    # The recorded file is a 32-byte pattern repeated to 12,928,590 bytes (chunk hashes agree).
    unit = base64.b64decode(flow[1]["request"]["body"]["base64"])[:32]
    src = pattern_file(tmp_path / "张三-2019-2024-完整包.zip", unit, 12928590)
    final = ROOT + "归档包/张三-2019-2024-完整包.zip"
    conn.chunked_upload(final, src, src.stat().st_size)
    entry = conn.confirm("归档包/张三-2019-2024-完整包.zip", src.stat().st_size)

    sent = replay.received
    assert [r["method"] for r in sent] == [ex["request"]["method"] for ex in flow]
    for ours, ex in zip(sent, flow, strict=True):
        rec = ex["request"]
        assert _norm(ours["path"]) == _norm(rec["url_path"])
        assert UPLOAD_DIR.sub("", ours["path"]) == UPLOAD_DIR.sub("", rec["url_path"])  # encoding too
        if "Destination" in rec["headers"]:
            assert same_destination(ours["headers"]["Destination"], rec["headers"]["Destination"])
        if "OC-Total-Length" in rec["headers"]:
            assert ours["headers"]["OC-Total-Length"] == rec["headers"]["OC-Total-Length"] == "12928590"
        if rec["method"] == "PUT":
            assert hashlib.sha256(ours["body"]).hexdigest() == rec["body"]["original_sha256"]
            assert len(ours["body"]) == rec["body"]["original_length"]
    assert [r["path"].rsplit("/", 1)[-1] for r in sent[1:5]] == ["00001", "00002", "00003", ".file"]
    # All chunks went to one upload folder under /uploads/<user>/.
    assert len({UPLOAD_DIR.match(r["path"]).group(0) for r in sent[:5]}) == 1
    # Read back after the MOVE: size, etag and id of what arrived.
    assert (entry.size, entry.etag, entry.id) == (12928590, "ec219c8b6028fc6980736aefc4e2aef2", "358")


def test_chunked_upload_over_quota_fails_at_move_and_aborts(shared_dir: Path, replay_factory, tmp_path: Path) -> None:
    flow = load(shared_dir, "quota-chunked-upload")
    replay = replay_factory(flow, sequential=True)
    conn = connector(replay)
    # Only the first 4 KB of the recorded chunk are stored: same sizes, not the same bytes.
    unit = base64.b64decode(flow[1]["request"]["body"]["base64"])
    src = pattern_file(tmp_path / "超出配额-分块.bin", unit, 5243904)
    final = unquote(urlsplit(flow[0]["request"]["headers"]["Destination"]).path)
    with pytest.raises(QuotaExceededError, match="507"):
        conn.chunked_upload(final, src, src.stat().st_size)
    sent = replay.received
    assert [r["method"] for r in sent[:4]] == ["MKCOL", "PUT", "PUT", "MOVE"]
    assert sent[0]["headers"]["OC-Total-Length"] == "5243904"
    assert len(sent[1]["body"]) == flow[1]["request"]["body"]["original_length"] == 5 << 20
    assert len(sent[2]["body"]) == flow[2]["request"]["body"]["length"] == 1024
    # Then the upload folder is given up (DELETE, as in chunked-upload-v2-aborted).
    assert sent[4]["method"] == "DELETE" and _norm(sent[4]["path"]) == _norm(sent[0]["path"])


def test_put_checks_x_hash_and_sends_oc_checksum(shared_dir: Path, replay_factory, tmp_path: Path) -> None:
    fx = load(shared_dir, "put-x-hash-sha256")
    replay = replay_factory([fx, fx])
    conn = connector(replay)
    path = unquote(fx["request"]["url_path"])
    good = tmp_path / "manifest.json"
    good.write_bytes(fx["request"]["body"].encode("utf-8"))
    conn.upload_file(path, good, good.stat().st_size)
    sent = replay.received[0]
    assert sent["path"] == fx["request"]["url_path"]
    assert sent["headers"]["X-Hash"] == "sha256" and sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["OC-Checksum"] == "SHA1:" + hashlib.sha1(good.read_bytes()).hexdigest()
    assert sent["body"] == good.read_bytes()
    # Bytes that are not what the server reports receiving are caught.
    other = tmp_path / "other.json"
    other.write_bytes(b'{"bag": "tampered"}')
    with pytest.raises(ConnectorError, match="SHA-256"):
        conn.upload_file(path, other, other.stat().st_size)


def test_move_and_mkcol_against_recordings(shared_dir: Path, replay_factory) -> None:
    move = load(shared_dir, "move-rename-201")
    move412 = load(shared_dir, "move-overwrite-f-412")
    mk_new, mk_old = load(shared_dir, "mkcol-new-201"), load(shared_dir, "mkcol-existing-405")
    replay = replay_factory([move, move412, mk_new], sequential=True)
    conn = connector(replay)
    src = unquote(move["request"]["url_path"])
    dst = unquote(urlsplit(move["request"]["headers"]["Destination"]).path)
    conn.move(src, dst)
    with pytest.raises(HttpError, match="412") as info:
        conn.move(unquote(move412["request"]["url_path"]),
                  unquote(urlsplit(move412["request"]["headers"]["Destination"]).path), overwrite=False)
    assert info.value.status == 412
    conn._mkcol(unquote(mk_new["request"]["url_path"]))
    sent = replay.received
    assert sent[0]["path"] == move["request"]["url_path"]
    assert same_destination(sent[0]["headers"]["Destination"], move["request"]["headers"]["Destination"])
    assert sent[1]["headers"]["Overwrite"] == "F"
    assert (sent[2]["method"], sent[2]["path"]) == ("MKCOL", mk_new["request"]["url_path"])
    replay2 = replay_factory([mk_old])
    connector(replay2)._mkcol(unquote(mk_old["request"]["url_path"]))  # 405: already there, fine


# -- system tags --------------------------------------------------------------------------

def test_create_tag_when_missing(shared_dir: Path, replay_factory) -> None:
    listing, create = load(shared_dir, "systemtags-propfind-list"), load(shared_dir, "systemtags-create-201")
    replay = replay_factory([listing, create], sequential=True)
    conn = connector(replay)
    assert conn.tag_id("已归档") == "15"  # from Content-Location /remote.php/dav/systemtags/15
    sent = replay.received
    assert (sent[0]["method"], sent[0]["path"], sent[0]["headers"]["Depth"]) == (
        "PROPFIND", listing["request"]["url_path"], "1")
    assert sent[0]["body"] == listing["request"]["body"].encode("utf-8")
    assert (sent[1]["method"], sent[1]["path"]) == ("POST", create["request"]["url_path"])
    assert sent[1]["headers"]["Content-Type"] == "application/json"
    assert json.loads(sent[1]["body"]) == json.loads(create["request"]["body"])
    assert conn.tag_id("已归档") == "15" and len(replay.received) == 2  # cached


def test_existing_tag_is_found_without_creating(shared_dir: Path, replay_factory) -> None:
    replay = replay_factory([load(shared_dir, "systemtags-propfind-list")])
    conn = connector(replay)
    assert conn.tag_id("移交材料") == "14"
    assert [r["method"] for r in replay.received] == ["PROPFIND"]


def test_create_tag_conflict_409_relists(shared_dir: Path, replay_factory) -> None:
    listing, dup = load(shared_dir, "systemtags-propfind-list"), load(shared_dir, "systemtags-create-duplicate-409")
    # The recorded list predates the tag, so after the 409 the tag is still not listed here:
    # the connector must have re-listed (not invented an id) and then report the failure.
    replay = replay_factory([listing, dup, listing], sequential=True)
    conn = connector(replay)
    assert conn.tag_id("已归档") is None
    assert [r["method"] for r in replay.received] == ["PROPFIND", "POST", "PROPFIND"]


def test_assign_tag_201_then_409_is_idempotent(shared_dir: Path, replay_factory) -> None:
    first, again = load(shared_dir, "systemtags-assign-201"), load(shared_dir, "systemtags-assign-again")
    replay = replay_factory([first, again], sequential=True)
    conn = connector(replay)
    assert conn.assign_tag("336", "15", "已归档") is True
    assert conn.assign_tag("336", "15", "已归档") is True  # 409 "already assigned" is success
    assert [r["path"] for r in replay.received] == [first["request"]["url_path"]] * 2
    assert all(r["method"] == "PUT" and r["body"] == b"" for r in replay.received)


# -- names and URLs -------------------------------------------------------------------------

def test_open_webdav_detects_nextcloud_and_normalises_nfc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_PASSWORD", SECRET)
    monkeypatch.setenv("DOSSIER_HOST", "cloud.example,dav.example")
    monkeypatch.delenv("DOSSIER_USER", raising=False)
    nfd = unicodedata.normalize("NFD", "ガイド")
    conn = open_webdav(f"https://cloud.example/remote.php/dav/files/archivist/交接材料/{nfd}")
    assert isinstance(conn, NextcloudConnector)
    assert conn.user == "archivist" and conn.http.credentials.user == "archivist"  # user from the path
    assert conn.root_path == "/remote.php/dav/files/archivist/交接材料/ガイド/"
    assert conn.url_for(conn.root_path).endswith("/%E3%82%AC%E3%82%A4%E3%83%89/")  # NFC bytes, upper-case %XX
    assert SECRET not in repr(conn.http.credentials) and SECRET not in conn.display_url
    generic = open_webdav("https://dav.example/files/a/")
    assert type(generic).__name__ == "WebDavConnector"


def test_propfind_body_matches_recorded_bytes(shared_dir: Path) -> None:
    rec = load(shared_dir, "propfind-depth1-chinese-subfolder-files")["request"]
    assert propfind_body(NC_PROPS) == rec["body"].encode("utf-8")
    assert rec["headers"]["Content-Length"] == str(len(propfind_body(NC_PROPS)))
