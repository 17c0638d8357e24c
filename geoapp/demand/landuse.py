"""Residential landuse: which polygons count, their unbuilt parts, and landuse demand points.

Every residential landuse polygon contributes demand for its *unbuilt part*: the polygon
minus a plot of :data:`PLOT_M` around each housing building (around its convex hull: a
plot has no courtyards), opened by :data:`OPENING_M` (strips narrower than twice that,
such as streets and gardens between mapped houses, are dropped) and keeping pieces of at
least :data:`MIN_UNBUILT_M2` (:func:`unbuilt_landuse`). That part × the profile's landuse
density (residents per km²) is spread over grid points (:func:`landuse_points`,
:func:`landuse_demand`). A polygon without buildings is wholly unbuilt.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import points

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, polygonal_mask, tag_values

#: Landuse values treated as residential (when the landuse table has a ``landuse`` column).
RESIDENTIAL_LANDUSE = frozenset({"residential"})
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


def landuse_points(
    landuse: gpd.GeoDataFrame, density_per_km2: float, spacing_m: float | None
) -> gpd.GeoDataFrame:
    """Spread residential landuse population over grid points inside each polygon."""
    lu = landuse.loc[polygonal_mask(landuse)]
    if "landuse" in lu.columns:
        lu = lu.loc[
            lu["landuse"].astype("string").str.lower().isin(RESIDENTIAL_LANDUSE).fillna(False)
        ]
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
    pts["pop"] = area_km2[pts["_lu"].to_numpy()] * density_per_km2 / counts
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
    footprint's convex hull, opened by :data:`OPENING_M`, pieces below :data:`MIN_UNBUILT_M2` dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per landuse polygon with an unbuilt part: ``landuse_id``,
        ``landuse_km2`` (whole polygon), ``unbuilt_km2``, geometry (the unbuilt part).
    """
    res_lu = residential_landuse(landuse)
    empty = gpd.GeoDataFrame(
        {"landuse_id": [], "landuse_km2": [], "unbuilt_km2": []}, geometry=[], crs=WGS84
    )
    if not len(res_lu):
        return empty
    crs = local_crs(res_lu)
    lu = res_lu.to_crs(crs).reset_index(drop=True)
    lu["_i"] = np.arange(len(lu))
    whole_km2 = lu.area.to_numpy() / 1e6
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
            # union the plots touching each polygon (one GEOS union per polygon), then
            # subtract them from it, vectorised
            pairs = gpd.GeoDataFrame({"_i": li}, geometry=plots.to_numpy()[pj], crs=crs)
            cover = pairs.dissolve(by="_i")
            hit = cover.index.to_numpy()
            geoms = lu.geometry.to_numpy().copy()
            # only polygons with buildings are cut and opened; the others stay whole
            cut = shapely.difference(geoms[hit], cover.geometry.to_numpy())
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
            whole = np.setdiff1d(lu["_i"].to_numpy(), hit)
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
    merged = part.dissolve(by="_i").reset_index()
    i = merged["_i"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "landuse_id": lu["_lu_id"].to_numpy()[i],
            "landuse_km2": whole_km2[i],
            "unbuilt_km2": merged.area.to_numpy() / 1e6,
        },
        geometry=merged.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def landuse_demand(
    landuse: gpd.GeoDataFrame | None,
    housing: gpd.GeoDataFrame | None,
    density_per_km2: float,
    spacing_m: float | None = None,
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Return the demand points of the unbuilt residential landuse and the assumption made.

    Parameters
    ----------
    landuse
        Landuse polygons (only residential ones are used).
    housing
        Housing buildings (their plots are taken as built); None: none.
    density_per_km2
        Residents per km² of unbuilt residential land (the profile's).
    spacing_m
        Grid spacing of the points (None: about 100 m).

    Returns
    -------
    tuple
        ``(points, assumption)``: EPSG:4326 points with ``building_id`` (""),
        ``floor_area_m2`` (NaN), ``pop``, ``pop_source`` (``"landuse"``) and ``_src`` (the
        landuse id) and the sentence for ``Demand.assumptions``; ``(None, None)`` when no
        residential landuse is unbuilt.
    """
    parts = unbuilt_landuse(landuse, housing)
    if not len(parts):
        return None, None
    lpts = landuse_points(parts, density_per_km2, spacing_m)
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
    note = (
        f"{parts['unbuilt_km2'].sum():.2f} km² of residential landuse without "
        f"mapped buildings ({len(parts)} polygons) × {density_per_km2:,.0f} residents/km²"
    )
    return frame, note


__all__ = [
    "MIN_UNBUILT_M2",
    "OPENING_M",
    "PLOT_M",
    "RESIDENTIAL_LANDUSE",
    "landuse_demand",
    "landuse_ids",
    "landuse_points",
    "residential_landuse",
    "unbuilt_landuse",
]
