"""Settlements: place nodes and the settlement and zone type of every demand point.

A place node's kind gives the radius its ``population`` tag is compared within
(:data:`PLACE_RADIUS_M`, :func:`place_population`, :func:`within_radius`).

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
import shapely

from geoapp.demand.frames import WGS84
from geoapp.zones import classify_settlements

#: Radius (m) around a place node whose demand is compared with its ``population``.
PLACE_RADIUS_M = {"city": 5_000.0, "town": 2_500.0, "village": 1_000.0, "hamlet": 300.0}


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


__all__ = ["PLACE_RADIUS_M", "Zones", "assign_zones", "place_population", "within_radius"]
