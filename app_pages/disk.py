"""Disk copies of the app's analyses and maps, so a restarted app draws at once.

The in-memory caches of :mod:`app_pages.compute` die with the server. For regions
whose key names their content (the embedded demo, uploaded files by their SHA-256,
a Beijing extract by path and modification time), analyses, maps and (regions up
to 250,000 street edges) the demand estimate are also kept on disk under
``<geoapp cache>/app/``, keyed by the region key, the settings and a fingerprint of
the code that computes them (every file of the ``geoapp`` package and of
``app_pages``). A changed file, setting or code is computed again; a
place fetched online is never kept (its data can change under the same name).
``GEOAPP_APP_DISK_CACHE=0`` turns it off; beyond ``GEOAPP_APP_DISK_CACHE_MB``
(1,024) the oldest files are deleted. Files are written aside and renamed in,
so a crash never leaves half a file; each carries the SHA-256 of its bytes and the
code fingerprint, so a damaged file is a miss with one warning, then recomputed
(:func:`geoapp.cache.load_checked`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from geoapp import settings
from geoapp.cache import cache_root, dump_checked, load_checked

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Region-key prefixes whose content can change under the same key.
UNSTABLE_PREFIXES = ("place:",)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Return a hash of every file of the ``geoapp`` package and of ``app_pages``."""
    import geoapp

    h = hashlib.sha256()
    roots = (Path(geoapp.__file__).resolve().parent, Path(__file__).resolve().parent)
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:20]


def enabled(region_key: str) -> bool:
    """Return whether results of the region ``region_key`` are kept on disk."""
    if not settings.app_disk_cache_enabled():
        return False
    return not region_key.startswith(UNSTABLE_PREFIXES)


def _path(kind: str, region_key: str, settings: tuple) -> Path:
    h = hashlib.sha256(repr((code_fingerprint(), region_key, settings)).encode())
    return cache_root() / "app" / f"{kind}-{h.hexdigest()[:24]}.pkl"


def kept(kind: str, region_key: str, settings: tuple) -> bool:
    """Return whether a disk copy of ``kind`` at these settings exists (see :func:`cached`)."""
    return enabled(region_key) and _path(kind, region_key, settings).is_file()


def cached(kind: str, region_key: str, settings: tuple, compute: Callable[[], T]) -> T:
    """Return ``compute()``, read from disk when an earlier run kept it.

    Parameters
    ----------
    kind
        What is kept (``"analysis"``, ``"map"``): part of the file name.
    region_key
        The app's region key (see :func:`enabled`).
    settings
        Everything else the result depends on (layer, mode, speed, radius ...), as
        a tuple with a stable ``repr``.
    compute
        Computes the result when no disk copy exists.
    """
    if not enabled(region_key):
        return compute()
    path = _path(kind, region_key, settings)
    # a damaged, truncated or other version's file is a miss (one warning), never a crash
    kept = load_checked(path, version=code_fingerprint())
    if kept is not None:
        return kept  # type: ignore[return-value]
    value = compute()
    try:
        dump_checked(value, path, version=code_fingerprint())
        prune(path.parent)
    except Exception as exc:  # noqa: BLE001 - an unwritable cache only costs time
        log.info("app disk cache: cannot write %s (%s)", path.name, exc)
    return value


def prune(folder: Path, max_bytes: int | None = None) -> int:
    """Delete the oldest cache files of ``folder`` beyond ``max_bytes``; return how many.

    ``max_bytes`` defaults to :func:`geoapp.settings.app_disk_cache_bytes` (the most
    bytes the app's disk cache keeps); beyond it the least recently written go.
    """
    limit = settings.app_disk_cache_bytes() if max_bytes is None else max_bytes
    files = []
    for p in folder.glob("*.pkl"):
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in files)
    gone = 0
    for _, size, p in sorted(files):
        if total <= limit:
            break
        try:
            p.unlink()
        except OSError:
            continue
        total -= size
        gone += 1
    return gone
