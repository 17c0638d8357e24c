"""Housing: which buildings house residents, and their floor area.

Residents per building = floor area / floor area per person, where floor area =
footprint area (measured in the local projected CRS) × ``building:levels``
(:data:`DEFAULT_LEVELS` when missing). Which buildings house residents
(:func:`housing_mask`):

* ``building`` values of :data:`RESIDENTIAL_BUILDINGS` (house, apartments ...) always;
* values of :data:`NON_RESIDENTIAL` (sheds, garages, shops, churches ...) never;
* any other value (mostly untagged ``building=yes``) only with residential evidence:
  a footprint of at least :data:`MIN_HOME_FOOTPRINT_M2` (smaller ones are sheds and
  garages) **and** one of: its representative point inside residential landuse; at
  least :data:`MULTI_STOREY_LEVELS` tagged ``building:levels`` (multi-storey untagged
  buildings are mostly flats, often above shops); a footprint within
  :data:`NEAR_HOME_M` of a building that houses residents by these rules; or a
  house-sized footprint (up to :data:`MAX_UNTAGGED_HOME_M2`) with at least
  :data:`CLUSTER_NEIGHBOURS` house-sized or housing buildings within :data:`NEAR_HOME_M`
  (a village or neighbourhood whose homes are not tagged, far from any tagged home or
  residential landuse: its residents must not vanish). Large single-storey untagged
  halls away from homes (supermarkets, depots) do not count. When the extract carries
  no residential evidence at all (no residential building value, no residential
  landuse), untagged buildings of :data:`MIN_HOME_FOOTPRINT_M2`–
  :data:`MAX_UNTAGGED_HOME_M2` count, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, first_containing, polygonal_mask, tag_values
from geoapp.demand.landuse import residential_landuse
from geoapp.errors import InputError

log = logging.getLogger(__name__)

#: Levels assumed for a building without ``building:levels``. Two is a deliberately low
#: choice: most untagged buildings in OSM are low-rise (houses, village buildings,
#: annexes); high-rise housing is usually tagged with its levels, and census scaling
#: corrects the district totals anyway.
DEFAULT_LEVELS = 2

#: Untagged buildings smaller than this footprint (m²) are sheds, garages, kiosks.
MIN_HOME_FOOTPRINT_M2 = 30.0
#: Untagged buildings within this distance (m, footprint to footprint) of a home count.
NEAR_HOME_M = 50.0
#: Untagged buildings with at least this many ``building:levels`` count (mostly flats).
MULTI_STOREY_LEVELS = 3
#: Largest untagged footprint (m²) counted without other evidence (no residential
#: evidence in the extract, or in a cluster of house-sized buildings).
MAX_UNTAGGED_HOME_M2 = 1_000.0
#: An untagged house-sized building with at least this many house-sized or housing
#: buildings within :data:`NEAR_HOME_M` is a home of a village or neighbourhood whose
#: homes are not tagged.
CLUSTER_NEIGHBOURS = 3

#: ``building`` values that always house residents.
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "house",
        "residential",
        "apartments",
        "detached",
        "semidetached_house",
        "terrace",
        "bungalow",
        "dormitory",
        "farm",
        "villa",
        "houseboat",
        "static_caravan",
        "ger",
        "stilt_house",
        "trullo",
    }
)


#: ``building`` tag values that house no residents.
NON_RESIDENTIAL = frozenset(
    {
        "retail",
        "commercial",
        "office",
        "industrial",
        "warehouse",
        "supermarket",
        "kiosk",
        "school",
        "kindergarten",
        "university",
        "college",
        "hospital",
        "clinic",
        "church",
        "chapel",
        "cathedral",
        "mosque",
        "temple",
        "shrine",
        "synagogue",
        "religious",
        "monastery",
        "garage",
        "garages",
        "carport",
        "parking",
        "shed",
        "hut",
        "cabin",
        "roof",
        "public",
        "civic",
        "government",
        "train_station",
        "transportation",
        "station",
        "hangar",
        "factory",
        "manufacture",
        "service",
        "transformer_tower",
        "water_tower",
        "storage_tank",
        "silo",
        "barn",
        "cowshed",
        "stable",
        "sty",
        "greenhouse",
        "farm_auxiliary",
        "stadium",
        "sports_hall",
        "sports_centre",
        "grandstand",
        "pavilion",
        "toilets",
        "bunker",
        "bridge",
        "tower",
        "gatehouse",
        "ruins",
        "construction",
        "digester",
        "fire_station",
        "police",
        "museum",
        "hotel",
        "no",
    }
)


def housing_mask(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decide which buildings house residents (the rules in the module docstring).

    Parameters
    ----------
    buildings
        Footprints with a ``building`` column (EPSG:4326 or any CRS).
    landuse
        Landuse polygons (residential ones are evidence).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).

    Returns
    -------
    tuple
        ``(housing, in_residential, warnings)``: boolean arrays per building (houses
        residents; representative point inside residential landuse) and warnings.
    """
    non_res = frozenset(
        str(v).lower() for v in (NON_RESIDENTIAL if non_residential is None else non_residential)
    )
    n = len(buildings)
    poly = polygonal_mask(buildings) if n else np.zeros(0, dtype=bool)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), []
    tag = tag_values(buildings, "building", "yes").replace("", "yes")
    explicit = tag.isin(RESIDENTIAL_BUILDINGS).to_numpy() & poly
    never = tag.isin(non_res).to_numpy() | ~poly
    crs = local_crs(buildings.loc[poly]) if poly.any() else None
    geoms = buildings.geometry
    loc = geoms.where(poly).to_crs(crs) if crs is not None else geoms
    footprint = np.where(poly, loc.area.to_numpy(), 0.0) if crs is not None else np.zeros(n)
    reps = loc.representative_point() if crs is not None else loc
    untagged = ~explicit & ~never & (footprint >= MIN_HOME_FOOTPRINT_M2)
    res_lu = residential_landuse(landuse)
    in_res = np.zeros(n, dtype=bool)
    if len(res_lu) and crs is not None:
        idx = first_containing(reps.where(poly), res_lu.geometry.to_crs(crs))
        in_res = (idx >= 0) & poly
    warnings: list[str] = []
    if not explicit.any() and not len(res_lu):
        housing = explicit | (untagged & (footprint <= MAX_UNTAGGED_HOME_M2))
        if untagged.any():
            warnings.append(
                f"The extract has no residential evidence (no building=house/apartments/... "
                f"and no landuse=residential): {int(housing.sum()):,} untagged buildings of "
                f"{MIN_HOME_FOOTPRINT_M2:g}–{MAX_UNTAGGED_HOME_M2:,.0f} m² were counted as "
                "housing. Give a census (--census) or a population raster (--population)."
            )
        return housing, in_res, warnings
    levels = (
        pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in buildings.columns
        else np.full(n, np.nan)
    )
    tall = untagged & (np.nan_to_num(levels, nan=0.0) >= MULTI_STOREY_LEVELS)
    anchor = explicit | (untagged & (in_res | tall))
    near = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(untagged & ~anchor)
    if len(cand) and anchor.any():
        a = gpd.GeoSeries(loc.to_numpy()[anchor], crs=crs)
        c = loc.to_numpy()[cand]
        hit = np.unique(a.sindex.query(c, predicate="dwithin", distance=NEAR_HOME_M)[0])
        near[cand[hit]] = True
    # clusters of house-sized untagged buildings (villages mapped without tags)
    cluster = np.zeros(n, dtype=bool)
    house_sized = untagged & ~anchor & ~near & (footprint <= MAX_UNTAGGED_HOME_M2)
    cand = np.flatnonzero(house_sized)
    if len(cand):
        peers = np.flatnonzero(house_sized | anchor | near)
        tree = shapely.STRtree(loc.to_numpy()[peers])
        ci, pj = tree.query(loc.to_numpy()[cand], predicate="dwithin", distance=NEAR_HOME_M)
        other = peers[pj] != cand[ci]
        counts = np.bincount(ci[other], minlength=len(cand))
        cluster[cand[counts >= CLUSTER_NEIGHBOURS]] = True
    housing = anchor | near | cluster
    skipped = untagged & ~housing
    if skipped.any():
        log.info(
            "%d untagged buildings without residential evidence not counted as housing",
            int(skipped.sum()),
        )
    if skipped.sum() >= max(50, 0.2 * untagged.sum()):
        warnings.append(
            f"{int(skipped.sum()):,} untagged buildings ({footprint[skipped].sum() / 1e6:.2f} "
            "km² of footprint) show no residential evidence (not in residential landuse, "
            f"fewer than {MULTI_STOREY_LEVELS} levels, not near a home, not in a cluster of "
            "house-sized buildings) and were not counted as housing. If many are homes, the "
            "population is too low there: give a census (--census) or a population raster "
            "(--population)."
        )
    return housing, in_res, warnings


@dataclass(frozen=True)
class Homes:
    """The housing buildings of an extract and their floor area (one entry per building).

    Attributes
    ----------
    frame
        The housing buildings (rows of the buildings table; an empty EPSG:4326 frame
        with a ``building_id`` column when there are none).
    floor_area_m2
        Footprint (local projected CRS) × levels, m².
    ids
        ``building_id`` as str (``building/<n>`` when the table has no such column).
    points
        Representative point of each footprint (EPSG:4326 shapely geometries).
    warnings, assumptions
        Sentences for ``Demand.warnings`` / ``Demand.assumptions``.
    """

    frame: gpd.GeoDataFrame
    floor_area_m2: np.ndarray
    ids: np.ndarray
    points: np.ndarray
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


def housing_buildings(
    buildings: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
    default_levels: float = DEFAULT_LEVELS,
) -> Homes:
    """Select the buildings housing residents (:func:`housing_mask`) and their floor area.

    Parameters
    ----------
    buildings
        Footprints (``building_id``, ``building``, ``levels``, geometry) or None.
    landuse
        Landuse polygons (residential ones are evidence).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).
    default_levels
        Levels of a building without a usable ``levels`` value.

    Raises
    ------
    InputError
        Buildings without a coordinate reference system.
    """
    warnings: list[str] = []
    assumptions: list[str] = []
    if buildings is not None and len(buildings):
        if buildings.crs is None:
            raise InputError("buildings have no coordinate reference system; set one (EPSG:4326)")
        housing, _, w = housing_mask(buildings, landuse, non_residential=non_residential)
        warnings += w
        hb = buildings.loc[housing]
    else:
        hb = gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=WGS84)
    if not len(hb):
        return Homes(
            hb, np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=object), tuple(warnings)
        )
    crs = local_crs(hb)
    local = hb.geometry.to_crs(crs)
    footprint = local.area.to_numpy()
    levels = (
        pd.to_numeric(hb["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in hb.columns
        else np.full(len(hb), np.nan)
    )
    missing = ~np.isfinite(levels) | (levels <= 0)
    levels = np.where(missing, float(default_levels), levels)
    if missing.any():
        assumptions.append(
            f"{int(missing.sum())} of {len(hb)} housing buildings have no levels; "
            f"assumed {default_levels:g}"
        )
    floor = footprint * levels
    bid = (
        hb["building_id"].astype(object).fillna("").astype(str).to_numpy()
        if "building_id" in hb.columns
        else np.array([f"building/{i}" for i in range(len(hb))], dtype=object)
    )
    reps = local.representative_point().to_crs(WGS84).to_numpy()
    return Homes(hb, floor, bid, reps, tuple(warnings), tuple(assumptions))


def building_points(homes: Homes, m2_per_person: float) -> gpd.GeoDataFrame | None:
    """Return one demand point per housing building: floor area / ``m2_per_person``.

    EPSG:4326 points with ``building_id``, ``floor_area_m2``, ``pop``, ``pop_source``
    (``"building"``) and ``_src`` (the building id); None when there are no homes.
    """
    if not len(homes.frame):
        return None
    return gpd.GeoDataFrame(
        {
            "building_id": homes.ids,
            "floor_area_m2": homes.floor_area_m2,
            "pop": homes.floor_area_m2 / m2_per_person,
            "pop_source": "building",
            "_src": homes.ids,
        },
        geometry=homes.points,
        crs=WGS84,
    )


__all__ = [
    "CLUSTER_NEIGHBOURS",
    "DEFAULT_LEVELS",
    "MAX_UNTAGGED_HOME_M2",
    "MIN_HOME_FOOTPRINT_M2",
    "MULTI_STOREY_LEVELS",
    "NEAR_HOME_M",
    "NON_RESIDENTIAL",
    "RESIDENTIAL_BUILDINGS",
    "Homes",
    "building_points",
    "housing_buildings",
    "housing_mask",
]
