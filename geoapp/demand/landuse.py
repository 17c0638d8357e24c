"""Residential landuse: which polygons count, their unbuilt parts, and landuse demand points.

Every residential landuse polygon contributes demand for its *unbuilt part*: the polygon
minus a plot of :data:`PLOT_M` around each housing building (around its convex hull: a
plot has no courtyards), opened by :data:`OPENING_M` (strips narrower than twice that,
such as streets and gardens between mapped houses, are dropped) and keeping pieces of at
least :data:`MIN_UNBUILT_M2` (:func:`unbuilt_landuse`). A polygon without buildings is
wholly unbuilt. So residential landuse fills only where homes are missing.

**Density of the fill** (:func:`landuse_densities`), per polygon, the first that applies:

1. *the homes mapped in it*: with at least :data:`MIN_HOMES_FOR_DENSITY` housing
   buildings inside, their residents per km² of the polygon's built part (the polygon
   less its unbuilt part), so the missing homes are taken to be like the mapped ones;
2. *the homes mapped around it*: the same figure pooled over the residential polygons
   within :data:`HOMES_AROUND_M` that pass rule 1;
3. *the settlement's class* (:func:`place_class`: city, town or village from the
   ``place`` nodes around it): :data:`LANDUSE_DENSITY_BY_CLASS`.

Rules 1 and 2 never exceed the class figure of rule 3 (a park-like courtyard between
high-rise blocks is open space more often than missing homes). A density given by the
caller (``DemandOptions.landuse_density_per_km2``) replaces all three, everywhere.
That part × its density is spread over grid points (:func:`landuse_points`,
:func:`landuse_demand`).

Landuse values of :data:`NON_RESIDENTIAL_LANDUSE` (industrial, commercial, military ...)
mark the areas whose untagged buildings are no homes (:mod:`geoapp.demand.housing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import points

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, first_containing, polygonal_mask, tag_values

#: Landuse values treated as residential (when the landuse table has a ``landuse`` column).
RESIDENTIAL_LANDUSE = frozenset({"residential"})
#: Landuse values whose untagged buildings house nobody (OSM wiki, Key:landuse: land
#: used for industry, shops and offices, the military, burial, worship, schools,
#: institutions, railways, ports, garages, depots, landfills and quarries). A building
#: inside also inside residential landuse (overlapping polygons) stays a candidate home.
NON_RESIDENTIAL_LANDUSE = frozenset(
    {
        "industrial", "commercial", "retail", "military", "cemetery", "religious",
        "education", "institutional", "railway", "port", "garages", "depot", "landfill",
        "quarry",
    }
)  # fmt: skip

#: Residents per km² of residential land by settlement class (rule 3 of the module
#: docstring). Statistics Netherlands (CBS), "Living space per household reduced over
#: the past decade" (20 April 2010): the area designated for residential purposes
#: (houses, gardens and local roads: what ``landuse=residential`` outlines) per resident
#: in 2006 was 209 m² in Drenthe, the most rural province (7 % of its residents live in
#: a city), 139 m² in the Netherlands as a whole and 100 m² in South Holland, the most
#: urbanised: 1 km² / 209 m² ≈ 4,800 (village), / 139 m² ≈ 7,200 (town), / 100 m² =
#: 10,000 residents per km² (city; also the shipped profiles' figure, the low end of
#: GB 50180-2018's residential-area indicators for China). The city figure is the
#: profile's ``landuse_density_per_km2`` when it gives one.
LANDUSE_DENSITY_BY_CLASS = {"city": 10_000.0, "town": 7_200.0, "village": 4_800.0}
#: Class of a point near no ``place`` node of the kinds in :data:`PLACE_CLASS`.
UNKNOWN_CLASS = "town"
#: Housing buildings a polygon needs inside for its own homes to give its density.
MIN_HOMES_FOR_DENSITY = 5
#: Distance (m) within which residential polygons' homes give a polygon its density.
HOMES_AROUND_M = 1_000.0

#: ``place`` kinds and the settlement class they give the points within their radius.
PLACE_CLASS = {
    "city": "city",
    "town": "town",
    "village": "village",
    "hamlet": "village",
    "isolated_dwelling": "village",
    "farm": "village",
}
#: Radius (m) of each ``place`` kind within which a point belongs to it: city 5 km, town
#: 2.5 km, village 1 km, hamlet 300 m (as the place checks,
#: :data:`geoapp.demand.settlements.PLACE_RADIUS_M`), isolated dwelling and farm 150 m.
PLACE_CLASS_RADIUS_M = {
    "city": 5_000.0,
    "town": 2_500.0,
    "village": 1_000.0,
    "hamlet": 300.0,
    "isolated_dwelling": 150.0,
    "farm": 150.0,
}
#: Of several places around a point, the highest class wins (a village node inside a
#: city's radius is a part of that city's urban area).
CLASS_RANK = {"city": 3, "town": 2, "village": 1}
#: Plot around each housing building taken as built (m) when finding unbuilt landuse.
PLOT_M = 25.0
#: Opening radius (m): unbuilt strips narrower than twice this are dropped.
OPENING_M = 25.0
#: Smallest unbuilt piece of residential landuse that gets demand (m²).
MIN_UNBUILT_M2 = 5_000.0


def landuse_ids(lu: pd.DataFrame) -> np.ndarray:
    """Ids of landuse polygons: ``landuse_id``, else ``osm_id``, else ``landuse/<n>``."""
    for col in ("landuse_id", "osm_id"):
        if col in lu.columns:
            return lu[col].astype(str).to_numpy()
    return np.array([f"landuse/{i}" for i in range(len(lu))], dtype=object)


def residential_landuse(landuse: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Return the residential landuse polygons (EPSG:4326), their ids in ``_lu_id``."""
    if landuse is None or not len(landuse):
        return gpd.GeoDataFrame({"_lu_id": []}, geometry=[], crs=WGS84)
    lu = landuse.loc[polygonal_mask(landuse)]
    if "landuse" in lu.columns:
        lu = lu.loc[tag_values(lu, "landuse").isin(RESIDENTIAL_LANDUSE).to_numpy()]
    ids = landuse_ids(lu)
    return gpd.GeoDataFrame(
        {"_lu_id": ids}, geometry=lu.geometry.to_crs(WGS84).to_numpy(), crs=WGS84
    )


def non_residential_landuse(landuse: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Return the landuse polygons of :data:`NON_RESIDENTIAL_LANDUSE` (EPSG:4326).

    Columns ``landuse`` (the value) and geometry; empty without a ``landuse`` column.
    """
    if landuse is None or not len(landuse) or "landuse" not in landuse.columns:
        return gpd.GeoDataFrame({"landuse": []}, geometry=[], crs=WGS84)
    lu = landuse.loc[polygonal_mask(landuse)]
    value = tag_values(lu, "landuse")
    keep = value.isin(NON_RESIDENTIAL_LANDUSE).to_numpy()
    return gpd.GeoDataFrame(
        {"landuse": value.to_numpy()[keep]},
        geometry=lu.geometry.to_crs(WGS84).to_numpy()[keep],
        crs=WGS84,
    )


def place_class(points: np.ndarray, features: gpd.GeoDataFrame | None) -> np.ndarray:
    """Return each point's settlement class: ``"city"``, ``"town"``, ``"village"`` or ``""``.

    A point belongs to the ``place`` nodes (or areas, at their representative point) of
    :data:`PLACE_CLASS` whose :data:`PLACE_CLASS_RADIUS_M` reaches it; of several, the
    highest class (:data:`CLASS_RANK`) wins; ``""`` when none reaches it.

    Parameters
    ----------
    points
        EPSG:4326 shapely geometries (points; others count at a representative point).
    features
        The feature table (``place`` column; None or no such column: every point ``""``).
    """
    points = np.asarray(points, dtype=object)
    out = np.full(len(points), "", dtype=object)
    if features is None or not len(features) or "place" not in features.columns or not len(out):
        return out
    kind = tag_values(features, "place")
    keep = (
        kind.isin(PLACE_CLASS).to_numpy()
        & (features.geometry.notna() & ~features.geometry.is_empty).to_numpy()
    )
    if not keep.any():
        return out
    f = features.loc[keep].to_crs(WGS84)
    kinds = kind.to_numpy()[keep]
    centres = np.asarray(f.geometry.to_numpy(), dtype=object)
    not_pt = shapely.get_type_id(centres) != 0
    centres[not_pt] = shapely.point_on_surface(centres[not_pt])
    pts = points.copy()
    not_pt = ~shapely.is_missing(pts) & (shapely.get_type_id(pts) != 0)
    pts[not_pt] = shapely.point_on_surface(pts[not_pt])
    crs = local_crs(gpd.GeoSeries(centres, crs=WGS84))
    c_loc = gpd.GeoSeries(centres, crs=WGS84).to_crs(crs).to_numpy()
    p_loc = gpd.GeoSeries(pts, crs=WGS84).to_crs(crs).to_numpy()
    radius = np.array([PLACE_CLASS_RADIUS_M[k] for k in kinds], dtype=float)
    tree = shapely.STRtree(c_loc)
    pi, ci = tree.query(p_loc, predicate="dwithin", distance=float(radius.max()))
    if not len(pi):
        return out
    near = shapely.distance(p_loc[pi], c_loc[ci]) <= radius[ci]
    pi, ci = pi[near], ci[near]
    rank = np.array([CLASS_RANK[PLACE_CLASS[k]] for k in kinds])
    best = np.zeros(len(points), dtype=np.int64)
    np.maximum.at(best, pi, rank[ci])
    names = {r: c for c, r in CLASS_RANK.items()}
    hit = best > 0
    out[hit] = [names[r] for r in best[hit]]
    return out


def landuse_points(
    landuse: gpd.GeoDataFrame, density_per_km2: float | np.ndarray, spacing_m: float | None
) -> gpd.GeoDataFrame:
    """Spread residential landuse population over grid points inside each polygon.

    ``density_per_km2``: one figure, or one per row of ``landuse`` (residents per km²).
    """
    dens = np.broadcast_to(np.asarray(density_per_km2, dtype=float), (len(landuse),))
    keep = polygonal_mask(landuse)
    if "landuse" in landuse.columns:
        keep &= (
            landuse["landuse"]
            .astype("string")
            .str.lower()
            .isin(RESIDENTIAL_LANDUSE)
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    lu = landuse.loc[keep]
    dens = dens[keep]
    if not len(lu):
        return gpd.GeoDataFrame({"_lu": [], "pop": []}, geometry=[], crs=WGS84)
    crs = local_crs(lu)
    loc = lu.geometry.to_crs(crs).reset_index(drop=True)
    area_km2 = loc.area.to_numpy() / 1e6
    minx, miny, maxx, maxy = loc.total_bounds
    if spacing_m is None:
        # about 100 m, coarser when the extent would need more than ~2 million points
        spacing_m = max(100.0, float(np.sqrt((maxx - minx) * (maxy - miny) / 2e6)))
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    grid = gpd.GeoDataFrame(geometry=points(gx.ravel(), gy.ravel()), crs=crs)
    polys = gpd.GeoDataFrame({"_lu": np.arange(len(loc))}, geometry=loc.to_numpy(), crs=crs)
    j = gpd.sjoin(grid, polys, how="inner", predicate="within")
    j = j[~j.index.duplicated(keep="first")][["_lu", "geometry"]]
    # polygons too small to hold a grid point get their representative point
    missing = np.setdiff1d(np.arange(len(loc)), j["_lu"].unique())
    extra = gpd.GeoDataFrame(
        {"_lu": missing}, geometry=loc.iloc[missing].representative_point().to_numpy(), crs=crs
    )
    pts = pd.concat([j, extra], ignore_index=True)
    counts = pts["_lu"].map(pts["_lu"].value_counts()).to_numpy()
    lu_i = pts["_lu"].to_numpy()
    pts["pop"] = area_km2[lu_i] * dens[lu_i] / counts
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=crs).to_crs(WGS84)
    ids = landuse_ids(lu)
    pts["_source"] = ids[pts["_lu"].to_numpy()]
    return pts


def unbuilt_landuse(
    landuse: gpd.GeoDataFrame | None,
    housing: gpd.GeoDataFrame | gpd.GeoSeries | None,
) -> gpd.GeoDataFrame:
    """Return the unbuilt parts of residential landuse polygons.

    Each residential polygon minus a plot of :data:`PLOT_M` around every housing
    footprint's convex hull, opened by :data:`OPENING_M`, pieces below
    :data:`MIN_UNBUILT_M2` dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per landuse polygon with an unbuilt part: ``landuse_id``,
        ``landuse_km2`` (whole polygon), ``unbuilt_km2``, geometry (the unbuilt part).
    """
    return _unbuilt_parts(residential_landuse(landuse), housing).drop(columns="_i")


def _unbuilt_parts(
    res_lu: gpd.GeoDataFrame, housing: gpd.GeoDataFrame | gpd.GeoSeries | None
) -> gpd.GeoDataFrame:
    """:func:`unbuilt_landuse` of :func:`residential_landuse` rows, with their position ``_i``."""
    empty = gpd.GeoDataFrame(
        {"landuse_id": [], "landuse_km2": [], "unbuilt_km2": [], "_i": []},
        geometry=[],
        crs=WGS84,
    )
    if not len(res_lu):
        return empty
    crs = local_crs(res_lu)
    lu = res_lu.to_crs(crs).reset_index(drop=True)
    lu["_i"] = np.arange(len(lu))
    lu_m2 = lu.area.to_numpy()
    whole_km2 = lu_m2 / 1e6
    part = lu[["_i", "geometry"]]
    if housing is not None and len(housing):
        hg = housing.geometry if isinstance(housing, gpd.GeoDataFrame) else housing
        # the hull's buffer: a quarter of the time of the footprint's (15 vertices on
        # average) and no holes for courtyards a plot would cover anyway
        plots = gpd.GeoSeries(
            shapely.buffer(shapely.convex_hull(hg.to_crs(crs).to_numpy()), PLOT_M), crs=crs
        )
        pj, li = lu.sindex.query(plots.to_numpy(), predicate="intersects")
        if len(pj):
            # a polygon with buildings smaller than MIN_UNBUILT_M2 keeps no piece (each
            # piece lies inside it): it is neither cut nor kept whole (1 m² of margin for
            # the rounding of the areas)
            cuttable = (lu_m2 >= MIN_UNBUILT_M2 - 1.0)[li]
            # union the plots touching each polygon (one GEOS union per polygon), then
            # subtract them from it, vectorised
            hit, cover = _union_by(li[cuttable], plots.to_numpy()[pj[cuttable]])
            geoms = lu.geometry.to_numpy().copy()
            # only polygons with buildings are cut and opened; the others stay whole
            cut = shapely.difference(geoms[hit], cover)
            opened = shapely.intersection(
                shapely.buffer(shapely.buffer(cut, -OPENING_M), OPENING_M), geoms[hit]
            )
            pieces = gpd.GeoDataFrame({"_i": hit}, geometry=opened, crs=crs).explode(
                index_parts=False
            )
            pieces = pieces.loc[
                (pieces.geometry.geom_type == "Polygon").to_numpy()
                & (pieces.area.to_numpy() >= MIN_UNBUILT_M2)
            ]
            whole = np.setdiff1d(lu["_i"].to_numpy(), li)
            part = pd.concat(
                [
                    pieces,
                    gpd.GeoDataFrame({"_i": whole}, geometry=geoms[whole], crs=crs),
                ],
                ignore_index=True,
            )
    part = gpd.GeoDataFrame(part, geometry="geometry", crs=crs)
    part = part.loc[~part.geometry.is_empty & part.geometry.notna()]
    if not len(part):
        return empty
    i, merged = _union_by(part["_i"].to_numpy(dtype=np.int64), part.geometry.to_numpy())
    return gpd.GeoDataFrame(
        {
            "landuse_id": lu["_lu_id"].to_numpy()[i],
            "landuse_km2": whole_km2[i],
            "unbuilt_km2": shapely.area(merged) / 1e6,
            "_i": i,
        },
        geometry=gpd.GeoSeries(merged, crs=crs).to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def _union_by(keys: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct ``keys`` and the union of the ``geoms`` of each.

    As ``GeoDataFrame.dissolve(by=...)`` unites them (one GEOS unary union per group, its
    members in their order), in one shapely call: the groups as the rows of a table padded
    with None, which the union ignores.
    """
    keys = np.asarray(keys)
    if not len(keys):
        return keys, np.zeros(0, dtype=object)
    order = np.argsort(keys, kind="stable")  # by key, each group's members in their order
    uniq, group, counts = np.unique(keys[order], return_inverse=True, return_counts=True)
    rank = np.arange(len(keys)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((len(uniq), int(counts.max())), None, dtype=object)
    table[group, rank] = np.asarray(geoms, dtype=object)[order]
    return uniq, shapely.union_all(table, axis=1)


@dataclass(frozen=True)
class Densities:
    """The fill density of each residential landuse polygon (:func:`landuse_densities`).

    Attributes
    ----------
    density
        Residents per km² of the polygon's unbuilt part.
    source
        How: ``"homes in it"``, ``"homes around"``, ``"city"``, ``"town"`` or
        ``"village"`` (the class figure), or ``"given"``.
    """

    density: np.ndarray
    source: np.ndarray


def landuse_densities(
    res_lu: gpd.GeoDataFrame,
    unbuilt_km2: np.ndarray,
    home_points: np.ndarray | None,
    home_pop: np.ndarray | None,
    features: gpd.GeoDataFrame | None,
    class_density: Mapping[str, float],
    rows: np.ndarray | None = None,
) -> Densities:
    """Return the fill density of every residential polygon (rules of the module docstring).

    Parameters
    ----------
    res_lu
        :func:`residential_landuse` rows (EPSG:4326).
    unbuilt_km2
        Unbuilt area of each row (0 where all built).
    home_points, home_pop
        Representative points (EPSG:4326) and residents of the housing buildings
        (None: no homes).
    features
        Feature table with the ``place`` rows (:func:`place_class`).
    class_density
        Residents per km² by class (``city``, ``town``, ``village``).
    rows
        Positions of the rows whose density is wanted (None: all); every row's homes
        still give the densities around, the other rows get NaN and source ``""``.
    """
    n = len(res_lu)
    want = np.ones(n, dtype=bool)
    if rows is not None:
        want[:] = False
        want[np.asarray(rows, dtype=np.int64)] = True
    crs = local_crs(res_lu)
    loc = res_lu.geometry.to_crs(crs)
    whole_km2 = loc.area.to_numpy() / 1e6
    built_km2 = np.maximum(whole_km2 - np.asarray(unbuilt_km2, dtype=float), 0.0)
    cls = np.full(n, UNKNOWN_CLASS, dtype=object)
    found = place_class(loc[want].representative_point().to_crs(WGS84).to_numpy(), features)
    cls[want] = np.where(found == "", UNKNOWN_CLASS, found)
    cap = np.array([float(class_density[c]) for c in cls])
    n_homes: np.ndarray = np.zeros(n)
    pop_in: np.ndarray = np.zeros(n)
    if home_points is not None and home_pop is not None and len(home_points):
        k = first_containing(
            gpd.GeoSeries(home_points, crs=WGS84).to_crs(crs), gpd.GeoSeries(loc.to_numpy())
        )
        ok = k >= 0
        n_homes = np.bincount(k[ok], minlength=n).astype(np.float64)
        pop_in = np.bincount(k[ok], weights=np.asarray(home_pop, dtype=float)[ok], minlength=n)
    own = (n_homes >= MIN_HOMES_FOR_DENSITY) & (built_km2 > 0)
    density = cap.copy()
    source = cls.astype(object)
    with np.errstate(divide="ignore", invalid="ignore"):
        own_density = np.where(own, pop_in / np.where(built_km2 > 0, built_km2, 1.0), np.nan)
    density[own] = np.minimum(own_density[own], cap[own])
    source[own] = "homes in it"
    rest = np.flatnonzero(~own & want)
    donors = np.flatnonzero(own)
    if len(rest) and len(donors):
        tree = shapely.STRtree(loc.to_numpy()[donors])
        ri, di = tree.query(loc.to_numpy()[rest], predicate="dwithin", distance=HOMES_AROUND_M)
        if len(ri):
            pop_sum = np.bincount(ri, weights=pop_in[donors[di]], minlength=len(rest))
            km2_sum = np.bincount(ri, weights=built_km2[donors[di]], minlength=len(rest))
            has = km2_sum > 0
            around = rest[has]
            density[around] = np.minimum(pop_sum[has] / km2_sum[has], cap[around])
            source[around] = "homes around"
    density[~want] = np.nan
    source[~want] = ""
    return Densities(density, source)


def landuse_demand(
    landuse: gpd.GeoDataFrame | None,
    housing: gpd.GeoDataFrame | gpd.GeoSeries | None,
    density_per_km2: float | None,
    spacing_m: float | None = None,
    *,
    home_points: np.ndarray | None = None,
    home_pop: np.ndarray | None = None,
    features: gpd.GeoDataFrame | None = None,
    class_density: Mapping[str, float] | None = None,
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Return the demand points of the unbuilt residential landuse and the assumption made.

    Parameters
    ----------
    landuse
        Landuse polygons (only residential ones are used).
    housing
        Housing buildings or their footprints, any CRS (their plots are taken as
        built); None: none.
    density_per_km2
        Residents per km² of unbuilt residential land everywhere (a caller's figure);
        None: per polygon, from the homes mapped in and around it or the settlement's
        class (:func:`landuse_densities`).
    spacing_m
        Grid spacing of the points (None: about 100 m).
    home_points, home_pop
        Representative points (EPSG:4326) and residents of the housing buildings, for
        the densities of the homes (None: none).
    features
        Feature table (its ``place`` rows give the settlement classes).
    class_density
        Residents per km² by class (default :data:`LANDUSE_DENSITY_BY_CLASS`).

    Returns
    -------
    tuple
        ``(points, assumption)``: EPSG:4326 points with ``building_id`` (""),
        ``floor_area_m2`` (NaN), ``pop``, ``pop_source`` (``"landuse"``) and ``_src`` (the
        landuse id) and the sentence for ``Demand.assumptions``; ``(None, None)`` when no
        residential landuse is unbuilt.
    """
    res_lu = residential_landuse(landuse)
    parts = _unbuilt_parts(res_lu, housing)
    if not len(parts):
        return None, None
    i = parts["_i"].to_numpy(dtype=np.int64)
    if density_per_km2 is not None:
        dens = np.full(len(parts), float(density_per_km2))
        source = np.full(len(parts), "given", dtype=object)
    else:
        unbuilt = np.zeros(len(res_lu))
        unbuilt[i] = parts["unbuilt_km2"].to_numpy(dtype=float)
        d = landuse_densities(
            res_lu,
            unbuilt,
            home_points,
            home_pop,
            features,
            class_density or LANDUSE_DENSITY_BY_CLASS,
            rows=i,
        )
        dens, source = d.density[i], d.source[i]
    lpts = landuse_points(parts.drop(columns="_i"), dens, spacing_m)
    frame = gpd.GeoDataFrame(
        {
            "building_id": "",
            "floor_area_m2": np.nan,
            "pop": lpts["pop"].to_numpy(),
            "pop_source": "landuse",
            "_src": lpts["_source"].to_numpy(),
        },
        geometry=lpts.geometry.to_numpy(),
        crs=WGS84,
    )
    km2 = parts["unbuilt_km2"].to_numpy(dtype=float)

    def area(x: float) -> str:
        return f"{x:.2f} km²" if x >= 0.01 else f"{x * 1e6:,.0f} m²"

    if density_per_km2 is not None:
        note = (
            f"{area(km2.sum())} of residential landuse without mapped buildings "
            f"({len(parts)} polygons) × {float(density_per_km2):,.0f} residents/km²"
        )
    else:
        by = []
        for src in ("homes in it", "homes around", "city", "town", "village"):
            m = source == src
            if m.any():
                avg = float((km2[m] * dens[m]).sum() / km2[m].sum()) if km2[m].sum() else 0.0
                label = {
                    "homes in it": "at the density of the homes mapped in it",
                    "homes around": f"at that of the homes within {HOMES_AROUND_M:,.0f} m",
                }.get(src, f"at the {src} density")
                by.append(f"{area(km2[m].sum())} ({int(m.sum())}) {label}, {avg:,.0f}/km²")
        note = (
            f"{area(km2.sum())} of residential landuse without mapped buildings "
            f"({len(parts)} polygons): " + "; ".join(by)
        )
    return frame, note


__all__ = [
    "CLASS_RANK",
    "HOMES_AROUND_M",
    "LANDUSE_DENSITY_BY_CLASS",
    "MIN_HOMES_FOR_DENSITY",
    "MIN_UNBUILT_M2",
    "NON_RESIDENTIAL_LANDUSE",
    "OPENING_M",
    "PLACE_CLASS",
    "PLACE_CLASS_RADIUS_M",
    "PLOT_M",
    "RESIDENTIAL_LANDUSE",
    "UNKNOWN_CLASS",
    "Densities",
    "landuse_demand",
    "landuse_densities",
    "landuse_ids",
    "landuse_points",
    "non_residential_landuse",
    "place_class",
    "residential_landuse",
    "unbuilt_landuse",
]
