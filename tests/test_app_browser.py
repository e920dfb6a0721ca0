"""The Chinese web pages in a real headless browser (Debian's chromium driven by Selenium):
search, catalogue, verification status, and a status page that updates while a job runs.

Screenshots land in the test's temporary folder, or in ``$DOSSIER_SCREENSHOTS`` when set
(that is how they were checked by eye)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from handover_dossier.app import flows
from handover_dossier.app.config import load_settings
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.signing.demosign import make_ca, sign_roles
from handover_dossier.app.web import create_app
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from test_app_flows import LoopbackServer, make_corpus

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture()
def browser():
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Debian's chromium and chromium-driver are needed"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                "--lang=zh-CN"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("DOSSIER_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def click_to_new_page(browser, wait: WebDriverWait, element) -> None:
    """Click something that loads a new page and wait until the old page is gone: elements
    looked up afterwards then belong to the new page (never to the old one, which would go
    stale under the test's hands)."""
    old = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait.until(EC.staleness_of(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_search_catalogue_verify_and_live_status(browser, shots: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    dms = tmp_path / "dms"
    make_corpus(dms / "交接材料" / "张三-2019-2024")
    make_corpus(dms / "交接材料" / "李明-2020-2024")
    ca = make_ca(tmp_path / "ca")
    svc = Service(load_settings({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(dms),
                                 "DOSSIER_POLL_SECONDS": "3600", "DOSSIER_TRUST_ROOT": str(ca.root_cert)}))
    # One handover all the way to the registry, before the server starts.
    node = {"fileId": 1, "name": "张三-2019-2024", "directory": "/交接材料", "etag": "a", "mime": "httpd/unix-directory"}
    job, _ = flows.enqueue_assemble(svc, node, "本机用户")
    svc.queue.drain()
    r = svc.queue.get(job.id).result
    folder = dms / r["handover_path"].strip("/")
    cert = folder / r["cert_name"]
    sign_roles(cert, folder / f"{cert.stem}.signed_1.pdf",
               {"sig_outgoing": "张三", "sig_incoming": "李四", "sig_supervisor": "王五"}, ca)
    svc.poll_once()
    svc.queue.drain()
    code = next(j for j in svc.queue.list(viewer=SYSTEM) if j.kind == "archive").result["archival_code"]

    # Workers stay stopped until the status page is open, so it is seen to update by itself.
    with LoopbackServer(create_app(svc, manage_lifecycle=False)) as srv:
        wait = WebDriverWait(browser, 60)
        browser.get(srv.url + "search")
        assert "档案检索" in browser.title
        browser.find_element(By.ID, "leader").send_keys("张三")
        Select(browser.find_element(By.ID, "category")).select_by_value("C2")
        # The search is a form submission: a new page replaces the one showing 最近归档, whose
        # rows would otherwise be found (and go stale) before the results arrive.
        click_to_new_page(browser, wait, browser.find_element(By.ID, "search-button"))
        rows = wait.until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, "#results tr.result")))
        assert len(rows) == 1 and code in rows[0].text and "张三" in rows[0].text
        assert "检索结果：1 个" in browser.find_element(By.TAG_NAME, "main").text
        browser.save_screenshot(str(shots / "search.png"))

        click_to_new_page(browser, wait, rows[0].find_element(By.LINK_TEXT, "查看目录"))
        wait.until(EC.presence_of_element_located((By.ID, "catalogue")))
        text = browser.find_element(By.TAG_NAME, "main").text
        assert code in text and "交接书" in text and "尚未取回校验" in text
        assert "张三" in browser.find_element(By.ID, "catalogue").text or "工作总结" in browser.find_element(By.ID, "catalogue").text
        click_to_new_page(browser, wait, browser.find_element(By.XPATH, "//button[text()='立即校验']"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "verify-status"), "最近一次取回校验通过"))
        browser.save_screenshot(str(shots / "catalogue.png"))

        browser.get(srv.url + "search?lang=zh-Hant")
        assert "檔案檢索" in browser.find_element(By.TAG_NAME, "header").text
        browser.get(srv.url + "search?q=" + "不存在的题名")
        assert browser.find_element(By.ID, "no-results").text == "没有符合条件的档案包。"

        # Files-menu stand-in: start a job on another folder, watch the status page.
        browser.get(srv.url + "status")
        Select(browser.find_element(By.ID, "folder")).select_by_value("/交接材料/李明-2020-2024")
        click_to_new_page(browser, wait, browser.find_element(By.ID, "assemble-button"))
        wait.until(EC.url_contains("status?job="))
        tag = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.job .status")))
        assert tag.text == "排队中"
        loaded = browser.execute_script("return window.__statusPageLoaded")
        browser.save_screenshot(str(shots / "status-queued.png"))
        svc.start(poller=False)
        try:
            wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "tr.job .status"), "已完成"))
            wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-jobs-finished") == "1")
        finally:
            svc.stop()
        assert browser.execute_script("return window.__statusPageLoaded") == loaded  # updated in place, no reload
        row = browser.find_element(By.CSS_SELECTOR, "tr.job")
        counts = [c.text for c in row.find_elements(By.CSS_SELECTOR, ".stages .count")]
        assert counts[0] in ("3 / 3", "4 / 4") and counts[1] == counts[0]
        done, total = counts[2].split(" / ")  # 打包 counts rendered documents and members written
        assert done == total and int(total) > 7
        widths = [b.get_attribute("style") for b in row.find_elements(By.CSS_SELECTOR, ".bar > i")]
        assert all("100%" in w for w in widths)
        assert "草稿与交接书已写入 /交接材料/李明-2020-2024-交接" in row.text
        browser.save_screenshot(str(shots / "status-done.png"))
    for name in ("search.png", "catalogue.png", "status-queued.png", "status-done.png"):
        assert (shots / name).stat().st_size > 10_000
