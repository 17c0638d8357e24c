"""The pyosmium PBF read, in two processes at once for a large extract.

:func:`read_pbf_osmium_checked` reads a PBF with :func:`geoapp.sources.osm_pbf.read_pbf_osmium`,
its errors on a corrupt or too large file as :class:`~geoapp.errors.InputError`. An extract
of at least :data:`SPLIT_READ_MIN_BYTES` is read by two processes when a core is free
(:func:`_core_free`): the walking network and the facility nodes here, everything else in
a second interpreter running :func:`split_read_child` (docs/architecture.md, "Split
read"); the frames are those of a single read.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd

from geoapp import settings
from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError
from geoapp.sources._osm_common import (
    Frames,
    catalog_tags,
    clipped_memo,
    feature_keys,
    remember_clipped,
)
from geoapp.sources.osm_admin import admin_memo, remember_admin
from geoapp.sources.osm_pbf import corrupt_pbf_error, features_from_raw, read_pbf_osmium

log = logging.getLogger(__name__)

__all__ = ["SPLIT_READ_MIN_BYTES", "read_pbf_osmium_checked", "split_read_child"]


def read_pbf_osmium_checked(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    early: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None = None,
) -> Frames:
    """Read a PBF with pyosmium, in two processes when it pays (:func:`_split_read`).

    The frames of :func:`~geoapp.sources.osm_pbf.read_pbf_osmium`, its errors on a
    corrupt or too large file as :class:`~geoapp.errors.InputError`. ``early`` is
    called with the walking network's ``(nodes, edges)`` when a split read has them
    before the rest.
    """
    import gc

    # the pass makes a few hundred thousand small Python objects, all kept: the cyclic
    # garbage collector would walk them again and again (minutes at city scale)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if network and _split_read(path):
            split = _read_pbf_osmium_split(path, catalog, buildings, level, early)
            if split is not None:
                return split
        return read_pbf_osmium(path, catalog, network, buildings, level)
    except GeoappError:
        raise
    except MemoryError:
        raise InputError(
            f"{path}: the extract is too large for this machine's memory; cut a smaller "
            "area (e.g. `osmium extract -b W,S,E,N in.osm.pbf -o small.osm.pbf`)."
        ) from None
    except Exception as exc:  # osmium raises RuntimeError on a corrupt file
        raise corrupt_pbf_error(path, exc) from None
    finally:
        if was_enabled:
            gc.enable()


#: Extracts at least this large are read by two processes when a core is free (see
#: :func:`_split_read`). Both processes pass over the whole file and the second one
#: imports geoapp again: on the 45 MB 72x benchmark two processes took 15 CPU-s where one
#: takes 9 (measured on a loaded machine), so only an extract too large to read in one
#: process in reasonable time is split.
SPLIT_READ_MIN_BYTES = 256 * 2**20


def _core_free() -> bool:
    """Return whether the machine has a core to spare for a second reader process.

    True when the load average over the last minute leaves at least one core idle
    beside this process (``os.getloadavg``, against ``os.cpu_count``); on a busy
    machine a second process only competes with this one and costs more CPU in all.
    """
    cores = os.cpu_count() or 1
    if cores < 2:
        return False
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return True
    return load <= cores - 1


def _split_read(path: Path) -> bool:
    """Return whether to read ``path`` in two processes.

    The walking network and the facility nodes are read here, the facility ways and
    relations, the buildings and the landuse in a second process at the same time.
    Only for extracts of at least :data:`SPLIT_READ_MIN_BYTES` (the second process
    costs CPU: it imports geoapp and passes over the whole file again) when a core is
    free (:func:`_core_free`);
    ``GEOAPP_READ_PROCESSES=1`` turns it off.
    """
    if not settings.split_read_enabled():
        return False
    try:
        if path.stat().st_size < SPLIT_READ_MIN_BYTES:
            return False
    except OSError:
        return False
    if not _core_free():
        log.debug("split read: no core free (load %.1f); reading in one process", _load())
        return False
    return True


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def split_read_child() -> None:
    """Run the second process of a split read (``python -c``; not for direct use).

    Reads ``(path, catalog, buildings, level, out)`` pickled on stdin, reads the
    facility ways and relations (raw rows), buildings and landuse of ``path`` and
    pickles the frames to ``out``; any
    error ends the process with a non-zero status and the message on stderr (the
    parent then reads everything itself, so errors keep their single-read wording).
    """
    import gc
    import pickle
    import sys

    gc.disable()
    path, catalog, buildings, level, out = pickle.load(sys.stdin.buffer)
    frames = read_pbf_osmium(
        Path(path), catalog, False, buildings, level, "shapes", raw_features=True
    )
    with open(out, "wb") as fh:  # with what it learnt of the ways' clipping and admin areas
        memos = (clipped_memo(path), admin_memo(path))
        pickle.dump((frames, *memos), fh, protocol=pickle.HIGHEST_PROTOCOL)


#: What the second reader process runs (a fresh interpreter: no import of the caller's
#: script, which ``multiprocessing``'s spawn would run again without a main guard).
#: Its argument is the folder to import geoapp from, or "" (see :func:`_source_root`).
_CHILD_CODE = (
    "import sys\n"
    "if sys.argv[1]:\n"
    "    sys.path.insert(0, sys.argv[1])\n"
    "from geoapp.sources.osm_split import split_read_child\n"
    "split_read_child()\n"
)


def _source_root() -> str:
    """Return the folder holding this geoapp package when it is not an installed one.

    A source checkout (imported through the working directory or ``sys.path``) must
    be the one the second process imports too; an installed package is found there
    anyway, and its site-packages folder is not put before the standard library.
    """
    import site
    import sysconfig

    import geoapp

    root = Path(geoapp.__file__).resolve().parent.parent
    installed = {
        Path(p).resolve()
        for p in [
            *site.getsitepackages(),
            site.getusersitepackages(),
            *(sysconfig.get_paths().get(k, "") for k in ("purelib", "platlib")),
        ]
        if p
    }
    return "" if root in installed else str(root)


def _read_pbf_osmium_split(
    path: Path,
    catalog: Mapping[str, Layer],
    buildings: bool,
    level: str | None,
    early: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None = None,
) -> Frames | None:
    """Read the walking network here while a second process reads everything else.

    The two passes select exactly the ways a single pass would (a way is walkable by
    the same tags either way), so the frames are those of :func:`~geoapp.sources.osm_pbf.read_pbf_osmium`.
    The second process is a fresh interpreter running :func:`split_read_child` with the
    same geoapp package; it may take 120 s plus 2 s per MB of the file. None when it
    could not be used (the caller then reads in one process).
    """
    import pickle
    import subprocess
    import sys

    t0 = time.perf_counter()
    limit_s = 120.0 + 2.0 * path.stat().st_size / 2**20
    with tempfile.TemporaryDirectory(prefix="geoapp-read-") as tmp:
        out, err_path = Path(tmp) / "rest.pkl", Path(tmp) / "stderr.txt"
        try:
            job = pickle.dumps((str(path), dict(catalog), buildings, level, str(out)))
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-c", _CHILD_CODE, _source_root()],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            assert proc.stdin is not None
            proc.stdin.write(job)
            proc.stdin.close()
        except Exception as exc:  # noqa: BLE001 - e.g. a catalog that does not pickle
            log.info("split read unavailable (%s); reading in one process", exc)
            return None
        try:
            # here: the network and the facility nodes (no relations pass); there: the
            # facility ways and relations, the buildings and the landuse (the buildings
            # here measured slower: both processes then pass the relations)
            raw_nodes, nodes, edges, _, _, _ = read_pbf_osmium(
                path, catalog, True, False, level, "nodes", landuse=False, raw_features=True
            )
            log.debug("split read, network: %.2f s", time.perf_counter() - t0)
            if early is not None:  # while the second process is still reading
                early(nodes, edges)
            status = proc.wait(timeout=max(1.0, limit_s - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log.warning(
                "split read: the second process took over %.0f s; reading %s in one process",
                limit_s,
                path,
            )
            return None
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        log.debug("split read, both: %.2f s", time.perf_counter() - t0)
        if status != 0 or not out.exists():
            tail = err_path.read_text(encoding="utf-8", errors="replace")[-500:].strip()
            log.info(
                "split read: the second process failed (status %s: %s); reading in one process",
                status,
                tail,
            )
            return None
        with open(out, "rb") as fh:
            (raw_shapes, _, _, bld, landuse, admin), clipped, admin_seen = pickle.load(fh)
    if clipped is not None:  # the facility ways were read there
        remember_clipped(path, *clipped)
    if admin_seen is not None:  # and every relation and way
        remember_admin(path, *admin_seen)
    features = features_from_raw(
        [raw_nodes, raw_shapes], feature_keys(catalog), catalog_tags(catalog)
    )
    return features, nodes, edges, bld, landuse, admin
