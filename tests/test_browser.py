"""The app and an exported map in a real headless Chromium (Debian's), via Playwright.

Marked ``browser``; skipped with the reason when /usr/bin/chromium or Playwright is
missing. Nothing here may reach the network: the app is served on 127.0.0.1 and every
request is recorded and checked.
"""

from __future__ import annotations

import contextlib
import os
import re
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
    _wait_idle(page)
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


# --------------------------------------------------------------------------- every page, both languages

SHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = ("overview", "coverage", "compare", "heritage", "export")
NAV = {
    "en": {
        "overview": "Overview",
        "coverage": "Coverage",
        "compare": "Compare zones",
        "heritage": "Heritage",
        "export": "Export",
    },
    "zh": {
        "overview": "概览",
        "coverage": "覆盖分析",
        "compare": "分区比较",
        "heritage": "历史文化遗产",
        "export": "导出",
    },
}
# internal column names and raw zone ids a reader must never see
INTERNAL = re.compile(
    r"\b(share_(pop|area|demand|sites|land|uncovered|at_target)\w*|covered_pop\w*|"
    r"uncovered_pop\w*|ratio_to_core\w*|n_(protected|unprotected)_sites|n_sites|n_zones|"
    r"n_facilities|pop_60plus|median_dist_m|p90_dist_m|facilities_per_10k|gini_dist|"
    r"target_radius_m|below_target|protected_area_km2|land_area_km2|area_km2|settled_km2|"
    r"zone_type|zone_fine|new_town|capital_core|plain_new_town|sub_centre|layer_label\w*|"
    r"district_code|reason_zh|elderly_care|community_services|social_facility|None|nan|inf)\b"
)


def _wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app has finished its run (no spinner, no running status)."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   const state = app ? app.getAttribute('data-test-script-state') : null;
                   return state !== 'running'
                          && !document.querySelector('[data-testid="stSpinner"]'); }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(600)


def _main_text(page) -> str:
    """Return the visible text of the page, with the table headers and cells."""
    return page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]') || document.body;
            const side = document.querySelector('[data-testid="stSidebar"]');
            const grid = Array.from(document.querySelectorAll(
                '[data-testid="stDataFrame"] th, [data-testid="stDataFrame"] td'))
                .map(e => e.textContent).join('\\n');
            return [main.innerText, side ? side.innerText : '', grid].join('\\n');
        }"""
    )


def _go(page, lang: str, name: str) -> None:
    """Open a page through the sidebar navigation (the session, hence the state, stays)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=NAV[lang][name]).first.click()
    page.wait_for_function(
        "(t) => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
        " return h && h.innerText.trim() === t; }",
        arg=NAV[lang][name],
        timeout=120_000,
    )
    _wait_idle(page)


def _set_lang(page, lang: str) -> None:
    side = page.locator('[data-testid="stSidebar"]')
    side.locator("label", has_text="中文" if lang == "zh" else "English").first.click()
    page.wait_for_function(
        "(zh) => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
        " return h && /[\\u4e00-\\u9fff]/.test(h.innerText) === zh; }",
        arg=lang == "zh",
        timeout=120_000,
    )
    _wait_idle(page)


def _radio_choice(page, label: str) -> str:
    """Return the text of the checked option of the radio group labelled ``label``."""
    return page.evaluate(
        """(label) => {
            for (const g of document.querySelectorAll('[data-testid="stRadio"]')) {
                const l = g.querySelector('[data-testid="stWidgetLabel"]');
                if (!l || l.innerText.trim() !== label) continue;
                const c = g.querySelector('input:checked');
                return c ? c.closest('label').innerText.trim() : '';
            }
            return null;
        }""",
        label,
    )


def _select_text(page, label: str) -> str | None:
    """Return the shown value of the select box (or multiselect) labelled ``label``."""
    return page.evaluate(
        """(label) => {
            for (const g of document.querySelectorAll(
                    '[data-testid="stSelectbox"], [data-testid="stMultiSelect"]')) {
                const l = g.querySelector('[data-testid="stWidgetLabel"]');
                if (!l || l.innerText.trim() !== label) continue;
                const rest = g.innerText.replace(l.innerText, '').trim();
                if (rest) return rest;
                const inp = g.querySelector('input');
                return inp ? (inp.value || inp.getAttribute('aria-label') || inp.placeholder || '')
                               .trim() : '';
            }
            return null;
        }""",
        label,
    )


def _slider_value(page) -> str:
    return page.locator('[data-testid="stSliderThumbValue"]').first.inner_text().strip()


@pytest.fixture(scope="module")
def app_page(app_url, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url + "/", wait_until="domcontentloaded")
    _wait_idle(page)
    yield page
    page.close()


def test_every_page_in_both_languages_reads_without_internal_names(app_page):
    page = app_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "zh"):
        _set_lang(page, lang)
        for name in PAGES:
            _go(page, lang, name)
            if name in ("overview", "coverage", "heritage"):
                _map_frame(page)
            text = _main_text(page)
            found = sorted({m.group(0) for m in INTERNAL.finditer(text)})
            assert not found, (lang, name, found)
            if lang == "zh":
                # the zone names and the table headers are Chinese too
                assert not re.search(r"\b(Urban core|New towns|Rural areas)\b", text), name
            # a tall viewport so the screenshot holds the tables below the map
            page.set_viewport_size({"width": 1440, "height": 2600})
            page.wait_for_timeout(800)
            shot = SHOTS / f"{name}_{lang}.png"
            page.screenshot(path=str(shot))
            page.set_viewport_size({"width": 1440, "height": 900})
            assert shot.stat().st_size > 10_000
    _set_lang(page, "en")


def test_switching_language_keeps_every_choice(app_page):
    page = app_page
    _set_lang(page, "en")
    _go(page, "en", "coverage")
    page.locator('[data-testid="stRadio"] label', has_text="Straight line").first.click()
    _wait_idle(page)
    page.locator('[data-testid="stRadio"] label', has_text="Elderly").first.click()
    _wait_idle(page)
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
    thumb.focus()
    thumb.press("Home")  # the smallest radius
    _wait_idle(page)
    side = page.locator('[data-testid="stSidebar"]')
    side.locator("label", has_text="Place name (OpenStreetMap)").first.click()
    _wait_idle(page)
    _go(page, "en", "compare")
    page.locator('[data-testid="stRadio"] label', has_text="Settlement").first.click()
    _wait_idle(page)

    expected = {
        "en": {"mode": "Straight line", "speed": "Elderly", "source": "Place name (OpenStreetMap)",
               "group": "Settlement", "radius": "5 min (300 m)"},
        "zh": {"mode": "直线距离", "speed": "老年人", "source": "地名（OpenStreetMap）",
               "group": "聚落类型", "radius": "5 分钟（300 米）"},
    }  # fmt: skip
    labels = {
        "en": {"mode": "Distance", "speed": "Walking speed", "source": "Load a region from",
               "group": "Group residents by"},
        "zh": {"mode": "距离计算", "speed": "步行速度", "source": "区域来源",
               "group": "居民分组方式"},
    }  # fmt: skip
    for lang in ("zh", "en"):
        for name in PAGES:
            _go(page, _current_lang(page), name)
            _set_lang(page, lang)
            exp, lab = expected[lang], labels[lang]
            assert _radio_choice(page, lab["source"]) == exp["source"], (lang, name)
            if name == "coverage":
                assert _radio_choice(page, lab["mode"]) == exp["mode"], (lang, name)
                assert _radio_choice(page, lab["speed"]) == exp["speed"], (lang, name)
                assert _slider_value(page) == exp["radius"], (lang, name)
                layer = _select_text(page, "服务类型" if lang == "zh" else "Service layer")
                assert layer == ("养老服务" if lang == "zh" else "Elderly care"), layer
            if name == "compare":
                assert _radio_choice(page, lab["group"]) == exp["group"], (lang, name)
            if lang == "en":
                continue
            # flip to the other language on this page and back: still kept
            other = "en"
            _set_lang(page, other)
            assert _radio_choice(page, labels[other]["source"]) == expected[other]["source"]
            _set_lang(page, lang)
    _set_lang(page, "en")
    side = page.locator('[data-testid="stSidebar"]')
    side.locator("label", has_text="Demo region (synthetic)").first.click()
    _wait_idle(page)


def _current_lang(page) -> str:
    h = page.locator('[data-testid="stMain"] h1').first.inner_text()
    return "zh" if re.search(r"[\u4e00-\u9fff]", h) else "en"


def test_coverage_gaps_are_drawn_in_view_above_the_demand(app_page):
    """At the default zoom the gap outlines are on the map, in view and above the demand.

    Gap paths carry the CSS class ``geoapp-gap``, demand cells ``geoapp-demand`` (maps.py).
    """
    from geoapp import maps

    if "geoapp-gap" not in Path(maps.__file__).read_text(encoding="utf-8"):
        pytest.skip("geoapp/maps.py does not yet give gap paths the class geoapp-gap (APP1)")
    page = app_page
    _go(page, _current_lang(page), "coverage")
    frame = _map_frame(page)
    page.wait_for_timeout(800)
    result = frame.evaluate(
        """() => {
            const box = document.querySelector('.leaflet-container').getBoundingClientRect();
            const gaps = Array.from(document.querySelectorAll('path.geoapp-gap'));
            const demand = Array.from(document.querySelectorAll('path.geoapp-demand'));
            const inView = gaps.filter(g => { const r = g.getBoundingClientRect();
                return r.width > 0 && r.right > box.left && r.left < box.right
                       && r.bottom > box.top && r.top < box.bottom; }).length;
            const z = el => { const p = el.closest('.leaflet-pane');
                return p ? parseInt(getComputedStyle(p).zIndex || '0', 10) : 0; };
            let above = null;
            if (gaps.length && demand.length) {
                const g = gaps[0], d = demand[demand.length - 1];
                if (z(g) !== z(d)) above = z(g) > z(d);
                else above = !!(d.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING);
            }
            const stroke = gaps.length ? parseFloat(getComputedStyle(gaps[0]).strokeWidth) : 0;
            return {gaps: gaps.length, demand: demand.length, inView, above, stroke};
        }"""
    )
    assert result["gaps"] > 0, result
    assert result["demand"] > 0, result
    assert result["inView"] > 0, result
    assert result["above"] is True, result
    assert result["stroke"] >= 2, result


def test_first_click_on_a_map_does_not_scroll_the_page(app_page):
    page = app_page
    _go(page, _current_lang(page), "overview")
    # a short window (a laptop with the browser's bars), so the map can sit partly below
    # the fold: at 1440x900 the whole map is above it
    vh = 560
    page.set_viewport_size({"width": 1440, "height": vh})
    try:
        _click_keeps_scroll(page, vh)
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})


def _click_keeps_scroll(page, vh: int) -> None:
    frame = _map_frame(page)
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]').first
    # scroll so the map is partly below the fold
    scroller = page.evaluate_handle(
        """() => Array.from(document.querySelectorAll('*')).find(e => {
              const s = getComputedStyle(e);
              return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 50
                     && e.closest('[data-testid="stMain"]') !== null || e.matches('[data-testid="stMain"]')
                     && e.scrollHeight > e.clientHeight + 50; })"""
    )
    box = iframe.bounding_box()
    assert box is not None
    page.evaluate(
        "([s, y]) => { (s || document.scrollingElement).scrollTop = y; }",
        [scroller, max(0, box["y"] - (vh - 400))],
    )
    page.wait_for_timeout(500)
    before = page.evaluate("(s) => (s || document.scrollingElement).scrollTop", scroller)
    box = iframe.bounding_box()
    assert box["y"] + box["height"] > vh, "the map is not partly below the fold"
    # click an empty part of the visible map (not a district: no drill-in rerun)
    page.mouse.click(box["x"] + 30, min(box["y"] + 120, vh - 20))
    page.wait_for_timeout(800)
    after = page.evaluate("(s) => (s || document.scrollingElement).scrollTop", scroller)
    assert abs(after - before) < 2, (before, after)
    assert frame.evaluate("() => document.activeElement !== null")


def test_zip_download_works_after_every_other_download(app_page, tmp_path):
    page = app_page
    _go(page, _current_lang(page), "export")
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    n = buttons.count()
    assert n >= 6, n
    names = []
    for i in range(n - 1):  # the ZIP button is the last one
        with page.expect_download(timeout=240_000) as info:
            buttons.nth(i).click()
        dl = info.value
        assert dl.failure() is None, (dl.suggested_filename, dl.failure())
        names.append(dl.suggested_filename)
        page.wait_for_timeout(300)
    assert not any("catchments" in n for n in names)  # catchments off: not shipped
    with page.expect_download(timeout=240_000) as info:
        buttons.nth(n - 1).click()
    dl = info.value
    assert dl.failure() is None, dl.failure()
    path = tmp_path / dl.suggested_filename
    dl.save_as(path)
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = zf.namelist()
        assert zf.testzip() is None
    assert any(m.endswith("summary.csv") for m in members)
    assert any(m.endswith("metadata.json") for m in members)
    assert not any("catchments.geojson" in m for m in members)
