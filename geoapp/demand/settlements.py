"""Settlements: place nodes and the settlement and zone type of every demand point.

**Places** (:func:`settlement_places`). Place nodes (city, town, village, hamlet)
carrying a usable ``population`` tag (:func:`place_population`) are the settlements the
estimate is checked against and, where their own area is complete, scaled to. Places
named the same (case-insensitive) whose centres lie within the larger of their radii
are one settlement: the highest-ranked (:data:`PLACE_RANK`) keeps its tag, so two nodes
for one city never split its demand. Each settlement's own area is, in this order:

1. the admin area (:data:`~geoapp.region.ADMIN_AREA_COLUMNS`) that lists the place node as its
   ``label`` member;
2. a complete admin area of the same name whose ``admin_level`` fits the place's kind
   (:data:`PLACE_ADMIN_LEVELS`) and that lists the node as its ``admin_centre`` or
   contains it, or a district boundary tagging ``population`` of the same name containing
   it (the finest: highest ``admin_level``, then smallest);
3. the place itself when it is mapped as an area.

Being the ``admin_centre`` alone does not make an area the place's own: a capital is the
admin centre of its country (Vaduz of Liechtenstein, relation 1155955), a county town of
its county, and scaling the country to the capital's tag would be wrong.

Without an area, a place's kind gives the radius its demand is counted within
(:data:`PLACE_RADIUS_M`, :func:`within_radius`).

:func:`assign_zones` classifies every point by the settlement it lies in
(:func:`geoapp.zones.classify_settlements`, over all points of the extract): column
``settlement``. With ``zones="density"`` the point's ``zone_type`` is its settlement;
otherwise ``zone_type`` stays its district's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, polygonal_mask, tag_values
from geoapp.region import ADMIN_AREA_COLUMNS
from geoapp.zones import classify_settlements

#: Radius (m) around a place node whose demand is compared with its ``population``.
PLACE_RADIUS_M = {"city": 5_000.0, "town": 2_500.0, "village": 1_000.0, "hamlet": 300.0}

#: Rank of the place kinds: of places named the same, the highest keeps its tag.
PLACE_RANK = {"city": 4, "town": 3, "village": 2, "hamlet": 1}

#: ``admin_level`` range (inclusive) of an admin area that can be a place's own area when
#: named like it. OSM wiki, "Tag:boundary=administrative", the admin_level table by country:
#: city states and province-level cities are 4 (Berlin, Hamburg, Vienna, Beijing, Tokyo),
#: cities and towns mostly 6-8 (German kreisfreie Städte 6, municipalities 7-8), villages
#: 8 (a German or Austrian Gemeinde, a French commune, a Liechtenstein Gemeinde) to 10
#: (Ortsteil, parish), hamlets 9-11; 2 (a country) and 3 never fit (San Marino, Luxembourg
#: and Djibouti share their capital's name).
PLACE_ADMIN_LEVELS = {"city": (4, 10), "town": (6, 10), "village": (7, 11), "hamlet": (8, 11)}


def place_population(value: object) -> float:
    """Parse a ``population`` tag (``"12 345"``, ``"ca. 5000"``); NaN when unusable."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return np.nan
    s = re.sub(r"[\s,'\u00a0]", "", str(value))
    s = re.sub(r"^~|^ca\.?|^approx\.?", "", s, flags=re.IGNORECASE)
    try:
        v = float(s)
    except ValueError:
        return np.nan
    return v if v > 0 and np.isfinite(v) else np.nan


def within_radius(
    points: np.ndarray, centres: np.ndarray, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(point, centre, distance)`` of the pairs closer than the centre's radius.

    Points and centres are projected geometries (anything not a point counts at its
    representative point); distances in the CRS unit.
    """

    def xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        geoms = np.asarray(geoms, dtype=object)
        other = ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) != 0)
        if other.any():
            geoms = geoms.copy()
            geoms[other] = shapely.point_on_surface(geoms[other])
        out = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
        ok = np.flatnonzero(np.isfinite(out).all(axis=1))  # empty or missing: no pair
        return out[ok], ok

    (p, p_ok), (c, c_ok) = xy(points), xy(centres)
    if not len(p) or not len(c):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = shapely.STRtree(shapely.points(c))
    pi, ci = tree.query(shapely.points(p), predicate="dwithin", distance=float(radius.max()))
    dist = np.hypot(*(p[pi] - c[ci]).T)
    pi, ci = p_ok[pi], c_ok[ci]
    keep = dist <= radius[ci]
    return pi[keep], ci[keep], dist[keep]


@dataclass(frozen=True)
class Zones:
    """The settlement and zone type of every demand point.

    Attributes
    ----------
    settlement
        ``core``, ``new_town`` or ``rural`` per point.
    zone_type, zone_fine
        Per point: the settlement and its Degree of Urbanisation class (``density``), else
        the district's zone type and fine zone.
    method
        ``"density"``, the mapping name given or ``"district attributes"``.
    params
        Settlement thresholds and how the core was chosen.
    warnings
        Sentences for ``Demand.warnings``.
    """

    settlement: np.ndarray
    zone_type: np.ndarray
    zone_fine: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def assign_zones(
    pop: np.ndarray,
    geometry: np.ndarray,
    district_zone_type: np.ndarray,
    district_zone_fine: np.ndarray,
    *,
    zones: str | None = None,
    zone_params: Mapping[str, Any] | None = None,
) -> Zones:
    """Classify the points by settlement (over the whole extract) and choose their zone type.

    Parameters
    ----------
    pop
        Residents per point (after scaling).
    geometry
        EPSG:4326 point geometries.
    district_zone_type, district_zone_fine
        Each point's district zone type and fine zone.
    zones
        ``"density"``: ``zone_type`` = the point's settlement; anything else (a mapping
        name, None): ``zone_type`` stays the district's.
    zone_params
        Settlement thresholds (:data:`geoapp.zones.SETTLEMENT_DEFAULTS`).
    """
    probe = gpd.GeoDataFrame({"pop": pop}, geometry=geometry, crs=WGS84)
    sett = classify_settlements(probe, **dict(zone_params or {}))
    density_zones = str(zones) == "density"
    return Zones(
        settlement=sett.settlement,
        zone_type=sett.settlement if density_zones else district_zone_type,
        zone_fine=sett.dou_class if density_zones else district_zone_fine,
        method="density" if density_zones else (str(zones) if zones else "district attributes"),
        params=dict(sett.params),
        warnings=tuple(sett.warnings),
    )


def _name_key(value: object) -> str:
    return str(value).strip().casefold() if isinstance(value, str) and value.strip() else ""


def _level(value: object) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        return np.nan


def _node_ids(value: object) -> set[str]:
    """Return the ``"node/<id>"`` set of a comma-separated member column (None: empty)."""
    if not isinstance(value, str):
        return set()
    return {c.strip() for c in value.split(",")} - {""}


@dataclass(frozen=True)
class Places:
    """Settlements carrying a ``population`` tag, one row per settlement.

    Attributes
    ----------
    table
        ``osm_id``, ``name``, ``place``, ``population_tag``, ``radius_m``, ``area_id``
        (the admin area's ``osm_id``, the district's name or the place's own id; ``""``
        without an area), ``area_kind`` (``"admin"``, ``"district"``, ``"place"`` or
        ``""``), ``area_population`` (the area's own tag, NaN when none), ``area_level``
        (its ``admin_level``, NaN when unknown), ``merged`` (how many place rows make
        the settlement).
    centre
        EPSG:4326 point of each settlement's place.
    area
        EPSG:4326 geometry of each settlement's own area (None: counted within its
        radius).
    """

    table: pd.DataFrame
    centre: np.ndarray
    area: np.ndarray

    def __len__(self) -> int:
        return len(self.table)


def settlement_places(
    features: gpd.GeoDataFrame | None,
    admin_areas: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> Places:
    """Return the settlements of the place rows of ``features`` (see the module docstring).

    Parameters
    ----------
    features
        Feature table (``place``, ``population``, ``name``, ``osm_id``, geometry).
    admin_areas
        Complete admin areas (:data:`~geoapp.region.ADMIN_AREA_COLUMNS`); None: none.
    boundaries
        District boundaries (``district``, optional ``population``), matched by name
        like admin areas.
    """
    cols = ["osm_id", "name", "place", "population_tag", "radius_m", "area_id", "area_kind",
            "area_population", "area_level", "merged"]  # fmt: skip
    empty = Places(pd.DataFrame(columns=cols), np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    if (
        features is None
        or not len(features)
        or "place" not in features.columns
        or "population" not in features.columns
    ):
        return empty
    kind = tag_values(features, "place")
    tag = features["population"].map(place_population).to_numpy(dtype=float)
    keep = kind.isin(PLACE_RADIUS_M).to_numpy() & np.isfinite(tag)
    keep &= (features.geometry.notna() & ~features.geometry.is_empty).to_numpy()
    f = features.loc[keep]
    if not len(f):
        return empty
    f = f.to_crs(WGS84)
    n = len(f)
    tag = tag[keep]
    kind_v = kind.loc[f.index].to_numpy(dtype=object)
    ids = f["osm_id"].astype(str).to_numpy() if "osm_id" in f.columns else np.full(n, "")
    names = (
        f["name"].astype(object).where(f["name"].notna(), None).to_numpy()
        if "name" in f.columns
        else np.full(n, None, dtype=object)
    )
    geoms = np.asarray(f.geometry.to_numpy(), dtype=object)
    own_area = polygonal_mask(f)
    centre = geoms.copy()
    centre[own_area | (shapely.get_type_id(geoms) != 0)] = shapely.point_on_surface(
        geoms[own_area | (shapely.get_type_id(geoms) != 0)]
    )
    radius = np.array([PLACE_RADIUS_M[k] for k in kind_v], dtype=float)
    crs = local_crs(gpd.GeoSeries(centre, crs=WGS84))
    xy = shapely.get_coordinates(gpd.GeoSeries(centre, crs=WGS84).to_crs(crs).to_numpy())

    # places named the same within the larger radius of each other are one settlement
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys = np.array([_name_key(x) for x in names], dtype=object)
    for key in set(keys) - {""}:
        idx = [int(i) for i in np.flatnonzero(keys == key)]
        for a_pos, a in enumerate(idx):
            for b in idx[a_pos + 1 :]:
                if np.hypot(*(xy[a] - xy[b])) <= max(radius[a], radius[b]):
                    parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    rank = np.array([PLACE_RANK[k] for k in kind_v])
    chosen = []
    for members in groups.values():
        best = max(members, key=lambda i: (rank[i], own_area[i], tag[i], -i))
        chosen.append((best, members))
    chosen.sort(key=lambda c: c[0])

    # each settlement's own area
    area = np.full(len(chosen), None, dtype=object)
    area_id = np.full(len(chosen), "", dtype=object)
    area_kind = np.full(len(chosen), "", dtype=object)
    area_pop = np.full(len(chosen), np.nan)
    area_level = np.full(len(chosen), np.nan)
    # (kind, id, name key, admin_level, population, geometry, label ids, admin_centre ids)
    cand: list[tuple[str, str, str, float, float, Any, set[str], set[str]]] = []
    if admin_areas is not None and len(admin_areas):
        aa = admin_areas.to_crs(WGS84)
        for row, g in zip(aa.itertuples(index=False), aa.geometry.to_numpy(), strict=True):
            if g is None or g.is_empty:
                continue
            cand.append(
                (
                    "admin",
                    str(getattr(row, "osm_id", "")),
                    _name_key(getattr(row, "name", None)),
                    _level(getattr(row, "admin_level", "")),
                    float(getattr(row, "population", np.nan)),
                    g,
                    _node_ids(getattr(row, "label", "")),
                    _node_ids(getattr(row, "centre", "")),
                )
            )
    if boundaries is not None and len(boundaries) and "district" in boundaries.columns:
        bb = boundaries.to_crs(WGS84)
        pops = (
            pd.to_numeric(bb["population"], errors="coerce").to_numpy(dtype=float)
            if "population" in bb.columns
            else np.full(len(bb), np.nan)
        )
        for name, g, p in zip(bb["district"], bb.geometry.to_numpy(), pops, strict=True):
            # only districts tagging population (never the unnamed whole-extract one)
            if g is not None and not g.is_empty and _name_key(name) and np.isfinite(p):
                cand.append(("district", str(name), _name_key(name), np.nan, p, g, set(), set()))
    for j, (best, members) in enumerate(chosen):
        member_ids = {ids[i] for i in members}
        pt = centre[best]
        hits = [c for c in cand if c[6] & member_ids]  # the place is the area's label
        if not hits:
            lo, hi = PLACE_ADMIN_LEVELS[kind_v[best]]
            hits = [
                c
                for c in cand
                if c[2]
                and c[2] == keys[best]
                and (c[0] == "district" or lo <= c[3] <= hi)
                and (c[7] & member_ids or c[5].covers(pt))
            ]
        if hits:
            c = max(hits, key=lambda c: (c[6] & member_ids != set(), c[7] & member_ids != set(),
                                         np.nan_to_num(c[3], nan=-1), -c[5].area))  # fmt: skip
            area_kind[j], area_id[j], area_level[j], area_pop[j], area[j] = (
                c[0], c[1], c[3], c[4], c[5],
            )  # fmt: skip
            continue
        with_area = [i for i in members if own_area[i]]
        if with_area:
            i = max(with_area, key=lambda i: shapely.area(geoms[i]))
            area_kind[j], area_id[j], area[j] = "place", ids[i], geoms[i]
    pick = np.array([c[0] for c in chosen], dtype=np.int64)
    table = pd.DataFrame(
        {
            "osm_id": ids[pick],
            "name": names[pick],
            "place": kind_v[pick],
            "population_tag": tag[pick],
            "radius_m": radius[pick],
            "area_id": area_id,
            "area_kind": area_kind,
            "area_population": area_pop,
            "area_level": area_level,
            "merged": [len(m) for _, m in chosen],
        }
    )
    return Places(table, centre[pick], area)


__all__ = [
    "ADMIN_AREA_COLUMNS",
    "PLACE_ADMIN_LEVELS",
    "PLACE_RADIUS_M",
    "PLACE_RANK",
    "Places",
    "Zones",
    "assign_zones",
    "place_population",
    "settlement_places",
    "within_radius",
]
