"""Private helpers shared by the OpenStreetMap sources (file and online).

They turn what pyrosm and osmnx return into the frames of the :class:`~geoapp.region.Region`
contract (docs/architecture.md): ``features``, ``nodes``, ``edges``, ``buildings`` and
``landuse``, all in EPSG:4326.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from geoapp.catalog import Layer, load_catalog
from geoapp.region import (
    BUILDING_COLUMNS,
    BUILDING_POIS,
    BUILDING_USE_KEYS,
    EDGE_COLUMNS,
    FEATURE_TAG_KEYS,
    LANDUSE_COLUMNS,
    LANDUSE_VALUES,
    NODE_COLUMNS,
    WGS84,
    empty_gdf,
)
from geoapp.sources.capacity import CAPACITY_TAG_KEYS

log = logging.getLogger(__name__)

#: Attribution every OSM-derived region carries in ``meta["attribution"]``.
OSM_ATTRIBUTION = (
    "© OpenStreetMap contributors, available under the Open Database License (ODbL 1.0): "
    "https://www.openstreetmap.org/copyright"
)

#: What a message about an unreadable OpenStreetMap extract tells the user to do.
GET_EXTRACT = (
    "Download the extract again (for example from https://download.geofabrik.de or "
    "https://extract.bbbike.org) or export a smaller area from https://www.openstreetmap.org."
)

#: What the extract readers return: ``features``, ``nodes``, ``edges``, ``buildings``,
#: ``landuse`` and the administrative boundaries (None: read apart, by
#: :func:`geoapp.sources.osm_admin.read_admin_boundaries`).
Frames = tuple[
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame,
    gpd.GeoDataFrame | None,
]

_POLYGONAL = ("Polygon", "MultiPolygon")

# The walking network filter, the same as pyrosm's "walking" (which follows osmnx's
# "walk" and adds OSM's access hierarchy), applied to way tags read from a file and to
# the ways of an online graph, so every reader keeps the same ways. Each entry: key ->
# values that EXCLUDE (also as one of several ``;``-separated values).
_WALK_EXCLUDE = {
    "area": {"yes"},
    "highway": {
        "abandoned", "bus_guideway", "construction", "cycleway", "motor", "motorway",
        "motorway_link", "no", "planned", "platform", "proposed", "raceway", "razed",
        "rest_area", "services",
    },
    "service": {"private"},
    "sidewalk": {"separate"},
    "sidewalk:both": {"separate"},
    "sidewalk:left": {"separate"},
    "sidewalk:right": {"separate"},
}  # fmt: skip
_CLOSED = {"no", "private"}


def _parts(value: Any) -> set[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    values = value if isinstance(value, list) else [value]
    return {p.strip() for v in values for p in str(v).split(";")}


def walk_access_closed(tags: Mapping[str, Any]) -> bool:
    """Return True when OSM's access hierarchy closes a way to pedestrians.

    The most specific tag present decides: ``foot`` if the way has one, else
    ``access``; the way is closed when it is ``no`` or ``private`` (also as one of
    several values). So ``access=no`` + ``foot=yes`` stays open, ``access=no`` alone
    is closed.
    """
    for key in ("foot", "access"):
        if tags.get(key) is not None and _parts(tags.get(key)):
            return bool(_parts(tags.get(key)) & _CLOSED)
    return False


def is_walkable_way(tags: Mapping[str, Any]) -> bool:
    """Return True when a way's tags pass the walking network filter (pyrosm's "walking")."""
    if "highway" not in tags:
        return False
    highway = tags["highway"]
    if len(tags) == 1 and isinstance(highway, str) and ";" not in highway:
        return highway.strip() not in _WALK_EXCLUDE["highway"]  # the common case, fast
    if any(_parts(tags.get(k)) & bad for k, bad in _WALK_EXCLUDE.items()):
        return False
    return not walk_access_closed(tags)


# ---------------------------------------------------------------------------
# Catalog -> which tags to read
# ---------------------------------------------------------------------------


def resolve_catalog(catalog: Mapping[str, Layer] | None) -> dict[str, Layer]:
    """Return ``catalog`` or the shipped one."""
    return dict(catalog) if catalog is not None else load_catalog()


def feature_keys(catalog: Mapping[str, Layer]) -> list[str]:
    """Return the tag columns of the features table.

    The fixed keys, the capacity tags (:data:`CAPACITY_TAG_KEYS`) and every catalog key.
    """
    keys = list(FEATURE_TAG_KEYS)
    keys.extend(k for k in CAPACITY_TAG_KEYS if k not in keys)
    for layer in catalog.values():
        keys.extend(k for k in layer.tag_keys() if k not in keys)
    return keys


def catalog_tags(catalog: Mapping[str, Layer]) -> dict[str, bool | list[str]]:
    """Return one osmnx-style ``tags`` dict wide enough for every layer of ``catalog``.

    Keys are ORed (as osmnx and pyrosm do); ``True`` means any value. ``place=*`` is
    always included: settlement nodes and areas (city, town, village, hamlet, suburb
    ...) carry the ``population`` tags that population estimates are checked against.
    """
    merged: dict[str, set[str] | bool] = {}
    for layer in catalog.values():
        for key, value in layer.osm_tags().items():
            if value is True or merged.get(key) is True:
                merged[key] = True
                continue
            current = merged.setdefault(key, set())
            assert isinstance(current, set)
            current.update([value] if isinstance(value, str) else list(cast(list[str], value)))
    merged["place"] = True
    return {k: (True if v is True else sorted(cast(set[str], v))) for k, v in merged.items()}


def any_value_tags(tags: Mapping[str, Any]) -> dict[str, bool]:
    """Return ``tags`` with every key set to ``True`` (any value).

    pyrosm and osmnx match tag values exactly, so a value list such as
    ``amenity=["school"]`` misses OSM's multi-valued tags (``amenity=school;kindergarten``).
    Readers therefore fetch any value of the catalog's keys and leave the value test to
    :func:`tag_mask` and :func:`geoapp.layers.select_features`, which split on ``;``.
    """
    return dict.fromkeys(tags, True)


def widen_tags(tags: dict[str, Any], key: str, value: str) -> None:
    """Widen an osmnx ``tags`` dict in place so that ``key=value`` is also fetched."""
    current = tags.get(key)
    if current is True:
        return
    values = [] if current is None else [current] if isinstance(current, str) else list(current)
    tags[key] = sorted({value, *values})


def tag_mask(df: pd.DataFrame, tags: Mapping[str, bool | str | list[str]]) -> np.ndarray:
    """Return which rows carry any of ``tags`` (OR over keys, osmnx semantics)."""
    out = np.zeros(len(df), dtype=bool)
    for key, value in tags.items():
        if key not in df.columns:
            continue
        col = df[key].astype("string")
        if value is True:
            m = col.notna() & (col != "")
        else:
            values = [value] if isinstance(value, str) else list(cast(list[str], value))
            m = col.isin(values)
            multi = col.str.contains(";", regex=False).fillna(False)
            if multi.any():
                parts = col[multi].str.split(";").explode().str.strip()
                hit = parts.isin(values).groupby(level=0).any()
                m = m.copy()
                m[hit.index[hit.to_numpy()]] = True
        out |= m.fillna(False).to_numpy(dtype=bool)
    return out


# ---------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------


def str_or_none(values: Any, index: pd.Index | None = None) -> pd.Series:
    """Return an object Series of str, with None for missing or empty values."""
    s = pd.Series(values, index=index) if not isinstance(values, pd.Series) else values
    s = s.astype("string").str.strip()
    s = s.mask(s == "")
    # pandas-stubs reject na_value=None (valid: missing values become None)
    return pd.Series(s.to_numpy(dtype=object, na_value=None), index=s.index, dtype=object)  # type: ignore[call-overload, arg-type]


def first_of_lists(values: pd.Series) -> pd.Series:
    """Return one value per cell, the alphabetically first element of list cells.

    osmnx merges the tags of the ways a simplified edge runs along into a list built
    from a ``set``, so the list's order changes with Python's hash seed; taking its
    first element would make ``highway`` and ``name`` differ from run to run. The
    alphabetically first value is reproducible.
    """
    s = values.reset_index(drop=True)
    is_list = s.map(lambda x: isinstance(x, list)).to_numpy(dtype=bool)
    out = pd.Series(s.to_numpy(dtype=object), dtype=object)
    if is_list.any():
        parts = s[is_list].explode()
        parts = parts[parts.notna()].astype(str)
        out[is_list] = None
        pick = parts.groupby(level=0).min()
        out[pick.index] = pick.to_numpy(dtype=object)
    return pd.Series(out.to_numpy(dtype=object), index=values.index, dtype=object)


_LEVELS_RX = r"^\s*(\d+(?:\.\d+)?)"


def parse_levels(values: Any) -> np.ndarray:
    """Parse OSM ``building:levels`` values to floats.

    ``"3"`` -> 3.0, ``"3.5"`` or ``"3,5"`` -> 3.5, ``"3;4"`` (several parts) -> 3.0 (the
    first value), ``"2-3"`` -> 2.0; anything else, zero, negative or above 200 -> NaN.
    """
    s = pd.Series(values, dtype="object").astype("string").str.replace(",", ".", regex=False)
    num = pd.to_numeric(s.str.extract(_LEVELS_RX, expand=False), errors="coerce")
    out = num.to_numpy(dtype=float, na_value=np.nan)
    out[(out <= 0) | (out > 200)] = np.nan
    return out


def osm_ids(element: Any, ids: Any) -> np.ndarray:
    """Return ``"<element>/<id>"`` strings (``"node/123"``)."""
    el = pd.Series(np.asarray(element, dtype=object)).astype(str).str.lower()
    num = pd.Series(np.asarray(ids)).astype("int64").astype(str)
    return (el + "/" + num).to_numpy(dtype=object)


def _obj(values: Any) -> pd.Series:
    """Return an object-dtype Series (str or None cells), never pandas' str dtype."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def valid_areas(geoms: Any) -> np.ndarray:
    """Return valid (Multi)Polygons, or None where a geometry encloses no area.

    Polygons built from a clipped extract (ways cut at missing nodes) or from broken
    OSM data are often invalid: self-intersecting rings (whose signed area is wrong)
    or rings of fewer than three distinct points. Invalid ones are repaired with
    :func:`shapely.make_valid`, keeping only their polygonal parts; what is left with
    no area (and every non-polygonal input) becomes None.
    """
    out = np.asarray(geoms, dtype=object).copy()
    polygonal = np.isin(shapely.get_type_id(out), (3, 6))
    out[~polygonal] = None
    bad = polygonal & ~shapely.is_valid(out)
    if bad.any():
        fixed = shapely.make_valid(out[bad])
        kind = shapely.get_type_id(fixed)
        for i in np.flatnonzero(kind == 7):  # rare: collections of polygons and lines
            parts = shapely.get_parts(fixed[i])
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            fixed[i] = shapely.union_all(parts) if len(parts) else None
        fixed[~np.isin(shapely.get_type_id(fixed), (3, 6))] = None
        out[bad] = fixed
        log.info("repaired %d invalid polygons (clipped or broken OSM ways)", int(bad.sum()))
    no_area = ~shapely.is_missing(out) & ~(shapely.area(out) > 0)
    out[no_area] = None
    return out


def _to_points_or_areas(geoms: np.ndarray) -> np.ndarray:
    """Keep points and valid polygons; turn lines, collections and degenerate areas into a point."""
    kind = shapely.get_type_id(geoms)
    # 0 Point, 3 Polygon, 6 MultiPolygon keep; 4 MultiPoint -> centroid; others -> point on
    geoms = geoms.copy()
    areas = np.isin(kind, (3, 6))
    if areas.any():
        fixed = valid_areas(geoms[areas])
        collapsed = shapely.is_missing(fixed)
        # a polygon with no area left (e.g. cut by the extract's edge) still marks a place
        fixed[collapsed] = shapely.point_on_surface(geoms[areas][collapsed])
        geoms[areas] = fixed
        kind = shapely.get_type_id(geoms)
    out = geoms.copy()
    multipoint = kind == 4
    if multipoint.any():
        out[multipoint] = shapely.centroid(geoms[multipoint])
    other = ~np.isin(kind, (0, 3, 4, 6))
    if other.any():
        out[other] = shapely.point_on_surface(geoms[other])
    return out


# ---------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------


def make_features(
    gdf: pd.DataFrame | None, ids: np.ndarray, keys: Iterable[str], tags: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """Return the ``features`` table from tagged OSM elements.

    Parameters
    ----------
    gdf
        One row per OSM element with one column per tag key and ``geometry``; None: none.
    ids
        ``osm_id`` strings aligned with ``gdf``.
    keys
        Tag key columns to carry.
    tags
        Candidate filter: rows carrying none of these tags are dropped.
    """
    keys = list(keys)
    columns = ["osm_id", "name", *keys]
    if gdf is None or len(gdf) == 0:
        return empty_gdf(columns)
    mask = tag_mask(gdf, tags)
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    mask &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    sub = gdf.loc[mask]
    if len(sub) == 0:
        return empty_gdf(columns)
    n = len(sub)
    data: dict[str, Any] = {"osm_id": _obj(np.asarray(ids, dtype=object)[mask])}
    for k in ["name", *keys]:
        data[k] = _obj(str_or_none(sub[k]).to_numpy() if k in sub.columns else [None] * n)
    out = gpd.GeoDataFrame(
        pd.DataFrame(data, columns=columns),
        geometry=_to_points_or_areas(geoms[mask]),
        crs=WGS84,
    )
    return out.drop_duplicates("osm_id").reset_index(drop=True)


def make_buildings(gdf: pd.DataFrame, ids: np.ndarray) -> gpd.GeoDataFrame:
    """Return the ``buildings`` table (polygonal rows with a ``building`` tag other than no).

    Invalid footprints are repaired (:func:`valid_areas`); footprints with no area
    left (typically ways cut by a clipped extract's edge) are dropped.
    """
    if gdf is None or len(gdf) == 0 or "building" not in gdf.columns:
        return empty_gdf(BUILDING_COLUMNS)
    building = gdf["building"].astype("string")
    tagged = building.notna().to_numpy(dtype=bool, na_value=False) & (building != "no").fillna(
        False
    ).to_numpy(dtype=bool)
    raw_geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    polygonal = np.isin(shapely.get_type_id(raw_geoms), (3, 6))
    geoms = np.full(len(raw_geoms), None, dtype=object)
    geoms[tagged & polygonal] = valid_areas(raw_geoms[tagged & polygonal])
    mask = tagged & polygonal & ~shapely.is_missing(geoms)
    degenerate = int((tagged & polygonal).sum() - mask.sum())
    if degenerate:
        log.info("dropped %d building footprints with no area (clipped or broken ways)", degenerate)
    if not mask.any():
        return empty_gdf(BUILDING_COLUMNS)
    sub = gdf.loc[mask]
    levels = sub["building:levels"] if "building:levels" in sub.columns else [None] * len(sub)
    data: dict[str, Any] = {
        "building_id": _obj(np.asarray(ids, dtype=object)[mask]),
        "building": _obj(sub["building"].astype(str).to_numpy(dtype=object)),
        "levels": parse_levels(levels),
        "name": _obj(
            str_or_none(sub["name"]).to_numpy() if "name" in sub.columns else [None] * len(sub)
        ),
    }
    data.update(_use_columns(sub))
    out = gpd.GeoDataFrame(data, geometry=geoms[mask], crs=WGS84)
    return out.drop_duplicates("building_id").reset_index(drop=True)


def _use_columns(sub: pd.DataFrame) -> dict[str, pd.Series]:
    """Return the :data:`BUILDING_USE_KEYS` columns of building rows (str or None).

    A key missing as a column is looked up in a ``tags`` column (pyrosm puts the tags it
    has no column for there, as a dict or a JSON string).
    """
    n = len(sub)
    extra = None
    if "tags" in sub.columns and any(k not in sub.columns for k in BUILDING_USE_KEYS):
        import json

        def as_dict(v: Any) -> dict:
            if isinstance(v, dict):
                return v
            if isinstance(v, str) and v.startswith("{"):
                with contextlib.suppress(ValueError):
                    return json.loads(v)
            return {}

        extra = [as_dict(v) for v in sub["tags"].to_numpy(dtype=object)]
    out: dict[str, pd.Series] = {}
    for k in BUILDING_USE_KEYS:
        if k in sub.columns:
            out[k] = _obj(str_or_none(sub[k]).to_numpy())
        elif extra is not None:
            out[k] = _obj(str_or_none([d.get(k) for d in extra], index=sub.index).to_numpy())
        else:
            out[k] = _obj([None] * n)
    return out


def poi_labels(tags: pd.DataFrame) -> np.ndarray:
    """Return per row the ``key=value`` tags of :data:`BUILDING_USE_KEYS` joined by ``;``.

    None where the row carries none of them (a row of ``tags`` per node; one column per
    tag key, missing keys allowed).
    """
    parts = []
    for k in BUILDING_USE_KEYS:
        if k in tags.columns:
            v = str_or_none(tags[k])
            parts.append(np.where(v.notna().to_numpy(), (k + "=") + v.fillna("").astype(str), ""))
    if not parts:
        return np.full(len(tags), None, dtype=object)
    joined = [";".join(p for p in row if p) for row in zip(*parts, strict=True)]
    return np.array([j or None for j in joined], dtype=object)


def building_poi_nodes(raw: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(points, labels)`` of the point rows of an osmnx features frame.

    The rows (one column per tag) carrying a :data:`BUILDING_USE_KEYS` tag, for
    :func:`attach_pois`.
    """
    geoms = np.asarray(raw.geometry.to_numpy(), dtype=object)
    is_pt = shapely.get_type_id(geoms) == 0
    labels = poi_labels(raw.loc[is_pt])
    return geoms[is_pt], labels


def attach_pois(
    buildings: gpd.GeoDataFrame, points: np.ndarray, labels: np.ndarray
) -> gpd.GeoDataFrame:
    """Return ``buildings`` with column :data:`BUILDING_POIS`: the POI tags inside each.

    ``points`` (EPSG:4326 shapely points) and ``labels`` (:func:`poi_labels`, None for
    none) are the POI nodes; a building's value is the sorted, de-duplicated ``key=value``
    tags of the nodes inside its footprint joined by ``;`` (None: no node).
    """
    out = buildings.copy()
    value = np.full(len(out), None, dtype=object)
    labels = np.asarray(labels, dtype=object)
    ok = np.array([lab is not None for lab in labels], dtype=bool)
    if len(out) and ok.any():
        pts = np.asarray(points, dtype=object)[ok]
        codes, distinct = pd.factorize(np.array([str(v) for v in labels[ok]], dtype=object))
        tree = shapely.STRtree(np.asarray(out.geometry.to_numpy(), dtype=object))
        pi, bi = tree.query(pts, predicate="within")
        # the distinct (building, label) pairs, by building
        pair = np.unique(bi.astype(np.int64) * len(distinct) + codes[pi])
        b_of, c_of = np.divmod(pair, len(distinct))
        cut = (
            np.flatnonzero(np.r_[True, b_of[1:] != b_of[:-1], True]).tolist() if len(pair) else [0]
        )
        c_list = c_of.tolist()
        joined: dict[tuple[int, ...], str] = {}  # a set of labels: its tags, sorted
        for b, lo, hi in zip(b_of[cut[:-1]].tolist(), cut[:-1], cut[1:], strict=True):
            combo = tuple(c_list[lo:hi])
            if combo not in joined:
                tags = {t for c in combo for t in str(distinct[c]).split(";")}
                joined[combo] = ";".join(sorted(t for t in tags if t))
            value[b] = joined[combo]
    if BUILDING_POIS in out.columns:
        out = out.drop(columns=BUILDING_POIS)
    out.insert(list(out.columns).index(out.geometry.name), BUILDING_POIS, _obj(value))
    return out


def make_landuse(gdf: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the ``landuse`` table: landuse polygons of the :data:`LANDUSE_VALUES`.

    Residential landuse holds homes; the other values mark the areas whose buildings
    are no homes (industrial, commercial, military ...).
    """
    if gdf is None or len(gdf) == 0 or "landuse" not in gdf.columns:
        return empty_gdf(LANDUSE_COLUMNS)
    value = gdf["landuse"].astype("string").str.strip()
    kept = value.isin(LANDUSE_VALUES).fillna(False).to_numpy(dtype=bool)
    geoms = np.full(len(gdf), None, dtype=object)
    geoms[kept] = valid_areas(np.asarray(gdf.geometry.to_numpy(), dtype=object)[kept])
    mask = kept & ~shapely.is_missing(geoms)
    if not mask.any():
        return empty_gdf(LANDUSE_COLUMNS)
    return gpd.GeoDataFrame(
        {"landuse": _obj(value.to_numpy(dtype=object)[mask])},
        geometry=geoms[mask],
        crs=WGS84,
    )


def _starts_nearer(lines: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return, per line, whether its first vertex is nearer point ``a`` than point ``b``.

    Read off one coordinate array (no point objects are built); lines or points that
    are missing or empty go through shapely's distances.
    """
    pa, pb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    counts = shapely.get_num_coordinates(lines)
    if len(pa) != len(lines) or len(pb) != len(lines) or not (counts > 0).all():
        first = shapely.get_point(lines, 0)
        return shapely.distance(first, a) < shapely.distance(first, b)
    start = np.zeros(len(lines), dtype=np.int64)
    np.cumsum(counts[:-1], out=start[1:])
    first = shapely.get_coordinates(lines)[start]
    return np.hypot(*(first - pa).T) < np.hypot(*(first - pb).T)


def make_network(
    node_ids: Any,
    node_geoms: Any,
    u: Any,
    v: Any,
    length_m: Any,
    highway: Any,
    name: Any,
    edge_geoms: Any,
    *,
    oriented: bool = False,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(nodes, edges)`` in the contract from aligned arrays.

    Edges whose end nodes are missing are dropped (with a warning); edge
    geometries are oriented from ``u`` to ``v`` (``oriented``: the caller built each
    line from its ``u`` node's location to its ``v`` node's, nothing to turn); missing
    geometries become straight lines; missing lengths are measured in the local UTM CRS.
    """
    nodes = gpd.GeoDataFrame(
        {"node_id": np.asarray(node_ids, dtype="int64")},
        geometry=np.asarray(node_geoms, dtype=object),
        crs=WGS84,
    ).drop_duplicates("node_id")
    nodes = nodes.reset_index(drop=True)
    u = np.asarray(u, dtype="int64")
    v = np.asarray(v, dtype="int64")
    if len(u) == 0:
        return nodes, empty_gdf(EDGE_COLUMNS)
    pos = pd.Series(np.arange(len(nodes)), index=nodes["node_id"].to_numpy())
    iu = pos.reindex(u).to_numpy()
    iv = pos.reindex(v).to_numpy()
    ok = ~(np.isnan(iu) | np.isnan(iv))
    if not ok.all():
        log.warning("dropping %d edges whose end nodes are missing (clipped extract)", (~ok).sum())
    iu = iu[ok].astype(int)
    iv = iv[ok].astype(int)
    node_pts = np.asarray(nodes.geometry.to_numpy(), dtype=object)
    pu, pv = node_pts[iu], node_pts[iv]
    geoms = np.asarray(edge_geoms, dtype=object)[ok]
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        geoms[missing] = shapely.linestrings(
            np.stack(
                [shapely.get_coordinates(pu[missing]), shapely.get_coordinates(pv[missing])],
                axis=1,
            )
        )
    flip = np.zeros(len(geoms), dtype=bool) if oriented else _starts_nearer(geoms, pv, pu)
    if flip.any():
        geoms[flip] = shapely.reverse(geoms[flip])
    length = np.asarray(length_m, dtype=float)[ok]
    edges = gpd.GeoDataFrame(
        {
            "u": u[ok],
            "v": v[ok],
            "length_m": length,
            "highway": _obj(
                pd.Series(np.asarray(highway, dtype=object)[ok]).fillna("").astype(str)
            ),
            "name": _obj(str_or_none(pd.Series(np.asarray(name, dtype=object)[ok]))),
        },
        geometry=geoms,
        crs=WGS84,
    )
    bad = ~np.isfinite(length)
    if bad.any():
        local = edges.geometry[bad].to_crs(edges.estimate_utm_crs())
        edges.loc[bad, "length_m"] = local.length.to_numpy()
    return split_loops(nodes, edges.reset_index(drop=True))


def _scaled_lengths(geoms: np.ndarray) -> np.ndarray:
    """Planar lengths of lon/lat lines with longitude scaled by cos(latitude) (relative use)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return np.zeros(len(geoms))
    scale = np.cos(np.radians(coords[:, 1]))
    same = index[1:] == index[:-1]
    seg = np.hypot(np.diff(coords[:, 0]) * scale[1:], np.diff(coords[:, 1]))
    return np.bincount(index[1:][same], weights=seg[same], minlength=len(geoms))


def _cut_line(line: Any, fractions: list[float]) -> list[Any]:
    """Cut a LineString at fractions of its (scaled) length; return the pieces in order."""
    coords = np.asarray(line.coords)
    scale = np.cos(np.radians(coords[:, 1]))
    seg = np.hypot(np.diff(coords[:, 0]) * scale[1:], np.diff(coords[:, 1]))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    pieces, start = [], 0.0
    for f in [*fractions, 1.0]:
        stop = f * total
        inside = (cum > start) & (cum < stop)
        a = np.interp(start, cum, coords[:, 0]), np.interp(start, cum, coords[:, 1])
        b = np.interp(stop, cum, coords[:, 0]), np.interp(stop, cum, coords[:, 1])
        pts = np.vstack([a, coords[inside], b])
        pieces.append(shapely.linestrings(pts))
        start = stop
    return pieces


def split_loops(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split self-loops and parallel edges into proper segments at new nodes.

    osmnx simplifies a closed way (a loop street, a service ring) into an edge from a
    node back to itself, and two ways joining the same two intersections (the two
    halves of a ring crossed by a through street) into parallel edges. A routing graph
    keeps no self-loop and only the shortest of parallel edges, so those streets would
    vanish, and buildings along them would snap elsewhere: the XML and online readers
    would give other distances than the PBF reader (which splits every way at every
    node). Here every self-loop is cut into three pieces (at a third and two thirds of
    its length) and every parallel edge but the first (shortest) one of its node pair
    into two (at half its length); exact duplicates (the same line twice) and loops of
    no length are dropped.

    New nodes get negative ids (``-1, -2, ...``, in edge order); piece lengths are the
    edge's ``length_m`` shared in proportion to the pieces' lengths. Only the affected
    edges are cut (a loop over those few); the rest pass through unchanged.

    Parameters
    ----------
    nodes, edges
        Frames of the nodes/edges contract, edge geometries oriented from ``u`` to ``v``.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        New ``(nodes, edges)`` with no self-loop and no parallel edge (inputs unchanged).
    """
    if len(edges) == 0:
        return nodes, edges
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    geoms = np.asarray(edges.geometry.to_numpy(), dtype=object)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((edges["length_m"].to_numpy(dtype=float), hi, lo))
    # in that order, an edge whose node pair is the previous edge's is not the first
    # of its pair
    same = (lo[order][1:] == lo[order][:-1]) & (hi[order][1:] == hi[order][:-1])
    later = np.zeros(len(u), dtype=bool)
    later[order[1:][same]] = True
    # exact duplicates: same node pair and the same line (either direction); only
    # edges sharing their pair with another are compared
    shared = np.zeros(len(u), dtype=bool)
    shared[order[1:][same]] = True
    shared[order[:-1][same]] = True
    sub = order[shared[order]]
    dup = np.zeros(len(u), dtype=bool)
    if len(sub):
        norm = shapely.to_wkb(shapely.normalize(geoms[sub]))
        dup[
            sub[pd.DataFrame({"lo": lo[sub], "hi": hi[sub], "g": norm}).duplicated().to_numpy()]
        ] = True
    loop = u == v
    parallel = later & ~loop & ~dup
    if not (loop.any() or parallel.any() or dup.any()):
        return nodes, edges
    cut = np.flatnonzero((loop | parallel) & ~dup)
    rows: list[dict[str, Any]] = []
    new_nodes: list[Any] = []
    next_id = -1 - max(0, -int(nodes["node_id"].min())) if len(nodes) else -1
    done: list[int] = []
    degenerate: list[int] = []
    for i in cut:
        line = geoms[i]
        fractions = [1 / 3, 2 / 3] if loop[i] else [0.5]
        if len(shapely.get_coordinates(line)) < 2 or not (shapely.length(line) > 0):
            if loop[i]:
                degenerate.append(int(i))  # a loop of no length leads nowhere: dropped
            continue
        pieces = _cut_line(line, fractions)
        done.append(int(i))
        ids = list(range(next_id, next_id - len(fractions), -1))
        next_id -= len(fractions)
        ends = [int(u[i]), *ids, int(v[i])]
        plen = _scaled_lengths(np.asarray(pieces, dtype=object))
        share = plen / plen.sum() if plen.sum() > 0 else np.full(len(pieces), 1 / len(pieces))
        total = float(edges["length_m"].iat[i])
        for k, piece in enumerate(pieces):
            rows.append(
                {
                    "u": ends[k],
                    "v": ends[k + 1],
                    "length_m": total * float(share[k]),
                    "highway": edges["highway"].iat[i],
                    "name": edges["name"].iat[i],
                    "geometry": piece,
                }
            )
        new_nodes.extend((nid, shapely.get_point(pieces[k], -1)) for k, nid in enumerate(ids))
    keep = ~dup
    keep[done + degenerate] = False  # a parallel edge of no length stays as it was
    if rows:
        added = gpd.GeoDataFrame(rows, geometry="geometry", crs=edges.crs)
    else:
        added = edges.iloc[0:0]
    out_edges = pd.concat([edges.loc[keep], added], ignore_index=True)
    out_edges = gpd.GeoDataFrame(out_edges, geometry="geometry", crs=edges.crs)
    out_edges["u"] = out_edges["u"].astype("int64")
    out_edges["v"] = out_edges["v"].astype("int64")
    out_edges["length_m"] = out_edges["length_m"].astype(float)
    out_nodes = nodes
    if new_nodes:
        extra = gpd.GeoDataFrame(
            {"node_id": np.array([n for n, _ in new_nodes], dtype="int64")},
            geometry=[g for _, g in new_nodes],
            crs=nodes.crs,
        )
        out_nodes = gpd.GeoDataFrame(
            pd.concat([nodes, extra], ignore_index=True), geometry="geometry", crs=nodes.crs
        )
    log.info(
        "walking network: split %d loop and %d parallel edges into segments, dropped %d "
        "duplicate edges",
        int(loop[done].sum()),
        int(parallel[done].sum()),
        int(dup.sum()),
    )
    return out_nodes, out_edges


@contextlib.contextmanager
def walk_tags() -> Iterator[None]:
    """Keep the ``foot`` and ``access`` tags on osmnx graph edges while building a graph.

    :func:`simplify_walk_graph` needs them to apply the access hierarchy; osmnx's
    settings are restored afterwards.
    """
    import osmnx as ox

    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*saved, *(t for t in ("foot", "access") if t not in saved)]
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def simplify_walk_graph(G: Any) -> Any:
    """Simplify an unsimplified osmnx graph, keeping isolated rings.

    osmnx's default simplification drops rings with no intersection (a closed service
    road on its own, a roundabout cut off by a clipped extract); pyrosm keeps them, so
    the XML and online readers simplify with ``remove_rings=False`` to give the same
    network as the PBF reader. Way segments closed to pedestrians by the access
    hierarchy (:func:`walk_access_closed`: ``access=no`` without ``foot=yes``, which
    osmnx's "walk" query keeps) are dropped first, as pyrosm drops them; this needs the
    ``foot`` and ``access`` tags on the edges (``ox.settings.useful_tags_way``).
    """
    import osmnx as ox

    if G is None or len(G) == 0 or G.graph.get("simplified"):
        return G
    closed = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if walk_access_closed(d)]
    if closed:
        G = G.copy()
        G.remove_edges_from(closed)
        G.remove_nodes_from([n for n, deg in dict(G.degree()).items() if deg == 0])
        log.info("walking network: dropped %d way segments closed to pedestrians", len(closed))
    return ox.simplify_graph(G, remove_rings=False)


def graph_to_frames(G: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(nodes, edges)`` from an osmnx MultiDiGraph (one row per undirected edge)."""
    import osmnx as ox

    if G is None or len(G) == 0:
        return empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
    Gu = ox.convert.to_undirected(G)
    if Gu.number_of_edges() == 0:
        ngdf = ox.convert.graph_to_gdfs(Gu, edges=False)
        return (
            gpd.GeoDataFrame(
                {"node_id": ngdf.index.to_numpy(dtype="int64")},
                geometry=ngdf.geometry.to_numpy(),
                crs=WGS84,
            ),
            empty_gdf(EDGE_COLUMNS),
        )
    ngdf, egdf = ox.convert.graph_to_gdfs(Gu, fill_edge_geometry=True)
    egdf = egdf.to_crs(WGS84) if egdf.crs is not None else egdf.set_crs(WGS84)
    ngdf = ngdf.to_crs(WGS84) if ngdf.crs is not None else ngdf.set_crs(WGS84)
    idx = egdf.index
    highway = first_of_lists(egdf["highway"]) if "highway" in egdf else None
    name = first_of_lists(egdf["name"]) if "name" in egdf else None
    length = egdf["length"].to_numpy(dtype=float) if "length" in egdf else np.nan
    n = len(egdf)
    return make_network(
        ngdf.index.to_numpy(dtype="int64"),
        ngdf.geometry.to_numpy(),
        idx.get_level_values(0).to_numpy(dtype="int64"),
        idx.get_level_values(1).to_numpy(dtype="int64"),
        np.broadcast_to(length, (n,)),
        highway if highway is not None else np.full(n, "", dtype=object),
        name if name is not None else np.full(n, None, dtype=object),
        egdf.geometry.to_numpy(),
    )


def data_extent(*frames: gpd.GeoDataFrame) -> Any:
    """Return the bounding box (shapely Polygon) of all non-empty frames, or None."""
    bounds = [f.total_bounds for f in frames if f is not None and len(f)]
    bounds = [b for b in bounds if np.all(np.isfinite(b))]
    if not bounds:
        return None
    b = np.vstack(bounds)
    return box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


# --------------------------------------------------------------------------- data date

#: Newest-object scans (when the file header carries no date) read files up to this size.
DATE_SCAN_MAX_BYTES = 64 * 1024 * 1024


def _iso(value: Any) -> str | None:
    """Return an OSM timestamp (str or datetime) as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    import datetime as dt

    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip().replace("\\:", ":")  # osmosis state files escape colons
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime) or value.year < 2004:  # OSM began in 2004
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_head_date(path: Any) -> tuple[str | None, str]:
    """Return the date an OSM XML file states in its head (``<osm timestamp>``, ``osm_base``)."""
    import bz2
    import re

    opener = bz2.open if str(path).lower().endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(8192).decode("utf-8", "replace")
    except OSError:
        return None, ""
    for pattern, why in (
        (r"<meta\b[^>]*\bosm_base=\"([^\"]+)\"", "osm_base of the Overpass answer"),
        (r"<osm\b[^>]*\btimestamp=\"([^\"]+)\"", "timestamp of the <osm> element"),
    ):
        m = re.search(pattern, head)
        if m and _iso(m.group(1)):
            return _iso(m.group(1)), why
    return None, ""


def osm_data_date(
    path: Any, *, scan_max_bytes: int = DATE_SCAN_MAX_BYTES
) -> tuple[str | None, str]:
    """Return the date of an OSM extract's data and where it comes from.

    In order: the file header's ``osmosis_replication_timestamp`` (Geofabrik, planet
    extracts and ``osmium extract`` keep it) or ``timestamp``; for XML, an Overpass
    answer's ``<meta osm_base>`` or the ``<osm timestamp>`` attribute; otherwise, for a
    file up to ``scan_max_bytes``, the newest timestamp of its ways and relations (the
    nodes, ten times as many, are not read: the date is a lower bound). A date before
    2004 (OSM's start; files written without timestamps) counts as none.

    Returns
    -------
    tuple
        ``(date, source)``: ``date`` as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) or None when the
        file says nothing, ``source`` a short phrase ("" when None).
    """
    import os

    name = str(path)
    found, why = _declared_date(path)
    if found:
        return found, why
    try:
        if os.path.getsize(name) > scan_max_bytes:
            return None, ""
        import osmium
        from osmium.osm import RELATION, WAY

        stamp = _file_stamp(name)
        if stamp is not None and stamp in _NEWEST_MEMO:  # a reader's pass saw them all
            newest = _NEWEST_MEMO[stamp]
        else:
            newest = None
            for obj in cast("Iterable[Any]", osmium.FileProcessor(name, WAY | RELATION)):
                ts = obj.timestamp
                if newest is None or ts > newest:
                    newest = ts
    except (RuntimeError, OSError, ValueError) as exc:
        log.info("no object date from %s (%s)", name, exc)
        return None, ""
    found = _iso(newest)
    return (found, "newest way or relation in the file") if found else (None, "")


def object_date_needed(path: Any, *, scan_max_bytes: int = DATE_SCAN_MAX_BYTES) -> bool:
    """Return whether :func:`osm_data_date` dates ``path`` by its ways and relations.

    True when the file declares no date (header, Overpass ``osm_base``) and is at most
    ``scan_max_bytes`` long: a reader passing over every way and relation then records
    their newest timestamp (:func:`remember_newest`); otherwise it need not collect them.
    """
    import os

    if _declared_date(path)[0]:
        return False
    try:
        return os.path.getsize(str(path)) <= scan_max_bytes
    except OSError:
        return False


def _declared_date(path: Any) -> tuple[str | None, str]:
    """Return the date ``path`` declares (header, XML head) and where, or ``(None, "")``."""
    import osmium

    name = str(path)
    try:
        reader = osmium.io.Reader(name, osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            for key, why in (
                ("osmosis_replication_timestamp", "replication timestamp in the file header"),
                ("timestamp", "timestamp in the file header"),
            ):
                found = _iso(header.get(key, ""))
                if found:
                    return found, why
        finally:
            reader.close()
    except (RuntimeError, OSError) as exc:  # unreadable: the reader says so later
        log.info("no header date from %s (%s)", name, exc)
    if not name.lower().endswith(".pbf"):
        found, why = _xml_head_date(path)
        if found:
            return found, why
    return None, ""


def osm_declared_bounds(path: Any) -> tuple[float, float, float, float] | None:
    """Return the box an OSM file declares it covers, ``(minx, miny, maxx, maxy)``, or None.

    The XML ``<bounds>`` element or the PBF header's bounding box (osmium reads both into
    the file header). An openstreetmap.org export or an ``osmium extract`` declares the box
    that was asked for, while the ways it holds run on past it (whole ways are exported),
    so the data's own extent can be several times the declared box. None when the file
    declares no (valid, non-empty) box or cannot be read.
    """
    import osmium

    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box_ = reader.header().box()
        finally:
            reader.close()
    except (RuntimeError, OSError) as exc:  # unreadable: the reader says so later
        log.info("no declared bounds in %s (%s)", path, exc)
        return None
    if not box_.valid():
        return None
    ll, ur = box_.bottom_left, box_.top_right
    out = (float(ll.lon), float(ll.lat), float(ur.lon), float(ur.lat))
    if not all(np.isfinite(out)) or out[2] <= out[0] or out[3] <= out[1]:
        return None
    return out


# --------------------------------------------------------------------------- clipped ways


#: The feature ways a reader checked for clipping while reading a file, and those it found
#: clipped (:func:`remember_clipped`); keyed by the file's path, size and modification time.
_CLIPPED_MEMO: dict[tuple[str, int, int], tuple[frozenset[int], dict[int, tuple[int, int]]]] = {}


def _file_stamp(path: Any) -> tuple[str, int, int] | None:
    import os

    try:
        st = os.stat(path)
        return (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        return None


def remember_clipped(path: Any, checked: Iterable[int], cut: Mapping[int, tuple[int, int]]) -> None:
    """Record what a reader learnt of ``path``'s ways while reading it.

    ``checked`` are the ways whose nodes it saw and ``cut`` those with a node missing,
    as :func:`clipped_ways` gives them; :func:`clipped_ways` then answers for those ways
    without reading the file again. Only the last file read is kept.
    """
    stamp = _file_stamp(path)
    _CLIPPED_MEMO.clear()
    if stamp is not None:
        _CLIPPED_MEMO[stamp] = (frozenset(int(w) for w in checked), dict(cut))


#: The newest timestamp of the ways and relations of the last file a pass read them all
#: of (:func:`remember_newest`), keyed like ``_CLIPPED_MEMO``.
_NEWEST_MEMO: dict[tuple[str, int, int], Any] = {}


def remember_newest(path: Any, newest: Any) -> None:
    """Record the newest timestamp of all of ``path``'s ways and relations (None: none).

    A reader that went through every way and relation of the file records it, and
    :func:`osm_data_date` then does not read the file again for it. Only the last file
    is kept.
    """
    stamp = _file_stamp(path)
    _NEWEST_MEMO.clear()
    if stamp is not None:
        _NEWEST_MEMO[stamp] = newest


def clipped_memo(
    path: Any,
) -> tuple[frozenset[int], dict[int, tuple[int, int]]] | None:
    """Return what :func:`remember_clipped` recorded for ``path`` (None: nothing)."""
    stamp = _file_stamp(path)
    return _CLIPPED_MEMO.get(stamp) if stamp is not None else None


def clipped_of(refs: np.ndarray, present: np.ndarray) -> tuple[int, int] | None:
    """Return ``(distinct nodes in the file, distinct nodes)`` of a way, None when whole.

    ``refs`` are the way's node ids and ``present`` whether each is in the file; a closed
    way repeats its first node, so nodes are counted once.
    """
    missing = {int(r) for r, ok in zip(refs, present, strict=True) if not ok}
    if not missing:
        return None
    distinct = list(dict.fromkeys(int(r) for r in refs))
    have = sum(r not in missing for r in distinct)
    return (have, len(distinct)) if have < len(distinct) else None


def clipped_ways(
    path: Any, way_ids: Iterable[int], keys: Iterable[str] | None = None
) -> dict[int, tuple[int, int]]:
    """Return the ways among ``way_ids`` that lost nodes at the extract's edge.

    One pass in which no Python runs per object: libosmium stores the node locations and
    writes the ways (those carrying one of ``keys`` when given: the tag keys that selected
    them) with their node locations as OPL text; a node missing from the file has none.
    Returns ``{way id: (nodes in the file, nodes of the way)}`` for every way with a node
    missing; the readers keep such a way from its present nodes (as pyrosm does: a
    smaller area, or a point), and this says which they are. (``osmium.filter.IdFilter``
    is not used: its dense id set takes gigabytes when the ids are spread widely.)
    """
    import tempfile
    from pathlib import Path

    import osmium
    from osmium.filter import KeyFilter
    from osmium.osm import NODE, WAY

    wanted = {int(w) for w in way_ids}
    if not wanted:
        return {}
    stamp = _file_stamp(path)
    seen = _CLIPPED_MEMO.get(stamp) if stamp is not None else None
    if seen is not None and wanted <= seen[0]:  # the reader saw these ways' nodes
        return {w: cut for w, cut in seen[1].items() if w in wanted}  # in file order
    keys = sorted(set(keys or ()))
    out: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="geoapp-clipped-") as tmp:
        opl = Path(tmp) / "ways.opl"
        locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
        locations.ignore_errors()
        handlers: list[Any] = [locations]
        if keys:
            handlers.append(KeyFilter(*keys).enable_for(WAY))  # type: ignore[func-returns-value]
        writer = osmium.SimpleWriter(
            osmium.io.File(str(opl), "opl,locations_on_ways=true,add_metadata=false")
        )
        try:
            reader = osmium.io.Reader(str(path), NODE | WAY)
            try:
                osmium.apply(reader, *handlers, writer)
            finally:
                reader.close()
        finally:
            writer.close()
        text = opl.read_bytes()
    for line in text.split(b"\n"):
        if line[:1] != b"w" or b"xy" not in line:  # no node without a location
            continue
        fields = line.split(b" ")
        wid = int(fields[0][1:])
        if wid not in wanted:
            continue
        items = fields[-1][1:].split(b",")  # n<ref>x<lon>y<lat>, or n<ref>xy when missing
        refs = np.array([int(it[1 : it.index(b"x")]) for it in items], dtype=np.int64)
        cut = clipped_of(refs, np.array([not it.endswith(b"xy") for it in items]))
        if cut is not None:
            out[wid] = cut
    return out


def mark_clipped(path: Any, features: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str | None]:
    """Return ``features`` with a ``clipped`` column (bool) and a sentence, or None.

    ``clipped`` is True for a feature mapped as a way that lost nodes at the extract's
    edge (:func:`clipped_ways`): it is kept from its present nodes (a smaller area, or a
    point where fewer than three remain), not dropped, and the sentence says how many.
    """
    out = features.copy()
    out.insert(len(out.columns) - (out.geometry.name in out.columns), "clipped", False)
    if not len(out) or "osm_id" not in out.columns:
        return out, None
    ids = out["osm_id"].astype(str)
    is_way = ids.str.startswith("way/").to_numpy()
    if not is_way.any():
        return out, None
    way_id = ids[is_way].str.slice(4).astype("int64").to_numpy()
    # the ways are features: each carries a key of one of the tag columns
    not_keys = {"osm_id", "name", "clipped", out.geometry.name}
    keys = [str(c) for c in out.columns if c not in not_keys]
    try:
        cut = clipped_ways(path, way_id, keys)
    except (RuntimeError, OSError) as exc:  # the reader has read it: log only
        log.info("cannot check %s for clipped ways (%s)", path, exc)
        return out, None
    if not cut:
        return out, None
    flag = np.zeros(len(out), dtype=bool)
    flag[np.flatnonzero(is_way)] = [w in cut for w in way_id]
    out["clipped"] = flag
    first = next(iter(cut))
    have, total = cut[first]
    text = (
        f"{len(cut):,} features mapped as ways are cut by the extract's edge (e.g. way/{first}: "
        f"{have} of its {total} nodes in the file); each is kept from its nodes in the file "
        "(a smaller area, or a point where fewer than three remain), not dropped. Extend the "
        "extract for their full outline."
    )
    log.warning("%s", text)
    return out, text
