"""OpenStreetMap PBF extracts: the pyrosm reader and the pyosmium reader.

:func:`read_pbf_osmium` (the default reader, pyosmium, two passes filtered in C++) and
:func:`read_pbf_pyrosm` (the reference the osmium reader is tested against) give the same
frames (docs/architecture.md, "PBF readers"); :func:`geoapp.sources.osm_file.read_osm_file`
picks one. A large extract is read by two processes at once (:mod:`geoapp.sources.osm_split`).
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp import settings
from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError
from geoapp.region import (
    BUILDING_COLUMNS,
    BUILDING_USE_KEYS,
    EDGE_COLUMNS,
    LANDUSE_COLUMNS,
    LANDUSE_VALUES,
    NODE_COLUMNS,
    WGS84,
    empty_gdf,
)
from geoapp.sources._osm_common import (
    GET_EXTRACT,
    Frames,
    any_value_tags,
    attach_pois,
    catalog_tags,
    clipped_of,
    feature_keys,
    is_walkable_way,
    make_buildings,
    make_features,
    make_landuse,
    make_network,
    osm_ids,
    poi_labels,
    remember_clipped,
)

log = logging.getLogger(__name__)

__all__ = ["corrupt_pbf_error", "features_from_raw", "read_pbf_osmium", "read_pbf_pyrosm"]


# ---------------------------------------------------------------------------
# PBF via pyrosm
# ---------------------------------------------------------------------------


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


def corrupt_pbf_error(path: Path, exc: BaseException) -> InputError:
    """Return the error telling the user that ``path`` is not a readable PBF file."""
    return InputError(
        f"{path}: cannot read this OpenStreetMap PBF file ({type(exc).__name__}: "
        f"{str(exc)[:200]}). It may be truncated, corrupt or not a PBF file. {GET_EXTRACT}"
    )


def read_pbf_pyrosm(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
) -> Frames:
    """Read a PBF with pyrosm (the reference reader).

    ``network`` and ``buildings`` say whether to read the walking network and the
    building footprints; the features are those the catalog's tags select, the landuse
    the residential areas. Pyrosm's engine is :func:`geoapp.settings.pyrosm_engine`.

    Raises
    ------
    InputError
        When the file is corrupt, truncated or too large for the machine's memory.
    """
    import pyrosm

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)  # "Could not find any ..."
            osm = pyrosm.OSM(str(path), engine=settings.pyrosm_engine())
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
                    poi = osm.get_data_by_custom_criteria(
                        custom_filter=dict.fromkeys(BUILDING_USE_KEYS, True),
                        filter_type="keep",
                        tags_as_columns=list(BUILDING_USE_KEYS),
                        keep_nodes=True,
                        keep_ways=False,
                        keep_relations=False,
                    )
                    if poi is None or not len(poi):
                        bld = attach_pois(bld, np.zeros(0, dtype=object), np.zeros(0, dtype=object))
                    else:
                        bld = attach_pois(bld, poi.geometry.to_numpy(), poi_labels(poi))
            raw_l = osm.get_landuse(custom_filter={"landuse": list(LANDUSE_VALUES)})
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
        raise corrupt_pbf_error(path, exc) from None
    return features, nodes, edges, bld, landuse, admin


# ---------------------------------------------------------------------------
# PBF via pyosmium: a relations pass, then libosmium writes the kept nodes and ways
# (with their node locations) as OPL text, parsed here in bulk
# ---------------------------------------------------------------------------

#: The OPL the C++ pass writes: node locations on the ways, no metadata.
_OPL_FORMAT = "opl,locations_on_ways=true,add_metadata=false"
#: libosmium's OPL escapes every code point outside these ranges as ``%<hex>%``.
_OPL_PLAIN = ((0x21, 0x24), (0x26, 0x2B), (0x2D, 0x3C), (0x3E, 0x3F), (0x41, 0x7E),
              (0xA1, 0xAC), (0xAE, 0x5FF))  # fmt: skip
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
#: A way's node list ``Nn<id>x<lon>y<lat>,...`` as lines ``<id> <lon> <lat>`` (``N``, ``n``
#: deleted).
_OPL_NODE_LINES = bytes.maketrans(b"xy,", b"  \n")


def _opl_key(key: str) -> bytes:
    """Return ``key`` as libosmium's OPL writer spells it."""
    return "".join(
        ch if any(a <= ord(ch) <= b for a, b in _OPL_PLAIN) else f"%{ord(ch):x}%" for ch in key
    ).encode()


def _opl_text(value: bytes) -> str:
    """Return the tag value or key ``value`` of an OPL line as the string OSM holds."""
    text = value.decode()
    return _OPL_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "%" in text else text


def _opl_tags(field: bytes) -> dict[bytes, bytes]:
    """Return the tags of an OPL ``T`` field (``Tk=v,k=v``), keys and values still escaped.

    ``=`` and ``,`` inside keys and values are escaped in OPL, so splitting is safe.
    """
    if len(field) < 2:
        return {}
    parts = iter(field[1:].replace(b"=", b",").split(b","))
    return dict(zip(parts, parts, strict=True))


def _opl_way_nodes(node_lists: list[bytes], counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the node ids and lon/lat (NaN where not in the file) of OPL ``N`` fields.

    ``node_lists`` holds each way's OPL ``N`` field (``Nn<id>x<lon>y<lat>,...``) and
    ``counts`` its number of nodes. The numbers are parsed by pandas' C parser in one
    call, one line per node: the ids as integers, and the decimal coordinates libosmium
    writes (1e-7 degree fixed point, at most ten digits) as one exact integer divided by
    a power of ten, so they are the doubles osmium's ``Location.lon``/``lat`` give.
    """
    import io

    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    # a node missing from the file has no location ("n5xy"): "@" marks it
    text = b",".join(node_lists).replace(b"xy", b"x@y@").translate(_OPL_NODE_LINES, b"Nn")
    table = pd.read_csv(
        io.BytesIO(text),
        sep=" ",
        header=None,
        names=["id", "x", "y"],
        dtype={"id": np.int64, "x": np.float64, "y": np.float64},
        na_values=["@"],
        keep_default_na=False,
        engine="c",
    )
    if len(table) != total:
        raise ValueError(f"OPL node lists: {len(table)} nodes where {total} were expected")
    xy = table[["x", "y"]].to_numpy(dtype=np.float64)
    bad = ~((np.abs(xy[:, 0]) <= 180.0) & (np.abs(xy[:, 1]) <= 90.0))  # Location.valid()
    xy[bad] = np.nan
    return table["id"].to_numpy(dtype=np.int64), xy


class _Ways:
    """Hold the ways the osmium pass keeps, as arrays.

    ``ids``; ``tags`` (the tags asked for, for facility, building, landuse and relation
    member ways; None for ways kept only as walkable streets); ``highway`` and ``name``
    of every way; ``area`` (pyrosm's polygon-feature rule); the node ids ``flat_refs``
    and lon/lat ``xy`` (NaN where the node is not in the file) of all ways one after
    another, way ``i`` at ``offsets[i]:offsets[i + 1]``; ``pos`` maps the ids of relation
    member ways to their row.
    """

    def __init__(self) -> None:
        self.ids_list: list[int] = []
        self.tags: list[dict[str, str] | None] = []
        self.highway_list: list[str | None] = []
        self.name_list: list[str | None] = []
        self.area_list: list[bool] = []
        self.node_lists: list[bytes] = []
        self.pos: dict[int, int] = {}

    def add(
        self,
        wid: int,
        tags: dict[str, str] | None,
        highway: str | None,
        name: str | None,
        area: bool,
        nodes: bytes,
    ) -> int:
        """Append a way (``nodes``: its OPL ``N`` field) and return its row."""
        pos = len(self.ids_list)
        self.ids_list.append(wid)
        self.tags.append(tags)
        self.highway_list.append(highway)
        self.name_list.append(name)
        self.area_list.append(area)
        self.node_lists.append(nodes)
        return pos

    def finish(self) -> None:
        """Build the arrays (and free the lists)."""
        from itertools import repeat

        n = len(self.node_lists)
        # nodes per way: its commas plus one, none for an empty list ("N")
        counts = np.fromiter(map(bytes.count, self.node_lists, repeat(b",")), np.int64, n)
        counts += np.fromiter(map(len, self.node_lists), np.int64, n) > 1
        self.offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.flat_refs, self.xy = _opl_way_nodes(self.node_lists, counts)
        self.ids = np.asarray(self.ids_list, dtype=np.int64)
        self.highway = np.asarray(self.highway_list, dtype=object)
        self.name = np.asarray(self.name_list, dtype=object)
        self.area = np.asarray(self.area_list, dtype=bool)
        self.node_lists = []
        self.ids_list, self.highway_list, self.name_list, self.area_list = [], [], [], []

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
    highway, name = ways.highway[w_of], ways.name[w_of]
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


def _clipped_rows(ways: _Ways, rows: list[int]) -> dict[int, tuple[int, int]]:
    """Return ``{way id: (nodes in the file, nodes)}`` of the ways ``rows`` that lost nodes.

    As :func:`~geoapp.sources._osm_common.clipped_ways` gives them (``clipped_of``).
    """
    if not rows:
        return {}
    rows_a = np.asarray(rows, dtype=np.int64)
    missing = np.r_[0, np.cumsum(np.isnan(ways.xy[:, 0]))]
    cut = {}
    for row in rows_a[missing[ways.offsets[rows_a + 1]] > missing[ways.offsets[rows_a]]]:
        refs, xy = ways.way(int(row))
        got = clipped_of(refs, ~np.isnan(xy[:, 0]))
        if got is not None:
            cut[int(ways.ids[row])] = got
    return cut


def _opl_pass(
    src: str, out: Path, node_keys: list[str], way_keys: list[str], rel_keys: list[str]
) -> None:
    """Write the kept objects of ``src`` to ``out`` as OPL, entirely in C++.

    No Python runs per object: libosmium stores every node location, then writes the
    nodes carrying one of ``node_keys``, the relations carrying one of ``rel_keys`` and
    the ways, with their node locations: those carrying one of ``way_keys`` when no
    relation is asked for, else every way (relation members need not carry any key,
    and their ids are known only once the relations, last in the file, are read).
    """
    import osmium
    from osmium.filter import EntityFilter, KeyFilter
    from osmium.osm import NODE, RELATION, WAY

    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()  # a clipped extract: ways keep their present nodes
    # node locations are stored before the filters (enable_for returns its filter;
    # pyosmium's annotation says None)
    handlers: list[Any] = [
        locations,
        KeyFilter(*node_keys).enable_for(NODE) if node_keys else EntityFilter(WAY | RELATION),  # type: ignore[func-returns-value]
    ]
    if rel_keys:
        handlers.append(KeyFilter(*rel_keys).enable_for(RELATION))  # type: ignore[func-returns-value]
    elif way_keys:
        handlers.append(KeyFilter(*way_keys).enable_for(WAY))  # type: ignore[func-returns-value]
    else:
        handlers.append(EntityFilter(NODE))
    writer = osmium.SimpleWriter(osmium.io.File(str(out), _OPL_FORMAT))
    try:
        reader = osmium.io.Reader(src, NODE | WAY | RELATION if rel_keys else NODE | WAY)
        try:
            osmium.apply(reader, *handlers, writer)
        finally:
            reader.close()
    finally:
        writer.close()


def _catalog_match(tags: Mapping[str, str], wanted: Mapping[str, bool | list[str]]) -> bool:
    """Return whether ``tags`` carry one of ``wanted`` as :func:`tag_mask` tests it.

    A key asked with ``True`` matches any non-empty value; a list of values matches a
    value in it, also as one of several ``;``-separated values. Elements that do not
    match are dropped by :func:`make_features` anyway: testing here saves building their
    geometries (and reading the member ways of such relations).
    """
    for key, values in wanted.items():
        v = tags.get(key)
        if v is None:
            continue
        if isinstance(values, bool):
            if values and v != "":
                return True
        elif v in values or (";" in v and any(p.strip() in values for p in v.split(";"))):
            return True
    return False


class _OplRows:
    """Turn the OPL of :func:`_opl_pass` into the rows of the reader's frames.

    ``rels`` (by kind), ``node_rows`` and ``poi_rows`` (facility and building-use
    nodes), ``store`` (the kept ways) and the rows of ``store`` that are walkable,
    facilities, buildings or residential landuse. Tags are decoded only as far as a
    rule or a column reads them.
    """

    _WALK_KEYS = ("highway", "area", "service", "sidewalk", "sidewalk:both", "sidewalk:left",
                  "sidewalk:right", "foot", "access")  # fmt: skip

    def __init__(
        self,
        tags: dict[str, bool | list[str]],
        cols: list[str],
        node_keys: list[str],
        poi_keys: list[str],
        fkeys: list[str],
        kinds: tuple[bool, bool, bool],
    ) -> None:
        from pyrosm.config.polygon_features import POLYGON_FEATURES, is_area

        self.is_area = is_area
        self.network, self.buildings, self.landuse = kinds
        self.tags, self.fkeys = tags, fkeys
        way_tag_keys = dict.fromkeys(
            [*cols, *POLYGON_FEATURES, *self._WALK_KEYS, "area", "building",
             "building:levels", *BUILDING_USE_KEYS, "landuse", "highway", "name"]
        )  # fmt: skip
        self.b_way_tags = [(k, _opl_key(k)) for k in way_tag_keys]
        self.b_walk_other = {_opl_key(k) for k in self._WALK_KEYS[1:]}
        self.b_walk = [(k, _opl_key(k)) for k in self._WALK_KEYS]
        self.b_cols = [(k, _opl_key(k)) for k in cols]
        self.b_node_keys = {_opl_key(k) for k in node_keys}
        self.b_poi = [(k, _opl_key(k)) for k in poi_keys]
        self.b_fkeys = {_opl_key(k) for k in fkeys}
        self.b_tags = [(k, _opl_key(k)) for k in tags]
        self.b_hw, self.b_name, self.b_bld, self.b_lu = (
            _opl_key(k) for k in ("highway", "name", "building", "landuse")
        )
        self.lu_values = {_opl_key(v) for v in LANDUSE_VALUES}
        self.store = _Ways()
        self.node_rows: list[tuple[int, dict[str, str], float, float]] = []
        self.poi_rows: list[tuple[str, float, float]] = []
        self.walk: list[int] = []
        self.feat_ways: list[int] = []
        self.bld_ways: list[int] = []
        self.lu_ways: list[int] = []
        self.feat_rels: list[tuple[int, dict[str, str], list[int]]] = []
        self.bld_rels: list[tuple[int, dict[str, str], list[int]]] = []
        self.lu_rels: list[tuple[int, dict[str, str], list[int]]] = []
        self.members: set[int] = set()
        self.bld_members: set[int] = set()
        self.lu_members: set[int] = set()

    def parse(self, text: bytes) -> None:
        """Parse the whole OPL text: the relations (last in the file) first."""
        lines = text.split(b"\n")
        rel_lines = [line for line in lines if line[:1] == b"r"]
        self.relations(rel_lines)
        node, way = self.node, self.way
        for line in lines:
            kind = line[:1]
            if kind == b"w":
                way(line.split(b" "))
            elif kind == b"n":
                node(line.split(b" "))

    def relations(self, lines: list[bytes]) -> None:
        """Read the relations (``r<id> T<tags> M<type><ref>@<role>,...``)."""
        rels = []
        for line in lines:
            f = line.split(b" ")
            tags = {_opl_text(k): _opl_text(v) for k, v in _opl_tags(f[1]).items()}
            ways = [int(m[1 : m.index(b"@")]) for m in f[2][1:].split(b",") if m[:1] == b"w"]
            rels.append((int(f[0][1:]), tags, ways))
        fset = set(self.fkeys)
        # the facility relations the catalog's values select (make_features drops the others)
        self.feat_rels = [
            r for r in rels if fset.intersection(r[1]) and _catalog_match(r[1], self.tags)
        ]
        self.bld_rels = [r for r in rels if self.buildings and "building" in r[1]]
        self.lu_rels = [r for r in rels if self.landuse and r[1].get("landuse") in LANDUSE_VALUES]
        self.members = {
            m for g in (self.feat_rels, self.bld_rels, self.lu_rels) for r in g for m in r[2]
        }
        self.bld_members = {m for r in self.bld_rels for m in r[2]}
        self.lu_members = {m for r in self.lu_rels for m in r[2]}

    def _matches(self, t: dict[bytes, bytes]) -> bool:
        return _catalog_match({k: _opl_text(t[b]) for k, b in self.b_tags if b in t}, self.tags)

    def node(self, fields: list[bytes]) -> None:
        """Read a node (``n<id> T<tags> x<lon> y<lat>``)."""
        if len(fields[2]) < 2 or len(fields[3]) < 2:
            return  # no location
        lon, lat = float(fields[2][1:]), float(fields[3][1:])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return
        t = _opl_tags(fields[1])
        if not self.b_node_keys.isdisjoint(t) and self._matches(t):
            tags = {c: _opl_text(t[b]) for c, b in self.b_cols if b in t}
            self.node_rows.append((int(fields[0][1:]), tags, lon, lat))
        if self.b_poi:
            label = ";".join(f"{k}={_opl_text(t[b])}" for k, b in self.b_poi if b in t)
            if label:
                self.poi_rows.append((label, lon, lat))

    def way(self, fields: list[bytes]) -> None:
        """Read a way (``w<id> T<tags> N<node>x<lon>y<lat>,...``)."""
        wid = int(fields[0][1:])
        member = wid in self.members
        if len(fields[1]) < 2 and not member:
            return  # no tags
        t = _opl_tags(fields[1])
        is_feat = not self.b_fkeys.isdisjoint(t) and self._matches(t)
        is_bld = self.buildings and self.b_bld in t and wid not in self.bld_members
        is_lu = self.landuse and t.get(self.b_lu) in self.lu_values and wid not in self.lu_members
        store = self.store
        if is_feat or is_bld or is_lu or member:
            wt = {k: _opl_text(t[b]) for k, b in self.b_way_tags if b in t}
            is_walk = self.network and "highway" in wt and is_walkable_way(wt)
            pos = store.add(
                wid, wt, wt.get("highway"), wt.get("name"), bool(self.is_area(wt)), fields[2]
            )
            if member:
                store.pos[wid] = pos
        else:
            hw = t.get(self.b_hw)
            if not self.network or hw is None:
                return
            highway = _opl_text(hw)
            if self.b_walk_other.isdisjoint(t):
                walk_tags = {"highway": highway}
            else:
                walk_tags = {k: _opl_text(t[b]) for k, b in self.b_walk if b in t}
            if not is_walkable_way(walk_tags):
                return
            is_walk = True
            name = t.get(self.b_name)
            pos = store.add(
                wid, None, highway, None if name is None else _opl_text(name), False, fields[2]
            )
        if is_walk:
            self.walk.append(pos)
        if is_feat:
            self.feat_ways.append(pos)
        if is_bld:
            self.bld_ways.append(pos)
        if is_lu:
            self.lu_ways.append(pos)


def read_pbf_osmium(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
    features: str = "all",
    landuse: bool = True,
    raw_features: bool = False,
) -> Frames:
    """Read a PBF with pyosmium into the frames the pyrosm reader gives.

    ``network``, ``buildings``, ``features`` and ``landuse`` say which frames to read
    (the others come back empty); a frame read alone is the one a read of everything
    gives. ``features`` is ``"all"``, ``"nodes"`` (facility nodes only), ``"shapes"``
    (facility ways and relations only) or ``"none"``; with ``raw_features`` the
    features slot holds the rows before :func:`make_features` (see
    :func:`features_from_raw`), so that parts read apart can be joined.

    First the relations carrying a catalog key, ``building`` or ``landuse`` (filtered
    in C++), to learn their member ways; then libosmium itself, with no Python per
    object, stores every node location and writes the nodes carrying a catalog key (or
    a building-use key), the ways carrying ``highway``, ``building``, ``landuse`` or a
    catalog key and the relations' member ways as OPL text with their node locations
    (:func:`_opl_pass`); the text is parsed here, node lists in one numpy call, tags
    only as far as a rule or column reads them.
    """
    from pyrosm.geometry import orient_polygons

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    if features == "none":
        keys, tags = [], {}
    cols = list(dict.fromkeys(["name", *keys]))
    # the catalog keys asked of nodes, and of ways and relations
    node_keys = list(tags) if features in ("all", "nodes") else []
    # with the buildings, the nodes carrying a building-use key (POIs inside footprints)
    poi_keys = list(BUILDING_USE_KEYS) if buildings else []
    fkeys = list(tags) if features in ("all", "shapes") else []
    src = str(path)

    t0, c0 = time.perf_counter(), time.process_time()

    def debug(step: str) -> None:
        log.debug(
            "osmium reader, %s: %.2f s wall, %.2f s CPU",
            step,
            time.perf_counter() - t0,
            time.process_time() - c0,
        )

    rel_keys = sorted(
        set(fkeys) | ({"landuse"} if landuse else set()) | ({"building"} if buildings else set())
    )
    way_keys = sorted(
        set(fkeys)
        | ({"highway"} if network else set())  # a split read's second process: none
        | ({"landuse"} if landuse else set())
        | ({"building"} if buildings else set())
    )
    rows = _OplRows(tags, cols, node_keys, poi_keys, fkeys, (network, buildings, landuse))
    with tempfile.TemporaryDirectory(prefix="geoapp-read-") as tmp:
        opl = Path(tmp) / "kept.opl"
        _opl_pass(src, opl, sorted(set(node_keys) | set(poi_keys)), way_keys, rel_keys)
        debug("C++ pass")
        text = opl.read_bytes()
    rows.parse(text)
    del text
    debug("parse")
    store = rows.store
    store.finish()
    debug("finish")
    node_rows, poi_rows = rows.node_rows, rows.poi_rows
    walk, feat_ways, bld_ways, lu_ways = rows.walk, rows.feat_ways, rows.bld_ways, rows.lu_ways
    feat_rels, bld_rels, lu_rels = rows.feat_rels, rows.bld_rels, rows.lu_rels
    remember_clipped(path, store.ids[feat_ways], _clipped_rows(store, feat_ways))

    nodes, edges = _osmium_network(store, walk) if network else (
        empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS))  # fmt: skip
    debug("network")

    def way_part(rows: list[int]) -> tuple[list, list, list, list]:
        ids = [int(store.ids[p]) for p in rows]
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
        rows = _frame(*joined, columns)  # type: ignore[call-arg]  # four lists, then the names
        return _present_rows(rows) if present else rows

    node_part = (
        [r[0] for r in node_rows],
        ["node"] * len(node_rows),
        [r[1] for r in node_rows],
        list(shapely.points(np.array([(r[2], r[3]) for r in node_rows], dtype=float)))
        if node_rows
        else [],
    )
    # with raw_features, the rows with missing geometries too (features_from_raw)
    raw = frame(
        node_part, way_part(feat_ways), rel_part(feat_rels), columns=cols, present=not raw_features
    )
    features_out = raw if raw_features else features_from_raw([raw], keys, tags)
    bld = empty_gdf(BUILDING_COLUMNS)
    if buildings:
        raw_b = frame(
            way_part(bld_ways),
            rel_part(bld_rels),
            columns=["building", "building:levels", "name", *BUILDING_USE_KEYS],
        )
        if len(raw_b):
            bld = make_buildings(raw_b, _pyrosm_ids(raw_b))
            bld = attach_pois(
                bld,
                shapely.points(np.array([(r[1], r[2]) for r in poi_rows], dtype=float))
                if poi_rows
                else np.zeros(0, dtype=object),
                np.array([r[0] for r in poi_rows], dtype=object),
            )
    debug("features and buildings")
    raw_l = frame(way_part(lu_ways), rel_part(lu_rels), columns=["landuse"])
    landuse = make_landuse(raw_l) if len(raw_l) else empty_gdf(LANDUSE_COLUMNS)
    return features_out, nodes, edges, bld, landuse, None


def _present_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the rows of ``frame`` that have a geometry."""
    return frame[~shapely.is_missing(np.asarray(frame.geometry.to_numpy(), dtype=object))]


def features_from_raw(
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
