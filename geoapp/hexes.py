"""H3 hexagons: the cell of each point, the hexagon polygons, and per-cell aggregates.

Used by the demand estimate (the ``h3`` column of the demand table), by the gap finder
(hexagon polygons) and by the workflow and maps (the access table aggregated to hexagons).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

WGS84 = "EPSG:4326"


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


#: Demand cells wanted across a study area (about this many squared in the area).
CELLS_ACROSS = 50
#: Finest resolution of the residents layer: the demand table's own (about 0.1 km²).
FINEST_RES = 9
#: Coarsest resolution of the residents layer (about 250 km² cells).
COARSEST_RES = 5


def resolution_for_area(
    area_km2: float,
    *,
    cells_across: int = CELLS_ACROSS,
    finest: int = FINEST_RES,
    coarsest: int = COARSEST_RES,
) -> int:
    """Return the H3 resolution of the residents layer for a study area of this size.

    The coarsest resolution at which about ``cells_across`` cells span the area (the
    area holds ``cells_across``² average cells), never finer than ``finest`` nor
    coarser than ``coarsest``: res 9 (0.1 km² cells) up to about 1,850 km² (a 2 km²
    campus gets about 19 cells, the finest the demand table holds), res 8 (0.74 km²)
    up to about 12,900 km² and res 7 (5.2 km²) for a whole city such as Beijing
    (16,410 km²: 3,180 cells).

    Parameters
    ----------
    area_km2
        Area of the study area (or of the data), km².
    cells_across
        Cells wanted across the area.
    finest, coarsest
        Bounds of the resolution.

    Examples
    --------
    >>> resolution_for_area(2.0), resolution_for_area(430.0), resolution_for_area(16410.0)
    (9, 9, 7)
    """
    need = float(cells_across) ** 2
    area = max(float(area_km2), 0.0) if np.isfinite(area_km2) else 0.0
    for r in range(int(coarsest), int(finest) + 1):
        if area / h3.average_hexagon_area(r, unit="km^2") >= need:
            return r
    return int(finest)


def h3_polygons(cells: pd.Series | np.ndarray | list[str]) -> gpd.GeoSeries:
    """Return the hexagon polygons of H3 cells (EPSG:4326)."""
    from shapely import polygons

    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    if not rings:
        return gpd.GeoSeries([], crs=WGS84)
    # pentagons have 5 vertices; pad by repeating the first so every ring has 6
    rings = [r + [r[0]] * (6 - len(r)) for r in rings]
    return gpd.GeoSeries(polygons(np.asarray(rings, dtype=float)), crs=WGS84)


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
    mode_cols: tuple[str, ...] = ("district", "zone_type", "settlement"),
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


__all__ = ["aggregate_h3", "h3_cells", "h3_polygons", "resolution_for_area"]
