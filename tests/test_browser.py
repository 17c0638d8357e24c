"""The app and an exported map in a real headless Chromium (Debian's), via Playwright.

Marked ``browser``; skipped with the reason when /usr/bin/chromium or Playwright is
missing. Nothing here may reach the network: the app is served on 127.0.0.1 and every
request is recorded and checked.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<img src=x onerror=alert(1)>"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = tempfile.NamedTemporaryFile(prefix="geoapp-streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _external(urls: list[str]) -> list[str]:
    bad = []
    for u in urls:
        parsed = urlparse(u)
        if parsed.scheme in ("data", "blob", "about", "file"):
            continue
        if parsed.hostname not in LOCAL_HOSTS:
            bad.append(u)
    return bad


def _map_frame(page, timeout_ms: int = 90_000):
    """Return the st_folium iframe's Frame once its Leaflet map has features."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame == page.main_frame:
                continue
            with contextlib.suppress(Exception):
                if frame.locator(".leaflet-container path.leaflet-interactive").count() > 0:
                    return frame
        page.wait_for_timeout(300)
    raise TimeoutError("no Leaflet map with features appeared")


def test_coverage_page_draws_offline(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url + "/coverage", wait_until="domcontentloaded")
    frame = _map_frame(page)
    page.wait_for_timeout(800)

    # district outlines (dashed, #34495e) and gap areas (#b00020) are drawn as SVG paths
    districts = frame.locator('path.leaflet-interactive[stroke="#34495e"]').count()
    gaps = frame.locator('path.leaflet-interactive[stroke="#b00020"]').count()
    hexes = frame.locator('path.leaflet-interactive[stroke="none"]').count()
    assert districts >= 9, districts
    assert gaps > 0, gaps
    assert hexes > 0 or frame.locator("path.leaflet-interactive").count() > districts + gaps
    assert frame.locator(".geoapp-box").count() >= 2  # legend and synthetic-data note
    assert "synthetic" in frame.locator(".geoapp-note").inner_text().lower()
    assert frame.locator(".leaflet-control-scale").count() == 1
    assert frame.locator(".leaflet-control-layers").count() == 1

    # clicking a district drills into it: the coverage figure becomes the district's
    first_metric = page.locator('[data-testid="stMetricValue"]').first
    region_value = first_metric.inner_text()
    # (the click is fired on the district's Leaflet layer, as a mouse click would)
    clicked = frame.evaluate(
        """() => { let hit = null;
            window.map.eachLayer(l => {
                if (!hit && l.feature && l.feature.properties.district === "West Hills") hit = l;
            });
            if (hit) hit.fire("click", {latlng: hit.getCenter()}, true);
            return !!hit; }"""
    )
    assert clicked, "district West Hills is not on the map"
    page.wait_for_function(
        """(v) => { const m = document.querySelector('[data-testid="stMetricValue"]');
                    return m && m.innerText !== v; }""",
        arg=region_value,
        timeout=60_000,
    )
    page.wait_for_timeout(1000)
    frame = _map_frame(page)  # drawn again, zoomed on the district

    # the hostile facility name shows as text in its tooltip and popup
    opened = frame.evaluate(
        """() => {
            let hit = null;
            window.map.eachLayer(l => {
                const tt = l.getTooltip && l.getTooltip();
                if (!hit && l.feature && tt && String(tt.getContent()).includes("onerror")) hit = l;
            });
            if (!hit) return false;
            hit.openTooltip(); hit.openPopup();
            return true;
        }"""
    )
    assert opened, "no facility with the hostile name on the map"
    tip = frame.locator(".leaflet-tooltip").first
    pop = frame.locator(".leaflet-popup-content").first
    assert HOSTILE in tip.inner_text()
    assert HOSTILE in pop.inner_text()
    assert frame.locator(".leaflet-tooltip img, .leaflet-popup-content img").count() == 0

    shot = tmp_path / "coverage.png"
    page.screenshot(path=str(shot), full_page=False)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000

    assert not dialogs, dialogs
    assert requests, "no requests recorded"
    assert not _external(requests), _external(requests)
    page.close()


def test_exported_html_draws_with_network_cut(browser, tmp_path):
    from geoapp import maps, workflow
    from geoapp.catalog import load_catalog

    region = workflow.load_region("demo")
    demand = workflow.prepare_demand(region)
    layer = load_catalog()["elderly_care"]
    res = workflow.analyse_layer(
        region, layer, demand=demand, mode="euclidean", with_catchments=False
    )
    path = maps.save_html(workflow.coverage_map(region, res), tmp_path / "map.html")

    page = browser.new_page(viewport={"width": 1100, "height": 800})
    requests: list[str] = []
    aborted: list[str] = []
    dialogs: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container path.leaflet-interactive", timeout=30_000)
    assert page.locator('path.leaflet-interactive[stroke="#34495e"]').count() >= 9
    assert page.locator('path.leaflet-interactive[stroke="#b00020"]').count() > 0
    assert page.locator(".leaflet-control-layers").count() == 1
    page.evaluate(
        """() => { for (const k in window) { const m = window[k];
                 if (m && m instanceof L.Map) { m.eachLayer(l => {
                   const tt = l.getTooltip && l.getTooltip();
                   if (l.feature && tt && String(tt.getContent()).includes("onerror")) {
                     l.openTooltip(); l.openPopup(); } }); } } }"""
    )
    assert HOSTILE in page.locator(".leaflet-popup-content").first.inner_text()
    assert page.locator(".leaflet-popup-content img").count() == 0
    shot = tmp_path / "standalone.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert not aborted, aborted
    assert not dialogs
    assert not _external(requests)
    page.close()
