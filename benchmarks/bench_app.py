"""Time the Streamlit app in a real browser (Debian chromium + Playwright): not a test.

Starts ``streamlit run streamlit_app.py`` on the demo, then prints

* the first map after start (cold: server just started, first visit), and a second
  visit (warm caches);
* every control change on the Coverage page (layer, radius, mode, speed, catchments
  off), a language switch, the Compare page's layer selection and a page switch:
  time from the click until the script run has finished and the map (where the page
  has one) has its features again.

The named baseline is the floor (``floor_app.py``, timed in the same run, first;
``--no-floor`` skips it): a Streamlit page with a radio button and one st_folium map of
as many features as the demo's Coverage map, the least any Streamlit + Folium app costs
on this machine. The first map is printed as a multiple of the floor's (goal: 1.25x;
with ``--empty-cache``: 2x), each control change against the 1 s goal. Beside every
first map: the CPU seconds the server and the browser spent until it showed (stable
from run to run, where wall time follows the machine's load) and the load average.
``--repeat N`` times the two first maps N times, alternately, and prints medians.

City scale: ``--osm city.osm.pbf`` uploads the extract through the sidebar, each time
in a freshly started server: first with empty caches (parse, demand, graph, analysis),
then with the caches the first run left on disk. It prints the time from the click on
"Load" to the Overview map, then to the Coverage map, the server's CPU seconds, the
load, and the GeoJSON features each map sent (counted in the websocket frames). Goals:
the first map within 15 s with empty caches, within 5 s from the caches.

Run ``python benchmarks/bench_app.py --help`` for the options. Set APP_DIR to time
another checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(os.environ.get("APP_DIR", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT / "tests"))

#: Goals (issue 29): the first map within this multiple of the floor's, measured in the
#: same run; with empty caches, within the second; every control change under 1 s.
FLOOR_GOAL, EMPTY_CACHE_GOAL, CHANGE_GOAL_S = 1.25, 2.0, 1.0
#: Issue 29's goal for a control change on a city-sized region (``--osm`` with ``--rounds``).
CITY_CHANGE_GOAL_S = 2.0


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


#: Seconds between steps (``--pause``) and rounds of every control change (``--rounds``).
PAUSE_S = 0.0
ROUNDS = 3


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


def _proc_cpu_s(stat_line: str, ticks: int) -> float:
    """Return the CPU seconds of a ``/proc/<pid>/stat`` line, its ended children's included.

    User and system time (fields 14, 15) and those of the children it waited for (16, 17:
    a reader process that has ended); a child still running is read on its own.
    """
    fields = stat_line[stat_line.rindex(")") + 2 :].split()  # after "pid (name) "
    return sum(int(f) for f in fields[11:15]) / ticks


def _children() -> dict[int, list[int]]:
    """Return every live process's children, by parent id (Linux ``/proc``)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = (d / "stat").read_text()
            ppid = int(text[text.rindex(")") + 2 :].split()[1])
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


def tree_cpu_s(pid: int, skip: tuple[int, ...] = ()) -> float:
    """Return the CPU seconds of process ``pid`` and its live descendants (Linux).

    Subtrees rooted at a pid in ``skip`` are left out (the server, when timing the
    browser). 0.0 where ``/proc`` cannot be read.
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    kids = _children()
    total, todo = 0.0, [pid]
    while todo:
        one = todo.pop()
        if one in skip:
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += _proc_cpu_s(Path(f"/proc/{one}/stat").read_text(), ticks)
        todo.extend(kids.get(one, []))
    return total


def load_text() -> str:
    """Return the 1-minute load average and the cores, as printed beside each figure."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return "load ?"
    return f"load {one:.1f} on {os.cpu_count()} cores"


def ratio_text(value: float, base: float | None, goal: float) -> str:
    """Return ``value / base`` as "1.23x the floor (goal 1.25x: met)" ('' without a base)."""
    if not base:
        return ""
    ratio = value / base
    return f"{ratio:.2f}x the floor (goal {goal:g}x: {'met' if ratio <= goal else 'not met'})"


class Run:
    """A started browser page and server: what :func:`_browser_then_server` yields."""

    def __init__(self, browser, page, url: str, t0: float, proc: subprocess.Popen) -> None:
        self.browser, self.page, self.url, self.t0, self.proc = browser, page, url, t0, proc

    def cpu(self) -> tuple[float, float]:
        """Return the CPU seconds of the server and of the browser so far."""
        server = tree_cpu_s(self.proc.pid)
        own = os.times()
        # this process's descendants but the server: Playwright's driver and chromium
        browser = tree_cpu_s(os.getpid(), skip=(self.proc.pid,)) - own.user - own.system
        return server, browser


@contextlib.contextmanager
def _browser_then_server(script: str, env: dict | None = None, log_suffix: str = ""):
    """Start chromium, then ``streamlit run script``; yield a :class:`Run`.

    The browser is started first (a planner's browser is already open; its start, about
    2 s here, is not the app's); ``Run.t0`` is when the server was started.
    """
    from playwright import sync_api
    from test_browser import ARGS, CHROMIUM, _free_port, _wait_healthy

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
            yield Run(b, page, url, t0, proc)
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


class FirstMap:
    """One first map: seconds after ``streamlit run``, CPU seconds of server and browser."""

    def __init__(self, wall: float, server_cpu: float, browser_cpu: float, load: str) -> None:
        self.wall, self.server_cpu, self.browser_cpu, self.load = (
            wall, server_cpu, browser_cpu, load,
        )  # fmt: skip

    def text(self) -> str:
        return (
            f"{self.wall:6.2f} s wall, CPU {self.server_cpu:5.2f} s server + "
            f"{self.browser_cpu:5.2f} s browser ({self.load})"
        )


def _time_first_map(run: Run, path: str = "") -> FirstMap:
    """Open ``path`` and wait for its map; time it from ``streamlit run``."""
    cpu0 = run.cpu()[1]  # the browser's start is not the app's
    run.page.goto(run.url + path, wait_until="domcontentloaded")
    _first_map(run.page)
    wall = time.perf_counter() - run.t0
    server, browser = run.cpu()
    return FirstMap(wall, server, browser - cpu0, load_text())


def floor(rounds: int) -> tuple[FirstMap, float | None]:
    """Time ``floor_app.py``: the first map after ``streamlit run``, and a change.

    Returns the first map and the median change (None with ``rounds`` 0): the least a
    Streamlit page with one Folium map of the demo map's size costs on this machine, the
    baseline the app's figures are divided by.
    """
    with _browser_then_server("benchmarks/floor_app.py", log_suffix=".floor") as run:
        first = _time_first_map(run)
        changes: list[float] = []
        if rounds:
            run.page.wait_for_timeout(1500)
        for k in range(2 * rounds):
            label = "second" if k % 2 == 0 else "first"
            changes.append(
                _timed(run.page, f"floor: radio {label}", _click(run.page, label), quiet=True)
            )
    change = f", change {_stats(changes)}" if changes else ""
    print(f"{'floor: first map':32s} {first.text()}{change}", flush=True)
    return first, (median(changes) if changes else None)


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

    from playwright import sync_api
    from test_browser import ARGS, CHROMIUM, _free_port, _map_frame, _wait_healthy

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
                cpu0 = tree_cpu_s(proc.pid)
                t = time.perf_counter()
                side.get_by_role("button", name="Load uploaded files").click()
                side.get_by_text(f"Region: {name}").wait_for(timeout=900_000)
                t_loaded = time.perf_counter() - t
                _idle(page)
                _wait_new_drawn(page)
                t_over = time.perf_counter() - t
                cpu_over = tree_cpu_s(proc.pid) - cpu0
                load_over = load_text()
                n_over = sent[0]
                sent[0] = 0
                _mark_drawn(page)
                t2 = time.perf_counter()
                page.locator('[data-testid="stSidebarNav"] a', has_text="Coverage").click()
                _run_done(page, timeout_s=900)
                _wait_new_drawn(page)
                t_cov = time.perf_counter() - t2
                page.wait_for_timeout(1000)
                goal = 15.0 if label == "empty caches" else 5.0
                print(f"[{label}] region loaded {t_loaded:6.2f} s, Overview map {t_over:6.2f} s "
                      f"(goal {goal:g} s: {'met' if t_over <= goal else 'not met'}; server CPU "
                      f"{cpu_over:.1f} s, {load_over}; {n_over:,} features), then Coverage map "
                      f"{t_cov:6.2f} s ({sent[0]:,} features)", flush=True)  # fmt: skip
                if ROUNDS and label == "caches on disk":
                    _print_changes(_control_changes(page), CITY_CHANGE_GOAL_S)
                b.close()
        finally:
            _stop(proc)
            log.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line's options (``--help`` prints them and exits)."""
    ap = argparse.ArgumentParser(
        prog="bench_app.py",
        description="Time geoapp's Streamlit app in a real browser (chromium + Playwright) "
        "against the floor (floor_app.py: a Streamlit page with one st_folium map of the "
        "same size), measured in the same run. Not a test: figures follow the machine's "
        "load, printed beside them with the CPU seconds.",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="N",
        help="times every control change is timed (default 3; 0: first maps only)",
    )
    ap.add_argument(
        "--pause",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds between control changes (default 0: back to back)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="time the floor's and the app's first map N times, alternately, "
        "and print medians (default 1)",
    )
    ap.add_argument(
        "--page",
        default="coverage",
        metavar="PATH",
        help="the app's page whose first map is timed: coverage (default), or '' for the "
        "page the Quickstart opens (Overview)",
    )
    ap.add_argument("--no-floor", action="store_true", help="do not time the floor")
    ap.add_argument(
        "--empty-cache",
        action="store_true",
        help="start as on a fresh machine: no demo, demand or app cache on disk "
        "(goal 2x the floor, else 1.25x)",
    )
    ap.add_argument(
        "--osm",
        type=Path,
        metavar="FILE",
        help="city scale: upload FILE through the sidebar and time its load, "
        "with empty caches and then from the caches; with --rounds N > 0 also every "
        "control change on it, N times (goal 2 s)",
    )
    ap.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="with --osm: keep the caches in DIR; when DIR holds caches, only "
        "the cached load is timed",
    )
    return ap.parse_args(argv)


def _app_first_map(env: dict | None, page: str = "coverage") -> FirstMap:
    """Time the app's first map (the Coverage page) in a freshly started server."""
    with _browser_then_server("streamlit_app.py", env) as run:
        return _time_first_map(run, f"/{page}")


def _fresh_cache_env(empty: bool) -> dict | None:
    """Return the server's environment: a new, empty cache folder with ``empty``."""
    if not empty:
        return None
    import tempfile

    return {**os.environ, "GEOAPP_CACHE_DIR": tempfile.mkdtemp(prefix="geoapp-bench-cache-")}


def first_maps(repeat: int, empty: bool, with_floor: bool, page: str = "coverage") -> None:
    """Time the floor's and the app's first maps ``repeat`` times, alternately; print medians."""
    floors: list[FirstMap] = []
    apps: list[FirstMap] = []
    for _ in range(repeat):
        if with_floor:
            floors.append(floor(0)[0])
        apps.append(_app_first_map(_fresh_cache_env(empty), page))
        print(f"{'app: first map':32s} {apps[-1].text()}", flush=True)
    goal = EMPTY_CACHE_GOAL if empty else FLOOR_GOAL

    def med(xs: list[FirstMap], attr: str) -> float:
        return median(getattr(x, attr) for x in xs)

    print(f"\nmedian of {repeat} (wall; CPU server + browser):")
    if floors:
        print(f"{'floor: first map':32s} {med(floors, 'wall'):6.2f} s; "
              f"{med(floors, 'server_cpu'):.2f} + {med(floors, 'browser_cpu'):.2f} s")  # fmt: skip
    base = med(floors, "wall") if floors else None
    print(f"{'app: first map':32s} {med(apps, 'wall'):6.2f} s; "
          f"{med(apps, 'server_cpu'):.2f} + {med(apps, 'browser_cpu'):.2f} s  "
          f"{ratio_text(med(apps, 'wall'), base, goal)}")  # fmt: skip
    if floors:
        cpu_app = med(apps, "server_cpu") + med(apps, "browser_cpu")
        cpu_floor = med(floors, "server_cpu") + med(floors, "browser_cpu")
        print(f"{'app / floor in CPU seconds':32s} {cpu_app / cpu_floor:6.2f}x")


def main(argv: list[str] | None = None) -> None:
    global PAUSE_S, ROUNDS  # noqa: PLW0603 - read by _timed
    args = parse_args(argv)
    PAUSE_S, ROUNDS = args.pause, args.rounds
    if args.osm is not None:
        import tempfile

        osm = args.osm
        if args.cache_dir is not None:  # kept: a second call times only the cached load
            folder = args.cache_dir
            filled = folder.is_dir() and any(folder.iterdir())
            folder.mkdir(parents=True, exist_ok=True)
            city(osm, folder, ("caches on disk",) if filled else ("empty caches", "caches on disk"))
            return
        with tempfile.TemporaryDirectory(prefix="geoapp-bench-city-") as tmp:
            city(osm, Path(tmp))
        return
    print(f"start: {load_text()}", flush=True)
    if args.repeat > 1 or ROUNDS == 0:
        first_maps(args.repeat, args.empty_cache, not args.no_floor, args.page)
        return
    env = _fresh_cache_env(args.empty_cache)
    if env is not None:
        print("empty cache:", env["GEOAPP_CACHE_DIR"])
    floor_first, floor_change = (None, None) if args.no_floor else floor(ROUNDS)
    goal = EMPTY_CACHE_GOAL if args.empty_cache else FLOOR_GOAL
    from test_browser import _map_frame

    with _browser_then_server("streamlit_app.py", env) as run:
        b, page, url = run.browser, run.page, run.url
        print(f"{'server healthy':32s} {time.perf_counter() - run.t0:6.2f} s", flush=True)
        first = _time_first_map(run, f"/{args.page}")
        vs_floor = ratio_text(first.wall, floor_first.wall if floor_first else None, goal)
        print(f"{'app: first map':32s} {first.text()}  {vs_floor}", flush=True)
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
        _print_changes(_control_changes(page), CHANGE_GOAL_S, floor_change)


def _print_changes(
    times: dict[str, list[float]], goal_s: float, floor_change: float | None = None
) -> None:
    """Print every control change's median (min-max) and how many are under ``goal_s``."""
    print(f"\nmedian (min-max) of {ROUNDS} rounds, from the click to the drawn result "
          f"({load_text()} at the end):")  # fmt: skip
    under = 0
    for label, dts in times.items():
        ratio = [f"{median(dts) / floor_change:.1f}x the floor's change"] if floor_change else []
        extra = f"  ({', '.join(ratio)})" if ratio else ""
        print(f"{label:32s} {_stats(dts)}{extra}")
        under += median(dts) < goal_s
    print(f"{under} of {len(times)} control changes under {goal_s:g} s (median)")


def _control_changes(page) -> dict[str, list[float]]:
    """Time every control change of the Coverage page, ``ROUNDS`` times."""

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
    failed: list[str] = []
    for k in range(ROUNDS):
        # the clock starts at the choice itself: the drop-down is opened and
        # the slider focused before it, as a planner does
        steps = [("page switch: Coverage", nav("Coverage"), None, True)] if k else []
        steps += [
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
        if k % 2 == 0:
            steps.append(("compare layer selection", drop_layer, None, False))
        else:
            steps.append(("compare layer selection", add_layer, open_compare, False))
        for label, action, prepare, with_map in steps:
            try:
                _timed(page, label, action, with_map, prepare, times=times)
            except Exception as exc:  # noqa: BLE001 - one step that times out (a busy machine)
                print(f"  {label:30s} not timed: {type(exc).__name__}", flush=True)
                failed.append(label)
    if failed:
        print(f"{len(failed)} steps not timed: {', '.join(failed)}")
    return times


if __name__ == "__main__":
    main()
