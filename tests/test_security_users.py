"""Per-user isolation (docs/SECURITY.md, findings 1-3): two real Nextcloud users, A and B.

The ExApp is served by uvicorn on loopback; each request carries the AppAPI headers of the
user it is for, exactly as AppAPI's proxy sends them. What the app asks Nextcloud (who a user
is, which groups) is answered from the recorded ``ocs-v2-cloud-user.json`` (see
test_app_nextcloud.NextcloudReplay). The DMS is the per-user local stand-in of ExApp mode:
``<root>/<user>/`` is that user's files, so reading "as A" and "as B" are different folders.

Every test here replays an attack from the security review and shows it now fails.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import requests
from handover_dossier.app.config import load_settings
from handover_dossier.app.records import registry
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.web import create_app
from test_app_flows import LoopbackServer, make_corpus, wait_for
from test_app_nextcloud import NextcloudReplay, auth_headers, exapp_env, replay_received

A, B = "archivist", "bob"  # A is the recorded user; B another ordinary user
ADMIN, STAFF = "admin", "dana"  # a Nextcloud administrator; a member of the archivist group
GROUP = "档案管理员"


@pytest.fixture()
def nextcloud(shared_dir: Path):
    nc = NextcloudReplay(shared_dir)
    nc.groups.update({ADMIN: ["admin"], STAFF: [GROUP]})
    yield nc
    nc.close()


@pytest.fixture()
def app(tmp_path: Path, nextcloud: NextcloudReplay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOSSIER_PDF", "0")
    env = {**exapp_env(tmp_path, nextcloud), "DOSSIER_ARCHIVIST_GROUP": GROUP}
    make_corpus(tmp_path / "dms" / B / "交接材料" / "李四-2018-2023")
    svc = Service(load_settings(env))
    with LoopbackServer(create_app(svc)) as srv:
        yield svc, srv, env


def get(srv: LoopbackServer, user: str, path: str, **kw) -> requests.Response:
    return requests.get(srv.url + path, headers=auth_headers(user), timeout=60, **kw)


def post(srv: LoopbackServer, user: str, path: str, **kw) -> requests.Response:
    return requests.post(srv.url + path, headers=auth_headers(user), timeout=60, allow_redirects=False, **kw)


def a_draft(svc: Service, srv: LoopbackServer, shared_dir: Path) -> dict:
    """A's real Files-menu click (the recorded request), run to the end."""
    click = replay_received(shared_dir, "appapi-exapp-received-file-action", srv, user=A)
    assert click.status_code == 200, click.text
    job_id = click.json()["jobs"][0]["id"]
    job = wait_for(lambda: (j := svc.queue.get(job_id)).status in ("done", "failed") and j, "A's draft")
    assert job.status == "done", job.error
    return get(srv, A, f"api/v1/jobs/{job_id}").json()


def test_b_cannot_list_read_retry_or_watch_a_jobs(app, shared_dir: Path) -> None:
    svc, srv, _env = app
    job = a_draft(svc, srv, shared_dir)
    # A sees their job and its notifications ...
    assert [j["id"] for j in get(srv, A, "api/v1/jobs").json()["jobs"]] == [job["id"]]
    wait_for(lambda: len(get(srv, A, "api/v1/notifications").json()["notifications"]) >= 2, "A's notifications")
    # ... B sees nothing of it: not in the list, not by id, not by file id, not on the status page
    assert get(srv, B, "api/v1/jobs").json()["jobs"] == []
    assert get(srv, B, f"api/v1/jobs?ids={job['id']}").json()["jobs"] == []
    assert get(srv, B, "api/v1/jobs?fileIds=326").json()["jobs"] == []
    assert get(srv, B, f"api/v1/jobs/{job['id']}").status_code == 404
    page = get(srv, B, f"status?job={job['id']}").text
    assert f'data-id="{job["id"]}"' not in page and job["path"] not in page and "张三" not in page
    assert get(srv, B, "api/v1/notifications").json()["notifications"] == []
    # B cannot re-run A's job (it would read A's files as A): same answer as a job that does not exist
    r = post(srv, B, f"api/v1/jobs/{job['id']}/retry")
    assert r.status_code == 404
    assert len(svc.queue.list(viewer=SYSTEM)) == 1 + sum(1 for j in svc.queue.list(viewer=SYSTEM) if j.kind == "scan")
    # A member of the archivist group sees A's job, but the app does not act as A for them either
    staff = get(srv, STAFF, "api/v1/jobs").json()["jobs"]
    assert [j["id"] for j in staff if j["kind"] == "assemble"] == [job["id"]]
    assert post(srv, STAFF, f"api/v1/jobs/{job['id']}/retry").status_code == 403
    assert get(srv, STAFF, "api/v1/notifications").json()["notifications"] == []  # notifications stay personal
    # A's own retry of a finished job is refused for its status, not its owner
    assert post(srv, A, f"api/v1/jobs/{job['id']}/retry").status_code == 409


def file_bundle_for(svc: Service, env: dict[str, str], user: str, bundle: Path) -> dict:
    """A bundle filed into ``user``'s dossier folder and recorded in the registry, as the
    archive job does (the bundle is a real one; its index comes from it)."""
    folder = "/干部人事档案/陈立华"
    dest = Path(env["DOSSIER_DMS_ROOT"]) / user / folder.strip("/")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle, dest / bundle.name)
    from handover_dossier.hashing import digest_file

    digests, size = digest_file(bundle, ("sha256",))
    registry.record_bundle(svc.engine, registry.read_index(bundle),
                           registry.Filed(svc.dms.kind, user, folder, bundle.name, digests["sha256"], size))
    with zipfile.ZipFile(bundle) as zf:
        return json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("data/index.json"))))["bundle"]


def test_b_cannot_find_view_download_or_verify_a_bundle(app, good_bundle: Path) -> None:
    svc, srv, env = app
    code = file_bundle_for(svc, env, A, good_bundle)["archival_code"]
    # A: search, detail, download (verified) all work
    assert [b["archival_code"] for b in get(srv, A, "api/v1/bundles").json()["bundles"]] == [code]
    dl = get(srv, A, f"api/v1/bundles/{code}/download")
    assert dl.status_code == 200 and dl.content == good_bundle.read_bytes()
    # B: the bundle does not exist, whichever way B asks
    assert get(srv, B, "api/v1/bundles").json()["bundles"] == []
    assert get(srv, B, "api/v1/bundles", params={"q": "陈立华"}).json()["bundles"] == []
    for path in (f"api/v1/bundles/{code}", f"api/v1/bundles/{code}/download", f"bundle?code={code}",
                 f"download?code={code}"):
        r = get(srv, B, path)
        assert r.status_code == 404, path
        assert "陈立华" not in r.text and "PK" not in r.text[:2]
    assert post(srv, B, f"api/v1/bundles/{code}/verify").status_code == 404
    assert "陈立华" not in get(srv, B, "search").text
    # the access log: not for A or B (ordinary users), for the administrator Nextcloud reports
    for user in (A, B, STAFF):
        r = get(srv, user, "api/v1/access-log")
        assert r.status_code == 403 and "管理员" in r.json()["error"]
    log = get(srv, ADMIN, "api/v1/access-log").json()["entries"]
    assert {(e["who"], e["action"], e["result"]) for e in log} >= {(A, "download", "ok"), (B, "download", "not-found")}
    # the archivist group sees A's bundle; fetching it reads the DMS as the staff member, never as A
    # (dana has no copy in her own files, so nothing of A's is read or handed over)
    assert [b["archival_code"] for b in get(srv, STAFF, "api/v1/bundles").json()["bundles"]] == [code]
    r = get(srv, STAFF, f"api/v1/bundles/{code}/download")
    assert r.status_code == 502 and "不存在" in r.json()["error"]
    assert "who" not in (get(srv, STAFF, f"api/v1/bundles/{code}").json().get("last_check") or {})


def test_admin_flag_comes_from_nextcloud_and_fails_closed(app, nextcloud: NextcloudReplay) -> None:
    svc, srv, _env = app
    assert get(srv, ADMIN, "api/v1/access-log").status_code == 200
    asked = nextcloud.sent("/ocs/v2.php/cloud/user", "GET")
    assert asked and json.loads(json.dumps(asked[-1]["headers"]))["EX-APP-ID"]
    # Nextcloud cannot be asked (secret refused, outage): nobody is an administrator
    svc._principals.clear()
    nextcloud.reject_all = True
    assert get(srv, ADMIN, "api/v1/access-log").status_code == 403
    assert get(srv, STAFF, "api/v1/bundles").json()["bundles"] == []


def test_b_case_never_lends_its_leader_or_place_to_a(app, shared_dir: Path) -> None:
    svc, srv, env = app
    # B opens cases naming A's folder, and naming the leader in A's folder name
    for body in ({"leader": "冒名者", "unit": "乙单位", "post": "处长", "folder": "/交接材料/张三-2019-2024",
                  "announced": "2024-07-10"},
                 {"leader": "张三", "unit": "乙单位", "post": "科长", "announced": "2024-07-10"}):
        r = post(srv, B, "api/v1/cases", json=body)
        assert r.status_code == 201, r.text
    assert len(get(srv, B, "api/v1/cases").json()["cases"]) == 2
    assert get(srv, A, "api/v1/cases").json()["cases"] == []  # and A does not see B's cases
    draft = a_draft(svc, srv, shared_dir)
    folder = Path(env["DOSSIER_DMS_ROOT"]) / A / draft["result"]["handover_path"].strip("/")
    with zipfile.ZipFile(folder / draft["result"]["draft_name"]) as zf:
        b = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("data/index.json"))))["bundle"]
    assert (b["leader"], b["unit"], b["post"]) == ("张三", "", "")  # from A's folder name only
    assert all(c["draft_at"] is None for c in get(srv, B, "api/v1/cases").json()["cases"])
    # B's assembly of "the same" path reads B's files, not A's
    node = {"fileId": 326, "name": "张三-2019-2024", "directory": "/交接材料", "etag": "x", "mime": "httpd/unix-directory"}
    job_id = post(srv, B, "api/v1/files-action", json={"files": [node]}).json()["jobs"][0]["id"]
    failed = wait_for(lambda: (j := svc.queue.get(job_id)).status in ("done", "failed") and j, "B's job")
    assert failed.status == "failed" and failed.user == B
    assert str(Path(env["DOSSIER_DMS_ROOT"])) not in failed.error  # no server paths in job errors


@pytest.mark.parametrize("method, path, body", [
    ("GET", "api/v1/jobs/99999999999999999999999999", None),
    ("GET", "api/v1/jobs/-1", None),
    ("POST", "api/v1/jobs/18446744073709551616/retry", None),
    ("GET", "api/v1/jobs?ids=99999999999999999999999,1", None),
    ("GET", "status?job=99999999999999999999999", None),
    ("GET", "api/v1/bundles/..%2F..%2Fetc%2Fpasswd", None),
    ("GET", "bundle?code=../../etc/passwd", None),
    ("POST", "api/v1/files-action", {"files": [{"fileId": 1, "name": "..", "directory": "/../..",
                                                "mime": "httpd/unix-directory"}]}),
    ("POST", "api/v1/files-action", {"files": [{"fileId": 1, "name": "x", "directory": ["a"],
                                                "mime": "httpd/unix-directory"}]}),
    ("POST", "api/v1/cases", {"leader": "张三", "announced": "2024-07-10", "folder": "/a/../../b"}),
    ("POST", "api/v1/cases", {"leader": "张三", "announced": "99999-99-99"}),
    ("POST", "api/v1/cases", ["not", "an", "object"]),
])
def test_hostile_ids_and_paths_get_a_4xx_not_a_500(app, method: str, path: str, body) -> None:
    _svc, srv, _env = app
    r = requests.request(method, srv.url + path, headers=auth_headers(A), json=body, timeout=30, allow_redirects=False)
    assert 400 <= r.status_code < 500 or (r.status_code == 200 and method == "GET"), (r.status_code, r.text[:200])
    if r.status_code == 200:
        assert "etc/passwd" not in r.text or "没有" in r.text
