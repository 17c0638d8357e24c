"""Where geoapp keeps derived data between runs (network graphs, the demo region).

Also the content digests of frames that key those caches (:func:`frame_digest`).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geoapp import settings


def cache_root() -> Path:
    """Return ``$GEOAPP_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoapp``, else ``~/.cache/geoapp``."""
    return settings.cache_root()


# --------------------------------------------------------------------------- frame digests
#
# The demand and network caches are keyed by the content of the region's frames.
# Hashing a city's 450,000 street edges costs about a second, so each frame's digest is
# computed once per frame object and kept while the frame lives. This relies on the
# rule every step follows: a frame is never changed in place (a changed frame is a new
# object, hashed anew). A source that knows what a frame holds (a parsed extract, keyed
# by the file's SHA-256 and the reader's options) names its digest up front, so the
# frames read back from the parsed-region cache need no hashing at all.

_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}
_DIGEST_LOCK = threading.Lock()


def _forget(ident: int) -> Callable[[weakref.ref], None]:
    def drop(_ref: weakref.ref) -> None:
        with _DIGEST_LOCK:
            entry = _DIGESTS.get(ident)
            if entry is not None and entry[0]() is None:
                del _DIGESTS[ident]

    return drop


def remember_digest(frame: pd.DataFrame, digest: str) -> None:
    """Record ``digest`` as the content digest of ``frame`` (for :func:`frame_digest`).

    For sources that know what a frame holds without hashing it, e.g. a frame parsed
    from a file, whose digest is the file's hash and the reader's options.
    """
    with _DIGEST_LOCK:
        _DIGESTS[id(frame)] = (weakref.ref(frame, _forget(id(frame))), digest)


def frame_digest(frame: pd.DataFrame) -> str:
    """Return a digest of a (Geo)DataFrame's content: columns, dtypes, values, geometry, CRS.

    Computed once per frame object (see :func:`remember_digest`); values pandas cannot
    hash (lists, say) are hashed by their text.
    """
    ident = id(frame)
    with _DIGEST_LOCK:
        entry = _DIGESTS.get(ident)
        if entry is not None and entry[0]() is frame:
            return entry[1]
    digest = _hash_frame(frame)
    remember_digest(frame, digest)
    return digest


def _hash_frame(frame: pd.DataFrame) -> str:
    import shapely

    h = hashlib.blake2b(digest_size=16)
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(str(len(frame)).encode())
    geom = getattr(frame, "_geometry_column_name", None)
    if geom is not None and geom in frame.columns:
        crs = frame[geom].crs
        h.update((crs.to_wkt() if crs is not None else "").encode())
        attrs = frame.drop(columns=geom)
        h.update(b"".join(shapely.to_wkb(frame[geom].to_numpy())))
    else:
        attrs = frame
    for col in attrs.columns:
        values = attrs[col]
        try:
            hashed = pd.util.hash_pandas_object(values, index=False)
        except TypeError:  # lists, dicts: hashed by their text
            hashed = pd.util.hash_pandas_object(values.astype(str), index=False)
        h.update(hashed.to_numpy().tobytes())
    return h.hexdigest()
