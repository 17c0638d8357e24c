"""Checks of the estimate against the data's own figures, and its data quality.

Place nodes tagged ``population`` (city, town, village, hamlet) are compared with the
demand around them (:func:`check_places`); a factor above :data:`CHECK_FACTOR` gives a
warning naming the place, both figures and the likely cause (:func:`cause_low`,
:func:`cause_high`; boundary tags are checked the same way in
:func:`geoapp.demand.scaling.control_totals`). :func:`street_check` warns when
residential streets are mapped but the homes along them are not; :func:`data_quality`
is the table per district (:data:`QUALITY_COLUMNS`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, first_containing, tag_values
from geoapp.demand.landuse import residential_landuse
from geoapp.demand.profile import DEFAULT_M2_PER_PERSON
from geoapp.demand.settlements import PLACE_RADIUS_M, place_population, within_radius

#: Estimate and tag differing by more than this factor give a warning.
CHECK_FACTOR = 1.5
#: Buildings per km² of residential land below which a warning blames sparse mapping.
FEW_BUILDINGS_PER_KM2 = 300.0

#: ``highway`` values of residential streets (for the sparse-mapping check).
RESIDENTIAL_STREETS = frozenset({"residential", "living_street"})
#: Fewer housing buildings per km of residential street than this gives a warning.
FEW_BUILDINGS_PER_STREET_KM = 10.0

#: Sources of a demand point's residents (``pop_source`` column).
POP_SOURCES = ("building", "landuse", "raster")

#: Columns of the data-quality table (``Demand.quality``), one row per district.
QUALITY_COLUMNS = (
    "district",
    "pop",
    "share_from_buildings",
    "share_from_landuse",
    "share_from_raster",
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


def check_places(
    points: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame | None,
    *,
    housing: gpd.GeoSeries | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    extent: object = None,
    m2_per_person: float = DEFAULT_M2_PER_PERSON,
    factor: float = CHECK_FACTOR,
) -> tuple[pd.DataFrame, list[str]]:
    """Compare the demand around place nodes with their ``population`` tag.

    Each demand point counts for the nearest place node (city, town, village, hamlet
    carrying ``population``) within that place's radius (:data:`PLACE_RADIUS_M`). An
    estimate and tag differing by more than ``factor`` give a warning naming the place,
    both figures and the likely cause.

    Parameters
    ----------
    points
        Demand points (``pop``).
    features
        Feature table with ``place`` and ``population`` columns (others are ignored).
    housing
        Housing building footprints (to count buildings per km² of residential land).
    landuse
        Landuse polygons.
    extent
        Shapely geometry (EPSG:4326) of the data; the share of each circle inside it is
        reported when the extract cuts the place.
    m2_per_person
        Floor area per person used (named in the warning).
    factor
        Tolerance factor.

    Returns
    -------
    tuple
        ``(table, warnings)``: one row per checked place (``osm_id``, ``name``,
        ``place``, ``population_tag``, ``estimate``, ``radius_m``, ``ratio``) and the
        warnings.
    """
    cols = ["osm_id", "name", "place", "population_tag", "estimate", "radius_m", "ratio"]
    if (
        features is None
        or not len(features)
        or "place" not in features.columns
        or "population" not in features.columns
    ):
        return pd.DataFrame(columns=cols), []
    place = tag_values(features, "place")
    tag = features["population"].map(place_population).to_numpy(dtype=float)
    keep = place.isin(PLACE_RADIUS_M).to_numpy() & np.isfinite(tag)
    keep &= (features.geometry.notna() & ~features.geometry.is_empty).to_numpy()
    f = features.loc[keep]
    if not len(f) or not len(points):
        return pd.DataFrame(columns=cols), []
    tag = tag[keep]
    crs = local_crs(points)
    centres = f.geometry.to_crs(crs)
    centres = centres.where(centres.geom_type == "Point", centres.representative_point())
    radius = place.loc[f.index].map(PLACE_RADIUS_M).to_numpy(dtype=float)
    disks = gpd.GeoSeries(centres.buffer(radius).to_numpy(), crs=crs)
    centre_geoms = np.asarray(centres.to_numpy(), dtype=object)
    pts = points.geometry.to_crs(crs).to_numpy()
    # points within each place's radius (the circle, not its polygon), nearest first
    pi, di, dist = within_radius(pts, centre_geoms, radius)
    order = np.lexsort((dist, pi))
    pi, di = pi[order], di[order]
    first = np.unique(pi, return_index=True)[1]
    est = np.bincount(
        di[first],
        weights=points["pop"].to_numpy(dtype=float)[pi[first]],
        minlength=len(f),
    )
    cover = np.ones(len(f))
    if extent is not None:
        ext = gpd.GeoSeries([extent], crs=WGS84).to_crs(crs).iloc[0]
        cover = disks.intersection(ext).area.to_numpy() / disks.area.to_numpy()
    res_lu = residential_landuse(landuse).to_crs(crs)
    res_km2 = np.zeros(len(f))
    n_b = np.zeros(len(f))
    if len(res_lu):
        di2, li = res_lu.sindex.query(disks.to_numpy(), predicate="intersects")
        d_geoms = disks.to_numpy()
        l_geoms = res_lu.geometry.to_numpy()
        shapely.prepare(d_geoms)
        # a polygon inside the disk counts whole; only those crossing its edge are cut
        inside = shapely.contains_properly(d_geoms[di2], l_geoms[li])
        area = shapely.area(l_geoms[li])
        cross = ~inside
        area[cross] = shapely.area(shapely.intersection(d_geoms[di2[cross]], l_geoms[li[cross]]))
        res_km2 = np.bincount(di2, weights=area / 1e6, minlength=len(f))
        if housing is not None and len(housing):
            hr = gpd.GeoSeries(housing.to_crs(crs).representative_point().to_numpy(), crs=crs)
            in_res = first_containing(hr, res_lu.geometry) >= 0
            hr = hr[in_res]
            if len(hr):
                _, dj, _ = within_radius(hr.to_numpy(), centre_geoms, radius)
                n_b = np.bincount(dj, minlength=len(f)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(est > 0, tag / est, np.inf)
        bpk = np.where(res_km2 > 0, n_b / res_km2, 0.0)
    names = (
        f["name"].astype(object).where(f["name"].notna(), None).to_numpy()
        if "name" in f.columns
        else np.full(len(f), None)
    )
    ids = f["osm_id"].astype(str).to_numpy() if "osm_id" in f.columns else np.full(len(f), "")
    warnings = []
    for k in np.flatnonzero((ratio > factor) | (ratio < 1 / factor)):
        label = names[k] or ids[k] or f"{place.loc[f.index[k]]} node"
        if ratio[k] > 1:
            cause = cause_low(cover[k], radius[k], bpk[k], res_km2[k], m2_per_person)
            word = "below"
        else:
            cause = cause_high(m2_per_person)
            word = "above"
        times = (
            "no residents" if not np.isfinite(ratio[k]) else f"{max(ratio[k], 1 / ratio[k]):.1f}×"
        )
        warnings.append(
            f"Place {label!r} ({place.loc[f.index[k]]}, {ids[k]}): population tag "
            f"{tag[k]:,.0f}, estimate {est[k]:,.0f} residents within {radius[k]:,.0f} m "
            f"({times} {word} the tag); likely cause: {cause}."
        )
    table = pd.DataFrame(
        {
            "osm_id": ids,
            "name": names,
            "place": place.loc[f.index].to_numpy(),
            "population_tag": tag,
            "estimate": est,
            "radius_m": radius,
            "ratio": ratio,
        }
    )
    return table, warnings


def street_check(
    edges: gpd.GeoDataFrame | None, n_housing: int, total: float, method: str
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
        The demand method; a raster alone needs no mapped homes (no check).

    Returns
    -------
    str or None
        The warning when there are fewer than :data:`FEW_BUILDINGS_PER_STREET_KM` housing
        buildings per km of at least 1 km of residential street.
    """
    if edges is None or not len(edges) or "highway" not in edges.columns or method == "raster":
        return None
    res = tag_values(edges, "highway").isin(RESIDENTIAL_STREETS).to_numpy()
    length = pd.to_numeric(edges.get("length_m"), errors="coerce").fillna(0.0).to_numpy()
    km = float(length[res].sum()) / 1000.0
    if km < 1.0:
        return None
    per_km = n_housing / km
    if per_km >= FEW_BUILDINGS_PER_STREET_KM:
        return None
    return (
        f"The extract has {km:,.0f} km of residential streets but only {n_housing:,} housing "
        f"buildings ({per_km:.1f} per km; a street lined with homes has about 100): most "
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
    """
    df = pd.DataFrame({"district": points["district"].to_numpy(), "pop": points["pop"].to_numpy()})
    for s, col in zip(POP_SOURCES, QUALITY_COLUMNS[2:5], strict=True):
        df[col] = np.where(points["pop_source"].to_numpy() == s, df["pop"], 0.0)
    g = df.groupby("district", sort=False).sum()
    for col in QUALITY_COLUMNS[2:5]:
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
            hr = housing.geometry.to_crs(crs).representative_point()
            inside = first_containing(hr, lu_loc.geometry) >= 0
            hw = hr[inside].to_crs(WGS84)
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
