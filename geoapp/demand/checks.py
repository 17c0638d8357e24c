"""Checks of the estimate against the data's own figures, and its data quality.

Settlements tagged ``population`` (city, town, village, hamlet; places named the same
are one settlement) are compared with the demand inside their own area, else around
them (:func:`check_places`); a factor above :data:`CHECK_FACTOR` gives one warning per
settlement naming it, both figures and the likely cause (:func:`cause_low`,
:func:`cause_high`); a settlement whose area was scaled to its tag is not checked, and a
clipped extract is blamed only where the extract cuts the settlement (boundary tags are
checked in :func:`geoapp.demand.scaling.control_totals`). :func:`street_check` warns when
residential streets are mapped but the homes along them are not; :func:`data_quality`
is the table per district (:data:`QUALITY_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, first_containing, tag_in
from geoapp.demand.landuse import residential_landuse
from geoapp.demand.profile import DEFAULT_M2_PER_PERSON
from geoapp.demand.settlements import (
    Places,
    settlement_places,
    within_radius,
)

#: Estimate and tag differing by more than this factor give a warning.
CHECK_FACTOR = 1.5
#: A place's demand this close (m) to the extent's edge lets a clipped extract be blamed.
EDGE_M = 250.0
#: Buildings per km² of residential land below which a warning blames sparse mapping.
FEW_BUILDINGS_PER_KM2 = 300.0

#: ``highway`` values of residential streets (for the sparse-mapping check).
RESIDENTIAL_STREETS = frozenset({"residential", "living_street"})
#: Fewer housing buildings per km of residential street than this gives a warning.
FEW_BUILDINGS_PER_STREET_KM = 10.0

#: Sources of a demand point's residents (``pop_source`` column); ``street``: a census
#: spread along the streets of an extract with no homes and no residential landuse.
POP_SOURCES = ("building", "landuse", "raster", "street")

#: Columns of the data-quality table (``Demand.quality``), one row per district.
QUALITY_COLUMNS = (
    "district",
    "pop",
    "share_from_buildings",
    "share_from_landuse",
    "share_from_raster",
    "share_from_streets",
    "buildings_per_km2_residential",
    "residential_km2",
)


def cause_low(cover: float, radius: float, bpk: float, res_km2: float, m2: float) -> str:
    """Likely cause of an estimate below a place's tag (sentence fragment).

    ``cover``: share of the circle inside the data; ``radius`` (m); ``bpk``: housing
    buildings per km² of residential land; ``res_km2``: residential land in the circle;
    ``m2``: floor area per person used.
    """
    if cover < 0.9:
        return (
            f"the extract covers only {cover:.0%} of the {radius:,.0f} m circle around it "
            "(a clipped extract)"
        )
    if res_km2 <= 0:
        return f"no residential landuse mapped within {radius:,.0f} m, and few buildings"
    if bpk < FEW_BUILDINGS_PER_KM2:
        return f"few mapped buildings: {bpk:,.0f} per km² of residential land"
    return (
        "the tag may count a larger administrative area than the settlement, or buildings "
        f"lack building:levels (floor area per person {m2:g} m²)"
    )


def cause_high(m2: float) -> str:
    """Likely cause of an estimate above a tag (sentence fragment); ``m2``: m² per person."""
    return (
        "untagged buildings counted as housing, missing building:levels assumed, or too "
        f"little floor area per person for the area ({m2:g} m²; pass m2_per_person or a "
        "profile); the tag may also be out of date"
    )


def _reaches_edge(pts: np.ndarray, ext_boundary: Any, within: float) -> bool:
    """Return True when a projected point lies within ``within`` m of the extent's edge."""
    if not len(pts) or ext_boundary is None:
        return False
    return bool((shapely.distance(pts, ext_boundary) <= within).any())


def _homes_in_residential(
    housing: gpd.GeoSeries,
    res_lu: gpd.GeoDataFrame,
    crs: Any,
    housing_local: tuple[gpd.GeoSeries, np.ndarray] | None,
) -> gpd.GeoSeries:
    """Return the representative points (``crs``) of the homes in residential landuse.

    ``res_lu`` is in ``crs``; ``housing_local`` (points, inside) serves when in ``crs``.
    """
    if housing_local is not None and housing_local[0].crs == crs:
        return gpd.GeoSeries(housing_local[0].to_numpy()[housing_local[1]], crs=crs)
    hr = gpd.GeoSeries(housing.to_crs(crs).representative_point().to_numpy(), crs=crs)
    return hr[first_containing(hr, res_lu.geometry) >= 0]


def check_places(
    points: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame | None,
    *,
    housing: gpd.GeoSeries | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    extent: object = None,
    m2_per_person: float = DEFAULT_M2_PER_PERSON,
    factor: float = CHECK_FACTOR,
    places: Places | None = None,
    scaled: Iterable[str] = (),
    housing_local: tuple[gpd.GeoSeries, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Compare the demand of each settlement with its ``population`` tag.

    Settlements come from :func:`~geoapp.demand.settlements.settlement_places` (places
    named the same are one settlement, one line). A settlement with its own area counts
    the demand inside that area; one without counts each demand point nearest to it
    within its radius
    (:data:`~geoapp.demand.settlements.PLACE_RADIUS_M`). An estimate and tag differing by more
    than ``factor`` give one warning naming the place, both figures and the likely
    cause; none when its area was scaled to its tag (``scaled``). A clipped extract is
    blamed only when the extract cuts the settlement: its area lies less than 95 %
    inside the extent, or (without an area) the extent cuts its circle and its demand
    reaches within :data:`EDGE_M` of the extent's edge.

    Parameters
    ----------
    points
        Demand points (``pop``).
    features
        Feature table with ``place`` and ``population`` columns (others are ignored);
        not read when ``places`` is given.
    housing
        Housing building footprints (to count buildings per km² of residential land).
    landuse
        Landuse polygons.
    extent
        Shapely geometry (EPSG:4326) of the data.
    m2_per_person
        Floor area per person used (named in the warning).
    factor
        Tolerance factor.
    places
        The settlements (default: from ``features``, without admin areas).
    scaled
        ``osm_id`` of the admin areas scaled to their place's tag (those places are not
        checked: their estimate is their tag).
    housing_local
        ``(points, in_residential)`` of ``housing`` when already worked out
        (``Homes.local_points``, ``Homes.in_residential``): their representative points
        in a local CRS and whether each lies in residential landuse; used when that CRS
        is the one measured in here (the same numbers, not projected again).

    Returns
    -------
    tuple
        ``(table, warnings)``: one row per settlement (``osm_id``, ``name``, ``place``,
        ``population_tag``, ``estimate``, ``radius_m``, ``ratio``, ``measured``:
        ``"area"`` or ``"radius"``, ``area_id``, ``cover``) and the warnings.
    """
    cols = ["osm_id", "name", "place", "population_tag", "estimate", "radius_m", "ratio",
            "measured", "area_id", "cover"]  # fmt: skip
    if places is None:
        places = settlement_places(features)
    if not len(places) or not len(points):
        return pd.DataFrame(columns=cols), []
    t = places.table
    n = len(t)
    tag = t["population_tag"].to_numpy(dtype=float)
    radius = t["radius_m"].to_numpy(dtype=float)
    has_area = np.array([a is not None for a in places.area], dtype=bool)
    crs = local_crs(points)
    pts_loc = points.geometry.to_crs(crs)
    pts = pts_loc.to_numpy()
    pop = points["pop"].to_numpy(dtype=float)
    centres = gpd.GeoSeries(places.centre, crs=WGS84).to_crs(crs)
    centre_geoms = np.asarray(centres.to_numpy(), dtype=object)
    disks = np.asarray(centres.buffer(radius).to_numpy(), dtype=object)
    areas = np.asarray(centre_geoms.copy(), dtype=object)
    if has_area.any():
        areas[has_area] = gpd.GeoSeries(places.area[has_area], crs=WGS84).to_crs(crs).to_numpy()
    shapes = np.where(has_area, areas, disks)
    est = np.zeros(n)
    # a settlement with an area: the demand inside it
    sindex = pts_loc.sindex
    for k in np.flatnonzero(has_area).tolist():
        est[k] = pop[sindex.query(areas[k], predicate="intersects")].sum()
    # the others: each point counts for the nearest settlement within its radius
    ring = np.flatnonzero(~has_area)
    near: dict[int, np.ndarray] = {}
    if len(ring):
        pi, di, dist = within_radius(pts, centre_geoms[ring], radius[ring])
        order = np.lexsort((dist, pi))
        pi, di = pi[order], di[order]
        first = np.unique(pi, return_index=True)[1]
        est[ring] = np.bincount(di[first], weights=pop[pi[first]], minlength=len(ring))
        for j, k in enumerate(ring.tolist()):
            near[k] = pi[first][di[first] == j]
    cover = np.ones(n)
    ext_edge = None
    if extent is not None:
        ext = gpd.GeoSeries([extent], crs=WGS84).to_crs(crs).iloc[0]
        ext_edge = ext.boundary
        with np.errstate(divide="ignore", invalid="ignore"):
            cover = np.where(
                shapely.area(shapes) > 0,
                shapely.area(shapely.intersection(shapes, ext)) / shapely.area(shapes),
                1.0,
            )
    clipped = np.zeros(n, dtype=bool)
    no_points = np.zeros(0, dtype=np.int64)
    for k in range(n):
        if has_area[k]:
            clipped[k] = cover[k] < 0.95
        elif cover[k] < 0.9:
            clipped[k] = _reaches_edge(pts[near.get(k, no_points)], ext_edge,
                                       EDGE_M)  # fmt: skip
    res_lu = residential_landuse(landuse).to_crs(crs)
    res_km2 = np.zeros(n)
    n_b = np.zeros(n)
    if len(res_lu):
        di2, li = res_lu.sindex.query(shapes, predicate="intersects")
        l_geoms = res_lu.geometry.to_numpy()
        shapely.prepare(shapes)
        # a polygon inside the shape counts whole; only those crossing its edge are cut
        inside = shapely.contains_properly(shapes[di2], l_geoms[li])
        area = shapely.area(l_geoms[li])
        cross = ~inside
        area[cross] = shapely.area(shapely.intersection(shapes[di2[cross]], l_geoms[li[cross]]))
        res_km2 = np.bincount(di2, weights=area / 1e6, minlength=n).astype(float)
        if housing is not None and len(housing):
            hr = _homes_in_residential(housing, res_lu, crs, housing_local)
            if len(hr):
                _, dj = gpd.GeoSeries(shapes, crs=crs).sindex.query(
                    hr.to_numpy(), predicate="intersects"
                )
                n_b = np.bincount(dj, minlength=n).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(est > 0, tag / est, np.inf)
        bpk = np.where(res_km2 > 0, n_b / res_km2, 0.0)
    names = t["name"].to_numpy(dtype=object)
    ids = t["osm_id"].astype(str).to_numpy()
    kind = t["place"].to_numpy(dtype=object)
    area_id = t["area_id"].astype(str).to_numpy()
    area_kind = t["area_kind"].astype(str).to_numpy()
    area_pop = t["area_population"].to_numpy(dtype=float)
    skip = set(scaled)
    warnings = []
    for k in np.flatnonzero((ratio > factor) | (ratio < 1 / factor)).tolist():
        if has_area[k] and area_id[k] in skip:
            continue
        label = names[k] or ids[k] or f"{kind[k]} node"
        where = {
            "admin": f"in its admin area {area_id[k]}",
            "district": f"in its district {area_id[k]!r}",
            "place": f"in its area {area_id[k]}",
        }.get(area_kind[k], f"within {radius[k]:,.0f} m")
        if (
            has_area[k]
            and np.isfinite(area_pop[k])
            and est[k] > 0
            and abs(est[k] / area_pop[k] - 1) < 0.01
        ):
            cause = (
                f"its area tags population {area_pop[k]:,.0f} and was scaled to that tag; "
                "the two tags disagree (one may be out of date)"
            )
        elif ratio[k] > 1 and clipped[k]:
            what = "its area" if has_area[k] else f"the {radius[k]:,.0f} m circle around it"
            cause = f"the extract covers only {cover[k]:.0%} of {what} (a clipped extract)"
        elif ratio[k] > 1:
            cause = cause_low(1.0, radius[k], bpk[k], res_km2[k], m2_per_person)
            if has_area[k]:
                cause = cause.replace(f"within {radius[k]:,.0f} m", "in its area")
        else:
            cause = cause_high(m2_per_person)
        word = "below" if ratio[k] > 1 else "above"
        times = (
            "no residents" if not np.isfinite(ratio[k]) else f"{max(ratio[k], 1 / ratio[k]):.1f}×"
        )
        merged = int(t["merged"].iloc[k])
        also = f"; {merged} places of this name counted as one" if merged > 1 else ""
        warnings.append(
            f"Place {label!r} ({kind[k]}, {ids[k]}): population tag "
            f"{tag[k]:,.0f}, estimate {est[k]:,.0f} residents {where} "
            f"({times} {word} the tag); likely cause: {cause}{also}."
        )
    table = pd.DataFrame(
        {
            "osm_id": ids,
            "name": names,
            "place": kind,
            "population_tag": tag,
            "estimate": est,
            "radius_m": radius,
            "ratio": ratio,
            "measured": np.where(has_area, "area", "radius"),
            "area_id": area_id,
            "cover": cover,
        }
    )
    return table, warnings


def street_check(
    edges: gpd.GeoDataFrame | None,
    n_housing: int,
    total: float,
    method: str,
    *,
    census_scaled: bool = False,
) -> str | None:
    """Warn when residential streets are mapped but the homes along them are not.

    Parameters
    ----------
    edges
        The walking network (``highway``, ``length_m``); None: no check.
    n_housing
        Number of housing buildings.
    total
        Residents estimated (named in the warning).
    method
        The demand method; a raster alone needs no mapped homes, and residents placed
        along the streets (``"streets"``) were warned about already (no check).
    census_scaled
        The residents were scaled to a census: their number is not too low, only where
        they live is uncertain (the warning says so instead of "far too few").

    Returns
    -------
    str or None
        The warning when there are fewer than :data:`FEW_BUILDINGS_PER_STREET_KM` housing
        buildings per km of at least 1 km of residential street.
    """
    if edges is None or not len(edges) or "highway" not in edges.columns:
        return None
    if method in ("raster", "streets"):
        return None
    res = tag_in(edges, "highway", RESIDENTIAL_STREETS)
    length = pd.to_numeric(edges.get("length_m"), errors="coerce").fillna(0.0).to_numpy()
    km = float(length[res].sum()) / 1000.0
    if km < 1.0:
        return None
    per_km = n_housing / km
    if per_km >= FEW_BUILDINGS_PER_STREET_KM:
        return None
    head = (
        f"The extract has {km:,.0f} km of residential streets but only {n_housing:,} housing "
        f"buildings ({per_km:.1f} per km; a street lined with homes has about 100): most "
    )
    if census_scaled:
        return head + (
            f"homes are not mapped, so the {total:,.0f} residents of the census sit on the "
            "few that are, and distances per resident are rough there. Give a population "
            "raster (--population FILE.tif, e.g. WorldPop or GHS-POP) to place them."
        )
    return head + (
        f"homes are not mapped, so the {total:,.0f} residents estimated are far too few. "
        "Give a population raster (--population FILE.tif, e.g. WorldPop or GHS-POP) or a "
        "district census (--census)."
    )


def data_quality(
    points: gpd.GeoDataFrame,
    districts: np.ndarray,
    housing: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None,
    bgeo: gpd.GeoSeries | None,
    housing_local: tuple[gpd.GeoSeries, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Return the data-quality table, one row per district (:data:`QUALITY_COLUMNS`).

    Parameters
    ----------
    points
        The demand table (``district``, ``pop``, ``pop_source``).
    districts
        District names by position, the outside-districts name last.
    housing
        Housing buildings (counted per km² of residential landuse).
    landuse
        Landuse polygons (residential ones are measured).
    bgeo
        District boundaries (EPSG:4326, positions as in ``districts``); None: one
        district.
    housing_local
        ``(local points, in_residential, EPSG:4326 points)`` of ``housing`` when already
        worked out (``Homes.local_points``, ``Homes.in_residential``, ``Homes.points``),
        used when their CRS is the one measured in here.
    """
    df = pd.DataFrame({"district": points["district"].to_numpy(), "pop": points["pop"].to_numpy()})
    for s, col in zip(POP_SOURCES, QUALITY_COLUMNS[2:6], strict=True):
        df[col] = np.where(points["pop_source"].to_numpy() == s, df["pop"], 0.0)
    g = df.groupby("district", sort=False).sum()
    for col in QUALITY_COLUMNS[2:6]:
        g[col] = (g[col] / g["pop"]).where(g["pop"] > 0)
    res_lu = residential_landuse(landuse)
    res_km2 = pd.Series(0.0, index=g.index)
    n_b = pd.Series(0.0, index=g.index)
    if len(res_lu):
        crs = local_crs(res_lu)
        lu_loc = res_lu.to_crs(crs)
        reps = lu_loc.representative_point().to_crs(WGS84)
        lu_d = (
            districts[np.where((k := first_containing(reps, bgeo)) < 0, len(districts) - 1, k)]
            if bgeo is not None
            else np.full(len(res_lu), districts[0])
        )
        res_km2 = pd.Series(lu_loc.area.to_numpy() / 1e6).groupby(lu_d).sum()
        if len(housing):
            if housing_local is not None and housing_local[0].crs == crs:
                hw = gpd.GeoSeries(housing_local[2][housing_local[1]], crs=WGS84)
            else:
                hr = housing.geometry.to_crs(crs).representative_point()
                hw = hr[first_containing(hr, lu_loc.geometry) >= 0].to_crs(WGS84)
            h_d = (
                districts[np.where((k := first_containing(hw, bgeo)) < 0, len(districts) - 1, k)]
                if bgeo is not None
                else np.full(len(hw), districts[0])
            )
            n_b = pd.Series(1.0, index=range(len(hw))).groupby(h_d).sum()
    g["residential_km2"] = res_km2.reindex(g.index).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["buildings_per_km2_residential"] = (
            n_b.reindex(g.index).fillna(0.0) / g["residential_km2"]
        ).where(g["residential_km2"] > 0)
    return g.reset_index()[list(QUALITY_COLUMNS)]


__all__ = [
    "CHECK_FACTOR",
    "EDGE_M",
    "FEW_BUILDINGS_PER_KM2",
    "FEW_BUILDINGS_PER_STREET_KM",
    "POP_SOURCES",
    "QUALITY_COLUMNS",
    "RESIDENTIAL_STREETS",
    "cause_high",
    "cause_low",
    "check_places",
    "data_quality",
    "street_check",
]
