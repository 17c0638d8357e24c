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
