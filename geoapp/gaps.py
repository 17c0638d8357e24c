"""Gaps and zone comparison across the urban core, new towns and rural areas.

A gap is demand lying beyond a layer's target distance.

* :func:`find_gaps` flags H3 cells whose uncovered demand reaches a threshold, merges
  adjacent flagged cells into gap areas, ranks them and explains each in plain words
  (English ``reason`` and Chinese ``reason_zh``).
* :func:`compare_zones` compares zone types per layer: coverage shares, ratio to the
  core, median and 90th-percentile distance, facilities per 10,000 and a Gini index of
  walking distance, with a target flag.
* :func:`gini` and :func:`weighted_percentile` are the statistics behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geoapp.catalog import Layer, radius_label
from geoapp.crs import local_crs
from geoapp.population import h3_cells, h3_polygons
from geoapp.zones import BROAD_TYPES

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: A cell is flagged when at least this many residents of the layer's demand (all
#: residents, or residents aged 60+ for 60+ layers) lie beyond the target: it ignores
#: stray buildings while keeping small rural clusters.
DEFAULT_MIN_UNCOVERED = 10.0

#: Coverage targets by layer id: (radius in metres, share of residents). Community
#: services: 85% of residents within the 15-minute life circle (1,000 m), the national
#: 14th Five-Year Plan target for urban communities.
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {"community_services": (1000.0, 0.85)}

GAP_COLUMNS = (
    "gap_id",
    "rank",
    "layer",
    "uncovered_pop",
    "uncovered_pop_60plus",
    "nearest_m",
    "max_nearest_m",
    "district",
    "zone_type",
    "n_cells",
    "target_m",
    "access_mode",
    "reason",
    "reason_zh",
)


# ---------------------------------------------------------------------------- statistics


def gini(values: np.ndarray | pd.Series | list[float], weights=None) -> float:
    """Return the (weighted) Gini index of non-negative values.

    The Gini index is the mean absolute difference between two residents drawn at
    random (with replacement, by weight) divided by twice the mean:
    ``G = Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ)``, computed from the Lorenz curve in
    O(n log n). 0 is perfect equality; a single holder of everything among n equal
    weights gives (n − 1)/n.

    Parameters
    ----------
    values
        Non-negative finite values (NaN values are left out with their weights).
    weights
        Non-negative weights (e.g. residents); default all 1.

    Returns
    -------
    float
        NaN when there is nothing to measure (no values, zero total weight or a zero
        mean).

    Raises
    ------
    ValueError
        On negative or infinite values or negative weights (cap infinite distances at
        the search limit first).
    """
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError(f"values ({x.shape}) and weights ({w.shape}) differ in length")
    keep = ~(np.isnan(x) | np.isnan(w))
    x, w = x[keep], w[keep]
    if np.isinf(x).any() or (x < 0).any():
        raise ValueError("gini needs finite non-negative values; cap infinite distances first")
    if (w < 0).any() or np.isinf(w).any():
        raise ValueError("gini needs finite non-negative weights")
    total_w = w.sum()
    if x.size == 0 or total_w <= 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    wx = w * x
    total_wx = wx.sum()
    if total_wx <= 0:
        return float("nan")
    p = np.concatenate([[0.0], np.cumsum(w) / total_w])
    lz = np.concatenate([[0.0], np.cumsum(wx) / total_wx])
    area = np.sum((p[1:] - p[:-1]) * (lz[1:] + lz[:-1]))
    g = 1.0 - area
    return float(g) if g > 1e-12 else 0.0  # rounding noise of an equal distribution


def weighted_percentile(values, weights, q):
    """Return the weighted percentile(s) ``q`` (0–100) of ``values``.

    The inverted weighted CDF: the smallest value whose cumulative weight share reaches
    ``q``/100 (the weighted analogue of numpy's ``method="inverted_cdf"``; for equal
    weights the median of ``[1, 2, 3, 4]`` is 2). Infinite values are kept, so when more
    than 10% of residents have no facility within the search limit the 90th percentile
    is ``inf``. NaN values and zero weights are left out.

    Parameters
    ----------
    values
        Values (may contain ``inf``).
    weights
        Non-negative weights of the same length.
    q
        Percentile or array of percentiles in [0, 100].

    Returns
    -------
    float or numpy.ndarray
        NaN when the total weight is zero.
    """
    x = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError(f"values ({x.shape}) and weights ({w.shape}) differ in length")
    qa = np.asarray(q, dtype=float)
    if ((qa < 0) | (qa > 100)).any():
        raise ValueError(f"percentiles must be in [0, 100], not {q}")
    keep = ~np.isnan(x) & ~np.isnan(w) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        res = np.full(qa.shape, np.nan)
        return float(res) if res.ndim == 0 else res
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w) / w.sum()
    idx = np.searchsorted(cum, qa / 100.0 - 1e-12, side="left")
    res = x[np.clip(idx, 0, x.size - 1)]
    return float(res) if np.ndim(res) == 0 else res


# ---------------------------------------------------------------------------- helpers


def _layer_rows(access: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    if "layer" in access.columns:
        m = (access["layer"].astype(str) == layer.id).to_numpy()
        if m.any():
            return access.loc[m]
        if len(access):
            log.warning(
                "access table has no rows labelled layer %r; using all %d rows",
                layer.id,
                len(access),
            )
    return access


def _dist(access: pd.DataFrame) -> np.ndarray:
    d = pd.to_numeric(access["dist_m"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(d), np.inf, d)


def _weights(access: pd.DataFrame, col: str) -> np.ndarray:
    if col not in access.columns:
        return np.zeros(len(access))
    return pd.to_numeric(access[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _search_limit(access: pd.DataFrame, layer: Layer, given: float | None) -> float:
    if given is not None:
        return float(given)
    attrs = getattr(access, "attrs", {}) or {}
    lim = attrs.get("search_limit_m") or attrs.get("max_dist_m")
    return float(lim) if lim else layer.max_radius_m


def _fmt_int(x: float) -> str:
    return "<1" if 0 < x < 0.5 else f"{round(x):,}"


def _fmt_m(x: float) -> str:
    return f"{round(x / 10.0) * 10:,.0f}"


def _reasons(
    n: float,
    layer: Layer,
    target: float,
    nearest: float,
    euclidean: bool,
    limit: float,
) -> tuple[str, str]:
    age = layer.population == "age_60plus"
    count = _fmt_int(n)
    one = count == "1"
    who = ("resident" if one else "residents") + (" aged 60+" if age else "")
    verb = "lives" if one else "live"
    mode = "straight-line" if euclidean else "walk"
    noun = layer.name("en").lower()
    if np.isfinite(nearest):
        tail = f"nearest is {_fmt_m(nearest)} m"
        tail_zh = f"最近的在{_fmt_m(nearest)}米处"
    else:
        tail = f"nearest is beyond the {_fmt_m(limit)} m search limit"
        tail_zh = f"{_fmt_m(limit)}米搜索范围内没有"
    en = f"{count} {who} {verb} more than {_fmt_m(target)} m {mode} from the nearest {noun}; {tail}"
    who_zh = "60岁及以上居民" if age else "居民"
    mode_zh = "直线距离" if euclidean else "步行距离"
    zh = f"{count}名{who_zh}距最近的{layer.name('zh')}{mode_zh}超过{_fmt_m(target)}米；{tail_zh}"
    return en, zh


def _empty_gaps() -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=object) for c in GAP_COLUMNS}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _cells_for(access: gpd.GeoDataFrame, res: int) -> np.ndarray:
    if len(access) and "h3" in access.columns:
        first = str(access["h3"].iloc[0])
        if h3.is_valid_cell(first) and h3.get_resolution(first) == res:
            return access["h3"].astype(str).to_numpy()
    return h3_cells(access.geometry, res)


# ---------------------------------------------------------------------------- gaps


def flag_uncovered(
    access: gpd.GeoDataFrame, layer: Layer, target_m: float | None = None
) -> gpd.GeoDataFrame:
    """Return a copy of an access table with ``uncovered`` (bool) per demand point.

    A point is uncovered when its ``dist_m`` exceeds the target (``target_m``, default
    the layer's ``target_m``); ``inf`` (no facility within the search limit) and NaN
    count as uncovered.
    """
    target = float(layer.target_m if target_m is None else target_m)
    out = access.copy()
    out["uncovered"] = _dist(access) > target
    return out


def find_gaps(
    access: gpd.GeoDataFrame,
    layer: Layer,
    *,
    h3_res: int = 9,
    min_uncovered: float = DEFAULT_MIN_UNCOVERED,
    target_m: float | None = None,
    search_limit_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Find, merge and rank the areas where demand lies beyond a layer's target.

    Demand points farther than the target from the nearest facility (``dist_m`` >
    target; ``inf`` counts) are uncovered. H3 cells whose uncovered demand (the
    layer's demand column: ``pop_60plus`` for 60+ layers, else ``pop``) is at least
    ``min_uncovered`` are flagged; flagged cells sharing an edge (H3 neighbours) are
    merged into one gap area (connected components); areas are ranked by uncovered
    demand, largest first.

    Parameters
    ----------
    access
        Access table (demand + ``dist_m``, ``facility_id``, ``access_mode``, ``layer``).
        Rows of other layers are ignored when a ``layer`` column is present.
    layer
        The layer.
    h3_res
        H3 resolution of the cells.
    min_uncovered
        Uncovered demand (residents) a cell needs to be flagged (must be > 0 to flag).
    target_m
        Target distance; default the layer's ``target_m``.
    search_limit_m
        Search bound of the distance computation, quoted when no facility was found;
        default ``access.attrs["max_dist_m"]`` (set by
        :func:`geoapp.coverage.compute_access`) or the layer's largest distance.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per gap area: ``gap_id``, ``rank``, ``layer``,
        ``uncovered_pop``, ``uncovered_pop_60plus``, ``nearest_m`` (demand-weighted
        median distance of its uncovered residents, ``inf`` when beyond the search
        limit), ``max_nearest_m``, ``district`` and ``zone_type`` (holding most of the
        uncovered demand), ``n_cells``, ``target_m``, ``access_mode``, ``reason``,
        ``reason_zh`` and ``geometry`` (the merged hexagons). Empty when there is no gap.
    """
    target = float(layer.target_m if target_m is None else target_m)
    acc = _layer_rows(access, layer)
    if not len(acc):
        return _empty_gaps()
    limit = _search_limit(access, layer, search_limit_m)
    dcol = layer.demand_column
    dist = _dist(acc)
    unc = dist > target
    w = _weights(acc, dcol)
    pop = _weights(acc, "pop")
    p60 = _weights(acc, "pop_60plus")
    cells = _cells_for(acc, h3_res)

    df = pd.DataFrame(
        {
            "h3": cells,
            "unc_w": np.where(unc, w, 0.0),
        }
    )
    per_cell = df.groupby("h3", sort=True)["unc_w"].sum()
    flagged = per_cell.index[(per_cell >= min_uncovered) & (per_cell > 0)].to_numpy()
    flagged = flagged[flagged != ""]
    if not flagged.size:
        log.info("layer %s: no gap (no cell with >= %g uncovered)", layer.id, min_uncovered)
        return _empty_gaps()

    pos = {c: i for i, c in enumerate(flagged)}
    rows, cols = [], []
    for i, c in enumerate(flagged):
        for nb in h3.grid_disk(c, 1):
            j = pos.get(nb)
            if j is not None and j != i:
                rows.append(i)
                cols.append(j)
    n = len(flagged)
    adj = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    _, label = connected_components(adj, directed=False)
    cell_gap = pd.Series(label, index=flagged)

    sel = unc & pd.Series(cells).isin(list(pos)).to_numpy()
    sub = pd.DataFrame(
        {
            "gap": cell_gap.reindex(cells[sel]).to_numpy(),
            "dist": dist[sel],
            "w": w[sel],
            "pop": pop[sel],
            "p60": p60[sel],
            "district": (
                acc["district"].astype(object).to_numpy()[sel] if "district" in acc else ""
            ),
            "zone_type": (
                acc["zone_type"].astype(object).to_numpy()[sel] if "zone_type" in acc else "unknown"
            ),
            "euclid": (
                (acc["access_mode"].astype(str) == "euclidean").to_numpy()[sel]
                if "access_mode" in acc
                else False
            ),
        }
    )
    g = sub.groupby("gap", sort=True)
    res = pd.DataFrame(
        {
            "uncovered_pop": g["pop"].sum(),
            "uncovered_pop_60plus": g["p60"].sum(),
            "wsum": g["w"].sum(),
            "max_nearest_m": g["dist"].max(),
            "euclid_all": g["euclid"].all(),
            "n_cells": cell_gap.groupby(cell_gap).size(),
        }
    )
    res["nearest_m"] = [
        weighted_percentile(part["dist"], part["w"], 50) for _, part in g[["dist", "w"]]
    ]
    for col in ("district", "zone_type"):
        t = sub.groupby(["gap", col], sort=True)["w"].sum().reset_index()
        t = t.sort_values(["w", col], ascending=[False, True], kind="stable").drop_duplicates("gap")
        res[col] = t.set_index("gap")[col]

    first_cell = pd.Series(flagged).groupby(label).min()
    res["first_cell"] = first_cell
    res = res.sort_values(
        ["wsum", "n_cells", "first_cell"], ascending=[False, False, True], kind="stable"
    )
    res["rank"] = np.arange(1, len(res) + 1)
    geoms = (
        gpd.GeoDataFrame({"gap": label}, geometry=h3_polygons(flagged).to_numpy(), crs=WGS84)
        .dissolve(by="gap")
        .geometry
    )
    reasons = [
        _reasons(r.wsum, layer, target, r.nearest_m, bool(r.euclid_all), limit)
        for r in res.itertuples()
    ]
    out = gpd.GeoDataFrame(
        {
            "gap_id": [f"{layer.id}/gap/{k}" for k in res["rank"]],
            "rank": res["rank"].to_numpy(),
            "layer": layer.id,
            "uncovered_pop": res["uncovered_pop"].to_numpy(),
            "uncovered_pop_60plus": res["uncovered_pop_60plus"].to_numpy(),
            "nearest_m": res["nearest_m"].to_numpy(dtype=float),
            "max_nearest_m": res["max_nearest_m"].to_numpy(dtype=float),
            "district": res["district"].astype(object).to_numpy(),
            "zone_type": res["zone_type"].astype(object).to_numpy(),
            "n_cells": res["n_cells"].to_numpy(dtype=np.int64),
            "target_m": target,
            "access_mode": np.where(res["euclid_all"].to_numpy(), "euclidean", "network"),
            "reason": [r[0] for r in reasons],
            "reason_zh": [r[1] for r in reasons],
        },
        geometry=geoms.reindex(res.index).to_numpy(),
        crs=WGS84,
    )
    out.attrs.update(layer=layer.id, target_m=target, min_uncovered=min_uncovered, h3_res=h3_res)
    log.info("layer %s: %d gap areas from %d flagged cells", layer.id, len(out), n)
    return out


# ---------------------------------------------------------------------------- zones


def _facility_zones(
    facilities: gpd.GeoDataFrame,
    access: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """Zone type of each facility (see :func:`compare_zones`)."""
    if not len(facilities):
        return np.array([], dtype=object)
    if "zone_type" in facilities.columns:
        return facilities["zone_type"].fillna("unknown").astype(object).to_numpy()
    pts = gpd.GeoDataFrame(
        {"_f": np.arange(len(facilities))},
        geometry=facilities.geometry.to_crs(WGS84).representative_point().to_numpy(),
        crs=WGS84,
    )
    out = np.full(len(facilities), "unknown", dtype=object)
    if boundaries is not None and len(boundaries) and "zone_type" in boundaries.columns:
        b = gpd.GeoDataFrame(
            {"_zt": boundaries["zone_type"].fillna("unknown").astype(object).to_numpy()},
            geometry=boundaries.geometry.to_crs(WGS84).to_numpy(),
            crs=WGS84,
        )
        j = gpd.sjoin(pts, b, how="inner", predicate="intersects")
        j = j[~j.index.duplicated(keep="first")]
        out[j["_f"].to_numpy()] = j["_zt"].to_numpy()
        return out
    if len(access) and "zone_type" in access.columns:
        crs = local_crs(access)
        a = gpd.GeoDataFrame(
            {"_zt": access["zone_type"].astype(object).to_numpy()},
            geometry=access.geometry.to_numpy(),
            crs=access.crs,
        ).to_crs(crs)
        j = gpd.sjoin_nearest(pts.to_crs(crs), a, how="inner")
        j = j[~j.index.duplicated(keep="first")]
        out[j["_f"].to_numpy()] = j["_zt"].to_numpy()
    return out


def compare_zones(
    access_by_layer: Mapping[str, gpd.GeoDataFrame],
    facilities_by_layer: Mapping[str, gpd.GeoDataFrame],
    layers: Mapping[str, Layer],
    *,
    targets: Mapping[str, tuple[float, float]] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    search_limit_m: float | None = None,
) -> pd.DataFrame:
    """Compare zone types (core / new_town / rural) for every layer.

    Shares, percentiles and the Gini index are weighted by the layer's demand
    (``pop_60plus`` for 60+ layers, ``pop`` otherwise).

    Parameters
    ----------
    access_by_layer
        Access table per layer id.
    facilities_by_layer
        Facility table per layer id (missing: 0 facilities). A facility's zone type is
        its ``zone_type`` column when present, else that of the district in
        ``boundaries`` containing it, else that of the nearest demand point.
    layers
        Layers by id.
    targets
        Coverage targets ``{layer_id: (radius_m, share)}`` overriding
        :data:`DEFAULT_TARGETS` (85% within 1,000 m for community services).
    boundaries
        Districts with ``zone_type``, to place facilities.
    search_limit_m
        Distance standing for ``inf`` in the Gini index (default the layer's largest
        distance, or ``attrs["search_limit_m"]`` of the access table): unreached
        residents count as being at the search limit, so the index is a lower bound.

    Returns
    -------
    pandas.DataFrame
        One row per layer and zone type (``core``, ``new_town``, ``rural`` always, and
        ``unknown`` when present): ``layer``, ``zone_type``, ``demand`` (the weighting
        column), ``pop``, ``pop_60plus``, ``share_pop_R`` and ``ratio_to_core_R`` per
        radius (shares of the layer's demand within R; ratios of the zone's share to the
        core's), ``median_dist_m``, ``p90_dist_m`` (``inf`` when beyond the search
        limit), ``facilities``, ``facilities_per_10k`` (per 10,000 of the layer's
        demand), ``gini_dist``, ``target_radius_m``, ``target_share``,
        ``share_at_target``, ``below_target``, ``status`` ("ok" | "no data"),
        ``access_mode``, ``layer_label``, ``layer_label_zh``. A zone type with no
        residents has status "no data" and NaN statistics.
    """
    all_targets = {**DEFAULT_TARGETS, **(dict(targets) if targets else {})}
    rows: list[dict[str, object]] = []
    for lid, access in access_by_layer.items():
        layer = layers[lid]
        acc = _layer_rows(access, layer)
        dcol = layer.demand_column
        dist = _dist(acc) if len(acc) else np.array([])
        w = _weights(acc, dcol)
        pop = _weights(acc, "pop")
        p60 = _weights(acc, "pop_60plus")
        zt = (
            acc["zone_type"].fillna("unknown").astype(str).replace("", "unknown").to_numpy()
            if "zone_type" in acc.columns
            else np.full(len(acc), "unknown", dtype=object)
        )
        zones = list(BROAD_TYPES) + (["unknown"] if (zt == "unknown").any() else [])
        fac = facilities_by_layer.get(lid)
        fz = (
            _facility_zones(fac, acc, boundaries) if fac is not None else np.array([], dtype=object)
        )
        limit = _search_limit(access, layer, search_limit_m)
        tr, ts = all_targets.get(lid, (np.nan, np.nan))
        mode = (
            "/".join(sorted(set(acc["access_mode"].astype(str))))
            if "access_mode" in acc.columns and len(acc)
            else ""
        )
        layer_rows: list[dict[str, object]] = []
        for z in zones:
            m = zt == z
            wz, dz = w[m], dist[m]
            total = float(wz.sum())
            ok = total > 0
            row: dict[str, object] = {
                "layer": lid,
                "zone_type": z,
                "demand": dcol,
                "pop": float(pop[m].sum()),
                "pop_60plus": float(p60[m].sum()),
            }
            for r in layer.radii_m:
                row[f"share_pop_{radius_label(r)}"] = (
                    float(wz[dz <= r].sum() / total) if ok else np.nan
                )
            nfac = int((fz == z).sum())
            row["median_dist_m"] = weighted_percentile(dz, wz, 50) if ok else np.nan
            row["p90_dist_m"] = weighted_percentile(dz, wz, 90) if ok else np.nan
            row["facilities"] = nfac
            row["facilities_per_10k"] = nfac / total * 1e4 if ok else np.nan
            row["gini_dist"] = gini(np.minimum(dz, limit), wz) if ok else np.nan
            row["target_radius_m"] = float(tr)
            row["target_share"] = float(ts)
            at = float(wz[dz <= tr].sum() / total) if ok and np.isfinite(tr) else np.nan
            row["share_at_target"] = at
            row["below_target"] = bool(ok and np.isfinite(ts) and at < ts)
            row["status"] = "ok" if ok else "no data"
            row["access_mode"] = mode
            row["layer_label"] = layer.name("en")
            row["layer_label_zh"] = layer.name("zh")
            layer_rows.append(row)
        core = next(r for r in layer_rows if r["zone_type"] == "core")
        for row in layer_rows:
            for r in layer.radii_m:
                key = radius_label(r)
                c, s = core[f"share_pop_{key}"], row[f"share_pop_{key}"]
                row[f"ratio_to_core_{key}"] = (
                    float(s / c) if np.isfinite(c) and c > 0 and np.isfinite(s) else np.nan
                )
        rows.extend(layer_rows)
        below = [r["zone_type"] for r in layer_rows if r["below_target"]]
        if below:
            log.info("layer %s below target in: %s", lid, ", ".join(map(str, below)))
    out = pd.DataFrame(rows)
    if len(out):
        share_cols = [c for c in out.columns if c.startswith("share_pop_")]
        ratio_cols = [c for c in out.columns if c.startswith("ratio_to_core_")]
        lead = ["layer", "zone_type", "demand", "pop", "pop_60plus"]
        rest = [c for c in out.columns if c not in lead + share_cols + ratio_cols]
        out = out[lead + share_cols + ratio_cols + rest]
    return out


__all__ = [
    "DEFAULT_MIN_UNCOVERED",
    "DEFAULT_TARGETS",
    "GAP_COLUMNS",
    "compare_zones",
    "find_gaps",
    "flag_uncovered",
    "gini",
    "weighted_percentile",
]
