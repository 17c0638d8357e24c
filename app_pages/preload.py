"""Warm the app's server while the first visitor's browser loads the page.

``streamlit run streamlit_app.py`` starts a server that waits, doing nothing, while the
browser fetches Streamlit's page and scripts (about a second); the app's own imports
(geopandas, folium, the geoapp library: about 1.5 CPU-seconds) then ran only once the
first page's script started. :func:`lifespan` (the server's start-up hook, see
``streamlit_app.py``) starts one thread that does them in that idle second and reads
the embedded demo. The page's script waits for that part (:func:`wait`) before its own
imports, so two threads never import the same modules at once.

The thread then reads what the demo's first pages show at their defaults (the
Overview's tables and map, the Coverage page's analysis and map) through the app's
cached functions (:mod:`app_pages.compute`), which lock per key: a page asking for one
of them meanwhile waits for it rather than reading it twice. It only reads what an
earlier run kept on disk; on a fresh machine the first page computes, as it would
have. Nothing here draws, and nothing touches a session.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

log = logging.getLogger(__name__)

#: What the first page imports, in the order its script does.
MODULES = (
    "app_pages.sidebar",
    "app_pages.state",
    "app_pages.warm",
    "app_pages.compute",
    "app_pages.widgets",
    "app_pages.tables",
    "geoapp.coverage",
    "folium.plugins",  # streamlit_folium declares its component in the page: not here
)

#: Longest a page waits for the warm-up (it then imports what is missing itself).
WAIT_S = 30.0

_done = threading.Event()
_done.set()  # nothing to wait for until a warm-up starts
_started = threading.Lock()
_page_started = threading.Event()  # set by the first page's :func:`wait`


def warm_imports() -> None:
    """Import what the first page needs and read the demo region."""
    for name in MODULES:
        importlib.import_module(name)
    from geoapp import workflow

    workflow.load_region("demo")  # the library keeps it: the first page copies it
    from app_pages import disk

    disk.code_fingerprint()
    # Streamlit's first element looks up every loaded module's file once
    # (``inspect.stack``); done here, that lookup is done for the page
    inspect.stack(0)


def warm_first_pages() -> list[str]:
    """Read what the demo's first pages show at their defaults; return what was read.

    Only when an earlier run kept the demo's results on disk (else nothing: the page
    computes them, as it would have). Stops at the first step after a page started: it
    would only slow that page down (one interpreter runs both).
    """
    from app_pages import compute, disk
    from app_pages.state import DEMO_KEY

    if not disk.kept("demand_notes", DEMO_KEY, ()):
        return []
    region = compute.demo_region()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("demand notes", lambda: compute.demand_notes(DEMO_KEY, region))
    ]
    cat = compute.catalog()
    if cat:  # the Coverage page at its defaults: the first layer at its own pace

        def coverage() -> None:
            first = next(iter(cat))
            mode = "network" if len(region.edges) else "euclidean"
            sk = compute.speed_key(first, None)
            res = compute.analysis(DEMO_KEY, region, first, mode, sk)
            reach = float(res.layer.target_m)
            compute.coverage_map(DEMO_KEY, region, first, mode, sk, reach, False, "en", None, None)

        steps.append(("coverage", coverage))

    def overview() -> None:  # the page the Quickstart opens
        compute.district_stats(DEMO_KEY, region)
        if "heritage" in compute.facilities_by_layer(DEMO_KEY, region):
            compute.heritage_basic(DEMO_KEY, region)
        compute.overview_map(DEMO_KEY, region, "en", None, None)

    steps.append(("overview", overview))
    done = []
    for name, step in steps:
        if _page_started.is_set():
            break
        step()
        done.append(name)
    return done


def warm_up() -> None:
    """Warm the imports (the page waits for these), then the first pages (runs once)."""
    t0 = time.perf_counter()
    try:
        warm_imports()
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the page its time
        log.info("app warm-up failed; the first page does the work", exc_info=True)
        return
    finally:
        _done.set()
        log.info("app warm-up: imports in %.2f s", time.perf_counter() - t0)
    try:
        done = warm_first_pages()
    except Exception:  # noqa: BLE001 - the page computes what is missing
        log.info("app warm-up of the first pages failed", exc_info=True)
        return
    log.info(
        "app warm-up: %s in %.2f s", ", ".join(done) or "nothing on disk", time.perf_counter() - t0
    )


def start() -> bool:
    """Start :func:`warm_up` in a thread; False when one was already started."""
    if not _started.acquire(blocking=False):
        return False
    _done.clear()
    threading.Thread(target=warm_up, name="geoapp-preload", daemon=True).start()
    return True


def wait(timeout_s: float = WAIT_S) -> bool:
    """Wait for a started warm-up's imports; return whether they ended (True when none ran).

    Called by every page run: the warm-up of the first pages stops at its next step.
    """
    _page_started.set()
    return _done.wait(timeout_s)


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Start the warm-up when the server starts (the hook of ``st.App(lifespan=...)``)."""
    start()
    yield
