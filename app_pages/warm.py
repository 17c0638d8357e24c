"""One background worker that fills the app's caches, most recent request first.

Pages ask for what the planner is likely to need next (the other radii, layers,
modes, speeds and language of the settings on screen; the other pages' defaults).
One daemon thread runs those steps, one at a time, newest request first: when the
planner changes a control, the new settings' neighbours jump ahead of older,
now less likely ones. Steps call the app's cached functions, which lock per cache
key, so a page that needs a value being computed here waits for it instead of
computing it twice. A step that fails only means a slower page later (logged).

No Streamlit here: the steps must not touch ``st.session_state`` (there is no
session in the thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

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
        self._pending: list[tuple[str, list[Step]]] = []
        self._seen: set[str] = set()
        self._last_request = 0.0
        self._busy = False  # a step is running
        self._thread: threading.Thread | None = None

    def request(self, name: str, steps: Sequence[Step], *, first: bool = True) -> bool:
        """Queue ``steps`` under ``name`` (once per name).

        ``first``: ahead of every older batch (what is one click away from the screen);
        False: behind them (what is further).
        Returns True when the batch was queued (False: asked for before).
        """
        with self._lock:
            if name in self._seen:
                return False
            self._seen.add(name)
            if first:
                self._pending.insert(0, (name, list(steps)))
            else:
                self._pending.append((name, list(steps)))
            self._last_request = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="geoapp-warm", daemon=True)
                self._thread.start()
            self._lock.notify()
        return True

    def forget(self, prefix: str) -> None:
        """Drop queued batches whose name starts with ``prefix`` (a region unloaded)."""
        with self._lock:
            self._pending = [(n, s) for n, s in self._pending if not n.startswith(prefix)]
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

    def _pop(self) -> tuple[str, Step]:
        name, steps = self._pending[0]
        step = steps.pop(0)
        if not steps:
            self._pending.pop(0)
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
                wait = self._last_request + self.idle_s - time.monotonic()
                if wait > 0:
                    self._lock.wait(timeout=wait)
                    continue
                return self._pop()

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
