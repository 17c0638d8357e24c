"""Each app session's temporary folder: its uploads and report builds, removed with it.

A hosted app must not fill its disk: every file a session writes (uploaded extracts
and tables, kept so the report can read them again; report builds) goes into one
folder, ``<tmp>/geoapp-app/p<server pid>/s-<session id>/``, that

* is removed when the session's state is dropped (the session ended),
* is removed by the next session that starts once the session is gone (a session
  Streamlit forgot without a word; every folder of a server process that is no
  longer running, e.g. killed),
* holds at most :func:`geoapp.settings.app_session_bytes` (``GEOAPP_APP_SESSION_MB``),
  and all sessions' folders together four times as much (:func:`reserve`).

No function here draws anything or names a server path in a message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from geoapp import settings
from geoapp.errors import InputError
from geoapp.i18n import t

log = logging.getLogger(__name__)

#: Name of the folder (under the system's temporary folder) holding every session's.
ROOT_NAME = "geoapp-app"
#: Prefix of a session's folder name (then its session id).
PREFIX = "s-"
#: File touched on every run of a session: its age says how long the session was idle.
MARK = ".alive"
#: Seconds a folder whose session is not active is kept (a reconnecting tab finds it).
GRACE_S = 150.0
#: Names of a session's subfolders holding uploads (see :func:`drop_unused`).
UPLOAD_PREFIXES = ("upload-", "geoapp-beijing-")
#: How many times one session's cap all sessions' folders may hold together.
ALL_SESSIONS_FACTOR = 4


def root() -> Path:
    """Return the folder holding every app server's folder (made when missing)."""
    path = Path(tempfile.gettempdir()) / ROOT_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def server_root() -> Path:
    """Return this server process's folder of session folders (made when missing).

    Each server sweeps only its own sessions (another server's are not its to judge),
    and the folders of servers no longer running.
    """
    path = root() / f"p{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


class SessionFolder:
    """One session's folder; removed when this object is dropped with the session state.

    Parameters
    ----------
    session_id
        The Streamlit session id (only letters, digits and ``-`` are kept).
    """

    def __init__(self, session_id: str) -> None:
        safe = "".join(c for c in str(session_id) if c.isalnum() or c == "-")[:64] or "local"
        self.path = server_root() / f"{PREFIX}{safe}"
        self.path.mkdir(parents=True, exist_ok=True)
        self.touch()
        # the folder goes with the object: a session's state is dropped when it ends
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def touch(self) -> None:
        """Mark the session alive now (the folder is made again if a sweep removed it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / MARK).touch()

    def remove(self) -> None:
        """Remove the folder now."""
        self._finalizer()

    def subfolder(self, name: str) -> Path:
        """Return a new empty folder ``<session folder>/<name>-<n>`` (unique)."""
        self.touch()
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.path))


def drop_unused(folder: SessionFolder, used: Iterable[str]) -> list[str]:
    """Remove the session's upload folders no file of ``used`` lies in; return their names.

    Called when another region is loaded: the uploads of the region replaced are of no
    more use (its recipe is gone), so they do not count against the session's cap.
    """
    paths = [str(Path(u)) for u in used if u]
    gone = []
    for child in folder.path.iterdir():
        if not child.is_dir() or not child.name.startswith(UPLOAD_PREFIXES):
            continue
        if any(p == str(child) or p.startswith(str(child) + os.sep) for p in paths):
            continue
        shutil.rmtree(child, ignore_errors=True)
        gone.append(child.name)
    return gone


def folder_bytes(path: Path) -> int:
    """Return the bytes of the files under ``path`` (0 when it is gone)."""
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_size
    return total


def reserve(folder: SessionFolder, nbytes: int, lang: str = "en") -> None:
    """Check that ``nbytes`` more fit in the session's folder and in all of them.

    Raises
    ------
    InputError
        The session's cap or all sessions' cap would be passed (in ``lang``; no path).
    """
    cap = settings.app_session_bytes()
    used = folder_bytes(folder.path)
    if used + nbytes > cap:
        raise InputError(t("session_full", lang, mb=cap / 1e6))
    everyone = folder_bytes(root())
    if everyone + nbytes > cap * ALL_SESSIONS_FACTOR:
        raise InputError(t("server_full", lang))


def sweep(
    is_active: Callable[[str], bool],
    *,
    keep: Iterable[str] = (),
    grace_s: float = GRACE_S,
    now: float | None = None,
) -> list[str]:
    """Remove the folders of sessions that ended; return the ids (and servers) removed.

    The folders of server processes no longer running go whole. A session's folder
    of this server goes when its session is not active (``is_active(session id)`` false),
    is not in ``keep``, and its mark is older than ``grace_s`` seconds (a tab that lost
    its connection for a moment finds its files again).
    """
    now = time.time() if now is None else now
    kept = set(keep)
    gone = []
    for server in root().glob("p*"):  # folders of servers that stopped (or were killed)
        pid = server.name[1:]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(server, ignore_errors=True)
            gone.append(server.name)
    for path in sorted(server_root().glob(f"{PREFIX}*")):
        sid = path.name[len(PREFIX) :]
        if sid in kept or is_active(sid):
            continue
        mark = path / MARK
        try:
            age = now - (mark.stat().st_mtime if mark.exists() else path.stat().st_mtime)
        except OSError:
            continue
        if age < grace_s:
            continue
        shutil.rmtree(path, ignore_errors=True)
        gone.append(sid)
    if gone:
        log.info("removed the temporary folders of %d ended session(s)", len(gone))
    return gone


def streamlit_session_id() -> str:
    """Return the id of the Streamlit session running this script ("local" outside one)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def streamlit_is_active(session_id: str) -> bool:
    """Return whether ``session_id`` is a session the Streamlit server still serves."""
    from streamlit import runtime

    if not runtime.exists():
        return False
    return bool(runtime.get_instance().is_active_session(session_id))
