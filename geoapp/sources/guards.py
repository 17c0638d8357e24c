"""Coordinate guards for facility tables: points off the region or off the streets, wrong datum.

A facility list from an official source or a map service can hold rows that geocoded
to a wrong place (Paris, ``(0, 0)``), rows far from any walkable street, or a whole
table in another datum than declared (GCJ-02 or BD-09 coordinates declared ``wgs84``
sit ~300-600 m off inside China). Such rows would silently count as facilities with
no district, or as facilities hundreds of metres away from where they are.

* :func:`guard_facilities` EXCLUDES rows outside the region's extent or farther than
  ``max_street_m`` from every street edge, naming each by its id (``table/<line>``).
* :func:`datum_warning` compares the median distance to the nearest street of the
  points as declared with the same points read in the other datums, and warns when
  another datum fits the streets clearly better.

Both return plain-sentence warnings for ``region.meta["warnings"]``; neither changes
its inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoapp.crs import COORD_SYSTEMS, convert_to_wgs84, local_crs, wgs84_to_bd09, wgs84_to_gcj02
from geoapp.region import WGS84

log = logging.getLogger(__name__)

#: Default distance (m) beyond which a facility is taken to be off the street network.
DEFAULT_MAX_STREET_M = 500.0
#: Fewest points for the datum check to judge a table.
DATUM_MIN_POINTS = 5
#: Another datum must bring the median distance to the map below this share ...
DATUM_RATIO = 0.5
#: ... at least this many metres closer ...
DATUM_MIN_GAIN_M = 2.0
#: ... and put significantly more points closer than farther (one-sided sign test).
DATUM_P_VALUE = 0.05

_LISTED = 10


@dataclass(frozen=True)
class GuardResult:
    """Facilities kept and excluded by :func:`guard_facilities`.

    Attributes
    ----------
    kept
        The rows that passed (a new frame, same columns as the input).
    excluded
        One row per excluded facility: ``osm_id``, ``name``, ``reason``
        (``"outside_region"`` | ``"far_from_street"``), ``street_m`` (distance to the
        nearest street edge in metres, NaN when not measured).
    warnings
        Plain sentences naming the file and each excluded row.
    """

    kept: gpd.GeoDataFrame
    excluded: pd.DataFrame
    warnings: tuple[str, ...] = ()


def _street_distance(points: np.ndarray, edges: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Distance (m, in ``crs``) from each WGS84 point to its nearest edge; inf without edges."""
    if len(edges) == 0 or len(points) == 0:
        return np.full(len(points), np.inf)
    lines = np.asarray(edges.geometry.to_crs(crs).to_numpy(), dtype=object)
    pts = np.asarray(gpd.GeoSeries(points, crs=WGS84).to_crs(crs).to_numpy(), dtype=object)
    tree = shapely.STRtree(lines)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


def _area(extent: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None) -> Any:
    """Return the extent as one shapely geometry in EPSG:4326, or None."""
    if extent is None:
        return None
    if isinstance(extent, gpd.GeoDataFrame | gpd.GeoSeries):
        area = extent.to_crs(WGS84).geometry.union_all() if len(extent) else None
    else:
        area = extent
    return None if area is None or area.is_empty else area


def region_area(boundaries: gpd.GeoDataFrame, *frames: gpd.GeoDataFrame) -> Any:
    """Return the area a region's facilities may lie in: its districts plus its data's box.

    Demand outside every district is kept (counted under "(outside districts)"), so a
    facility there is inside the study area too; the box of the data frames (streets,
    buildings) covers it.

    Parameters
    ----------
    boundaries
        The region's districts (EPSG:4326).
    *frames
        The region's data frames (edges, buildings ...; EPSG:4326).

    Returns
    -------
    shapely geometry or None
    """
    parts = []
    if boundaries is not None and len(boundaries):
        parts.append(boundaries.to_crs(WGS84).geometry.union_all())
    bounds = [f.to_crs(WGS84).total_bounds for f in frames if f is not None and len(f)]
    bounds = [b for b in bounds if np.all(np.isfinite(b))]
    if bounds:
        b = np.vstack(bounds)
        parts.append(shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))
    return shapely.union_all(parts) if parts else None


def _swapped_inside(points: np.ndarray, area: Any) -> int:
    """How many points lie inside ``area`` once their x and y are exchanged."""
    present = points[~shapely.is_missing(points)]
    if not len(present):
        return 0
    flipped = shapely.points(shapely.get_y(present), shapely.get_x(present))
    return int(shapely.covers(area, flipped).sum())


def _label(osm_id: object, name: object) -> str:
    return f"{osm_id} ({name})" if isinstance(name, str) and name else str(osm_id)


def guard_facilities(
    facilities: gpd.GeoDataFrame,
    extent: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None,
    edges: gpd.GeoDataFrame,
    *,
    max_street_m: float = DEFAULT_MAX_STREET_M,
    source: str = "facility table",
) -> GuardResult:
    """Exclude facilities outside the region or farther than ``max_street_m`` from a street.

    Parameters
    ----------
    facilities
        Features (EPSG:4326) with ``osm_id`` (``table/<line>`` for a table) and ``name``.
    extent
        The region's area (``Region.extent()``, a frame, series or geometry in
        EPSG:4326); None skips the extent test.
    edges
        The region's street edges (EPSG:4326); with none, the street test is skipped.
    max_street_m
        Largest distance (m) from a facility to the nearest street edge; must be > 0.
    source
        The file name, for the warnings.

    Returns
    -------
    GuardResult
        Kept rows, excluded rows and warnings (also logged at warning level).
    """
    if not (np.isfinite(max_street_m) and max_street_m > 0):
        raise ValueError(f"max_street_m must be a positive number of metres, not {max_street_m}")
    n = len(facilities)
    geoms = np.asarray(facilities.geometry.to_numpy(), dtype=object)
    pts = shapely.point_on_surface(geoms) if n else geoms
    outside = np.zeros(n, dtype=bool)
    area = _area(extent)
    if area is not None and n:
        outside = ~shapely.covers(area, pts) | shapely.is_missing(pts)
    street = np.full(n, np.nan)
    far = np.zeros(n, dtype=bool)
    inside = ~outside
    if len(edges) and inside.any():
        crs = local_crs(edges)
        street[inside] = _street_distance(pts[inside], edges, crs)
        far = inside & (street > max_street_m)
    ids = facilities["osm_id"].to_numpy(dtype=object) if "osm_id" in facilities else np.arange(n)
    names = facilities["name"].to_numpy(dtype=object) if "name" in facilities else [None] * n
    reason = np.where(outside, "outside_region", np.where(far, "far_from_street", ""))
    drop = outside | far
    excluded = pd.DataFrame(
        {
            "osm_id": pd.Series(ids[drop], dtype=object),
            "name": pd.Series(np.asarray(names, dtype=object)[drop], dtype=object),
            "reason": pd.Series(reason[drop], dtype=object),
            "street_m": street[drop],
        }
    )
    warnings: list[str] = []
    if outside.any():
        idx = np.flatnonzero(outside)
        where = [
            f"{_label(ids[i], names[i])} at {shapely.get_x(pts[i]):.5f}, "
            f"{shapely.get_y(pts[i]):.5f}"
            if not shapely.is_missing(pts[i])
            else _label(ids[i], names[i])
            for i in idx[:_LISTED]
        ]
        more = f" and {len(idx) - _LISTED} more" if len(idx) > _LISTED else ""
        n_swapped = _swapped_inside(pts[idx], area)
        why = (
            f"columns swapped? {n_swapped} of them fall inside the region with longitude "
            "and latitude exchanged: swap the two column names in the file"
            if n_swapped
            else "longitude/latitude swapped, a wrong geocode, or a table for another area"
        )
        warnings.append(
            f"{source}: {len(idx)} facilities lie outside the region and were excluded: "
            f"{'; '.join(where)}{more}. Check their coordinates ({why})."
        )
    if far.any():
        idx = np.flatnonzero(far)
        where = [f"{_label(ids[i], names[i])} ({street[i]:.0f} m)" for i in idx[:_LISTED]]
        more = f" and {len(idx) - _LISTED} more" if len(idx) > _LISTED else ""
        warnings.append(
            f"{source}: {len(idx)} facilities lie farther than {max_street_m:g} m from any "
            f"walkable street and were excluded: {'; '.join(where)}{more}. Check their "
            "coordinates, or the extract's street coverage there."
        )
    for w in warnings:
        log.warning("%s", w)
    kept = facilities.loc[~drop].reset_index(drop=True)
    return GuardResult(kept=kept, excluded=excluded, warnings=tuple(warnings))


def _raw_coords(lon: np.ndarray, lat: np.ndarray, declared: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the coordinates as written in the table, from their WGS84 conversion."""
    if declared == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if declared == "bd09":
        return wgs84_to_bd09(lon, lat)
    return lon, lat


def _structure_distance(points: np.ndarray, trees: list[shapely.STRtree], crs: CRS) -> np.ndarray:
    """Distance (m) from WGS84 points to the nearest geometry of any tree (in ``crs``)."""
    pts = np.asarray(gpd.GeoSeries(points, crs=WGS84).to_crs(crs).to_numpy(), dtype=object)
    out = np.full(len(pts), np.inf)
    for tree in trees:
        _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        out = np.minimum(out, np.asarray(dist, dtype=float))
    return out


@dataclass(frozen=True)
class DatumCheck:
    """Outcome of :func:`check_datum`.

    Attributes
    ----------
    declared
        The declared coordinate system.
    median_m
        Median distance (m) from the points to the nearest mapped structure (street
        edge or building footprint), the points read in each datum
        (``{"wgs84": ..., "gcj02": ..., "bd09": ...}``); empty when not judged.
    best
        The suggested datum (``declared`` when no other fits clearly better).
    warning
        A plain sentence suggesting ``coords = <best>``, or None.
    """

    declared: str
    median_m: dict[str, float]
    best: str
    warning: str | None = None


def check_datum(
    facilities: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    declared: str,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    extent: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    source: str = "facility table",
    min_points: int = DATUM_MIN_POINTS,
    ratio: float = DATUM_RATIO,
    min_gain_m: float = DATUM_MIN_GAIN_M,
    p_value: float = DATUM_P_VALUE,
) -> DatumCheck:
    """Check whether a facility table's points fit the map better in another datum.

    The table's coordinates as written are recovered from ``facilities`` (already
    converted to WGS84 from ``declared``) and read in each of wgs84, gcj02 and bd09.
    For each reading, every point's distance (local metric CRS) to the nearest mapped
    structure, a street edge or a building footprint, is measured: real facilities
    sit in or beside buildings and along streets, and a datum error moves them all the
    same ~300-600 m away into blocks. Another datum is suggested only when it wins
    clearly on all three counts:

    * its median distance is below ``ratio`` times the declared reading's median,
    * and at least ``min_gain_m`` metres smaller,
    * and it puts more points closer than farther (ties left out) with a one-sided
      sign test p-value below ``p_value`` (with 5 points, all 5 must be closer).

    Outside China the three readings coincide and nothing is suggested.

    Parameters
    ----------
    facilities
        The table's rows (EPSG:4326 points: the ``frame`` of :func:`read_facility_table`).
    edges
        The region's street edges (EPSG:4326).
    declared
        The coordinate system the table was read with (``wgs84`` | ``gcj02`` | ``bd09``).
    buildings
        The region's building footprints (EPSG:4326), if any.
    extent
        The region's area: points outside it (wrong geocodes, see
        :func:`guard_facilities`) are left out of the check.
    source
        The file name, for the warning.
    min_points
        Fewest points to judge (fewer: no verdict).
    ratio, min_gain_m, p_value
        The margin another datum must win by (see above).

    Returns
    -------
    DatumCheck
    """
    from scipy.stats import binomtest

    pts = np.asarray(facilities.geometry.to_numpy(), dtype=object)
    pts = pts[~shapely.is_missing(pts)]
    if len(pts):
        pts = shapely.point_on_surface(pts)
    area = _area(extent)
    if area is not None and len(pts):
        pts = pts[shapely.covers(area, pts)]
    if len(pts) < min_points or len(edges) == 0:
        return DatumCheck(declared=declared, median_m={}, best=declared)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    raw_lon, raw_lat = _raw_coords(lon, lat, declared)
    crs = local_crs(edges)
    trees = [shapely.STRtree(np.asarray(edges.geometry.to_crs(crs).to_numpy(), dtype=object))]
    if buildings is not None and len(buildings):
        geoms = np.asarray(buildings.geometry.to_crs(crs).to_numpy(), dtype=object)
        trees.append(shapely.STRtree(geoms))
    dist: dict[str, np.ndarray] = {}
    for system in COORD_SYSTEMS:
        x, y = convert_to_wgs84(raw_lon, raw_lat, system)
        dist[system] = _structure_distance(shapely.points(x, y), trees, crs)
    medians = {k: float(np.median(v)) for k, v in dist.items()}
    given = medians[declared]
    verdict: str | None = None
    for system in sorted(COORD_SYSTEMS, key=cast("Callable[[str], float]", medians.get)):
        if system == declared:
            break
        diff = dist[declared] - dist[system]
        closer, farther = int((diff > 0.1).sum()), int((diff < -0.1).sum())
        clear = (
            medians[system] < ratio * given
            and given - medians[system] >= min_gain_m
            and closer + farther > 0
            and binomtest(closer, closer + farther, 0.5, alternative="greater").pvalue < p_value
        )
        if clear:
            verdict = system
            break
    if verdict is None:
        return DatumCheck(declared=declared, median_m=medians, best=declared)
    warning = (
        f"{source}: declared coords = {declared}, but its {len(pts)} points fit the map "
        f"much better read as {verdict} (median {medians[verdict]:.0f} m from the nearest "
        f"street or building, against {given:.0f} m as {declared}). The table is probably "
        f"in {verdict}: load it again with coords = {verdict}."
    )
    log.warning("%s", warning)
    return DatumCheck(declared=declared, median_m=medians, best=verdict, warning=warning)
