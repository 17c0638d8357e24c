"""The Scenario page in a real headless Chromium (Debian's), via Playwright.

A mouse click on the map (at the most populous spot beyond the layer's target reach,
read from the page's coordinate fields) adds a facility; the covered population goes
up and the new facility is drawn. In English and Chinese, the scenario map shows the
distance cells before any edit and, after a site is added, its catchment and the
gained cells (layer control names and the drawn paths). Screenshots are saved under
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
    _set_lang,
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


# the map's layer names (geoapp.i18n) and the page's labels, per language
WORDS = {
    "en": {
        "cells": "Residents by walking distance",
        "gaps": "Gaps",
        "catchment": "Catchments of added sites",
        "change": "Gained / lost",
        "added": "Added / moved",
        "facilities": "Facilities",
        "expander": "Add a facility at coordinates",
        "button": "Add facility",
    },
    "zh": {
        "cells": "居民步行距离",
        "gaps": "服务缺口",
        "catchment": "新增设施服务范围",
        "change": "新增 / 失去覆盖",
        "added": "新增 / 迁移",
        "facilities": "设施数",
        "expander": "按坐标新增设施",
        "button": "新增设施",
    },
}


def _facilities_then_layer(page, label: str, count: str, layer: str):
    """Wait until the metric ``label`` reads ``count`` and the map lists ``layer``; the frame."""
    page.wait_for_function(
        """([label, count]) => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => {
                 const l = m.querySelector('[data-testid="stMetricLabel"]');
                 const x = m.querySelector('[data-testid="stMetricValue"]');
                 return l && x && l.innerText.startsWith(label) && x.innerText.trim() === count; })""",
        arg=[label, count],
        timeout=120_000,
    )
    frame = _map_frame(page, 180_000)
    frame.wait_for_function(
        "(n) => [...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
        ".some(l => l.textContent.trim() === n)",
        arg=layer,
        timeout=60_000,
    )
    return frame


def _layer_names(frame) -> list[str]:
    return [
        x.strip()
        for x in frame.locator(".leaflet-control-layers-overlays label").all_text_contents()
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_scenario_map_shows_cells_and_the_added_sites_catchment(app_url, browser, lang):
    w = WORDS[lang]
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_url + "/scenario", wait_until="domcontentloaded")
    _map_frame(page, 180_000)
    if lang == "zh":
        _set_lang(page, "zh")
    frame = _facilities_then_layer(page, w["facilities"], "111", w["cells"])
    # before any edit: the distance cells and the gaps, no catchment, nothing gained
    names = _layer_names(frame)
    assert w["cells"] in names and w["gaps"] in names, names
    assert w["catchment"] not in names and w["change"] not in names, names
    cells = frame.locator("path.geoapp-demand").count()
    assert cells > 100, cells
    assert frame.locator("path.geoapp-gap").count() > 0

    page.get_by_text(w["expander"]).click()
    page.get_by_role("button", name=w["button"], exact=True).click()
    frame = _facilities_then_layer(page, w["facilities"], "112", w["catchment"])
    page.wait_for_timeout(1000)
    names = _layer_names(frame)
    for key in ("cells", "gaps", "catchment", "change", "added"):
        assert w[key] in names, (key, names)
    # the distance cells recomputed for the scenario, the new site's walk, the gained cells
    assert frame.locator("path.geoapp-demand").count() > 100
    assert frame.locator("path.geoapp-catchment").count() == 1
    assert frame.locator("path.geoapp-change").count() >= 1
    # both legends: the coverage classes and the scenario's layers
    legend = frame.locator(".geoapp-scenario-legend").inner_text()
    assert w["catchment"] in legend, legend

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"scenario_map_{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert not _external(requests), _external(requests)
    page.close()


def _grid_rows(page) -> list[list[str]]:
    """The rows (header first) of the last dataframe, from the grid's accessible table."""
    return page.evaluate(
        """() => {
            const grids = document.querySelectorAll('[data-testid="stDataFrame"]');
            const g = grids[grids.length - 1];
            return [...g.querySelectorAll('tr')].map(
                r => [...r.querySelectorAll('th, td')].map(c => c.textContent.trim()));
        }"""
    )


def test_suggested_sites_badges_table_and_zoom_to(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_url + "/scenario", wait_until="domcontentloaded")
    _map_frame(page, 180_000)
    page.get_by_role("button", name="Suggest", exact=True).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stDataFrame"] th')]
                 .some(h => h.textContent.trim() === 'Residents gained')""",
        timeout=300_000,
    )
    page.wait_for_timeout(1500)
    rows = [r for r in _grid_rows(page) if r]
    header = rows[0]
    for col in ("Rank", "Residents gained", "Aged 60+ gained", "Latitude", "Longitude"):
        assert col in header, header
    body = rows[1:4]
    assert len(body) == 3, rows
    text = " ".join(" ".join(r) for r in rows)
    assert "added_pop" not in text and "new_town" not in text, text
    lat_i, lon_i = header.index("Latitude"), header.index("Longitude")
    lat, lon = float(body[0][lat_i]), float(body[0][lon_i])
    assert len(body[0][lat_i].split(".")[1]) == 6
    # the three sites as numbered badges on the map
    frame = _map_frame(page, 180_000)
    frame.wait_for_function(
        "() => document.querySelectorAll('.geoapp-site-rank').length === 3", timeout=60_000
    )
    badges = sorted(frame.locator(".geoapp-site-rank").all_text_contents())
    assert badges == ["1", "2", "3"], badges
    # selecting the first row centres the map on site 1
    grid = page.locator('[data-testid="stDataFrame"]').last
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    frame.wait_for_function(
        "([lat, lon]) => { const c = window.map.getCenter();"
        " return Math.abs(c.lat - lat) < 1e-4 && Math.abs(c.lng - lon) < 1e-4; }",
        arg=[lat, lon],
        timeout=60_000,
    )
    assert frame.evaluate("() => window.map.getZoom()") == 16
    page.wait_for_timeout(800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "scenario_suggest_en.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert not _external(requests), _external(requests)
    page.close()
