"""The Scenario page in a real headless Chromium (Debian's), via Playwright.

A mouse click on the map (at the most populous spot beyond the layer's target reach,
read from the page's coordinate fields) adds a facility; the covered population goes
up and the new facility is drawn; a screenshot is saved under
``test-artifacts/screenshots/``. Marked ``browser``; skipped with the reason when
/usr/bin/chromium or Playwright is missing. Nothing may reach the network: the app is
served on 127.0.0.1 and every request is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"

# the browser, its flags and the helpers are test_browser's (it skips the module, with the
# reason, when chromium or Playwright is missing)
from test_browser import (  # noqa: E402
    ARGS,
    CHROMIUM,
    _external,
    _free_port,
    _map_frame,
    _wait_healthy,
    sync_api,
)


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = tempfile.NamedTemporaryFile(prefix="geoapp-streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, timeout=120.0)
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


def _metric(page, prefix: str) -> str:
    return page.evaluate(
        """(prefix) => {
            for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
                const l = m.querySelector('[data-testid="stMetricLabel"]');
                const v = m.querySelector('[data-testid="stMetricValue"]');
                if (l && v && l.innerText.trim().startsWith(prefix)) return v.innerText.trim();
            }
            return null; }""",
        prefix,
    )


def test_clicking_the_map_adds_a_facility(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_url + "/scenario", wait_until="domcontentloaded")
    frame = _map_frame(page, 180_000)
    page.wait_for_timeout(1500)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
                 .some(l => l.innerText.startsWith('Residents covered'))""",
        timeout=120_000,
    )
    before = _metric(page, "Residents covered")
    facilities = _metric(page, "Facilities")
    assert before and facilities == "111", (before, facilities)

    # the place to click: the page's suggested coordinates (expander "Add a facility ...")
    page.get_by_text("Add a facility at coordinates").click()
    lon = float(page.get_by_label("Longitude").input_value())
    lat = float(page.get_by_label("Latitude").input_value())
    # a real mouse click on the map at that place
    point = frame.evaluate(
        "([lat, lon]) => { window.map.setView([lat, lon], 15, {animate: false});"
        " const p = window.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    page.wait_for_timeout(800)
    box = frame.locator(".leaflet-container").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])

    page.wait_for_function(
        """(v) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m => {
                 const l = m.querySelector('[data-testid="stMetricLabel"]');
                 const x = m.querySelector('[data-testid="stMetricValue"]');
                 return l && x && l.innerText.startsWith('Facilities') && x.innerText.trim() === v; })""",
        arg="112",
        timeout=120_000,
    )
    page.wait_for_timeout(1500)
    after = _metric(page, "Residents covered")
    assert float(after.replace(",", "")) > float(before.replace(",", "")), (before, after)
    # the added facility is drawn (green, by the scenario's feature group)
    frame = _map_frame(page, 180_000)
    assert frame.locator('path.leaflet-interactive[fill="#1a9850"]').count() >= 1

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "scenario_add.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert not _external(requests), _external(requests)
    page.close()
