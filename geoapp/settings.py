"""The environment knobs of geoapp, read in one place.

Every ``GEOAPP_*`` environment variable is read here and nowhere else, at call time
(so a test or a long-lived app that changes ``os.environ`` sees the new value).

========================== ============================================================
Variable                   Meaning
========================== ============================================================
``GEOAPP_CACHE_DIR``       Folder of the caches (graphs, demand, parsed regions); default
                           ``$XDG_CACHE_HOME/geoapp``, else ``~/.cache/geoapp``.
``GEOAPP_REGION_CACHE``    ``0`` turns off the parsed-region cache of OSM files.
``GEOAPP_PBF_READER``      ``osmium`` (default) or ``pyrosm``.
``GEOAPP_PYROSM_ENGINE``   pyrosm's engine when pyrosm reads; default ``out_of_core``.
``GEOAPP_READ_PROCESSES``  ``1`` turns off the two-process read of large extracts.
``GEOAPP_LAYERS``          A folder of layer files to use instead of the shipped catalog.
``GEOAPP_APP_DISK_CACHE``  ``0`` turns off the app's disk cache of results.
``GEOAPP_APP_DISK_CACHE_MB`` Most megabytes the app's disk cache keeps (default 1024).
``GEOAPP_MAP_MAX_FEATURES`` Most features the app draws per map layer (0: the default).
``GEOAPP_ALLOWED_DIRS``    Folders (``os.pathsep``-separated) whose extracts the app may
                           read by server path; unset: the app shows no path field.
``GEOAPP_APP_SESSION_MB``  Most megabytes of uploads and reports one app session keeps
                           on disk (default 1024); the app's temporary folders together
                           keep at most 4 times as much.
========================== ============================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from geoapp.errors import InputError

__all__ = [
    "PBF_READERS",
    "allowed_dirs",
    "app_disk_cache_bytes",
    "app_disk_cache_enabled",
    "app_session_bytes",
    "cache_root",
    "layer_dir",
    "map_max_features",
    "pbf_reader",
    "pyrosm_engine",
    "region_cache_enabled",
    "split_read_enabled",
]

#: The PBF readers ``GEOAPP_PBF_READER`` may name.
PBF_READERS = ("osmium", "pyrosm")

_OFF = ("0", "false", "no", "off")


def _get(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def cache_root() -> Path:
    """Return ``$GEOAPP_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoapp``, else ``~/.cache/geoapp``."""
    if _get("GEOAPP_CACHE_DIR"):
        return Path(os.environ["GEOAPP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geoapp"


def region_cache_enabled() -> bool:
    """Return whether parsed OSM extracts are cached (``GEOAPP_REGION_CACHE``, default on)."""
    return _get("GEOAPP_REGION_CACHE", "1").lower() not in _OFF


def pbf_reader() -> str:
    """Return the PBF reader to use: ``$GEOAPP_PBF_READER`` if set, else ``"osmium"``.

    Raises
    ------
    InputError
        When the variable names no known reader.
    """
    name = _get("GEOAPP_PBF_READER", "osmium").lower() or "osmium"
    if name not in PBF_READERS:
        raise InputError(
            f"GEOAPP_PBF_READER={name!r}: unknown PBF reader; use one of {', '.join(PBF_READERS)}."
        )
    return name


def pyrosm_engine() -> str:
    """Return pyrosm's engine (``$GEOAPP_PYROSM_ENGINE``, default ``"out_of_core"``)."""
    return os.environ.get("GEOAPP_PYROSM_ENGINE", "out_of_core")


def split_read_enabled() -> bool:
    """Return False when ``GEOAPP_READ_PROCESSES=1`` turns off the two-process read."""
    return _get("GEOAPP_READ_PROCESSES") != "1"


def layer_dir() -> str | None:
    """Return ``$GEOAPP_LAYERS`` (a folder of layer files) or None for the shipped catalog."""
    return os.environ.get("GEOAPP_LAYERS")


def app_disk_cache_enabled() -> bool:
    """Return whether the app keeps results on disk (``GEOAPP_APP_DISK_CACHE``, default on)."""
    return _get("GEOAPP_APP_DISK_CACHE", "1").lower() not in ("0", "false", "no")


def app_disk_cache_bytes() -> int:
    """Return the most bytes the app's disk cache keeps (``GEOAPP_APP_DISK_CACHE_MB``)."""
    return int(float(_get("GEOAPP_APP_DISK_CACHE_MB", "1024") or "1024") * 1e6)


def map_max_features(default: int) -> int:
    """Return ``$GEOAPP_MAP_MAX_FEATURES`` when set to a positive number, else ``default``."""
    return int(_get("GEOAPP_MAP_MAX_FEATURES", "0") or 0) or default


def allowed_dirs() -> tuple[Path, ...]:
    """Return the folders the app may read extracts from by path (``GEOAPP_ALLOWED_DIRS``).

    Empty (the default): the app offers no server-path field, so a visitor can neither
    probe which files exist on the server nor have it parse one. The folders are given
    ``os.pathsep``-separated and returned resolved; blank entries are skipped.
    """
    raw = _get("GEOAPP_ALLOWED_DIRS")
    return tuple(Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip())


def app_session_bytes() -> int:
    """Return the most bytes one app session keeps on disk (``GEOAPP_APP_SESSION_MB``)."""
    raw = _get("GEOAPP_APP_SESSION_MB", "1024") or "1024"
    try:
        mb = float(raw)
    except ValueError:
        raise InputError(f"GEOAPP_APP_SESSION_MB={raw!r}: give a number of megabytes") from None
    if not mb > 0:
        raise InputError(f"GEOAPP_APP_SESSION_MB={raw!r}: give a positive number of megabytes")
    return int(mb * 1e6)
