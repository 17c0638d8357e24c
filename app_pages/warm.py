"""One background worker that fills the app's caches, most recent request first.

Pages ask for what the planner is likely to need next (the other radii, layers,
modes, speeds and language of the settings on screen; the other pages' defaults).
One daemon thread runs those steps, one at a time, newest request first: when the
planner changes a control, the new settings' neighbours jump ahead of older,
now less likely ones. Steps call the app's cached functions (:mod:`app_pages.compute`),
which lock per cache key, so a page that needs a value being computed here waits for
it instead of computing it twice. A step that fails only means a slower page later
(logged).

:class:`Warmer` is free of Streamlit. :func:`warm_coverage` and :func:`warm_up` read
the session's settings on the page's thread and queue steps that never touch
``st.session_state`` (there is no session in the worker thread):

* after each run of the Coverage page, every setting one click away (other radii,
  layers, mode, speeds, catchments, language);
* after every page, the other pages at the session's settings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import streamlit as st

from app_pages.compute import (
    SPEEDS,
    analysis,
    bundle_zip,
    catalog,
    catchments,
    coverage_map,
    gaps_at,
    heritage_map,
    heritage_report,
    overview_map,
    speed_key,
    zone_chart_png,
    zones_table,
)
from app_pages.state import (
    about_to_switch,
    basemap_choice,
    coverage_mode,
    coverage_speed,
    kept,
    lang,
)
from geoapp.region import Region

log = logging.getLogger(__name__)

Step = tuple[str, Callable[[], object]]


class Warmer:
    """A LIFO queue of named batches of cache-filling steps, run by one thread.

    Parameters
    ----------
    idle_s
        Seconds to wait after the last request before running steps, so the page
        that asked draws without competing for the CPU.
    """

    def __init__(self, idle_s: float = 0.0) -> None:
        self.idle_s = idle_s
        self._lock = threading.Condition()
        self._pending: list[tuple[str, list[Step], float]] = []
        self._seen: set[str] = set()
        self._last_request = 0.0
        self._not_before = 0.0
        self._busy = False  # a step is running
        self._thread: threading.Thread | None = None

    def request(
        self, name: str, steps: Sequence[Step], *, first: bool = True, quiet_s: float = 0.0
    ) -> bool:
        """Queue ``steps`` under ``name`` (once per name).

        ``first``: ahead of every older batch (what is one click away from the screen);
        False: behind them (what is further). ``quiet_s``: run the batch only once no
        request has come for that many seconds (long steps few planners need soon,
        which would otherwise slow the next page if it came while they run).
        Returns True when the batch was queued (False: asked for before).
        """
        with self._lock:
            self._last_request = time.monotonic()  # every page run counts as activity
            if name in self._seen:
                return False
            self._seen.add(name)
            if first:
                self._pending.insert(0, (name, list(steps), quiet_s))
            else:
                self._pending.append((name, list(steps), quiet_s))
            self._last_request = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="geoapp-warm", daemon=True)
                self._thread.start()
            self._lock.notify()
        return True

    def hold(self, seconds: float) -> None:
        """Start no step for ``seconds`` from now (a large map is still being drawn).

        A step already running finishes; queued ones wait.
        """
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)
            self._lock.notify()

    def release(self) -> None:
        """End every :meth:`hold` now (a page run that held the queue has ended)."""
        with self._lock:
            self._not_before = 0.0
            self._lock.notify()

    def forget(self, prefix: str) -> None:
        """Drop queued batches whose name starts with ``prefix`` (a region unloaded)."""
        with self._lock:
            self._pending = [b for b in self._pending if not b[0].startswith(prefix)]
            self._seen = {n for n in self._seen if not n.startswith(prefix)}

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Block until the queue is empty and no step runs (tests); True when idle."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending and not self._busy:
                    return True
            time.sleep(0.05)
        return False

    def _pop(self, index: int) -> tuple[str, Step]:
        name, steps, _ = self._pending[index]
        step = steps.pop(0)
        if not steps:
            self._pending.pop(index)
        self._busy = True
        return name, step

    def _take(self) -> tuple[str, Step] | None:
        """Wait for the next step (None: nothing asked for 30 s, the thread ends)."""
        with self._lock:
            while True:
                if not self._pending:
                    self._busy = False
                    self._lock.wait(timeout=30.0)
                    if not self._pending:
                        self._thread = None
                        return None
                    continue
                now = time.monotonic()
                # the first batch whose quiet time has passed (an earlier one may wait)
                ready = [
                    max(self._last_request + max(self.idle_s, quiet), self._not_before)
                    for _, _, quiet in self._pending
                ]
                due = [i for i, at in enumerate(ready) if at <= now]
                if not due:
                    self._lock.wait(timeout=min(ready) - now)
                    continue
                return self._pop(due[0])

    def _run(self) -> None:
        while (item := self._take()) is not None:
            name, (label, step) = item
            try:
                step()
            except Exception:  # noqa: BLE001 - a failed warm-up only means a slower page later
                log.warning("warm-up %s: %s failed", name, label, exc_info=True)
            finally:
                with self._lock:
                    self._busy = False


#: Seconds of quiet after a page's last warm-up request before the worker starts, so
#: the browser draws the page without competing for the CPU (it takes 0.7-1.2 s to draw
#: a Coverage rerun on two cores; back-to-back control changes took 1.66 s on average
#: with 1.5 s, 1.88 s with 0.4 s).
WARM_IDLE_S = 1.5
#: Longest a page run keeps the warm-up from starting a step (the run's end releases it).
WARM_PAGE_HOLD_S = 60.0
#: Seconds without a page run before the Export bundle is built in the background.
WARM_QUIET_S = 6.0
#: Regions up to this many street edges get every "one click away" map warmed; larger
#: ones only the other radii of the layer shown (each analysis costs seconds there).
WARM_NEIGHBOURS_MAX_EDGES = 250_000
WARMER = Warmer(idle_s=WARM_IDLE_S)
#: Seconds the warm-up waits after a session's first page run: the browser is still
#: booting the page and the map's iframe (Leaflet, the map's features), served by this
#: process, whose GIL a warm-up step would hold.
WARM_FIRST_RUN_HOLD_S = 3.0
#: Seconds the warm-up waits after a page of a region over
#: :data:`WARM_NEIGHBOURS_MAX_EDGES` street edges: the browser is still receiving and
#: drawing its map (1.5-2 s at city scale on two cores), which the warm-up's CPU slows.
WARM_HOLD_LARGE_S = 2.5


def _hold_if_large(region: Region) -> None:
    if len(region.edges) > WARM_NEIGHBOURS_MAX_EDGES:
        WARMER.hold(WARM_HOLD_LARGE_S)


def _speed_for(layer_id: str, choice: str, custom_kmh: float) -> float | None:
    """Return :func:`speed_key` of ``layer_id`` under a Coverage-page speed choice."""
    layer = catalog().get(layer_id)
    if layer is None:
        return None
    if choice == "custom":
        kmh: float | None = custom_kmh
    elif choice in SPEEDS:
        kmh = float(SPEEDS[choice])
    else:
        kmh = layer.walk_speed_kmh
    return speed_key(layer_id, kmh)


def _coverage_map_at(
    k: str,
    r: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    label: str | None,
    with_catch: bool,
    lang_code: str,
    basemap: str | None,
    tkey: str | None,
) -> None:
    """Fill the caches the Coverage page needs for one set of settings.

    ``label`` is the radius label (``"15min"``, ``"300"``); None or unknown: the
    layer's target, as the page shows by default.
    """
    res = analysis(k, r, layer_id, mode, speed)
    run = res.layer
    labels = list(run.labels)
    radius = float(run.radii_m[labels.index(label)]) if label in labels else float(run.target_m)
    if with_catch and mode == "network":
        catchments(k, r, layer_id, radius, speed)
    gaps_at(k, r, layer_id, mode, speed, radius)
    coverage_map(k, r, layer_id, mode, speed, radius, with_catch, lang_code, basemap, tkey)


def warm_coverage(
    region: Region,
    region_key: str,
    layer_id: str,
    mode: str,
    radius_label: str,
    with_catch: bool,
) -> None:
    """Warm what one click on the Coverage page can ask for next (in the background).

    Newest first: the other radii of the layer shown; then (regions up to
    :data:`WARM_NEIGHBOURS_MAX_EDGES` street edges) the other layers at the radius the
    planner left them at, the other distance mode, the other walking speeds, the
    catchments toggle and the other language -- each one click away from the
    settings on screen.
    """
    if about_to_switch(st.session_state):
        WARMER.forget(f"{region_key}:")
        return
    lg = lang()
    bm, tk = basemap_choice()
    choice = str(kept("cov_speed", "layer"))
    custom = float(kept("cov_speed_kmh", 4.0))
    sk = _speed_for(layer_id, choice, custom)
    r, k = region, region_key
    res = analysis(k, r, layer_id, mode, sk)

    def at(lid: str, md: str, spd: float | None, lab: str | None, catch: bool, lc: str):
        return lambda: _coverage_map_at(k, r, lid, md, spd, lab, catch, lc, bm, tk)

    steps: list[tuple[str, Callable[[], object]]] = [
        (f"radius {lab}", at(layer_id, mode, sk, lab, with_catch, lg))
        for lab in res.layer.labels
        if lab != radius_label
    ]
    if len(region.edges) <= WARM_NEIGHBOURS_MAX_EDGES:
        for lid in catalog():
            if lid != layer_id:
                lab = kept(f"cov_radius_{lid}", None)
                steps.append((f"layer {lid}", at(lid, mode, _speed_for(lid, choice, custom), lab,
                                                 with_catch, lg)))  # fmt: skip
        if len(region.edges):
            other = "euclidean" if mode == "network" else "network"
            steps.append((f"mode {other}", at(layer_id, other, sk, radius_label, False, lg)))
        for ch in ("layer", *SPEEDS):
            spd = _speed_for(layer_id, ch, custom)
            if spd != sk:
                steps.append((f"speed {ch}", at(layer_id, mode, spd, radius_label, with_catch, lg)))
        if mode == "network":
            steps.append(("catchments", at(layer_id, mode, sk, radius_label, not with_catch, lg)))
        other_lang = "zh" if lg == "en" else "en"
        steps.append(
            (f"language {other_lang}", at(layer_id, mode, sk, radius_label, with_catch, other_lang))
        )
    name = (
        f"{region_key}:coverage:{layer_id}:{mode}:{sk}:{radius_label}:{with_catch}:{lg}:{bm}:{tk}"
    )
    _hold_if_large(region)
    WARMER.request(name, steps)


def _warm_steps(
    region: Region, region_key: str, lang_code: str, basemap: str | None, tkey: str | None
) -> list[tuple[str, Callable[[], object]]]:
    """Return the cache-filling steps of every page at the settings kept in the session."""
    cat = catalog()
    layer_ids = list(cat)
    mode = coverage_mode(region)
    r, k = region, region_key
    choice = str(kept("cov_speed", "layer"))
    custom = float(kept("cov_speed_kmh", 4.0))
    compare_ids = tuple(
        kept("cmp_layers", [lid for lid in layer_ids if lid != "heritage"] or layer_ids)
    )
    by = str(kept("cmp_group_by", "zone_type"))
    cmp_speed = coverage_speed()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("overview map", lambda: overview_map(k, r, lang_code, basemap, tkey)),
    ]
    if layer_ids:
        first = str(kept("cov_layer", layer_ids[0]))
        if first in cat:
            sk = _speed_for(first, choice, custom)
            lab = kept(f"cov_radius_{first}", None)
            catch = bool(kept("cov_catch", False)) and mode == "network"
            steps.append(
                (
                    "coverage map",
                    lambda: _coverage_map_at(
                        k, r, first, mode, sk, lab, catch, lang_code, basemap, tkey
                    ),
                )
            )
    if "heritage" in cat:
        steps.append(("heritage", lambda: heritage_report(k, r)))
        steps.append(("heritage map", lambda: heritage_map(k, r, lang_code, basemap, tkey)))
    if compare_ids:
        steps.append(("zones table", lambda: zones_table(k, r, compare_ids, mode, by, cmp_speed)))
        steps.append(("zone chart", lambda: zone_chart_png(k, r, compare_ids, mode, by,
                                                           cmp_speed, lang_code)))  # fmt: skip
    return steps


def _export_steps(
    region: Region, region_key: str, lang_code: str
) -> list[tuple[str, Callable[[], object]]]:
    """Return the step that builds the Export page's files at its settings (or none)."""
    cat = catalog()
    if not cat or len(region.edges) > WARM_NEIGHBOURS_MAX_EDGES:
        return []  # a city's bundle takes many seconds: built when the page asks
    exp = str(kept("exp_layer", next(iter(cat))))
    if exp not in cat:
        return []
    mode = coverage_mode(region)
    esk = speed_key(exp, coverage_speed(exp))
    r, k = region, region_key
    return [("export", lambda: bundle_zip(k, r, exp, mode, esk, False, lang_code))]


def _import_lazy_modules() -> None:
    # imported on first use (~1 s); not streamlit_folium: it registers its component
    # with the runtime when imported, so a session imports it
    import folium.plugins  # noqa: F401
    import matplotlib.pyplot  # noqa: F401


def warm_up(region: Region, region_key: str) -> None:
    """Fill the other pages' caches for ``region`` at the session's settings (background).

    Called after every page run, so it always queues behind that page's own
    neighbours (:func:`warm_coverage`); each set of settings is queued once.
    """
    if about_to_switch(st.session_state):
        WARMER.forget(f"{region_key}:")
        return
    if not st.session_state.get("_warm_first_run_done"):
        st.session_state["_warm_first_run_done"] = True
        WARMER.hold(WARM_FIRST_RUN_HOLD_S)
    lang_code = lang()
    basemap, tkey = basemap_choice()
    steps = _warm_steps(region, region_key, lang_code, basemap, tkey)
    steps.insert(1, ("lazy imports", _import_lazy_modules))
    settings = ":".join(
        str(kept(key, "")) for key in ("cov_layer", "cov_speed", "cov_speed_kmh", "cov_mode",
                                        "cmp_layers", "cmp_group_by", "exp_layer")
    )  # fmt: skip
    name = f"{region_key}:pages:{lang_code}:{basemap}:{tkey}:{settings}"
    _hold_if_large(region)
    # behind the page's own neighbours: the other pages are further than one click away
    WARMER.request(name, steps, first=False)
    # the whole bundle (seconds of work) only once the planner has paused: begun just
    # before a click, it would slow that page
    WARMER.request(f"{name}:export", _export_steps(region, region_key, lang_code),
                   first=False, quiet_s=WARM_QUIET_S)  # fmt: skip
