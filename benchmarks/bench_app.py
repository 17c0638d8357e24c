"""Time the Streamlit app in a real browser (Debian chromium + Playwright): not a test.

Starts ``streamlit run streamlit_app.py`` on the demo, then prints

* the first map after start (cold: server just started, first visit), and a second
  visit (warm caches);
* every control change on the Coverage page (layer, radius, mode, speed, catchments
  off), a language switch, the Compare page's layer selection and a page switch:
  time from the click until the script run has finished and the map (where the page
  has one) has its features again.

Baselines: the figures of issue 11 (first map 8.5 s, layer change 1.4-1.8 s, compare
layer selection 3.4 s); goals: first map under 5 s, every control change under 1 s. And
the floor (``floor_app.py``, run first; ``--no-floor`` skips it): a Streamlit page with a
radio button and one st_folium map of as many features as the demo's Coverage map, the
least any Streamlit + Folium app costs on this machine; the app's figures are also given
as multiples of it.
Usage: ``python benchmarks/bench_app.py [--empty-cache] [--pause S] [--rounds N] [--no-floor]`` (set APP_DIR to time another
checkout); ``--empty-cache`` starts as on a fresh machine (no disk cache), without it the
disk caches a previous start left are used, as on any later start.

City scale (issue 13): ``python benchmarks/bench_app.py --osm city.osm.pbf`` uploads
the extract through the sidebar twice, each time in a freshly started server: first
with empty caches (parse, demand, graph, analysis), then with the caches the first
run left on disk (the parsed region as GeoParquet, the demand estimate, the app's
analyses and maps). It prints the time from the click on "Load" to the Overview map,
then to the Coverage map, and the GeoJSON features each map sent (counted in the
websocket frames). Goal: the first map within 5 s of loading a cached region.
``--cache-dir DIR`` keeps the caches in DIR; when DIR already holds caches, only the
cached load is timed (quick to repeat).
Figures depend on the machine's load; say so when quoting them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(os.environ.get("APP_DIR", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT / "tests"))

from playwright import sync_api  # noqa: E402
from test_browser import (  # noqa: E402
    ARGS,
    CHROMIUM,
    _free_port,
    _map_frame,
    _wait_healthy,
)

BASELINE = {"first map (cold)": 8.5, "layer change": 1.8, "compare layer selection": 3.4}


#: Counts the changes of the app's script state in the page (a MutationObserver sees
#: every change, even a run too short for a poll to catch "running"); returns the count.
_COUNT_RUNS = """() => {
  if (window.__geoappRuns === undefined) {
    window.__geoappRuns = 0;
    new MutationObserver(r => { window.__geoappRuns += r.length; }).observe(document.body,
      {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
  }
  return window.__geoappRuns; }"""


def _runs_seen(page) -> tuple[int, float]:
    """Start counting script state changes (once per page); return the count and now."""
    return page.evaluate(f"() => [({_COUNT_RUNS})(), performance.now()]")


def _run_done(page, timeout_s: float = 120.0, before: tuple[int, float] | None = None) -> None:
    """Wait for the script run a click started to begin and to end.

    With ``before`` (:func:`_runs_seen` just before the click) the run is seen by the
    state changes counted since (a run too short for a poll to catch is counted too);
    when none is seen within 1.5 s the click is taken to have started none.
    Without it, "running" is polled for 1.5 s.
    """
    if before is not None:
        runs, t0 = before
        page.wait_for_function(
            f"""() => {{ const a = document.querySelector('[data-testid="stApp"]');
                const seen = window.__geoappRuns > {runs} || performance.now() - {t0} > 1500;
                return seen && (!a || a.getAttribute('data-test-script-state') !== 'running'); }}""",
            timeout=timeout_s * 1000,
            polling=20,
        )
        return
    state = """() => { const a = document.querySelector('[data-testid="stApp"]');
                       return a ? a.getAttribute('data-test-script-state') : null; }"""
    deadline = time.perf_counter() + 1.5
    while time.perf_counter() < deadline and page.evaluate(state) != "running":
        page.wait_for_timeout(20)
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return !a || a.getAttribute('data-test-script-state') !== 'running'; }""",
        timeout=timeout_s * 1000,
    )


_MARK = (
    "() => document.querySelectorAll('path.leaflet-interactive').forEach(p => p.dataset.old = '1')"
)
_NEW = "() => document.querySelectorAll('path.leaflet-interactive:not([data-old])').length"


def _map_frames(page) -> list:
    return [f for f in page.frames if f != page.main_frame]


def _stats(dts: list[float]) -> str:
    """Return "median s (min-max)" of repeated timings."""
    if len(dts) == 1:
        return f"{dts[0]:6.2f} s"
    return f"{median(dts):6.2f} s ({min(dts):.2f}-{max(dts):.2f})"


def _timed(
    page,
    label: str,
    action,
    with_map: bool = True,
    prepare=None,
    times: dict[str, list[float]] | None = None,
    quiet: bool = False,
) -> float:
    """Time ``action`` until the run has finished and the map shows what it changed.

    ``prepare`` runs first, untimed: what the planner does before the change itself
    (opening a drop-down, focusing a slider). The paths on the map are marked before
    the click; the step ends when the script run has ended and a path drawn after the
    click is there (a change that leaves the map as it was -- the same speed as
    before, say -- ends with the run).
    """
    if prepare is not None:
        prepare()
    for f in _map_frames(page):
        with contextlib.suppress(Exception):
            f.evaluate(_MARK)
    before = _runs_seen(page)
    t = time.perf_counter()
    action()
    _run_done(page, before=before)
    dt = time.perf_counter() - t
    if with_map:
        _first_map(page)  # a page switch builds a new map
        deadline = time.perf_counter() + 3.0
        while time.perf_counter() < deadline:
            new = 0
            for f in _map_frames(page):
                with contextlib.suppress(Exception):
                    new += f.evaluate(_NEW)
            if new:
                dt = time.perf_counter() - t
                break
            page.wait_for_timeout(25)
    if times is not None:
        times.setdefault(label, []).append(dt)
    if not quiet:
        print(f"  {label:30s} {dt:6.2f} s", flush=True)
    if PAUSE_S:
        page.wait_for_timeout(PAUSE_S * 1000)  # a planner looking at the result
    return dt


#: ``--pause S``: seconds between steps (default 0: every click right after the last
#: result, so the background warm-up never rests).
PAUSE_S = float(sys.argv[sys.argv.index("--pause") + 1]) if "--pause" in sys.argv else 0.0
#: ``--rounds N``: how many times every control change is timed (default 3; the
#: figures vary by a few tenths of a second from one click to the next).
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3


def _server(
    port: int, log, env: dict | None = None, script: str = "streamlit_app.py"
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script,
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--server.maxUploadSize", "1000"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


def _idle(page, timeout_s: float = 900.0) -> None:
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=timeout_s * 1000,
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def _browser_then_server(script: str, env: dict | None = None, log_suffix: str = ""):
    """Start chromium, then ``streamlit run script``; yield ``(browser, page, url, t0)``.

    The browser is started first (a planner's browser is already open; its start, about
    2 s here, is not the app's); ``t0`` is when the server was started.
    """
    port = _free_port()
    log = open(os.environ.get("BENCH_LOG", "/tmp/geoapp-bench-app.log") + log_suffix, "w")  # noqa: SIM115
    proc = None
    try:
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = b.new_page(viewport={"width": 1440, "height": 900})
            t0 = time.perf_counter()
            proc = _server(port, log, env, script=script)
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, proc)
            yield b, page, url, t0
            b.close()
    finally:
        if proc is not None:
            _stop(proc)
        log.close()


def _first_map(page, timeout_s: float = 120.0) -> None:
    """Wait until a map shows features (polled every 25 ms, not every 300 ms)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        for f in _map_frames(page):
            with contextlib.suppress(Exception):
                if f.evaluate("() => document.querySelectorAll('path.leaflet-interactive').length"):
                    return
        page.wait_for_timeout(25)
    raise TimeoutError("no map with features appeared")


def floor(rounds: int) -> tuple[float, float]:
    """Time ``floor_app.py``: the first map after ``streamlit run``, and a change.

    Returns ``(first map s, median change s)``: the least a Streamlit page with one
    Folium map of the demo map's size costs on this machine, the baseline the app's
    figures are divided by.
    """
    with _browser_then_server("benchmarks/floor_app.py", log_suffix=".floor") as (b, page, url, t0):
        page.goto(url, wait_until="domcontentloaded")
        _first_map(page)
        first = time.perf_counter() - t0
        page.wait_for_timeout(1500)
        changes: list[float] = []
        for k in range(2 * rounds):
            label = "second" if k % 2 == 0 else "first"
            changes.append(_timed(page, f"floor: radio {label}", _click(page, label), quiet=True))
    print(
        f"{'floor (Streamlit + one map)':32s} first map {first:5.2f} s from streamlit run, "
        f"change {_stats(changes)}",
        flush=True,
    )
    return first, median(changes)


def _click(page, text: str):
    return lambda: page.locator("label", has_text=text).first.click()


def _mark_drawn(page) -> None:
    """Mark every feature now on a map (see :func:`_wait_new_drawn`)."""
    for f in _map_frames(page):
        with contextlib.suppress(Exception):
            f.evaluate(_MARK)


def _wait_new_drawn(page, timeout_s: float = 900.0) -> None:
    """Wait until a map shows a feature drawn after :func:`_mark_drawn` (polled every 25 ms)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        for f in _map_frames(page):
            with contextlib.suppress(Exception):
                if f.evaluate(_NEW):
                    return
        page.wait_for_timeout(25)
    raise TimeoutError("no new map feature appeared")


def city(
    osm: Path, cache_dir: Path, runs: tuple[str, ...] = ("empty caches", "caches on disk")
) -> None:
    """Time loading ``osm`` into the app: empty caches, then the caches left on disk."""
    import re

    feature = re.compile(rb'type(?:\\)*":(?:\\)*"Feature(?:\\)*"')
    env = {**os.environ, "GEOAPP_CACHE_DIR": str(cache_dir)}
    name = osm.name.split(".")[0]
    print(
        f"city-sized region {osm.name} ({osm.stat().st_size / 1e6:.0f} MB), caches in {cache_dir}"
    )
    for label in runs:
        port = _free_port()
        log = open(os.environ.get("BENCH_LOG", "/tmp/geoapp-bench-app.log"), "w")  # noqa: SIM115
        proc = _server(port, log, env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            with sync_api.sync_playwright() as p:
                b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = b.new_page(viewport={"width": 1440, "height": 900})
                sent = [0]

                def on_ws(ws, sent=sent):
                    ws.on(
                        "framereceived",
                        lambda d, sent=sent: sent.__setitem__(
                            0,
                            sent[0]
                            + len(feature.findall(d if isinstance(d, bytes) else d.encode())),
                        ),
                    )

                page.on("websocket", on_ws)
                page.goto(url, wait_until="domcontentloaded")
                _map_frame(page)
                side = page.locator('[data-testid="stSidebar"]')
                side.locator("label", has_text="Upload files").first.click()
                page.wait_for_timeout(800)
                side.locator('input[type="file"]').first.set_input_files(str(osm))
                page.wait_for_timeout(3000)  # the upload itself (not the app's work)
                _idle(page)
                sent[0] = 0
                _mark_drawn(page)  # the demo's map: what is drawn next is the city's
                t = time.perf_counter()
                side.get_by_role("button", name="Load uploaded files").click()
                side.get_by_text(f"Region: {name}").wait_for(timeout=900_000)
                t_loaded = time.perf_counter() - t
                _idle(page)
                _wait_new_drawn(page)
                t_over = time.perf_counter() - t
                n_over = sent[0]
                sent[0] = 0
                _mark_drawn(page)
                t2 = time.perf_counter()
                page.locator('[data-testid="stSidebarNav"] a', has_text="Coverage").click()
                _run_done(page, timeout_s=900)
                _wait_new_drawn(page)
                t_cov = time.perf_counter() - t2
                page.wait_for_timeout(1000)
                print(f"[{label}] region loaded {t_loaded:6.2f} s, Overview map {t_over:6.2f} s "
                      f"({n_over:,} features), then Coverage map {t_cov:6.2f} s "
                      f"({sent[0]:,} features)", flush=True)  # fmt: skip
                b.close()
        finally:
            _stop(proc)
            log.close()


def main() -> None:
    if "--osm" in sys.argv:
        import tempfile

        osm = Path(sys.argv[sys.argv.index("--osm") + 1])
        if "--cache-dir" in sys.argv:  # kept: a second call times only the cached load
            folder = Path(sys.argv[sys.argv.index("--cache-dir") + 1])
            filled = folder.is_dir() and any(folder.iterdir())
            folder.mkdir(parents=True, exist_ok=True)
            city(osm, folder, ("caches on disk",) if filled else ("empty caches", "caches on disk"))
            return
        with tempfile.TemporaryDirectory(prefix="geoapp-bench-city-") as tmp:
            city(osm, Path(tmp))
        return
    env = None
    if "--empty-cache" in sys.argv:  # a fresh machine: no demo, demand or app cache on disk
        import tempfile

        env = {**os.environ, "GEOAPP_CACHE_DIR": tempfile.mkdtemp(prefix="geoapp-bench-cache-")}
        print("empty cache:", env["GEOAPP_CACHE_DIR"])
    floor_first, floor_change = (None, None) if "--no-floor" in sys.argv else floor(ROUNDS)
    with _browser_then_server("streamlit_app.py", env) as (b, page, url, t_start):
        print(f"{'server healthy':32s} {time.perf_counter() - t_start:6.2f} s", flush=True)
        t = time.perf_counter()
        page.goto(url + "/coverage", wait_until="domcontentloaded")
        _first_map(page)
        dt = time.perf_counter() - t
        since = time.perf_counter() - t_start
        print(f"{'first map (cold), from page open':32s} {dt:6.2f} s")
        vs_floor = f", {since / floor_first:.2f}x the floor" if floor_first else ""
        print(
            f"{'first map, from streamlit run':32s} {since:6.2f} s  "
            f"({since / 8.5:.2f}x the issue's 8.5 s{vs_floor})"
        )
        page.wait_for_timeout(20_000)  # let the background warm-up finish
        visits = []
        for _ in range(ROUNDS):
            warm = b.new_page(viewport={"width": 1440, "height": 900})
            t = time.perf_counter()
            warm.goto(url + "/coverage", wait_until="domcontentloaded")
            _first_map(warm)
            visits.append(time.perf_counter() - t)
            warm.close()
        print(f"{'first map (later visits)':32s} {_stats(visits)}")
        page.reload(wait_until="domcontentloaded")
        _map_frame(page)
        page.wait_for_timeout(1000)

        def click_label(text: str):
            return lambda: page.locator("label", has_text=text).first.click()

        def open_layers():
            box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
            box.locator('button[aria-label="Open"]').click()

        def pick_layer(name: str):
            return lambda: page.get_by_role("option", name=name).first.click()

        slider_input = page.locator('[data-testid="stSlider"] input[type="range"]').first

        def slider(key: str):
            return lambda: slider_input.press(key)

        def nav(name: str):
            return lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=name).click()

        compare_box = page.locator('[data-testid="stMultiSelect"]').first

        def drop_layer():
            # remove the last chosen layer (its tag's close button)
            compare_box.locator('[aria-label*="emove"], [role="button"]').last.click()

        def open_compare():
            compare_box.click()

        def add_layer():
            page.get_by_role("option").first.click()

        times: dict[str, list[float]] = {}
        for k in range(ROUNDS):
            if k:
                _timed(page, "page switch: Coverage", nav("Coverage"), times=times)
            # the clock starts at the choice itself: the drop-down is opened and
            # the slider focused before it, as a planner does
            steps = [
                ("layer change", pick_layer("Community services"), open_layers, True),
                ("layer change (back)", pick_layer("Elderly care"), open_layers, True),
                ("radius change", slider("Home"), slider_input.focus, True),
                ("radius change (back)", slider("End"), slider_input.focus, True),
                ("mode: straight line", click_label("Straight line"), None, True),
                ("mode: walking network", click_label("Walking network"), None, True),
                ("speed: elderly", click_label("Elderly"), None, True),
                ("speed: adult", click_label("Adult"), None, True),
                ("language: 中文", click_label("中文"), None, True),
                ("language: English", click_label("English"), None, True),
                ("page switch: Overview", nav("Overview"), None, True),
                ("page switch: Compare", nav("Compare"), None, False),
            ]
            for label, action, prepare, with_map in steps:
                _timed(page, label, action, with_map, prepare, times=times)
            if k % 2 == 0:
                _timed(page, "compare layer selection", drop_layer, False, times=times)
            else:
                _timed(page, "compare layer selection", add_layer, False, open_compare, times)
        print(f"\nmedian (min-max) of {ROUNDS} rounds, from the click to the drawn result:")
        under = 0
        for label, dts in times.items():
            base = BASELINE.get(label)
            ratio = [f"{median(dts) / base:.2f}x the issue's {base} s"] if base else []
            if floor_change:
                ratio.append(f"{median(dts) / floor_change:.1f}x the floor")
            extra = f"  ({', '.join(ratio)})" if ratio else ""
            print(f"{label:32s} {_stats(dts)}{extra}")
            under += median(dts) < 1.0
        print(f"{under} of {len(times)} control changes under 1 s (median)")


if __name__ == "__main__":
    main()
