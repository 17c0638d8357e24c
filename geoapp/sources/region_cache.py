"""The parsed-region cache: a parsed OSM extract kept as GeoParquet and reused.

:func:`geoapp.sources.osm_file.read_osm_file` with ``cache`` on keeps the parsed region
as one GeoParquet file per frame plus ``region.json`` in ``<cache>/regions/region-KEY/``
(:func:`default_region_cache_dir`). KEY (:func:`region_key`) hashes the file's SHA-256
(:func:`file_sha256`), the catalog's tags and feature keys, the reader options,
:data:`REGION_CACHE_VERSION` and the geoapp version, so a changed file or catalog is
parsed again. Written atomically (:func:`store_cached_region`); an unreadable cache is
parsed again (:func:`load_cached_region` returns None, logged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geoapp import settings
from geoapp.cache import remember_digest
from geoapp.catalog import Layer
from geoapp.region import WGS84, Region
from geoapp.sources._osm_common import catalog_tags, feature_keys

log = logging.getLogger(__name__)

__all__ = [
    "REGION_CACHE_VERSION",
    "EarlyNetwork",
    "default_region_cache_dir",
    "file_sha256",
    "load_cached_region",
    "name_digests",
    "region_key",
    "store_cached_region",
]

#: Bump when the readers' output or the cache layout changes.
REGION_CACHE_VERSION = 6  # 4: meta["data_date"]; 5: meta["declared_bounds"]; 6: GeoArrow
_WGS84_CRS = CRS.from_user_input(WGS84)
_CACHED_FRAMES = (
    "boundaries",
    "features",
    "nodes",
    "edges",
    "buildings",
    "landuse",
    "admin_areas",
)


def default_region_cache_dir() -> Path:
    """Return the parsed-region cache folder (``<geoapp cache>/regions``).

    The geoapp cache is ``$GEOAPP_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoapp``, else
    ``~/.cache/geoapp`` (as for the network cache).
    """
    return settings.cache_root() / "regions"


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """Return the SHA-256 of a file's content (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def region_key(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    region_name: str,
    reader: str = "pyrosm",
) -> str:
    """Return the cache key (32 hex digits) of a parse of ``path`` with these options.

    It hashes the file's SHA-256, the catalog's tags and feature keys, the other
    arguments, :data:`REGION_CACHE_VERSION` and the geoapp version.
    """
    from geoapp import __version__

    spec = {
        "file": file_sha256(path),
        "tags": {
            k: v if isinstance(v, bool) else sorted(v)
            for k, v in sorted(catalog_tags(catalog).items())
        },  # fmt: skip
        "keys": feature_keys(catalog),
        "network": network,
        "buildings": buildings,
        "admin_level": level,
        "name": region_name,
        "reader": reader,
        "cache_version": REGION_CACHE_VERSION,
        "geoapp": __version__,
    }
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cache_tmp(folder: Path) -> Path:
    return folder.with_name(f"{folder.name}.tmp-{os.getpid()}")


def _geoarrow_kind(frame: gpd.GeoDataFrame) -> bool:
    """Return whether ``frame``'s geometries are all 2D Points or all 2D LineStrings.

    Those are cached in GeoArrow's native encoding (coordinate arrays, no WKB); a
    frame with missing, empty, 3D or mixed geometries is cached as WKB.
    """
    if not len(frame):
        return False
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    kinds = shapely.get_type_id(geoms)
    return (
        int(kinds[0]) in (0, 1)
        and bool((kinds == kinds[0]).all())
        and not shapely.is_empty(geoms).any()
        and not shapely.has_z(geoms).any()
    )


def _write_cached_frame(frame: gpd.GeoDataFrame, path: Path) -> None:
    import pyarrow  # noqa: F401 - geopandas' parquet writer needs it

    encoding = "geoarrow" if _geoarrow_kind(frame) else "WKB"
    frame.to_parquet(path, index=False, compression="zstd", geometry_encoding=encoding)


def _geoarrow_geometries(column: Any, encoding: str) -> np.ndarray:
    """Return the shapely geometries of a GeoArrow ``point`` or ``linestring`` column."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if encoding == "point":
        x, y = array.flatten()
        coords = np.column_stack([x.to_numpy(), y.to_numpy()])
        return shapely.from_ragged_array(shapely.GeometryType.POINT, coords)
    offsets = array.offsets.to_numpy()
    points = array.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    x, y = points.flatten()
    coords = np.column_stack([x.to_numpy(), y.to_numpy()])
    return shapely.from_ragged_array(
        shapely.GeometryType.LINESTRING, coords, (offsets - offsets[0],)
    )


class EarlyNetwork:
    """What a split read does with the walking network while the rest is still read.

    Writes its frames to the parsed-region cache's temporary folder (when caching;
    :func:`store_cached_region` then skips the frames in :attr:`written`), names
    their digests after the cache key as :func:`name_digests` will, and calls the
    caller's ``on_network``.
    """

    def __init__(
        self,
        folder: Path | None,
        on_network: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None,
    ) -> None:
        self.folder = folder
        self.on_network = on_network
        self.written: set[str] = set()

    def __call__(self, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
        """Cache and digest the network frames, then hand them to ``on_network``."""
        if self.folder is not None:
            tmp = _cache_tmp(self.folder)
            shutil.rmtree(tmp, ignore_errors=True)  # a crashed run's leftovers
            for name, frame in (("nodes", nodes), ("edges", edges)):
                try:
                    tmp.mkdir(parents=True, exist_ok=True)
                    _write_cached_frame(frame, tmp / f"{name}.parquet")
                    self.written.add(name)
                except Exception as exc:  # noqa: BLE001 - written again with the others
                    log.info("could not write %s to the region cache early (%s)", name, exc)
                remember_digest(frame, f"{self.folder.name}:{name}")
        if self.on_network is not None:
            try:
                self.on_network(nodes, edges)
            except Exception as exc:  # noqa: BLE001 - the caller meets it again later
                log.info("on_network failed (%s: %s)", type(exc).__name__, exc)


def store_cached_region(folder: Path, region: Region, written: Iterable[str] = ()) -> None:
    """Write the region's frames as GeoParquet and its metadata as JSON (atomically).

    Frames named in ``written`` are already in the temporary folder (:class:`EarlyNetwork`).
    """
    tmp = _cache_tmp(folder)
    done = set(written)
    try:
        if not done:
            shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True, exist_ok=True)
        for name in _CACHED_FRAMES:
            if name in done and (tmp / f"{name}.parquet").exists():
                continue
            _write_cached_frame(getattr(region, name), tmp / f"{name}.parquet")
        info = {
            "name": region.name,
            "synthetic": region.synthetic,
            "meta": region.meta,
            "dtypes": {
                n: {c: str(t) for c, t in getattr(region, n).dtypes.items()} for n in _CACHED_FRAMES
            },  # fmt: skip
        }
        (tmp / "region.json").write_text(json.dumps(info, default=str), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        log.info("parsed region cached in %s", folder)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written only logs
        log.warning(
            "cannot cache the parsed region in %s (%s); it will be parsed again", folder, exc
        )
        shutil.rmtree(tmp, ignore_errors=True)


def _read_cached_frame(path: Path) -> gpd.GeoDataFrame:
    """Read one frame of the parsed-region cache (GeoParquet, WKB, EPSG:4326).

    Like ``gpd.read_parquet``, but the CRS is built once for every frame instead of
    being parsed from each file's PROJJSON (50 ms a frame); points and lines may be
    stored as GeoArrow coordinates (:func:`_write_cached_frame`); a file in another
    CRS or encoding is read by geopandas.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    column = geo.get("primary_column", "geometry")
    spec = geo.get("columns", {}).get(column, {})
    crs = spec.get("crs")
    ids = crs.get("id", {}) if isinstance(crs, dict) else {}
    encoding = spec.get("encoding")
    if encoding not in ("WKB", "point", "linestring") or (
        ids.get("authority"),
        ids.get("code"),
    ) != ("EPSG", 4326):
        return gpd.read_parquet(path)
    if encoding == "WKB":
        geoms = shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False))
    else:
        geoms = _geoarrow_geometries(table.column(column), encoding)
    attrs = table.drop_columns([column]).to_pandas()
    series = gpd.GeoSeries(geoms, crs=_WGS84_CRS, index=attrs.index, name=column)
    return gpd.GeoDataFrame(attrs, geometry=series)


def load_cached_region(folder: Path, path: Path) -> Region | None:
    """Return the cached region, or None when there is none or it is unreadable."""
    info_path = folder / "region.json"
    if not info_path.exists():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        frames = {}
        for name in _CACHED_FRAMES:
            frame = _read_cached_frame(folder / f"{name}.parquet")
            for col, dtype in info["dtypes"][name].items():
                if col not in frame.columns or col == frame.geometry.name:
                    continue
                if dtype == "object":
                    # parquet strings come back as a string dtype with NaN: the
                    # readers give object columns with None
                    values = frame[col].astype(object)
                    frame[col] = values.where(values.notna(), None)
                elif str(frame[col].dtype) != dtype:
                    frame[col] = frame[col].astype(dtype)
            frames[name] = frame
    except Exception as exc:  # noqa: BLE001 - a broken cache is parsed again
        log.warning("parsed-region cache %s unreadable (%s); parsing %s again", folder, exc, path)
        return None
    meta = {**info["meta"], "file": str(path), "region_cache": str(folder)}
    return Region(
        name=info["name"],
        source=f"osm-file:{path}",
        synthetic=bool(info["synthetic"]),
        meta=meta,
        **frames,
    )


def name_digests(region: Region, key: str) -> None:
    """Name each frame's content digest after the parsed-region cache key.

    The frames parsed from a file and those read back from its cache hold the same
    content, which the key (file hash, tags, reader options) determines, so the
    demand and network caches find each other's entries without hashing the frames.
    """
    for name, frame in region.layers().items():
        remember_digest(frame, f"{key}:{name}")
