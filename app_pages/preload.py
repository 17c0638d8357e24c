"""Warm the app's server while the first visitor's browser loads the page.

``streamlit run streamlit_app.py`` starts a server that waits, doing nothing, while the
browser fetches Streamlit's page and scripts (about a second); the app's own imports
(geopandas, folium, the geoapp library: about 1.5 CPU-seconds) then ran only once the
first page's script started. :func:`lifespan` (the server's start-up hook, see
``streamlit_app.py``) starts one thread that does them in that idle second, and reads
the embedded demo, so the first page finds them done. The page's script waits for
that thread (:func:`wait`) before its own imports: two threads never import the same
modules at once. Nothing here draws, and nothing touches a session.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator
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


def warm_up() -> None:
    """Import what the first page needs and read the demo region (runs once)."""
    t0 = time.perf_counter()
    try:
        for name in MODULES:
            importlib.import_module(name)
        from geoapp import workflow

        workflow.load_region("demo")  # the library keeps it: the first page copies it
        from app_pages import disk

        disk.code_fingerprint()
        # Streamlit's first element looks up every loaded module's file once
        # (``inspect.stack``); done here, that lookup is done for the page
        inspect.stack(0)
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the page its time
        log.info("app warm-up failed; the first page does the work", exc_info=True)
    finally:
        _done.set()
        log.info("app warm-up done in %.2f s", time.perf_counter() - t0)


def start() -> bool:
    """Start :func:`warm_up` in a thread; False when one was already started."""
    if not _started.acquire(blocking=False):
        return False
    _done.clear()
    threading.Thread(target=warm_up, name="geoapp-preload", daemon=True).start()
    return True


def wait(timeout_s: float = WAIT_S) -> bool:
    """Wait for a started warm-up to end; return whether it has (True when none ran)."""
    return _done.wait(timeout_s)


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Start the warm-up when the server starts (the hook of ``st.App(lifespan=...)``)."""
    start()
    yield
