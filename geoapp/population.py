"""Demand: residents per building (or per residential landuse point), and H3 maps of it.

Residents per building = floor area / floor area per person, where floor area =
footprint area (measured in the local projected CRS) × ``building:levels`` (a default
number of levels when missing). Buildings whose ``building`` tag is clearly
non-residential (:data:`NON_RESIDENTIAL`) get none. When a census table gives district
totals, the estimates are scaled so each district sums to its census total (dasymetric
mapping) and the census share of residents aged 60+ is carried over. A region with no
(residential) buildings falls back to residential landuse area × a documented density.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from shapely import points

from geoapp.crs import local_crs
from geoapp.errors import EmptyResultError, InputError
from geoapp.zones import normalize_code, normalize_district_name

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Housing floor area per person, m². Beijing, Seventh National Population Census 2020:
#: 34.89 m² per person (rounded).
DEFAULT_M2_PER_PERSON = 35.0

#: Levels assumed for a building without ``building:levels``. Two is a deliberately low
#: choice: most untagged buildings in OSM are low-rise (houses, village buildings,
#: annexes); high-rise housing is usually tagged with its levels, and census scaling
#: corrects the district totals anyway.
DEFAULT_LEVELS = 2

#: Share of residents aged 60+ used when no census gives it: China, Seventh National
#: Population Census 2020: 18.70% of the population aged 60 and over.
DEFAULT_SHARE_60PLUS = 0.187

#: Residents per km² of residential landuse, used only when a region has no residential
#: buildings. 10,000/km² (100 per hectare) is a moderate net density for residential
#: land: GB 50180-2018's residential-area indicators imply roughly 10,000–30,000 residents
#: per km² of residential land from low-rise to high-rise, so this is a conservative
#: choice for mixed low/mid-rise areas. With a census table the totals are scaled anyway.
LANDUSE_DENSITY_PER_KM2 = 10_000.0

#: Landuse values treated as residential (when the landuse table has a ``landuse`` column).
RESIDENTIAL_LANDUSE = frozenset({"residential"})

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
    "h3",
)


# ---------------------------------------------------------------------------- helpers


def h3_cells(geometry: gpd.GeoSeries, res: int = 9) -> np.ndarray:
    """Return the H3 cell (str) of each point of ``geometry`` at ``res``.

    Non-point geometries use their representative point; the series is reprojected to
    EPSG:4326 first. Empty geometries give ``""``.
    """
    g = geometry if geometry.crs is None else geometry.to_crs(WGS84)
    g = g.where(g.geom_type == "Point", g.representative_point())
    lat, lng = g.y.to_numpy(), g.x.to_numpy()
    ok = np.isfinite(lat) & np.isfinite(lng)
    return np.array(
        [h3.latlng_to_cell(a, b, res) if k else "" for a, b, k in zip(lat, lng, ok, strict=True)],
        dtype=object,
    )


def h3_polygons(cells: pd.Series | np.ndarray | list[str]) -> gpd.GeoSeries:
    """Return the hexagon polygons of H3 cells (EPSG:4326)."""
    from shapely import polygons

    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    if not rings:
        return gpd.GeoSeries([], crs=WGS84)
    # pentagons have 5 vertices; pad by repeating the first so every ring has 6
    rings = [r + [r[0]] * (6 - len(r)) for r in rings]
    return gpd.GeoSeries(polygons(np.asarray(rings, dtype=float)), crs=WGS84)


def _empty_demand(method: str) -> gpd.GeoDataFrame:
    data: dict[str, pd.Series] = {
        c: pd.Series(dtype=float if c in ("floor_area_m2", "pop", "pop_60plus") else object)
        for c in DEMAND_COLUMNS
    }
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    out.attrs["demand_method"] = method
    return out


def _residential_mask(buildings: gpd.GeoDataFrame, non_residential: frozenset[str]) -> np.ndarray:
    if "building" not in buildings.columns:
        return np.ones(len(buildings), dtype=bool)
    tag = buildings["building"].astype("string").str.strip().str.lower().fillna("yes")
    return ~tag.isin(non_residential).to_numpy(dtype=bool)


def _polygonal(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return (
        gdf.geometry.notna()
        & ~gdf.geometry.is_empty
        & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    ).to_numpy()


def _assign_districts(
    pts: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, int]:
    """Spatially join points to districts; drop points outside every district."""
    cols = ("district", "district_code", "zone_type", "zone_fine")
    if boundaries is None or not len(boundaries):
        out = pts.copy()
        out["district"] = ""
        out["district_code"] = ""
        out["zone_type"] = "unknown"
        out["zone_fine"] = ""
        out["_b"] = -1
        return out, 0
    b = gpd.GeoDataFrame(
        {
            "_b": np.arange(len(boundaries)),
            **{
                c: (
                    boundaries[c].fillna("").astype(str).to_numpy()
                    if c in boundaries.columns
                    else np.full(
                        len(boundaries), "unknown" if c == "zone_type" else "", dtype=object
                    )
                )
                for c in cols
            },
        },
        geometry=boundaries.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )
    j = gpd.sjoin(pts, b, how="left", predicate="intersects").drop(columns="index_right")
    j = j[~j.index.duplicated(keep="first")]
    outside = j["_b"].isna().to_numpy()
    n_out = int(outside.sum())
    j = j.loc[~outside].copy()
    j["_b"] = j["_b"].astype(np.int64)
    for c in cols:
        j[c] = j[c].astype(object)
    j["district_code"] = j["district_code"].map(normalize_code).astype(object)
    return j, n_out


def _match_census(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame, strict: bool
) -> tuple[dict[int, int], list[str]]:
    """Return {boundary position: census row position} and the problems found."""
    if "pop" not in census.columns:
        raise InputError("Census table has no 'pop' column; give residents per district in 'pop'.")
    c_codes = (
        census["district_code"].map(normalize_code)
        if "district_code" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    c_names = (
        census["district"].astype(object).map(normalize_district_name)
        if "district" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    by_code = {c: i for i, c in enumerate(c_codes) if c}
    by_name = {n: i for i, n in enumerate(c_names) if n}
    b_codes = (
        boundaries["district_code"].map(normalize_code).to_numpy()
        if "district_code" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    b_names = (
        boundaries["district"].astype(object).map(normalize_district_name).to_numpy()
        if "district" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    match: dict[int, int] = {}
    for bi, (bc, bn) in enumerate(zip(b_codes, b_names, strict=True)):
        ci = by_code.get(bc) if bc else None
        if ci is None and bn:
            ci = by_name.get(bn)
        if ci is not None:
            match[bi] = ci
    problems: list[str] = []
    used = set(match.values())
    label = census["district"] if "district" in census.columns else census["district_code"]
    unmatched_c = [
        f"{label.iloc[i]} ({c_codes[i]})" if c_codes[i] else str(label.iloc[i])
        for i in range(len(census))
        if i not in used
    ]
    b_label = boundaries["district"] if "district" in boundaries.columns else pd.Series(b_codes)
    unmatched_b = [str(b_label.iloc[i]) for i in range(len(boundaries)) if i not in match]
    if unmatched_c:
        problems.append("census districts matching no boundary: " + ", ".join(unmatched_c))
    if unmatched_b:
        problems.append("boundaries with no census row: " + ", ".join(unmatched_b))
    if problems:
        msg = (
            "The census table does not match the district boundaries (matched by "
            "district_code, else by name with or without 区/县). Fix the names or codes, or "
            "pass strict=False to scale only the matched districts."
        )
        if strict:
            raise InputError(msg, problems)
        log.warning("%s %s", msg, "; ".join(problems))
    return match, problems


def _landuse_points(
    landuse: gpd.GeoDataFrame, density_per_km2: float, spacing_m: float | None
) -> gpd.GeoDataFrame:
    """Spread residential landuse population over grid points inside each polygon."""
    lu = landuse.loc[_polygonal(landuse)]
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
    if "landuse_id" in lu.columns:
        ids = lu["landuse_id"].astype(str).to_numpy()
    elif "osm_id" in lu.columns:
        ids = lu["osm_id"].astype(str).to_numpy()
    else:
        ids = np.array([f"landuse/{i}" for i in range(len(lu))], dtype=object)
    pts["_source"] = ids[pts["_lu"].to_numpy()]
    return pts


# ---------------------------------------------------------------------------- public


def estimate_population(
    buildings: gpd.GeoDataFrame | None,
    boundaries: gpd.GeoDataFrame | None,
    *,
    census: pd.DataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    m2_per_person: float = DEFAULT_M2_PER_PERSON,
    default_levels: float = DEFAULT_LEVELS,
    share_60plus: float | None = None,
    h3_res: int = 9,
    strict: bool = True,
    non_residential: frozenset[str] | set[str] = NON_RESIDENTIAL,
    landuse_density_per_km2: float = LANDUSE_DENSITY_PER_KM2,
    landuse_spacing_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Estimate residents per building (the demand table).

    Parameters
    ----------
    buildings
        Building footprints (``building_id``, ``building``, ``levels``, geometry).
    boundaries
        Districts (``district``, ``district_code``, ``zone_type``, ``zone_fine``). Demand
        points are joined to them by location; points outside every district are
        **dropped** with a warning (they lie outside the study area); the count is in
        ``attrs["dropped_outside"]``. None or empty: one unnamed region, zone type
        ``unknown``.
    census
        District totals (``district_code`` and/or ``district``, ``pop``, optional
        ``pop_60plus``). Matched to boundaries by code, else by name with or without
        the suffix 区/县, ignoring case. Each matched district's estimates are scaled to
        sum to its census ``pop``; ``pop_60plus`` = ``pop`` × the district's census
        60+ share.
    landuse
        Landuse polygons (``landuse`` column; only ``residential`` is used), the
        fallback demand when there are no residential buildings.
    m2_per_person
        Floor area per resident, m² (default 35, Beijing 2020 census).
    default_levels
        Levels of a building without a usable ``levels`` value.
    share_60plus
        Share of residents aged 60+ where no census gives it (default
        :data:`DEFAULT_SHARE_60PLUS`, China 2020); recorded in ``attrs["assumptions"]``.
    h3_res
        H3 resolution of the ``h3`` column.
    strict
        When True (default) a census that does not match the boundaries raises an
        error naming the unmatched districts on both sides; when False it warns (naming
        them), and only matched districts are scaled.
    non_residential
        ``building`` values that house no residents.
    landuse_density_per_km2
        Residents per km² of residential landuse (fallback only).
    landuse_spacing_m
        Spacing of the fallback demand points inside landuse polygons (default about
        100 m).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per residential building (or landuse demand point) with the
        demand columns of docs/architecture.md; geometry is the representative point.
        ``attrs``: ``demand_method`` ("buildings" | "landuse"), ``assumptions`` (list of
        str), ``m2_per_person``, ``default_levels``, ``census_scaled`` (bool),
        ``dropped_outside`` (int), ``census_problems`` (list of str).

    Raises
    ------
    EmptyResultError
        When there is neither a residential building nor residential landuse.
    InputError
        When ``census`` does not match the boundaries (``strict``), naming every
        unmatched district.
    """
    if m2_per_person <= 0:
        raise InputError(f"m2_per_person must be positive, not {m2_per_person}")
    if default_levels <= 0:
        raise InputError(f"default_levels must be positive, not {default_levels}")
    assumptions: list[str] = []
    default_share = DEFAULT_SHARE_60PLUS if share_60plus is None else float(share_60plus)
    if not 0 <= default_share <= 1:
        raise InputError(f"share_60plus must be between 0 and 1, not {share_60plus}")
    non_res = frozenset(str(v).lower() for v in non_residential)

    method = "buildings"
    res_b = None
    if buildings is not None and len(buildings):
        keep = _polygonal(buildings) & _residential_mask(buildings, non_res)
        res_b = buildings.loc[keep]
    if res_b is not None and len(res_b):
        if res_b.crs is None:
            raise InputError("buildings have no coordinate reference system; set one (EPSG:4326)")
        crs = local_crs(res_b)
        local = res_b.geometry.to_crs(crs)
        footprint = local.area.to_numpy()
        if "levels" in res_b.columns:
            levels = pd.to_numeric(res_b["levels"], errors="coerce").to_numpy(dtype=float)
        else:
            levels = np.full(len(res_b), np.nan)
        missing = ~np.isfinite(levels) | (levels <= 0)
        levels = np.where(missing, float(default_levels), levels)
        if missing.any():
            assumptions.append(
                f"{int(missing.sum())} of {len(res_b)} residential buildings have no levels; "
                f"assumed {default_levels:g}"
            )
        floor = footprint * levels
        if "building_id" in res_b.columns:
            bid = res_b["building_id"].astype(object).fillna("").astype(str).to_numpy()
        else:
            bid = np.array([f"building/{i}" for i in range(len(res_b))], dtype=object)
        pts = gpd.GeoDataFrame(
            {
                "building_id": bid,
                "floor_area_m2": floor,
                "pop": floor / m2_per_person,
            },
            # representative point taken in metres, as the network engine does for facilities
            geometry=local.representative_point().to_crs(WGS84).to_numpy(),
            crs=WGS84,
        )
        assumptions.append(
            f"residents = floor area / {m2_per_person:g} m² per person "
            "(Beijing 2020 census: 34.89 m²)"
        )
    else:
        method = "landuse"
        if landuse is None or not len(landuse):
            raise EmptyResultError(
                "No population can be estimated: the region has no residential buildings "
                "and no residential landuse. Use an extract with buildings "
                "(building=*) or landuse=residential areas."
            )
        lpts = _landuse_points(landuse, landuse_density_per_km2, landuse_spacing_m)
        if not len(lpts):
            raise EmptyResultError(
                "No population can be estimated: the region has no residential buildings "
                "and its landuse has no residential polygons (landuse=residential)."
            )
        pts = gpd.GeoDataFrame(
            {
                "building_id": np.full(len(lpts), "", dtype=object),
                "floor_area_m2": np.full(len(lpts), np.nan),
                "pop": lpts["pop"].to_numpy(),
                "_source": lpts["_source"].to_numpy(),
            },
            geometry=lpts.geometry.to_numpy(),
            crs=WGS84,
        )
        msg = (
            f"no residential buildings: demand estimated from residential landuse area × "
            f"{landuse_density_per_km2:g} residents/km²"
        )
        assumptions.append(msg)
        log.warning(msg)

    pts, n_out = _assign_districts(pts, boundaries)
    if n_out:
        msg = f"{n_out} demand points lie outside every district and were dropped"
        log.warning(msg)
        assumptions.append(msg)
    if not len(pts):
        raise EmptyResultError(
            "No demand point lies inside the district boundaries; check that buildings "
            "and boundaries cover the same area and CRS."
        )

    share = np.full(len(pts), default_share)
    census_problems: list[str] = []
    scaled = False
    if census is not None and len(census) and boundaries is not None and len(boundaries):
        match, census_problems = _match_census(boundaries, census, strict)
        bpos = pts["_b"].to_numpy()
        est = np.bincount(bpos, weights=pts["pop"].to_numpy(), minlength=len(boundaries))
        factor = np.ones(len(boundaries))
        b_share = np.full(len(boundaries), np.nan)
        c_pop = pd.to_numeric(census["pop"], errors="coerce").to_numpy(dtype=float)
        c_60 = (
            pd.to_numeric(census["pop_60plus"], errors="coerce").to_numpy(dtype=float)
            if "pop_60plus" in census.columns
            else np.full(len(census), np.nan)
        )
        empty: list[str] = []
        for bi, ci in match.items():
            if est[bi] > 0:
                factor[bi] = c_pop[ci] / est[bi]
            elif c_pop[ci] > 0:
                empty.append(
                    str(boundaries["district"].iloc[bi]) if "district" in boundaries else str(bi)
                )
            if c_pop[ci] > 0 and np.isfinite(c_60[ci]):
                b_share[bi] = c_60[ci] / c_pop[ci]
        if empty:
            msg = (
                "census population of these districts could not be placed (no residential "
                f"buildings in them): {', '.join(empty)}"
            )
            log.warning(msg)
            assumptions.append(msg)
        pts["pop"] = pts["pop"].to_numpy() * factor[bpos]
        bs = b_share[bpos]
        share = np.where(np.isfinite(bs), bs, default_share)
        scaled = bool(match)
        assumptions.append(
            f"population scaled to census totals in {len(match)} of {len(boundaries)} districts"
        )
        if not np.isfinite(bs).all():
            assumptions.append(
                f"share aged 60+ = {default_share:g} where the census gives none"
                + (" (China 2020 census)" if share_60plus is None else "")
            )
    else:
        if census is not None and len(census):
            msg = "census table ignored: there are no district boundaries to match it to"
            log.warning(msg)
            assumptions.append(msg)
        assumptions.append(
            f"share aged 60+ = {default_share:g}"
            + (" (China, 2020 census: 18.70%)" if share_60plus is None else " (given)")
        )
    pts["pop_60plus"] = pts["pop"].to_numpy() * share

    if method == "buildings":
        ids = pts["building_id"].astype(str)
        ok = (ids != "").all() and not ids.duplicated().any()
        demand_id = ids.to_numpy() if ok else np.array([f"demand/{i}" for i in range(len(pts))])
    else:
        src = pts["_source"].astype(str)
        demand_id = (src + "/" + src.groupby(src).cumcount().astype(str)).to_numpy()
    out = gpd.GeoDataFrame(
        {
            "demand_id": np.asarray(demand_id, dtype=object),
            "building_id": pts["building_id"].astype(object).to_numpy(),
            "floor_area_m2": pts["floor_area_m2"].to_numpy(dtype=float),
            "pop": pts["pop"].to_numpy(dtype=float),
            "pop_60plus": pts["pop_60plus"].to_numpy(dtype=float),
            "district": pts["district"].astype(object).to_numpy(),
            "district_code": pts["district_code"].astype(object).to_numpy(),
            "zone_type": pts["zone_type"].astype(object).replace("", "unknown").to_numpy(),
            "zone_fine": pts["zone_fine"].astype(object).to_numpy(),
            "h3": h3_cells(pts.geometry, h3_res),
        },
        geometry=pts.geometry.to_numpy(),
        crs=WGS84,
    )
    out.attrs.update(
        demand_method=method,
        assumptions=assumptions,
        m2_per_person=m2_per_person,
        default_levels=default_levels,
        census_scaled=scaled,
        dropped_outside=n_out,
        census_problems=census_problems,
        h3_res=h3_res,
    )
    log.info(
        "demand (%s): %d points, %.0f residents, %.0f aged 60+",
        method,
        len(out),
        out["pop"].sum(),
        out["pop_60plus"].sum(),
    )
    return out


def _weighted_mode(frame: pd.DataFrame, key: str, col: str, weight: str) -> pd.Series:
    w = frame.groupby([key, col], sort=False)[weight].sum().reset_index()
    w = w.sort_values(weight, ascending=False, kind="stable").drop_duplicates(key)
    return w.set_index(key)[col]


def aggregate_h3(
    table: gpd.GeoDataFrame,
    *,
    res: int = 9,
    sum_cols: tuple[str, ...] = ("pop", "pop_60plus"),
    mean_cols: tuple[str, ...] = (),
    mode_cols: tuple[str, ...] = ("district", "zone_type"),
    weight_col: str = "pop",
) -> gpd.GeoDataFrame:
    """Aggregate a demand (or access) table to H3 hexagons, for maps.

    Parameters
    ----------
    table
        Points with the columns to aggregate (the ``h3`` column is reused when it has
        resolution ``res``, else cells are computed from the geometry).
    res
        H3 resolution.
    sum_cols
        Columns summed per cell (missing ones are skipped).
    mean_cols
        Columns averaged per cell, weighted by ``weight_col`` (non-finite values are
        left out of the mean).
    mode_cols
        Columns whose value holding most of ``weight_col`` in the cell is kept.
    weight_col
        Weight of the means and modes (``pop``, or ``pop_60plus`` for 60+ layers).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 hexagons: ``h3``, ``n_points``, the sums, the means and modes; when
        ``dist_m`` is present also ``dist_m_mean`` (weighted mean of the finite
        distances) and ``share_beyond`` (share of the weight with no facility within
        the search limit, i.e. ``dist_m`` = inf).
    """
    if len(table) and "h3" in table.columns and h3.get_resolution(str(table["h3"].iloc[0])) == res:
        cells = table["h3"].astype(str).to_numpy()
    else:
        cells = h3_cells(table.geometry, res) if len(table) else np.array([], dtype=object)
    df = pd.DataFrame({"h3": cells})
    w = (
        pd.to_numeric(table[weight_col], errors="coerce").fillna(0.0).to_numpy()
        if weight_col in table.columns
        else np.ones(len(table))
    )
    df["_w"] = w
    sums = [c for c in sum_cols if c in table.columns]
    for c in sums:
        df[c] = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
    g = df.groupby("h3", sort=True)
    out = pd.DataFrame({"n_points": g.size()})
    if sums:
        out = out.join(g[sums].sum())
    means = list(mean_cols)
    if "dist_m" in table.columns and "dist_m" not in means:
        means.append("dist_m")
    for c in means:
        v = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
        fin = np.isfinite(v)
        tmp = pd.DataFrame(
            {
                "h3": cells,
                "wv": np.where(fin, np.where(fin, v, 0.0) * w, 0.0),
                "wf": np.where(fin, w, 0.0),
            }
        )
        gg = tmp.groupby("h3", sort=True)[["wv", "wf"]].sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{c}_mean"] = (gg["wv"] / gg["wf"]).where(gg["wf"] > 0)
        if c == "dist_m":
            beyond = pd.DataFrame({"h3": cells, "b": np.where(np.isposinf(v), w, 0.0), "w": w})
            gb = beyond.groupby("h3", sort=True)[["b", "w"]].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                out["share_beyond"] = (gb["b"] / gb["w"]).where(gb["w"] > 0)
    for c in mode_cols:
        if c in table.columns:
            tmp = pd.DataFrame({"h3": cells, c: table[c].astype(object).to_numpy(), "_w": w})
            out[c] = _weighted_mode(tmp, "h3", c, "_w")
    out = out.reset_index()
    return gpd.GeoDataFrame(out, geometry=h3_polygons(out["h3"]).to_numpy(), crs=WGS84)


__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_M2_PER_PERSON",
    "DEFAULT_SHARE_60PLUS",
    "LANDUSE_DENSITY_PER_KM2",
    "NON_RESIDENTIAL",
    "aggregate_h3",
    "estimate_population",
    "h3_cells",
    "h3_polygons",
]
