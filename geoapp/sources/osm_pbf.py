"""OpenStreetMap PBF extracts: the pyrosm reader and the pyosmium reader.

:func:`read_pbf_osmium` (the default reader, pyosmium, two passes filtered in C++) and
:func:`read_pbf_pyrosm` (the reference the osmium reader is tested against) give the same
frames (docs/architecture.md, "PBF readers"); :func:`geoapp.sources.osm_file.read_osm_file`
picks one. A large extract is read by two processes at once (:mod:`geoapp.sources.osm_split`).
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from collections.abc import Mapping
from operator import methodcaller
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
    object_date_needed,
    osm_ids,
    poi_labels,
    remember_clipped,
)
from geoapp.sources.osm_admin import remember_admin
from geoapp.sources.osm_opl import (
    OPL_KINDS,
    admin_members_of,
    decoded_values,
    node_counts,
    opl_fields,
    opl_file_sections,
    opl_grouped,
    opl_ids,
    opl_key,
    opl_lon_lat,
    opl_tags,
    opl_text,
    opl_way_nodes,
    tag_matches,
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

#: The OPL the C++ pass writes: node locations on the ways, and no metadata or, when the
#: newest way dates the data (:func:`~geoapp.sources._osm_common.object_date_needed`), the
#: timestamps.
_OPL_FORMAT = "opl,locations_on_ways=true,add_metadata={}"


class _Ways:
    """Hold the ways the osmium pass keeps, as arrays.

    ``ids``; ``tags`` (the tags asked for, for facility, building, landuse and relation
    member ways; None for ways kept only as walkable streets); ``highway`` and ``name``
    of every way; ``area`` (pyrosm's polygon-feature rule); after :meth:`finish`, the
    node ids ``flat_refs`` and lon/lat ``xy`` (NaN where the node is not in the file) of
    all ways one after another, way ``i`` at ``offsets[i]:offsets[i + 1]``; ``pos``
    maps the ids of relation member ways to their row.
    """

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.tags: list[dict[str, str] | None] = []
        self.highway = np.zeros(0, dtype=object)
        self.name = np.zeros(0, dtype=object)
        self.area = np.zeros(0, dtype=bool)
        self.node_lists: list[bytes] = []
        self.pos: dict[int, int] = {}

    def finish(self) -> None:
        """Parse the node lists (and free them)."""
        counts = node_counts(self.node_lists)
        self.offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.flat_refs, self.xy = opl_way_nodes(self.node_lists, counts)
        self.node_lists = []

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


def _member_lines(ways: _Ways, wids: set[int]) -> dict[int, Any]:
    """Return ``{way id: LineString through its nodes present}`` of the stored ways ``wids``.

    Built in one vectorised call; ways with fewer than two nodes present are left out.
    """
    rows = sorted(p for w in wids if (p := ways.pos.get(w)) is not None)
    if not rows:
        return {}
    rows_a = np.asarray(rows, dtype=np.int64)
    start = ways.offsets[rows_a]
    counts = ways.offsets[rows_a + 1] - start
    owner = np.repeat(np.arange(len(rows_a)), counts)
    take = np.repeat(start - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    xy = ways.xy[take]
    ok = ~np.isnan(xy[:, 0])
    xy, owner = xy[ok], owner[ok]
    present = np.bincount(owner, minlength=len(rows_a))
    keep = present >= 2
    sel = keep[owner]
    idx = np.cumsum(keep)[owner[sel]] - 1
    lines = shapely.linestrings(xy[sel], indices=idx) if sel.any() else []
    return dict(zip(ways.ids[rows_a[keep]].tolist(), lines, strict=True))


def _relation_geometry(tags: dict[str, str], members: list[int], lines_of: dict[int, Any]) -> Any:
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
    lines = [lines_of[w] for w in sorted(set(members)) if w in lines_of]
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


def _relation_geometries(group: list, lines_of: dict[int, Any]) -> list[Any]:
    """Return :func:`_relation_geometry` of the relations ``group`` (id, tags, member ids).

    The areas are built together, each GEOS step in one call for all of them (merging
    the member lines, the rings, the even-odd overlay, the validity test); a step that
    fails leaves them to :func:`_relation_geometry`, one by one, as do routes and other
    linear relations.
    """
    from pyrosm.relations import relation_kind

    out: list[Any] = [None] * len(group)
    areas, lines = [], []
    for i, (_, tags, members) in enumerate(group):
        if relation_kind(tags)[0]:
            out[i] = _relation_geometry(tags, members, lines_of)
        else:
            areas.append(i)
            lines.append([lines_of[w] for w in sorted(set(members)) if w in lines_of])
    try:
        built = _overlay_areas(lines)
    except shapely.errors.GEOSException:
        built = [_relation_geometry(group[i][1], group[i][2], lines_of) for i in areas]
    for i, g in zip(areas, built, strict=True):
        out[i] = g
    return out


def _overlay_areas(lines: list[list[Any]]) -> list[Any]:
    """Return the even-odd overlay of the rings the member ``lines`` of each relation close.

    :func:`_relation_geometry`'s areas, vectorised over the relations.
    """
    from pyrosm.geometry import _polygonal_only, fix_geometry

    out: list[Any] = [None] * len(lines)
    have = np.flatnonzero([len(ls) > 0 for ls in lines])
    if not len(have):
        return out
    flat = np.asarray([g for i in have.tolist() for g in lines[i]], dtype=object)
    owner = np.repeat(np.arange(len(have)), [len(lines[i]) for i in have.tolist()])
    merged = shapely.line_merge(shapely.multilinestrings(flat, indices=owner))
    kind = shapely.get_type_id(merged)
    single = np.flatnonzero(kind == 1)
    multi = np.flatnonzero((kind == 5) | (kind == 7))
    sub, sub_of = shapely.get_parts(merged[multi], return_index=True)
    part_rel = np.concatenate([single, multi[sub_of]])
    order = np.argsort(part_rel, kind="stable")  # each relation's parts in order
    parts = np.concatenate([merged[single], sub])[order]
    part_rel = part_rel[order]
    is_line = shapely.get_type_id(parts) == 1
    parts, part_rel = parts[is_line], part_rel[is_line]
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(cidx, minlength=len(parts))
    end = np.cumsum(counts) - 1
    start = end - counts + 1
    ring = counts >= 4
    ring[ring] = (coords[start[ring]] == coords[end[ring]]).all(axis=1)
    if not ring.any():
        return out
    rows = ring[cidx]
    polys = shapely.polygons(
        shapely.linearrings(coords[rows], indices=np.cumsum(ring)[cidx[rows]] - 1)
    )
    bad = ~shapely.is_valid(polys)
    if bad.any():
        polys[bad] = shapely.buffer(polys[bad], 0)
    keep = ~shapely.is_empty(polys)
    polys, poly_rel = polys[keep], part_rel[ring][keep]
    pending: dict[int, list[Any]] = {}
    for g, r in zip(polys.tolist(), poly_rel.tolist(), strict=True):
        pending.setdefault(r, []).append(g)
    while any(len(p) > 1 for p in pending.values()):  # pair 0-1, 2-3 ... as one overlay
        a, b, plan = [], [], []
        for r, ps in pending.items():
            if len(ps) > 1:
                paired = len(ps) // 2 * 2
                a.extend(ps[0:paired:2])
                b.extend(ps[1:paired:2])
                plan.append((r, paired // 2, ps[paired:]))
        sym = shapely.symmetric_difference(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        at = 0
        for r, n, rest in plan:
            pending[r] = [*sym[at : at + n].tolist(), *rest]
            at += n
    area = {r: _polygonal_only(ps[0]) for r, ps in pending.items()}
    kept = [r for r, g in area.items() if g is not None]
    valid = shapely.is_valid(np.asarray([area[r] for r in kept], dtype=object))
    for r, ok in zip(kept, valid.tolist(), strict=True):
        g = area[r] if ok else _polygonal_only(fix_geometry(area[r]))
        out[int(have[r])] = g
    return out


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
        column = np.empty(len(tags), dtype=object)
        column[:] = list(map(methodcaller("get", c), tags))
        data[c] = column
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
        oriented=True,  # each edge's line runs from its u node to its v node
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
    src: str,
    out: Path,
    node_keys: list[str],
    way_keys: list[str],
    rel_keys: list[str],
    scan: _RelationScan | None = None,
) -> None:
    """Write the kept objects of ``src`` to ``out`` as OPL, entirely in C++.

    No Python runs per node or way: libosmium stores every node location, then writes
    the nodes carrying one of ``node_keys``, the relations carrying one of ``rel_keys``
    and the ways, with their node locations: those carrying one of ``way_keys`` when no
    relation is asked for, else every way (relation members need not carry any key,
    and their ids are known only once the relations, last in the file, are read).
    ``scan`` (with relations asked for, when the file's objects date it) sees every
    relation before the filter for its timestamp; the OPL then carries timestamps.
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
        rels = KeyFilter(*rel_keys).enable_for(RELATION)  # type: ignore[func-returns-value]
        handlers.extend([rels] if scan is None else [scan, rels])
    elif way_keys:
        handlers.append(KeyFilter(*way_keys).enable_for(WAY))  # type: ignore[func-returns-value]
    else:
        handlers.append(EntityFilter(NODE))
    metadata = "timestamp" if scan is not None else "false"
    writer = osmium.SimpleWriter(osmium.io.File(str(out), _OPL_FORMAT.format(metadata)))
    try:
        reader = osmium.io.Reader(src, NODE | WAY | RELATION if rel_keys else NODE | WAY)
        try:
            osmium.apply(reader, *handlers, writer)
        finally:
            reader.close()
    finally:
        writer.close()


class _RelationScan:
    """See every relation in the C++ pass for its timestamp (a Python call per relation).

    Keeps the newest timestamp of all relations (the ways' come from the OPL), for
    :func:`~geoapp.sources.osm_admin.remember_admin`.
    """

    def __init__(self) -> None:
        self.newest: Any = None

    def relation(self, r: Any) -> None:
        ts = r.timestamp
        if self.newest is None or ts > self.newest:
            self.newest = ts


def _catalog_match(tags: Mapping[str, str], wanted: Mapping[str, bool | list[str]]) -> bool:
    """Return whether ``tags`` carry one of ``wanted`` as :func:`tag_mask` tests it.

    A key asked with ``True`` matches any non-empty value; a list of values matches a
    value in it, also as one of several ``;``-separated values. Elements that do not
    match are dropped by :func:`make_features` anyway: testing here saves building their
    geometries (and reading the member ways of such relations).
    """
    return any(_value_matches(tags.get(key), values) for key, values in wanted.items())


def _value_matches(v: str | None, values: bool | list[str]) -> bool:
    """Return whether the value ``v`` of a key asked with ``values`` matches (see above)."""
    if v is None:
        return False
    if isinstance(values, bool):
        return values and v != ""
    return v in values or (";" in v and any(p.strip() in values for p in v.split(";")))


class _OplRows:
    """Turn the OPL of :func:`_opl_pass` into the rows of the reader's frames.

    ``rels`` (by kind), ``node_rows`` (facility nodes), ``poi_labels`` and ``poi_xy``
    (the building-use tags and lon/lat of the nodes carrying them), ``store`` (the kept
    ways) and the rows of ``store`` that are walkable, facilities, buildings or
    residential landuse; ``newest_way`` (the newest way's OPL
    timestamp) and ``admin_ways`` (``{way id: (node ids, lon/lat)}`` of the member ways
    of ``admin_ids``). Each kind of line is split into fields in one call and the tags
    the rules read are found by one regular expression over all of them; only the
    tags of the kept facility, building, landuse and relation member ways are decoded
    one way at a time.
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
        self.way_tag_names = list(way_tag_keys)
        self.b_walk = [(k, opl_key(k)) for k in self._WALK_KEYS]
        self.b_cols = [(k, opl_key(k)) for k in cols]
        self.b_poi = [(k, opl_key(k)) for k in poi_keys]
        self.node_keys, self.poi_keys = node_keys, poi_keys
        self.lu_values = {opl_key(v) for v in LANDUSE_VALUES}
        self.store = _Ways()
        self.node_rows: list[tuple[int, dict[str, str], float, float]] = []
        self.poi_labels: list[str] = []
        self.poi_xy = np.zeros((0, 2))
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
        self.admin: list[tuple[int, dict[str, str], list[int], list[int], list[int], list[int]]]
        self.admin = []  # the boundary=administrative relations (admin_members_of)
        self.admin_ids: set[int] = set()
        self.admin_ways: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.newest_way: bytes | None = None

    def parse(self, opl: Path) -> None:
        """Parse the OPL file ``opl``: the relations (last in the file) first."""
        try:
            split = [
                opl_fields(s, k) for s, k in zip(opl_file_sections(opl), OPL_KINDS, strict=True)
            ]
        except ValueError:  # not sorted by type
            text = opl.read_bytes()
            split = [opl_fields(s, k) for s, k in zip(opl_grouped(text), OPL_KINDS, strict=True)]
            del text
        self.relations(*split.pop())
        self.parse_ways(*split.pop())
        self.parse_nodes(*split.pop())

    def relations(self, fields: list[bytes], stride: int, at: dict[bytes, int]) -> None:
        """Read the relations (``r<id> ... T<tags> M<type><ref>@<role>,...``)."""
        rels = []
        text: dict[bytes, str] = {}  # keys and values decoded once
        if fields:
            for rid, tg, mem in zip(
                fields[0::stride], fields[at[b"T"] :: stride], fields[at[b"M"] :: stride],
                strict=True,
            ):  # fmt: skip
                tags = {}
                for k, v in opl_tags(tg).items():
                    if k not in text:
                        text[k] = opl_text(k)
                    if v not in text:
                        text[v] = opl_text(v)
                    tags[text[k]] = text[v]
                members = mem[1:].split(b",")
                ways = [int(m[1 : m.index(b"@")]) for m in members if m[:1] == b"w"]
                rels.append((int(rid[1:]), tags, ways))
                if tags.get("boundary") == "administrative":
                    self.admin.append((rels[-1][0], dict(tags), *admin_members_of(members)))
        self.admin_ids = {w for r in self.admin for w in (*r[2], *r[3])}
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

    def parse_nodes(self, fields: list[bytes], stride: int, at: dict[bytes, int]) -> None:
        """Read the nodes (``n<id> ... T<tags> x<lon> y<lat>``)."""
        if not fields:
            return
        xs, ys = fields[at[b"x"] :: stride], fields[at[b"y"] :: stride]
        lon, lat, rows = opl_lon_lat(xs, ys)
        if not len(rows):
            return
        tag_fields = fields[at[b"T"] :: stride]
        if len(rows) < len(xs):
            tag_fields = [tag_fields[k] for k in rows.tolist()]
        ids = fields[0::stride]
        del fields, xs, ys
        keys = list(dict.fromkeys([*self.node_keys, *self.poi_keys]))
        row, key, value = tag_matches(tag_fields, keys)
        n_node = len(self.node_keys)
        if n_node:
            sel = np.flatnonzero(key < n_node)
            hit = _values_match(
                key[sel], [value[i] for i in sel.tolist()], self.node_keys, self.tags
            )
            for k in np.unique(row[sel[hit]]).tolist():
                t = opl_tags(tag_fields[k])
                tags = {c: opl_text(t[b]) for c, b in self.b_cols if b in t}
                nid = int(ids[int(rows[k])][1:])
                self.node_rows.append((nid, tags, float(lon[k]), float(lat[k])))
        if self.poi_keys:
            # labels "key=value;..." in the order of the building-use keys, node by node
            order = {k: i for i, k in enumerate(self.poi_keys)}
            rank = np.array([order.get(k, -1) for k in keys], dtype=np.int64)[key]
            sel = np.flatnonzero(rank >= 0)
        if self.poi_keys and len(sel):  # no node with a building-use key: no labels
            sel = sel[np.lexsort((rank[sel], row[sel]))]
            pairs = list(zip(rank[sel].tolist(), [value[i] for i in sel.tolist()], strict=True))
            label = {(k, v): f"{self.poi_keys[k]}={opl_text(v)}" for k, v in set(pairs)}
            parts = list(map(label.__getitem__, pairs))
            r = row[sel]
            cut = np.flatnonzero(np.r_[True, r[1:] != r[:-1], True])
            if len(cut) - 1 == len(parts):  # one building-use tag per node
                self.poi_labels = parts
            else:
                self.poi_labels = [
                    parts[a] if b - a == 1 else ";".join(parts[a:b])
                    for a, b in zip(cut[:-1].tolist(), cut[1:].tolist(), strict=True)
                ]
            first = r[cut[:-1]]
            self.poi_xy = np.stack([lon[first], lat[first]], axis=1)

    def parse_ways(self, fields: list[bytes], stride: int, at: dict[bytes, int]) -> None:
        """Read the ways (``w<id> ... T<tags> N<node>x<lon>y<lat>,...``)."""
        if not fields:
            return
        n = len(fields) // stride
        if b"t" in at:
            newest = max(fields[at[b"t"] :: stride])  # ISO 8601: in time order; "t": none
            self.newest_way = newest[1:] if len(newest) > 1 else None
        ids = opl_ids(fields[0::stride], b"w")
        tag_fields = fields[at[b"T"] :: stride]
        node_fields = fields[at[b"N"] :: stride]
        del fields
        keys = list(dict.fromkeys([*self.fkeys, "building", "landuse", *self._WALK_KEYS, "name"]))
        found = tag_matches(tag_fields, keys)
        feat, bld, lu, member = self._way_kinds(ids, keys, *found)
        full = feat | bld | lu | member
        walk, highway, name = self._walk_only(n, full, keys, *found)
        del found
        kept = np.flatnonzero(full | walk)
        at_row = np.full(n, -1, dtype=np.int64)
        at_row[kept] = np.arange(len(kept))
        store = self.store
        store.ids = ids[kept]
        store.tags = [None] * len(kept)
        store.area = np.zeros(len(kept), dtype=bool)
        hw_of = np.full(n, None, dtype=object)
        name_of = np.full(n, None, dtype=object)
        hw_of[walk], name_of[walk] = highway[walk], name[walk]
        full_rows = np.flatnonzero(full)
        way_tags, store.area[at_row[full_rows]] = self._way_tags(
            [tag_fields[r] for r in full_rows.tolist()]
        )
        for r, p, wt in zip(full_rows.tolist(), at_row[full_rows].tolist(), way_tags, strict=True):
            store.tags[p] = wt
            hw_of[r], name_of[r] = wt.get("highway"), wt.get("name")
            walk[r] = self.network and "highway" in wt and is_walkable_way(wt)
        store.highway, store.name = hw_of[kept], name_of[kept]
        store.node_lists = [node_fields[r] for r in kept.tolist()]
        in_rels = np.flatnonzero(member)
        store.pos = dict(zip(ids[in_rels].tolist(), at_row[in_rels].tolist(), strict=True))
        self.walk = at_row[walk].tolist()
        self.feat_ways = at_row[feat].tolist()
        self.bld_ways = at_row[bld].tolist()
        self.lu_ways = at_row[lu].tolist()
        admin = np.flatnonzero(_isin(ids, self.admin_ids))
        if len(admin):
            lists = [node_fields[r] for r in admin.tolist()]
            counts = node_counts(lists)
            refs, xy = opl_way_nodes(lists, counts)
            ends = np.cumsum(counts).tolist()
            for r, end, c in zip(admin.tolist(), ends, counts.tolist(), strict=True):
                self.admin_ways[int(ids[r])] = (refs[end - c : end], xy[end - c : end])

    def _way_tags(self, tag_fields: list[bytes]) -> tuple[list[dict[str, str]], np.ndarray]:
        """Return the tags a frame or rule reads of the OPL ``T`` fields, decoded, and areas.

        Found by one regular expression over all fields, each value decoded once; in
        each field's order (as :func:`opl_tags` gives them). The second array says which
        fields' tags make a closed way an area (pyrosm's ``is_area``).
        """
        names = self.way_tag_names
        row, key, value = tag_matches(tag_fields, names)
        text = decoded_values(value)
        out: list[dict[str, str]] = [{} for _ in tag_fields]
        keys = key.tolist()
        for r, k, v in zip(row.tolist(), keys, value, strict=True):
            out[r][names[k]] = text[v]
        n = len(tag_fields)
        if len(np.unique(row * len(names) + key)) < len(row):  # a key twice: the last counts
            return out, np.fromiter(map(self.is_area, out), bool, n)
        # is_area is True when one tag is a polygon feature, unless one is area=no: each
        # distinct tag is tested once, alone (area=no: -1, a polygon feature: 1, else 0)
        pairs = list(zip(keys, value, strict=True))
        memo = {
            (k, v): -1
            if names[k] == "area" and text[v] == "no"
            else int(self.is_area({names[k]: text[v]}))
            for k, v in set(pairs)
        }
        code = np.fromiter(map(memo.__getitem__, pairs), np.int8, len(pairs))
        area = np.bincount(row[code == 1], minlength=n) > 0
        area &= np.bincount(row[code == -1], minlength=n) == 0
        return out, area

    def _way_kinds(
        self, ids: np.ndarray, keys: list[str], row: np.ndarray, key: np.ndarray, value: list[bytes]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return which ways are facilities, buildings, residential landuse, relation members."""
        n = len(ids)
        feat = np.zeros(n, dtype=bool)
        if self.fkeys:
            sel = np.flatnonzero(key < len(self.fkeys))
            hit = _values_match(key[sel], [value[i] for i in sel.tolist()], self.fkeys, self.tags)
            feat[row[sel[hit]]] = True
        bld = np.zeros(n, dtype=bool)
        if self.buildings:
            bld[row[key == keys.index("building")]] = True
            bld &= ~_isin(ids, self.bld_members)
        lu = np.zeros(n, dtype=bool)
        if self.landuse:
            sel = np.flatnonzero(key == keys.index("landuse"))
            ok = np.fromiter((value[i] in self.lu_values for i in sel.tolist()), bool, len(sel))
            lu[row[sel[ok]]] = True
            lu &= ~_isin(ids, self.lu_members)
        return feat, bld, lu, _isin(ids, self.members)

    def _walk_only(
        self,
        n: int,
        full: np.ndarray,
        keys: list[str],
        row: np.ndarray,
        key: np.ndarray,
        value: list[bytes],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return which of the ways not ``full`` are walkable, and their highway and name.

        The walking filter is asked once per highway value for the ways carrying no other
        tag it reads, way by way for the others.
        """
        walk = np.zeros(n, dtype=bool)
        highway = np.full(n, None, dtype=object)
        name = np.full(n, None, dtype=object)
        if not self.network:
            return walk, highway, name
        hw = np.flatnonzero(key == keys.index("highway"))
        hw = hw[~full[row[hw]]]
        values = [value[i] for i in hw.tolist()]
        decoded = decoded_values(values)
        ok = {v: is_walkable_way({"highway": d}) for v, d in decoded.items()}
        r_hw = row[hw]
        highway[r_hw] = np.fromiter(map(decoded.__getitem__, values), object, len(values))
        walk[r_hw] = np.fromiter(map(ok.__getitem__, values), bool, len(values))
        walk_keys = [keys.index(k) for k in self._WALK_KEYS]
        other = np.zeros(n, dtype=bool)
        other[row[np.isin(key, walk_keys[1:])]] = True
        other &= ~full
        sel = np.flatnonzero(other[row] & np.isin(key, walk_keys))
        tags: dict[int, list[tuple[int, bytes]]] = {}
        for r, k, i in zip(row[sel].tolist(), key[sel].tolist(), sel.tolist(), strict=True):
            tags.setdefault(r, []).append((k, value[i]))
        memo: dict[tuple[tuple[int, bytes], ...], bool] = {}
        for r, t in tags.items():
            combo = tuple(t)
            if combo not in memo:
                d = {keys[k]: opl_text(v) for k, v in combo}
                memo[combo] = "highway" in d and is_walkable_way(d)
            walk[r] = memo[combo]
        named = np.flatnonzero(key == keys.index("name"))
        named = named[walk[row[named]]]
        values = [value[i] for i in named.tolist()]
        text = decoded_values(values)
        name[row[named]] = np.fromiter(map(text.__getitem__, values), object, len(values))
        return walk, highway, name


def _isin(ids: np.ndarray, wanted: set[int]) -> np.ndarray:
    """Return whether each of ``ids`` is in ``wanted``."""
    if not wanted:
        return np.zeros(len(ids), dtype=bool)
    return np.isin(ids, np.fromiter(wanted, np.int64, len(wanted)))


def _values_match(
    key: np.ndarray, values: list[bytes], keys: list[str], wanted: Mapping[str, bool | list[str]]
) -> np.ndarray:
    """Return which escaped ``values`` of ``keys[key]`` match the catalog (``_value_matches``)."""
    pairs = list(zip(key.tolist(), values, strict=True))
    memo = {(k, v): _value_matches(opl_text(v), wanted[keys[k]]) for k, v in set(pairs)}
    return np.fromiter(map(memo.__getitem__, pairs), bool, len(pairs))


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
    # with the relations, the pass sees every way and relation: the admin boundaries and,
    # when the file declares no date, the newest timestamp are kept for read_admin_areas
    # and osm_data_date
    dates = bool(rel_keys) and object_date_needed(path)
    scan = _RelationScan() if dates else None
    if rel_keys:
        rel_keys = sorted({*rel_keys, "boundary"})
    with tempfile.TemporaryDirectory(prefix="geoapp-read-") as tmp:
        opl = Path(tmp) / "kept.opl"
        _opl_pass(src, opl, sorted(set(node_keys) | set(poi_keys)), way_keys, rel_keys, scan)
        debug("C++ pass")
        rows.parse(opl)
    debug("parse")
    if rel_keys:
        newest = scan.newest if scan is not None else None
        if dates and rows.newest_way is not None:
            import datetime as dt

            way_ts = dt.datetime.fromisoformat(rows.newest_way.decode().replace("Z", "+00:00"))
            newest = way_ts if newest is None or way_ts > newest else newest
        remember_admin(path, rows.admin, rows.admin_ways, newest, dates)
    store = rows.store
    store.finish()
    debug("finish")
    node_rows = rows.node_rows
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
        lines_of = _member_lines(store, {m for _, _, mem in group for m in mem})
        for (rid, rt, _), g in zip(group, _relation_geometries(group, lines_of), strict=True):
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
            poi_xy, poi_labels = rows.poi_xy, rows.poi_labels
            bld = attach_pois(
                bld,
                shapely.points(poi_xy) if len(poi_xy) else np.zeros(0, dtype=object),
                np.array(poi_labels, dtype=object),
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
