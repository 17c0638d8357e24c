"""Where geoapp keeps derived data between runs (network graphs, the demo region).

Also the content digests of frames that key those caches (:func:`frame_digest`), and
cache files that check themselves (:func:`dump_checked`, :func:`load_checked`): every
entry carries the SHA-256 of its bytes and the version of the code that wrote it, so a
flipped byte, a truncated file or a file of another version is a cache miss (one
warning, then the result is computed again), never a crash or a different figure.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geoapp import __version__, settings

log = logging.getLogger(__name__)

#: First bytes of a checked cache file (format 1: magic, version line, digest, payload).
CHECKED_MAGIC = b"GEOAPP-CACHE-1\n"


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


# --------------------------------------------------------------------------- checked files


def dump_checked(obj: object, path: str | os.PathLike[str], *, version: str = __version__) -> Path:
    """Write ``obj`` to a cache file that checks itself when read.

    The file holds :data:`CHECKED_MAGIC`, the code ``version`` on one line, the SHA-256
    of the payload and the payload (a pickle of ``obj``). It is written aside and
    renamed in, so a crash never leaves half a file.

    Parameters
    ----------
    obj
        What to keep.
    path
        The cache file.
    version
        The version of the code that computed ``obj``; :func:`load_checked` treats a
        file of another version as a miss.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    head = CHECKED_MAGIC + version.encode() + b"\n" + hashlib.sha256(payload).digest()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(head + payload)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def load_checked(
    path: str | os.PathLike[str], *, version: str = __version__, kind: type | None = None
) -> object | None:
    """Return what :func:`dump_checked` wrote to ``path``, or None on any mismatch.

    A missing file is a quiet miss. A file whose header, code version, digest or type
    does not match (a flipped byte, a truncated or zeroed file, another version's
    file) is a miss with one warning, and the file is removed so it is written anew.
    The payload is unpickled only after its SHA-256 matched, so a damaged file never
    reaches the unpickler.

    Parameters
    ----------
    path
        The cache file.
    version
        The version the file must have been written by.
    kind
        When given, the object read must be an instance of it.
    """
    target = Path(path)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cache file %s cannot be read (%s); computing it again", target.name, exc)
        return None
    problem = _checked_problem(data, version)
    obj: object | None = None
    if problem is None:
        body = data[len(CHECKED_MAGIC) :]
        payload = body[body.index(b"\n") + 1 + 32 :]
        try:
            obj = pickle.loads(payload)  # our own bytes: the digest matched
        except Exception as exc:  # noqa: BLE001 - e.g. a class that moved since
            problem = f"it cannot be read by this code ({type(exc).__name__})"
        else:
            if kind is not None and not isinstance(obj, kind):
                problem = f"it holds a {type(obj).__name__}, not a {kind.__name__}"
    if problem is not None:
        log.warning("cache file %s is not usable: %s; computing it again", target.name, problem)
        target.unlink(missing_ok=True)
        return None
    return obj


def _checked_problem(data: bytes, version: str) -> str | None:
    if not data.startswith(CHECKED_MAGIC):
        return "it is not a geoapp cache file of this format (damaged or written by older code)"
    body = data[len(CHECKED_MAGIC) :]
    end = body.find(b"\n")
    if end < 0 or len(body) < end + 1 + 32:
        return "it is truncated"
    if body[:end].decode("utf-8", "replace") != version:
        return f"it was written by geoapp {body[:end].decode('utf-8', 'replace')}, not {version}"
    digest, payload = body[end + 1 : end + 33], body[end + 33 :]
    if hashlib.sha256(payload).digest() != digest:
        return "its bytes do not match their SHA-256 (damaged on disk)"
    return None
