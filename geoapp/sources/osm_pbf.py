"""OpenStreetMap PBF extracts: the pyrosm reader and the pyosmium reader.

:func:`read_pbf_osmium` (the default reader, pyosmium, two passes filtered in C++) and
:func:`read_pbf_pyrosm` (the reference the osmium reader is tested against) give the same
frames (docs/architecture.md, "PBF readers"); :func:`geoapp.sources.osm_file.read_osm_file`
picks one. A large extract is read by two processes at once (:mod:`geoapp.sources.osm_split`).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

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
    feature_keys,
    is_walkable_way,
    make_buildings,
    make_features,
    make_landuse,
    make_network,
    osm_ids,
    poi_labels,
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
# PBF via pyosmium: a relations-only pass, then one pass over nodes and ways
# ---------------------------------------------------------------------------


class _Ways:
    """Hold the ways the osmium pass keeps.

    Id, the tags asked for, node ids and node lon/lat (NaN where the node is not in
    the file).
    """

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.tags: list[dict[str, str | None]] = []
        self.area: list[bool] = []
        self.refs: list[list[int]] = []
        self.wkb: list[Any] = []
        self.fallback: dict[int, list[tuple[float, float]]] = {}
        self.pos: dict[int, int] = {}

    def add(
        self, way: Any, tags: dict[str, str | None], area: bool, factory: Any, mode: Any
    ) -> None:
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
    # with the buildings, the nodes carrying a building-use key (POIs inside footprints)
    poi_keys = list(BUILDING_USE_KEYS) if buildings else []
    filter_keys = sorted(set(node_keys) | set(poi_keys))
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
    relations: Iterable[Any] = (  # ways and relations
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
                landuse and raw_.tags_get_value_by_key("landuse", None) in LANDUSE_VALUES,
            )
        else:
            rels.append((obj.id, dict(obj.tags), [m.ref for m in obj.members if m.type == "w"]))
    feat_rels = [r for r in rels if fset.intersection(r[1])]
    bld_rels = [r for r in rels if buildings and "building" in r[1]]
    lu_rels = [r for r in rels if landuse and r[1].get("landuse") in LANDUSE_VALUES]
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
    poi_rows: list[tuple[str, float, float]] = []
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
        # (enable_for returns its filter; pyosmium's annotation says None)
        .with_filter(KeyFilter(*filter_keys).enable_for(NODE) if filter_keys else EntityFilter(WAY))  # type: ignore[func-returns-value]
        .with_filter(KeyFilter(*way_keys).enable_for(WAY))  # type: ignore[func-returns-value]
    )
    if members:
        proc = proc.handler_for_filtered(_Members())
    walk_keys = ("highway", "area", "service", "sidewalk", "sidewalk:both", "sidewalk:left",
                 "sidewalk:right", "foot", "access")  # fmt: skip
    way_tag_keys = tuple(
        dict.fromkeys(
            [*cols, *POLYGON_FEATURES, *walk_keys, "area", "building", "building:levels",
             *BUILDING_USE_KEYS, "landuse", "highway", "name"]
        )
    )  # fmt: skip
    for obj in cast("Iterable[Any]", proc):  # nodes and ways
        if obj.is_node():
            loc = obj.location
            if loc.valid():
                get = obj._pyosmium_data.tags_get_value_by_key
                if not poi_keys or any(get(k, None) is not None for k in node_keys):
                    node_rows.append(
                        (
                            obj.id,
                            {c: v for c in cols if (v := get(c, None)) is not None},
                            loc.lon,
                            loc.lat,
                        )
                    )
                if poi_keys:
                    label = ";".join(
                        f"{k}={v}" for k in poi_keys if (v := get(k, None)) is not None
                    )
                    if label:
                        poi_rows.append((label, loc.lon, loc.lat))
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
