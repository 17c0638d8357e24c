"""The demand estimate: :func:`estimate_population` and its result :class:`Demand`.

:func:`estimate_population` is a pipeline of named steps over the region's frames and a
frozen :class:`DemandOptions` (the tuning parameters):

1. **profile** (:func:`geoapp.demand.profile.resolve_profile`): floor area per person,
   share aged 60+ and landuse density, chosen from the location or given;
2. **housing** (:func:`geoapp.demand.housing.housing_buildings`): the buildings that
   house residents (homes only; mixed use keeps its upper floors) and their floor area;
3. **sources** (:func:`demand_points`): residents per housing building
   (floor area / floor area per person) plus the unbuilt part of residential landuse
   (:func:`geoapp.demand.landuse.landuse_demand`), or a population raster spread over
   the housing buildings (:func:`raster_points`);
4. **districts** (:func:`geoapp.demand.scaling.assign_districts`): each point's
   district; points outside every district are kept;
5. **control totals** (:func:`geoapp.demand.scaling.control_totals`): complete admin
   areas and places tagging ``population`` (the finest wins), then a census, else the
   boundaries' ``population`` tags, by the coverage rule; then the share aged 60+ per point
   (:func:`geoapp.demand.profile.shares_60plus`);
6. **zones** (:func:`geoapp.demand.settlements.assign_zones`): the settlement each
   point lies in and its zone type;
7. **table** (:func:`demand_table`): the demand table, :data:`DEMAND_COLUMNS`;
8. **checks** (:mod:`geoapp.demand.checks`): place nodes and residential streets
   against the estimate, and the data-quality table per district.

Each step returns its own warnings and assumptions; :class:`Demand` carries them in the
order of the steps. Nothing travels in ``attrs``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import box

from geoapp.demand.checks import QUALITY_COLUMNS, check_places, data_quality, street_check
from geoapp.demand.frames import WGS84
from geoapp.demand.housing import (
    DEFAULT_LEVELS,
    EXCLUSION_COLUMNS,
    NON_RESIDENTIAL,
    VILLAGE_LEVELS,
    Homes,
    building_points,
    exclusion_table,
    housing_buildings,
)
from geoapp.demand.landuse import LANDUSE_DENSITY_BY_CLASS, landuse_demand
from geoapp.demand.profile import (
    ages_by_country,
    apply_country_ages,
    country_ages,
    profile_assumption,
    resolve_profile,
    shares_60plus,
)
from geoapp.demand.scaling import (
    Districts,
    assign_districts,
    control_totals,
    outside_districts,
)
from geoapp.demand.settlements import Zones, assign_zones, settlement_places
from geoapp.errors import EmptyResultError, InputError
from geoapp.hexes import h3_cells
from geoapp.region import OUTSIDE_DISTRICTS
from geoapp.sources.raster import AgeRasters, RasterCells, age_shares, find_age_rasters

log = logging.getLogger(__name__)

#: Columns of the demand table (``Demand.points``), geometry last.
DEMAND_COLUMNS = (
    "demand_id",
    "building_id",
    "floor_area_m2",
    "pop",
    "pop_60plus",
    "district",
    "district_code",
    "zone_type",
    "zone_fine",
    "settlement",
    "pop_source",
    "h3",
)


@dataclass(frozen=True)
class DemandOptions:
    """The tuning parameters of :func:`estimate_population` (defaults: the documented ones).

    Attributes
    ----------
    profile
        Profile name (``"china"``, ``"world"``), TOML path or dict; None: chosen from
        the data's location (:func:`geoapp.demand.profile.profile_for`).
    m2_per_person
        Housing floor area per resident, m² (None: the profile's, e.g. 35 m² for China,
        Seventh National Population Census 2020).
    share_60plus
        Share of residents aged 60+ (0..1) where no census gives it (None: the share of
        the country each point lies in, UN World Population Prospects 2024,
        :func:`geoapp.demand.profile.country_ages`; a profile file or dict may set its
        own).
    landuse_density_per_km2
        Residents per km² of unbuilt residential landuse, everywhere (None: per polygon,
        from the homes mapped in and around it or the settlement's class,
        :func:`geoapp.demand.landuse.landuse_densities`).
    landuse_density_by_class
        Residents per km² of unbuilt residential landuse by settlement class
        (``city``, ``town``, ``village``), where no mapped homes give it (None:
        :data:`~geoapp.demand.landuse.LANDUSE_DENSITY_BY_CLASS`, Statistics Netherlands'
        residential area per resident, with the city figure from the profile's
        ``landuse_density_per_km2``).
    default_levels
        Levels of a building without a usable ``levels`` value (default
        :data:`~geoapp.demand.housing.DEFAULT_LEVELS`, a deliberately low choice).
    village_levels
        The same in a village (default :data:`~geoapp.demand.housing.VILLAGE_LEVELS`).
    non_residential
        ``building`` values that house no residents (default
        :data:`~geoapp.demand.housing.NON_RESIDENTIAL`).
    hybrid_landuse
        Add demand for the unbuilt part of residential landuse (default True).
    landuse_spacing_m
        Spacing of landuse demand points, m (None: about 100 m, coarser for very large
        extents).
    raster_spread
        Spread raster cells over the housing buildings inside them (default True).
    age_rasters
        WorldPop age/sex rasters (a folder, a glob or
        :class:`~geoapp.sources.raster.AgeRasters`): each point's share aged 60+ (65+)
        is the sum of the bands from 60 (65) up in its cell, divided by the population
        raster's cell (``raster``) or by the sum of all bands; a district census share
        still comes first, the country's share where the rasters give none. Not with
        ``share_60plus``.
    strict
        A census not matching the boundaries raises (True) or warns and scales only the
        matched districts (False).
    control_totals
        With no census, scale districts to their boundaries' ``population`` (default True).
    zones
        ``"density"``: ``zone_type`` = the point's settlement; anything else (a mapping
        name, None): ``zone_type`` stays the district's.
    zone_params
        Settlement thresholds (:data:`geoapp.zones.SETTLEMENT_DEFAULTS`).
    h3_res
        H3 resolution of the ``h3`` column (default 9, cells of about 0.1 km²).

    Raises
    ------
    InputError
        ``default_levels`` not positive or ``share_60plus`` outside 0..1.
    """

    profile: str | os.PathLike[str] | Mapping[str, Any] | None = None
    m2_per_person: float | None = None
    share_60plus: float | None = None
    landuse_density_per_km2: float | None = None
    landuse_density_by_class: Mapping[str, float] | None = None
    default_levels: float = DEFAULT_LEVELS
    village_levels: float = VILLAGE_LEVELS
    non_residential: frozenset[str] | set[str] = NON_RESIDENTIAL
    hybrid_landuse: bool = True
    landuse_spacing_m: float | None = None
    raster_spread: bool = True
    age_rasters: str | os.PathLike[str] | AgeRasters | None = None
    strict: bool = True
    control_totals: bool = True
    zones: str | None = None
    zone_params: Mapping[str, Any] | None = None
    h3_res: int = 9

    def __post_init__(self) -> None:
        if self.default_levels <= 0:
            raise InputError(f"default_levels must be positive, not {self.default_levels}")
        if self.village_levels <= 0:
            raise InputError(f"village_levels must be positive, not {self.village_levels}")
        if self.share_60plus is not None and not 0 <= float(self.share_60plus) <= 1:
            raise InputError(f"share_60plus must be between 0 and 1, not {self.share_60plus}")
        if self.share_60plus is not None and self.age_rasters is not None:
            raise InputError(
                "give the share aged 60+ once: --share-60plus (one figure) or --age-rasters "
                "(per cell), not both"
            )


@dataclass(frozen=True)
class Demand:
    """The demand table and how it was made (the result of :func:`estimate_population`).

    Attributes
    ----------
    points
        EPSG:4326 demand points, columns :data:`DEMAND_COLUMNS` (docs/architecture.md).
    method
        ``"buildings"``, ``"buildings+landuse"``, ``"landuse"``, ``"raster"`` or
        ``"raster+buildings"``.
    profile
        ``name``, ``m2_per_person``, ``share_60plus``, ``landuse_density_per_km2``,
        ``source`` (the citations), ``chosen`` (how: location or given).
    warnings
        Plain sentences a planner should read (data checks, fallbacks, outside demand).
    quality
        One row per district: :data:`QUALITY_COLUMNS`, then
        :data:`~geoapp.demand.housing.EXCLUSION_COLUMNS` (buildings holding no residents,
        by reason, and mixed-use buildings).
    census_scaled
        True when district totals were scaled to a census table.
    zone_method
        ``"density"`` (``zone_type`` = settlement), ``"mapping:<name>"`` or
        ``"district attributes"``.
    zone_params
        Settlement thresholds and how the core was chosen.
    control_totals
        ``"census"``, ``"boundary population"``, ``"admin areas"`` (only complete admin
        areas or places scaled) or ``""`` (none applied).
    assumptions
        Plain sentences on what was assumed (levels, densities ...).
    outside_pop
        Residents outside every district (district :data:`~geoapp.region.OUTSIDE_DISTRICTS`).
    """

    points: gpd.GeoDataFrame
    method: str
    profile: dict[str, Any]
    warnings: tuple[str, ...] = ()
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))
    census_scaled: bool = False
    zone_method: str = "district attributes"
    zone_params: dict[str, Any] = field(default_factory=dict)
    control_totals: str = ""
    assumptions: tuple[str, ...] = ()
    outside_pop: float = 0.0

    @property
    def total(self) -> float:
        """Total residents."""
        return float(self.points["pop"].sum())


@dataclass(frozen=True)
class Sourced:
    """Demand points before districts and scaling (the result of :func:`demand_points`).

    Attributes
    ----------
    points
        EPSG:4326: ``building_id``, ``floor_area_m2``, ``pop``, ``pop_source``, ``_src``
        (the id of the building, landuse polygon or raster cell the point comes from).
    method
        ``"buildings"``, ``"buildings+landuse"``, ``"landuse"``, ``"raster"`` or
        ``"raster+buildings"``.
    warnings, assumptions
        Sentences for ``Demand.warnings`` / ``Demand.assumptions``.
    """

    points: gpd.GeoDataFrame
    method: str
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


def raster_points(
    cells: RasterCells, homes: Homes, spread: bool = True
) -> tuple[gpd.GeoDataFrame, int]:
    """Raster cells to demand points: spread over the housing inside, else the cell centre.

    Each cell's residents go to the housing buildings whose representative point lies
    in it, by floor area (``spread``), or to the cell centre when it holds none. The
    cell of a building is found by index arithmetic on the raster grid
    (:meth:`~geoapp.sources.raster.RasterCells.locate`), never a polygon per cell.

    Returns
    -------
    tuple
        ``(points, n_buildings)``: the points (as :class:`Sourced` ``points``) and how
        many buildings received residents.
    """
    floor = homes.floor_area_m2
    pop = np.asarray(cells.pop, dtype=float)
    cell_of = np.full(len(homes.ids), -1, dtype=np.int64)
    if spread and len(homes.ids):
        cell_of = cells.locate(np.asarray(homes.points, dtype=object))
    has = cell_of >= 0
    floor_cell = np.bincount(cell_of[has], weights=floor[has], minlength=len(cells))
    spread_ok = floor_cell > 0
    at = np.maximum(cell_of, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_pop = np.where(has & spread_ok[at], pop[at] * floor / floor_cell[at], 0.0)
    bsel = np.flatnonzero(b_pop > 0)
    csel = np.flatnonzero(~spread_ok)
    ids = np.asarray(homes.ids, dtype=object)[bsel]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "building_id": ids,
                    "floor_area_m2": floor[bsel],
                    "pop": b_pop[bsel],
                    "pop_source": "raster",
                    "_src": ids,
                    "geometry": np.asarray(homes.points, dtype=object)[bsel],
                }
            ),
            pd.DataFrame(
                {
                    "building_id": "",
                    "floor_area_m2": np.nan,
                    "pop": pop[csel],
                    "pop_source": "raster",
                    "_src": "raster/" + cells.cell_ids(csel).astype(str).astype(object),
                    "geometry": cells.centres(csel),
                }
            ),
        ],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84), len(bsel)


def raster_ages(
    given: str | os.PathLike[str] | AgeRasters,
    raster: RasterCells | None,
    points: gpd.GeoSeries,
    default_share: float | np.ndarray,
    pop: np.ndarray,
    prof: Mapping[str, Any],
) -> tuple[np.ndarray, dict[str, Any], tuple[str, ...], str]:
    """Each point's share aged 60+ from WorldPop age/sex rasters, else ``default_share``.

    Returns
    -------
    tuple
        ``(share per point, profile, warnings, note)``: the profile's ``share_60plus``
        and ``share_65plus`` become the residents-weighted shares, ``ages_from`` is
        ``"age rasters"`` and its ``source`` names the rasters; the note (for
        ``Demand.assumptions``) says where the share came from and how many points fell
        back.
    """
    ages = given if isinstance(given, AgeRasters) else find_age_rasters(given)
    found = age_shares(ages, points.to_numpy(), total=raster.path if raster is not None else None)
    ok = np.isfinite(found.share_60plus)
    fallback = np.broadcast_to(np.asarray(default_share, dtype=float), ok.shape)
    s60 = np.where(ok, found.share_60plus, fallback)
    out = dict(prof)
    w = np.asarray(pop, dtype=float)
    if w.sum() > 0:
        out["share_60plus"] = float(np.average(s60, weights=w))
        s65 = np.where(ok, found.share_65plus, float(prof.get("share_65plus", np.nan)))
        if np.isfinite(s65).all():
            out["share_65plus"] = float(np.average(s65, weights=w))
    out["ages_from"] = "age rasters"
    n_back = int((~ok).sum())
    by_country = "the country's share (WPP 2024)" if prof.get("countries") else "the profile's"
    note = (
        f"share aged 60+ (and 65+) per cell from the WorldPop age/sex rasters {ages.label} "
        f"(bands 60 to 80+ of both sexes summed), divided by {found.denominator}: "
        f"{out['share_60plus']:.1%} aged 60+ over the residents where no census gives it"
        + (
            f"; {n_back:,} of {len(ok):,} demand points lie outside the rasters or in cells "
            f"without residents and take {by_country}"
            if n_back
            else ""
        )
    )
    src = [p for p in str(prof.get("source", "")).split("; ") if "aged 60+" not in p]
    out["source"] = "; ".join([*src, note])
    return s60, out, found.warnings, note


# ---------------------------------------------------------------------------- public


def demand_points(
    homes: Homes,
    landuse: gpd.GeoDataFrame | None,
    raster: RasterCells | None,
    *,
    m2_per_person: float,
    density_per_km2: float | None,
    hybrid_landuse: bool = True,
    landuse_spacing_m: float | None = None,
    raster_spread: bool = True,
    features: gpd.GeoDataFrame | None = None,
    class_density: Mapping[str, float] | None = None,
) -> Sourced:
    """Place the residents: a population raster when given, else buildings and landuse.

    ``density_per_km2``: residents per km² of unbuilt residential landuse everywhere;
    None: per polygon (:func:`geoapp.demand.landuse.landuse_demand`, from the homes and
    the settlement classes of ``features``, ``class_density`` by class).

    Raises
    ------
    EmptyResultError
        When no resident can be placed.
    """
    frames: list[gpd.GeoDataFrame] = []
    warnings: list[str] = []
    assumptions: list[str] = []
    hb = homes.frame
    if raster is not None and len(raster):
        pts, n_spread = raster_points(raster, homes, raster_spread)
        frames.append(pts)
        method = "raster+buildings" if n_spread else "raster"
        cells = f"{len(raster):,} cells"
        if raster.block > 1:
            cells = (
                f"{raster.stats.get('inside', 0):,} cells merged into {len(raster):,} blocks "
                f"of {raster.block}x{raster.block} cells"
            )
            warnings.append(
                f"The population raster {Path(raster.path).name} has "
                f"{raster.stats.get('inside', 0):,} populated cells over the study area: "
                f"they were merged into blocks of {raster.block}x{raster.block} cells (one "
                "demand point per block, at its residents-weighted centre) to bound memory; "
                "cut the study area smaller for one point per cell."
            )
        assumptions.append(
            f"residents from the population raster {Path(raster.path).name} "
            f"({raster.total:,.0f} in {cells}), "
            + (
                f"spread over {n_spread:,} housing buildings by floor area"
                if n_spread
                else "at the cell centres"
            )
        )
    else:
        b_pts = building_points(homes, m2_per_person)
        if b_pts is not None:
            frames.append(b_pts)
        n_lu = 0
        if hybrid_landuse or not len(hb):
            lpts, note = landuse_demand(
                landuse,
                # the footprints already projected (the same numbers, no second projection)
                (hb if homes.local is None else homes.local) if len(hb) else None,
                density_per_km2,
                landuse_spacing_m,
                home_points=homes.points if len(hb) else None,
                home_pop=homes.floor_area_m2 / m2_per_person if len(hb) else None,
                features=features,
                class_density=class_density,
            )
            if lpts is not None:
                n_lu = len(lpts)
                frames.append(lpts)
                assumptions.append(note or "")
        if len(hb) and n_lu:
            method = "buildings+landuse"
        elif len(hb):
            method = "buildings"
        elif n_lu:
            method = "landuse"
            msg = "No housing buildings: demand estimated from residential landuse area × " + (
                f"{density_per_km2:,.0f} residents/km²."
                if density_per_km2 is not None
                else "the density of its settlement's class (village, town, city)."
            )
            warnings.append(msg)
        else:
            raise EmptyResultError(
                "No population can be estimated: the region has no residential buildings "
                "and no residential landuse (landuse=residential). Use an extract with "
                "buildings, or give a population raster (--population FILE.tif)."
            )
    pts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
    if not len(pts):
        raise EmptyResultError(
            "No population can be estimated: the population raster holds no residents "
            "inside the region."
        )
    return Sourced(pts, method, tuple(warnings), tuple(assumptions))


#: Spacing (m) of the points :func:`street_points` puts along the streets.
STREET_SPACING_M = 100.0


def street_sourced(edges: gpd.GeoDataFrame) -> Sourced:
    """Return points along the streets for a census to scale (no homes, no residential land).

    See :func:`street_points`; the warning says where the residents were put and why.
    """
    pts, which, km = street_points(edges)
    warning = (
        "No housing buildings and no residential landuse in the data: the census "
        f"(each district's total × its covered share) was spread along the {km:,.1f} "
        f"km of {which} in proportion to their length. Where the homes are is unknown "
        "here, so distances per resident are rough: map the homes, or give a "
        "population raster (--population FILE.tif)."
    )
    note = (
        f"residents placed along the {km:,.1f} km of {which} (no homes or residential "
        "landuse mapped), then scaled to the census"
    )
    return Sourced(pts, "streets", (warning,), (note,))


def street_points(edges: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str, float]:
    """Return points along the streets, one per :data:`STREET_SPACING_M` of street.

    The residential streets (``residential``, ``living_street``) when the data has any,
    else every walkable way. Each point's ``pop`` is the metres of street it stands
    for ÷ 1,000 (a weight: the census scaling sets the residents). Returns ``(points,
    which streets in words, their km)``.
    """
    import shapely

    from geoapp.crs import local_crs
    from geoapp.demand.checks import RESIDENTIAL_STREETS
    from geoapp.demand.frames import tag_values

    e = edges.to_crs(WGS84)
    res = (
        tag_values(e, "highway").isin(RESIDENTIAL_STREETS).to_numpy()
        if "highway" in e.columns
        else np.zeros(len(e), dtype=bool)
    )
    which = "residential streets" if res.any() else "walkable streets"
    e = e.loc[res] if res.any() else e
    loc = e.geometry.to_crs(local_crs(e))
    lines = np.asarray(loc.to_numpy(), dtype=object)
    length = shapely.length(lines)
    n = np.maximum(np.round(length / STREET_SPACING_M), 1).astype(int)
    idx = np.repeat(np.arange(len(lines)), n)
    frac = (np.concatenate([np.arange(k) for k in n]) + 0.5) / np.repeat(n, n)
    pts = shapely.line_interpolate_point(lines[idx], frac, normalized=True)
    geo = gpd.GeoSeries(pts, crs=loc.crs).to_crs(WGS84)
    ids = e.index.astype(str).to_numpy()[idx]
    frame = gpd.GeoDataFrame(
        {
            "building_id": "",
            "floor_area_m2": np.nan,
            "pop": (length / n)[idx] / 1000.0,
            "pop_source": "street",
            "_src": np.char.add("street/", ids.astype(str)),
        },
        geometry=geo.to_numpy(),
        crs=WGS84,
    )
    return frame, which, float(length.sum()) / 1000.0


def demand_ids(points: gpd.GeoDataFrame) -> np.ndarray:
    """Return the ``demand_id`` of each point.

    A building's or raster cell's point keeps its source id; landuse points get
    ``<landuse id>/<n>``; any duplicate or empty id makes them all ``demand/<n>``.
    """
    src = points["_src"].astype(str)
    is_b = ~points["pop_source"].isin(("landuse", "street")).to_numpy() & (src != "").to_numpy()
    demand_id = np.where(is_b, src, src + "/" + src.groupby(src).cumcount().astype(str))
    if pd.Series(demand_id).duplicated().any() or (pd.Series(demand_id) == "").any():
        demand_id = np.array([f"demand/{i}" for i in range(len(points))], dtype=object)
    return np.asarray(demand_id, dtype=object)


def demand_table(
    points: gpd.GeoDataFrame,
    pop: np.ndarray,
    share_60plus: np.ndarray,
    districts: Districts,
    zones: Zones,
    h3_res: int = 9,
) -> gpd.GeoDataFrame:
    """Assemble the demand table (:data:`DEMAND_COLUMNS`, EPSG:4326) from the steps' results.

    Parameters
    ----------
    points
        The placed points (:class:`Sourced` ``points``).
    pop, share_60plus
        Residents (scaled) and share aged 60+ per point.
    districts, zones
        The points' districts and zones.
    h3_res
        H3 resolution of the ``h3`` column.
    """
    slot = districts.slot
    return gpd.GeoDataFrame(
        {
            "demand_id": demand_ids(points),
            "building_id": points["building_id"].astype(object).to_numpy(),
            "floor_area_m2": points["floor_area_m2"].to_numpy(dtype=float),
            "pop": pop,
            "pop_60plus": pop * share_60plus,
            "district": districts.column("district", OUTSIDE_DISTRICTS)[slot],
            "district_code": districts.column("district_code", "")[slot],
            "zone_type": np.asarray(zones.zone_type, dtype=object),
            "zone_fine": np.asarray(zones.zone_fine, dtype=object),
            "settlement": np.asarray(zones.settlement, dtype=object),
            "pop_source": points["pop_source"].astype(object).to_numpy(),
            "h3": h3_cells(points.geometry, h3_res),
        },
        geometry=points.geometry.to_numpy(),
        crs=WGS84,
    )


def estimate_population(
    buildings: gpd.GeoDataFrame | None,
    boundaries: gpd.GeoDataFrame | None,
    *,
    census: pd.DataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    raster: RasterCells | None = None,
    features: gpd.GeoDataFrame | None = None,
    edges: gpd.GeoDataFrame | None = None,
    data_extent: Any = None,
    options: DemandOptions | None = None,
    admin_areas: gpd.GeoDataFrame | None = None,
) -> Demand:
    """Estimate residents per demand point (the demand table) and how it was made.

    Parameters
    ----------
    buildings
        Building footprints (``building_id``, ``building``, ``levels``, geometry).
    boundaries
        Districts (``district``, ``district_code``, ``zone_type``, ``zone_fine``,
        optional ``population``). Points are joined to them by location; points outside
        every district are **kept** in district :data:`~geoapp.region.OUTSIDE_DISTRICTS`
        (zone type ``unknown``) with a warning. None or empty: one unnamed region.
    census
        District totals (``district_code`` and/or ``district``, ``pop``, optional
        ``pop_60plus``), matched by code, else name (with or without 区/县, any case).
        Each matched district is scaled to its ``pop``; ``pop_60plus`` = ``pop`` × the
        census 60+ share.
    landuse
        Landuse polygons (``landuse``; only ``residential`` is used): their unbuilt
        parts add demand (``hybrid_landuse``) and they are evidence for housing.
    raster
        Population cells (:func:`geoapp.sources.raster.read_population_raster`): the
        demand source when given.
    features
        Feature table; place nodes with ``place`` and ``population`` are checked.
    edges
        The walking network (``highway``, ``length_m``): when residential streets are
        mapped but homes are not (fewer than
        :data:`~geoapp.demand.checks.FEW_BUILDINGS_PER_STREET_KM` housing buildings per
        km of residential street), a warning says so.
    data_extent
        Shapely geometry (EPSG:4326) the extract's data covers. A district (census or
        ``population`` tag) covered 95% or more is scaled to its total, a partly covered
        one to total × the covered share of its area, with a warning
        (:mod:`geoapp.demand.scaling`); the place checks blame a clip only where the
        extract cuts the settlement. None: every district is taken as fully covered.
    options
        The tuning parameters (:class:`DemandOptions`; None: the defaults).
    admin_areas
        The administrative boundaries complete in the data, at every level
        (:data:`~geoapp.region.ADMIN_AREA_COLUMNS`): each one tagging
        ``population``, and each place's own admin area, scales the demand inside it
        when it lies 95% inside ``data_extent`` (the finest wins), with or without
        district boundaries; places are checked against the demand inside their own
        area. None: none.

    Returns
    -------
    Demand

    Raises
    ------
    EmptyResultError
        When no resident can be placed (no housing, no residential landuse, no raster).
    InputError
        Bad parameters; a census not matching the boundaries (``strict``).
    """
    opts = options if options is not None else DemandOptions()
    prof = resolve_profile(
        opts.profile,
        [buildings, landuse, raster.outline() if raster is not None else None, boundaries],
        m2_per_person=opts.m2_per_person,
        share_60plus=opts.share_60plus,
        landuse_density_per_km2=opts.landuse_density_per_km2,
    )
    m2 = float(prof["m2_per_person"])
    homes = housing_buildings(
        buildings,
        landuse,
        non_residential=opts.non_residential,
        default_levels=opts.default_levels,
        village_levels=opts.village_levels,
        features=features,
    )
    try:
        sourced = demand_points(
            homes,
            landuse,
            raster,
            m2_per_person=m2,
            density_per_km2=opts.landuse_density_per_km2,
            hybrid_landuse=opts.hybrid_landuse,
            landuse_spacing_m=opts.landuse_spacing_m,
            raster_spread=opts.raster_spread,
            features=features,
            class_density={
                **LANDUSE_DENSITY_BY_CLASS,
                "city": float(prof["landuse_density_per_km2"]),
                **dict(opts.landuse_density_by_class or {}),
            },
        )
    except EmptyResultError:
        # no homes, no residential land: with a census, the streets carry it
        with_census = census is not None and len(census) and boundaries is not None
        if not with_census or edges is None or not len(edges) or raster is not None:
            raise
        sourced = street_sourced(edges)
    districts = assign_districts(sourced.points, boundaries)
    places = settlement_places(features, admin_areas, boundaries)
    scaling = control_totals(
        sourced.points["pop"].to_numpy(dtype=float),
        districts,
        boundaries,
        census,
        strict=opts.strict,
        boundary_population=opts.control_totals,
        data_extent=data_extent,
        m2_per_person=m2,
        points=sourced.points.geometry,
        admin_areas=admin_areas,
        places=places,
    )
    slot = districts.slot
    pop = sourced.points["pop"].to_numpy(dtype=float) * scaling.factor
    if sourced.method == "streets":  # a street weight is no resident: only the census's
        pop = np.where(scaling.factor != 1.0, pop, 0.0)
    default_share: float | np.ndarray = float(prof["share_60plus"])
    age_warnings: tuple[str, ...] = ()
    if ages_by_country(prof):
        ages = country_ages(sourced.points.geometry)
        prof = dict(prof)
        apply_country_ages(prof, ages, pop)
        default_share, age_warnings = ages.share_60plus, ages.warnings
    age_note = ""
    if opts.age_rasters is not None:
        default_share, prof, raster_warnings, age_note = raster_ages(
            opts.age_rasters, raster, sourced.points.geometry, default_share, pop, prof
        )
        age_warnings = (*age_warnings, *raster_warnings)
    share = shares_60plus(scaling.share_60plus[slot], default_share)
    outside_pop, outside_warning = outside_districts(pop, districts)
    zones = assign_zones(
        pop,
        sourced.points.geometry.to_numpy(),
        districts.column("zone_type", "unknown")[slot],
        districts.column("zone_fine", "")[slot],
        zones=opts.zones,
        zone_params=opts.zone_params,
    )
    out = demand_table(sourced.points, pop, share, districts, zones, opts.h3_res)

    # checks against the data's own population tags
    extent = data_extent if data_extent is not None else box(*out.total_bounds)
    hb = homes.frame
    # the housing's representative points as housing_buildings projected them
    local = (
        (homes.local_points, homes.in_residential, np.asarray(homes.points, dtype=object))
        if homes.local_points is not None and homes.in_residential is not None
        else None
    )
    _, place_warnings = check_places(
        out,
        features,
        housing=hb.geometry if len(hb) else None,
        landuse=landuse,
        extent=extent,
        m2_per_person=m2,
        places=places,
        scaled=scaling.area_ids,
        housing_local=local[:2] if local is not None else None,
    )
    street_warning = street_check(
        edges,
        len(hb),
        float(out["pop"].sum()),
        sourced.method,
        census_scaled=scaling.census_scaled,
    )
    quality = data_quality(
        out,
        districts.column("district", OUTSIDE_DISTRICTS),
        hb,
        landuse,
        districts.geometry,
        housing_local=local,
    )
    excl = exclusion_table(
        homes.excluded, districts.column("district", OUTSIDE_DISTRICTS), districts.geometry
    )
    quality = quality.join(excl, on="district")
    quality[list(EXCLUSION_COLUMNS)] = quality[list(EXCLUSION_COLUMNS)].fillna(0).astype("int64")
    scaling_warnings = scaling.warnings
    if sourced.method == "streets":  # street weights are no building estimate
        scaling_warnings = tuple(
            re.sub(r"; the buildings in the data give [^.]*?(?:\([^)]*\))?\.$", ".", w)
            for w in scaling_warnings
        )
    warnings = (
        *homes.warnings,
        *sourced.warnings,
        *age_warnings,
        *scaling_warnings,
        *([outside_warning] if outside_warning else []),
        *zones.warnings,
        *place_warnings,
        *([street_warning] if street_warning else []),
    )
    for w in warnings:
        log.warning("%s", w)
    log.info(
        "demand (%s): %d points, %.0f residents, %.0f aged 60+",
        sourced.method,
        len(out),
        out["pop"].sum(),
        out["pop_60plus"].sum(),
    )
    return Demand(
        points=out,
        method=sourced.method,
        profile=prof,
        warnings=warnings,
        quality=quality,
        census_scaled=scaling.census_scaled,
        zone_method=zones.method,
        zone_params=zones.params,
        control_totals=scaling.control,
        assumptions=(
            profile_assumption(prof),
            *([age_note] if age_note else []),
            *homes.assumptions,
            *sourced.assumptions,
            *scaling.assumptions,
        ),
        outside_pop=outside_pop,
    )


__all__ = [
    "DEMAND_COLUMNS",
    "Demand",
    "DemandOptions",
    "Sourced",
    "demand_ids",
    "demand_points",
    "demand_table",
    "estimate_population",
    "raster_ages",
    "raster_points",
]
