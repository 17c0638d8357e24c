"""Gaps and zone comparison across the urban core, new towns and rural areas.

A gap is demand lying beyond a layer's target distance.

* :func:`find_gaps` outlines the areas that hold uncovered people: H3 cells in which
  nearly all of the layer's demand is uncovered (90% by default), refined to smaller
  cells where a cell is mixed, merged into gap areas, ranked and explained in plain
  words (English ``reason`` and Chinese ``reason_zh``). Every demand point inside the
  final polygons, covered or not, is counted, so ``share_uncovered`` is the honest
  purity of each area.
* :func:`compare_zones` compares zone types (or settlement classes) per layer: coverage
  shares, ratio to the core, median and 90th-percentile distance, facilities per
  10,000 and a Gini index of walking distance, with the layer's target flag and a
  ``status`` that tells missing data from missing service.
* :func:`gini` and :func:`weighted_percentile` are the statistics behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoapp import artefacts, coverage
from geoapp.catalog import Layer
from geoapp.errors import InputError
from geoapp.hexes import h3_polygons
from geoapp.styles import BROAD_ZONE_TYPES, ZONE_ORDER, zone_sort_key

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: A gap area is kept when at least this many residents of the layer's demand (all
#: residents, or residents aged 60+ for 60+ layers) lie beyond the target inside it: it
#: ignores stray buildings while keeping small rural clusters.
DEFAULT_MIN_UNCOVERED = 10.0

#: A cell becomes part of a gap when at least this share of the layer's demand in it is
#: uncovered (so the gap areas hold uncovered people, not their covered neighbours).
DEFAULT_MIN_SHARE = 0.9

#: A mixed cell (some uncovered demand, below :data:`DEFAULT_MIN_SHARE`) is split into
#: its H3 children down to this many resolutions finer (res 9 ≈ 0.1 km², res 11 ≈
#: 2,100 m², about a city block's building), so uncovered groups inside it still show.
DEFAULT_REFINE = 2

#: Values of the ``status`` column of :func:`compare_zones` (:func:`geoapp.coverage.judge`).
STATUS_MET = coverage.MET
STATUS_NOT_MET = coverage.NOT_MET
STATUS_NO_DATA = coverage.NO_DATA

#: Groupings :func:`compare_zones` accepts (``by``).
ZONE_GROUPINGS = ("zone_type", "settlement")

GAP_COLUMNS = (
    "gap_id",
    "rank",
    "layer",
    "demand",
    "uncovered_demand",
    "covered_demand",
    "share_uncovered",
    "uncovered_pop",
    "uncovered_pop_60plus",
    "nearest_m",
    "max_nearest_m",
    "district",
    "zone_type",
    "settlement",
    "n_cells",
    "target_m",
    "search_limit_m",
    "access_mode",
    "reason",
    "reason_zh",
)


# ---------------------------------------------------------------------------- statistics


def gini(
    values: np.ndarray | pd.Series | list[float],
    weights: np.ndarray | pd.Series | list[float] | None = None,
) -> float:
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


def weighted_percentile(
    values: npt.ArrayLike, weights: npt.ArrayLike, q: float | Sequence[float] | np.ndarray
) -> float | np.ndarray:
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


def _text(access: pd.DataFrame, col: str, default: str) -> np.ndarray:
    if col not in access.columns:
        return np.full(len(access), default, dtype=object)
    return access[col].astype(object).where(access[col].notna(), default).to_numpy()


def _check_limit(search_limit_m: float) -> float:
    try:
        limit = float(search_limit_m)
    except (TypeError, ValueError):
        limit = float("nan")
    if not np.isfinite(limit) or limit <= 0:
        raise InputError(
            f"search_limit_m={search_limit_m!r}: pass the positive, finite distance (m) up to "
            "which the access distances were searched (the max_dist_m given to "
            "geoapp.coverage.compute_access)."
        )
    return limit


def _fmt_int(x: float) -> str:
    return "<1" if 0 < x < 0.5 else f"{round(x):,}"


def _fmt_m(x: float) -> str:
    """Metres rounded to the whole metre, as the gaps tables print them (1,011 not 1,010)."""
    return f"{x:,.0f}"


def gap_reason(
    n: float,
    layer: Layer,
    *,
    target_m: float,
    median_m: float,
    max_m: float,
    search_limit_m: float,
    euclidean: bool = False,
    min_m: float = np.inf,
    on_fragment: float = 0.0,
) -> tuple[str, str]:
    """Return the plain-language reason of one gap area, in English and Chinese.

    Parameters
    ----------
    n
        Uncovered residents of the layer's own demand (aged 60+ for 60+ layers).
    layer
        The layer.
    target_m
        Target distance (m).
    median_m, max_m
        Median and maximum distance of those residents to the nearest facility
        (``inf``: none within the search limit).
    search_limit_m
        Search bound of the distances, quoted when no facility was found within it.
    euclidean
        Whether the distances are straight-line rather than walking distances.
    min_m
        Smallest of those distances (only read when the median is ``inf``).
    on_fragment
        How many of the ``n`` residents have as nearest street a fragment connected to
        no other street (:func:`geoapp.coverage.street_fragments`); when more than half,
        the reason says so: the gap may be the network's, not the service's.

    Returns
    -------
    tuple of str
        ``(english, chinese)``, e.g. "55 residents aged 60+ live more than 1,000 m walk
        from the nearest elderly care; median distance 1,500 m, maximum 2,100 m".
    """
    age = layer.population == "age_60plus"
    count = _fmt_int(n)
    one = count == "1"
    who = ("resident" if one else "residents") + (" aged 60+" if age else "")
    verb = "lives" if one else "live"
    mode = "straight-line" if euclidean else "walk"
    noun = layer.name("en").lower()
    lim, tgt = _fmt_m(search_limit_m), _fmt_m(target_m)
    noun_zh = layer.name("zh")
    if np.isfinite(median_m) and np.isfinite(max_m):
        tail = f"median distance {_fmt_m(median_m)} m, maximum {_fmt_m(max_m)} m"
        tail_zh = f"距离中位数{_fmt_m(median_m)}米，最远{_fmt_m(max_m)}米"
    elif np.isfinite(median_m):
        tail = (
            f"median distance {_fmt_m(median_m)} m; for some, no {noun} within the "
            f"{lim} m search limit"
        )
        tail_zh = f"距离中位数{_fmt_m(median_m)}米；部分居民{lim}米搜索范围内没有{noun_zh}"
    elif np.isfinite(min_m):
        tail = f"median distance beyond the {lim} m search limit: at least half have no {noun} within it"
        tail_zh = f"距离中位数超过{lim}米搜索范围：至少一半居民在此范围内没有{noun_zh}"
    else:
        tail = f"no {noun} within the {lim} m search limit"
        tail_zh = f"{lim}米搜索范围内没有{noun_zh}"
    who_zh = "60岁及以上居民" if age else "居民"
    mode_zh = "直线距离" if euclidean else "步行距离"
    if layer.minute_based and layer.target_min and not euclidean:
        # a life circle in minutes: say the minutes, and the metres at the run's pace;
        # the minutes of this distance (a 300 m gap run of a 15-minute layer is 5 min)
        minutes = float(target_m) / (float(layer.walk_speed_kmh) * 1000.0 / 60.0)
        tmin = f"{round(minutes, 1):g}"
        kmh = f"{layer.walk_speed_kmh:g}"
        en = (
            f"{count} {who} {verb} more than a {tmin}-minute walk ({tgt} m at {kmh} km/h) "
            f"from the nearest {noun}; {tail}"
        )
        zh = f"{count}名{who_zh}步行{tmin}分钟（{kmh}公里/小时，{tgt}米）内没有{noun_zh}；{tail_zh}"
        return _fragment_note(en, zh, on_fragment, n)
    en = f"{count} {who} {verb} more than {tgt} m {mode} from the nearest {noun}; {tail}"
    zh = f"{count}名{who_zh}距最近的{noun_zh}{mode_zh}超过{tgt}米；{tail_zh}"
    return _fragment_note(en, zh, on_fragment, n)


def _fragment_note(en: str, zh: str, on_fragment: float, n: float) -> tuple[str, str]:
    """Add the street-fragment sentence when most of the gap's residents are on one."""
    if not (n > 0 and on_fragment > 0.5 * n):
        return en, zh
    k = _fmt_int(on_fragment)
    en += (
        f". {k} of them have as nearest street a fragment connected to no other street: "
        "check the walking network there (a missing link may be the cause)"
    )
    zh += f"。其中{k}名居民最近的道路是与路网不相连的孤立路段：请核查该处步行路网（可能缺少连接）"
    return en, zh


def empty_gaps() -> gpd.GeoDataFrame:
    """Return an empty gaps table with every column of :data:`GAP_COLUMNS` (EPSG:4326).

    Used when a layer has no facility in the data: missing data is not a service gap.
    """
    cols = {c: pd.Series(dtype=object) for c in GAP_COLUMNS}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _latlng(access: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    g = access.geometry
    if g.crs is not None:
        g = g.to_crs(WGS84)
    g = g.where(g.geom_type == "Point", g.representative_point())
    return g.y.to_numpy(dtype=float), g.x.to_numpy(dtype=float)


def _cells_at(lat: np.ndarray, lng: np.ndarray, ok: np.ndarray, res: int) -> np.ndarray:
    return np.array(
        [h3.latlng_to_cell(a, b, res) if k else "" for a, b, k in zip(lat, lng, ok, strict=True)],
        dtype=object,
    )


def _flag_cells(
    lat: np.ndarray,
    lng: np.ndarray,
    unc: np.ndarray,
    w: np.ndarray,
    *,
    h3_res: int,
    refine: int,
    min_share: float,
) -> list[str]:
    """Return the H3 cells (mixed resolutions) that are ``min_share`` uncovered.

    At the coarsest resolution every cell with uncovered demand is judged; a cell whose
    uncovered share is below ``min_share`` is split and its children are judged on every
    demand point that falls inside them (not only those of the parent, since H3
    children do not nest exactly), down to ``h3_res + refine``.
    """
    pool = np.isfinite(lat) & np.isfinite(lng)  # points that may lie in a candidate cell
    flagged: list[str] = []
    candidates: set[str] | None = None  # None: every cell at the coarsest resolution
    for k, res in enumerate(range(h3_res, h3_res + refine + 1)):
        cells = _cells_at(lat, lng, pool, res)
        df = pd.DataFrame({"c": cells, "u": np.where(unc, w, 0.0), "t": w})[pool]
        if candidates is not None:
            df = df[df["c"].isin(candidates)]
        per = df.groupby("c", sort=True)[["u", "t"]].sum()
        per = per[per["u"] > 0]
        pure = per["u"] >= min_share * per["t"] - 1e-9 * per["t"].abs()
        flagged.extend(per.index[pure].tolist())
        mixed = per.index[~pure]
        if k == refine or not len(mixed):
            break
        candidates = {ch for c in mixed for ch in h3.cell_to_children(c, res + 1)}
        # a child reaches slightly past its parent, never past the parent's neighbours
        near = {n for c in mixed for n in h3.grid_disk(c, 1)}
        pool = pool & pd.Series(cells).isin(near).to_numpy()
    return flagged


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
    search_limit_m: float,
    target_m: float | None = None,
    h3_res: int = 9,
    min_uncovered: float = DEFAULT_MIN_UNCOVERED,
    min_share: float = DEFAULT_MIN_SHARE,
    refine: int = DEFAULT_REFINE,
    on_fragment: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Outline, rank and explain the areas that hold the layer's uncovered residents.

    Demand points farther than the target from the nearest facility (``dist_m`` >
    target; ``inf`` and NaN count) are uncovered. An H3 cell (resolution ``h3_res``)
    whose layer demand (``pop_60plus`` for 60+ layers, else ``pop``) is at least
    ``min_share`` uncovered is part of a gap; a mixed cell is split into its children,
    judged the same way, down to ``h3_res + refine``. The flagged cells are merged into
    connected areas (polygon union); every demand point of the layer inside an area,
    covered or not, is then counted by point in polygon, and areas with less than
    ``min_uncovered`` uncovered demand are dropped. Areas are ranked by uncovered
    demand, largest first. Uncovered residents in cells that stay mixed at the finest
    resolution are in no gap: a gap area holds uncovered people, not their neighbours.

    Residents whose ``dq_class`` (:mod:`geoapp.artefacts`) is not ``ok`` (a network
    gap, the edge of the data) are left out before the cells are judged: gaps are formed
    and ranked only among real service gaps.

    Parameters
    ----------
    access
        Access table (demand + ``dist_m``, ``facility_id``, ``access_mode``, ``layer``;
        ``dq_class`` when known). Rows of other layers are ignored when a ``layer``
        column is present.
    layer
        The layer.
    search_limit_m
        Search bound of the distance computation (the ``max_dist_m`` given to
        :func:`geoapp.coverage.compute_access`), quoted in the reason when no facility
        was found within it.
    target_m
        Target distance; default the layer's ``target_m``.
    h3_res
        Coarsest H3 resolution of the cells (9 ≈ 0.1 km²).
    min_uncovered
        Uncovered demand (residents) a gap area needs to be reported.
    min_share
        Share (0..1] of a cell's layer demand that must be uncovered to flag it.
    refine
        How many H3 resolutions finer a mixed cell is split (0: no splitting).
    on_fragment
        Optional bool per row of ``access``: the demand point's nearest street is a
        fragment connected to no other street (``coverage.street_fragments``). A gap
        whose uncovered demand is mostly on fragments says so in its reason.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per gap area (columns :data:`GAP_COLUMNS`): ``gap_id``,
        ``rank``, ``layer``, ``demand`` (the layer's demand column), ``uncovered_demand``
        and ``covered_demand`` (the layer's demand inside the area, beyond and within
        the target), ``share_uncovered`` (their ratio: the area's purity),
        ``uncovered_pop``, ``uncovered_pop_60plus``, ``nearest_m`` (demand-weighted
        median distance of the uncovered residents, ``inf`` when beyond the search
        limit), ``max_nearest_m``, ``district``, ``zone_type`` and ``settlement``
        (holding most of the uncovered demand; ``settlement`` is "" when the demand has
        none), ``n_cells`` (H3 cells merged, any resolution), ``target_m``,
        ``search_limit_m``, ``access_mode``, ``reason``, ``reason_zh`` and ``geometry``.
        Empty when there is no gap.

    Raises
    ------
    InputError
        When ``search_limit_m`` is not a positive finite number, or ``min_share`` is
        not in (0, 1].
    """
    limit = _check_limit(search_limit_m)
    if not (isinstance(min_share, int | float) and 0 < min_share <= 1):
        raise InputError(f"min_share={min_share!r} must be a share in (0, 1], e.g. 0.9")
    target = float(layer.target_m if target_m is None else target_m)
    frag_all = (
        np.zeros(len(access), dtype=bool)
        if on_fragment is None
        else np.asarray(on_fragment, dtype=bool).reshape(-1)
    )
    if len(frag_all) != len(access):
        raise InputError(
            f"find_gaps: on_fragment has {len(frag_all)} values but access has {len(access)} "
            "rows; pass one per access row, or None"
        )
    acc = _layer_rows(access, layer)
    if not len(acc):
        return empty_gaps()
    if len(acc) != len(access):  # the rows _layer_rows kept, by position
        frag = frag_all[(access["layer"].astype(str) == layer.id).to_numpy()]
    else:
        frag = frag_all
    real = artefacts.dq_labels(acc) == artefacts.DQ_OK
    if not real.all():  # artefacts of the data are no finding: gaps from real ones only
        log.info(
            "layer %s: %d demand points of a data-quality class (network gap, edge of data) "
            "left out of the gaps",
            layer.id,
            int((~real).sum()),
        )
        acc, frag = acc.loc[real], frag[real]
        if not len(acc):
            return empty_gaps()
    dcol = layer.demand_column
    dist = _dist(acc)
    unc = dist > target
    w = _weights(acc, dcol)
    lat, lng = _latlng(acc)
    flagged = _flag_cells(
        lat, lng, unc, w, h3_res=h3_res, refine=max(0, int(refine)), min_share=min_share
    )
    if not flagged:
        log.info("layer %s: no gap (no cell %.0f%% uncovered)", layer.id, 100 * min_share)
        return empty_gaps()

    hexes = h3_polygons(flagged).to_numpy()
    # snap to a 1e-9 degree grid (0.1 mm) so that neighbours' shared edges coincide
    merged = shapely.union_all(hexes, grid_size=1e-9)
    parts = shapely.get_parts(merged)
    parts = parts[shapely.area(parts) > 0]
    tree = shapely.STRtree(parts)

    ok = np.isfinite(lat) & np.isfinite(lng)
    pts = shapely.points(np.where(ok, lng, 0.0), np.where(ok, lat, 0.0))
    pi, gi = tree.query(pts, predicate="intersects")
    keep = ok[pi]
    pi, gi = pi[keep], gi[keep]
    first = ~pd.Series(pi).duplicated().to_numpy()  # a point on a shared edge: once
    pi, gi = pi[first], gi[first]
    ci, cg = tree.query(shapely.point_on_surface(hexes), predicate="intersects")
    n_cells = pd.Series(cg).groupby(ci).first().value_counts()

    pop = _weights(acc, "pop")
    p60 = _weights(acc, "pop_60plus")
    u = unc[pi]
    sub = pd.DataFrame(
        {
            "gap": gi,
            "unc": u,
            "dist": dist[pi],
            "w": w[pi],
            "uw": np.where(u, w[pi], 0.0),
            "cw": np.where(u, 0.0, w[pi]),
            "upop": np.where(u, pop[pi], 0.0),
            "up60": np.where(u, p60[pi], 0.0),
            "district": _text(acc, "district", "")[pi],
            "zone_type": _text(acc, "zone_type", "unknown")[pi],
            "settlement": _text(acc, "settlement", "")[pi],
            "euclid": (_text(acc, "access_mode", "network") == "euclidean")[pi],
            "fw": np.where(u & frag[pi], w[pi], 0.0),
        }
    )
    g = sub.groupby("gap", sort=True)
    res = pd.DataFrame(
        {
            "uncovered_demand": g["uw"].sum(),
            "covered_demand": g["cw"].sum(),
            "uncovered_pop": g["upop"].sum(),
            "uncovered_pop_60plus": g["up60"].sum(),
            "on_fragment": g["fw"].sum(),
        }
    )
    un = sub[sub["unc"]]
    gu = un.groupby("gap", sort=True)
    res["max_nearest_m"] = gu["dist"].max()
    res["min_d"] = gu["dist"].min()
    res["euclid_all"] = gu["euclid"].all()
    res["nearest_m"] = pd.Series(
        {k: weighted_percentile(part["dist"], part["w"], 50) for k, part in gu[["dist", "w"]]},
        dtype=float,
    )
    for col in ("district", "zone_type", "settlement"):
        t = un.groupby(["gap", col], sort=True)["w"].sum().reset_index()
        t = t.sort_values(["w", col], ascending=[False, True], kind="stable").drop_duplicates("gap")
        res[col] = t.set_index("gap")[col]
    res["n_cells"] = n_cells.reindex(res.index).fillna(0).astype(np.int64)
    res = res[(res["uncovered_demand"] > 0) & (res["uncovered_demand"] >= min_uncovered)]
    if not len(res):
        log.info("layer %s: no gap area with >= %g uncovered", layer.id, min_uncovered)
        return empty_gaps()
    inside = res["uncovered_demand"] + res["covered_demand"]
    res["share_uncovered"] = res["uncovered_demand"] / inside.where(inside > 0)
    cx = shapely.get_x(shapely.centroid(parts))
    cy = shapely.get_y(shapely.centroid(parts))
    res["_y"], res["_x"] = -cy[res.index], cx[res.index]  # ties: north to south, west to east
    res = res.sort_values(
        ["uncovered_demand", "n_cells", "_y", "_x"],
        ascending=[False, False, True, True],
        kind="stable",
    )
    res["rank"] = np.arange(1, len(res) + 1)
    reasons = [
        gap_reason(
            r.uncovered_demand,
            layer,
            target_m=target,
            median_m=r.nearest_m,
            max_m=r.max_nearest_m,
            search_limit_m=limit,
            euclidean=bool(r.euclid_all),
            min_m=r.min_d,
            on_fragment=float(r.on_fragment),
        )
        for r in cast("Iterable[Any]", res.itertuples())  # rows of res's columns
    ]
    out = gpd.GeoDataFrame(
        {
            "gap_id": [f"{layer.id}/gap/{k}" for k in res["rank"]],
            "rank": res["rank"].to_numpy(),
            "layer": layer.id,
            "demand": dcol,
            "uncovered_demand": res["uncovered_demand"].to_numpy(dtype=float),
            "covered_demand": res["covered_demand"].to_numpy(dtype=float),
            "share_uncovered": res["share_uncovered"].to_numpy(dtype=float),
            "uncovered_pop": res["uncovered_pop"].to_numpy(dtype=float),
            "uncovered_pop_60plus": res["uncovered_pop_60plus"].to_numpy(dtype=float),
            "nearest_m": res["nearest_m"].to_numpy(dtype=float),
            "max_nearest_m": res["max_nearest_m"].to_numpy(dtype=float),
            "district": res["district"].astype(object).to_numpy(),
            "zone_type": res["zone_type"].astype(object).to_numpy(),
            "settlement": res["settlement"].astype(object).to_numpy(),
            "n_cells": res["n_cells"].to_numpy(dtype=np.int64),
            "target_m": target,
            "search_limit_m": limit,
            "access_mode": np.where(res["euclid_all"].to_numpy(dtype=bool), "euclidean", "network"),
            "reason": [r[0] for r in reasons],
            "reason_zh": [r[1] for r in reasons],
        },
        geometry=parts[res.index.to_numpy()],
        crs=WGS84,
    )
    log.info(
        "layer %s: %d gap areas from %d cells, %.0f%% of the demand inside uncovered",
        layer.id,
        len(out),
        len(flagged),
        100 * out["uncovered_demand"].sum() / max(1e-12, inside.loc[res.index].sum()),
    )
    return out


# ---------------------------------------------------------------------------- zones


def _limit_for(
    search_limit_m: float | Mapping[str, float] | None, lid: str, layer: Layer, dist: np.ndarray
) -> float:
    if isinstance(search_limit_m, Mapping):
        search_limit_m = search_limit_m.get(lid)
    if search_limit_m is not None:
        return _check_limit(search_limit_m)
    finite = dist[np.isfinite(dist)]
    return float(max(layer.max_radius_m, finite.max() if finite.size else 0.0))


def compare_zones(
    access_by_layer: Mapping[str, gpd.GeoDataFrame],
    facilities_by_layer: Mapping[str, gpd.GeoDataFrame],
    layers: Mapping[str, Layer],
    *,
    targets: Mapping[str, tuple[float, float]] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    search_limit_m: float | Mapping[str, float] | None = None,
    by: str = "zone_type",
) -> pd.DataFrame:
    """Compare zone types (core / new_town / rural) or settlement classes per layer.

    Shares, percentiles and the Gini index are weighted by the layer's own demand
    (``pop_60plus`` for 60+ layers, ``pop`` otherwise).

    Parameters
    ----------
    access_by_layer
        Access table per layer id.
    facilities_by_layer
        Facility table per layer id. A layer that is missing here or has an empty table
        has no facility in the data: its rows get status "no_data" and no statistics.
        A facility counts in the group of its nearest demand point
        (:func:`geoapp.coverage.facility_places`, the rule of ``summary.csv``).
    layers
        Layers by id.
    targets
        ``{layer_id: (radius_m, share)}`` overriding the layers' own ``target_m`` and
        ``target_share``.
    boundaries
        Districts (``district``, ``zone_type``): their land gives ``area_km2``.
    search_limit_m
        Distance standing for ``inf`` in the Gini index, one number or one per layer id:
        unreached residents count as being at the search limit, so the index is a lower
        bound. Default: the layer's largest distance or the largest finite distance in
        its access table, whichever is larger.
    by
        ``"zone_type"`` (the district's planned or density type) or ``"settlement"``
        (the per-point class of the demand's ``settlement`` column).

    Returns
    -------
    pandas.DataFrame
        One row per layer and group (``core``, ``new_town``, ``rural`` always, then
        ``unknown`` and any other value present among the residents, the facilities or
        the land), in that order. Columns: ``layer``, ``<by>`` (``zone_type`` or
        ``settlement``), ``demand`` (the weighting column), ``pop``, ``pop_60plus``,
        ``share_demand_R`` per radius (share of the layer's own demand within R m),
        ``ratio_to_core_R`` (the group's share over the core's), ``median_dist_m``,
        ``p90_dist_m`` (``inf`` when beyond the search limit), ``facilities``,
        ``facilities_per_10k`` (per 10,000 of the layer's demand), ``area_km2`` (the
        group's land, :func:`geoapp.coverage.land_by_group`: as ``summary.csv``),
        ``gini_dist``, ``search_limit_m``, ``target_radius_m``, ``target_share``,
        ``share_at_target``, ``below_target``, ``status``, ``status_reason``,
        ``access_mode``, ``layer_label``, ``layer_label_zh``. ``status`` and
        ``status_reason`` come from :func:`geoapp.coverage.judge` at the target:
        ``met`` / ``not_met``, or ``no_data`` on every row of a layer with no facility
        anywhere in the data and on a group holding none of the layer's demand
        (statistics NaN: coverage cannot be assessed). A group with no facility inside
        whose residents are reached from outside is judged like any other. Residents,
        facilities and area of the groups add up to the region.

    Raises
    ------
    InputError
        For an unknown ``by``, or ``by="settlement"`` on access tables without a
        ``settlement`` column.
    """
    if by not in ZONE_GROUPINGS:
        raise InputError(f"by={by!r}: compare zones by one of {', '.join(ZONE_GROUPINGS)}")
    rows: list[dict[str, object]] = []
    for lid, access in access_by_layer.items():
        layer = layers[lid]
        acc = _layer_rows(access, layer)
        if by == "settlement" and "settlement" not in acc.columns and len(acc):
            raise InputError(
                f"The access table of layer {lid!r} has no 'settlement' column; compare by "
                "zone_type, or estimate the demand with settlement classes first."
            )
        dcol = layer.demand_column
        dist = _dist(acc) if len(acc) else np.array([])
        w = _weights(acc, dcol)
        pop = _weights(acc, "pop")
        p60 = _weights(acc, "pop_60plus")
        zt = coverage.group_labels(acc, by)
        fac = facilities_by_layer.get(lid)
        has_data = fac is not None and len(fac) > 0
        fz = (
            coverage.facility_places(fac, acc, boundaries)[by].to_numpy(dtype=object)
            if has_data
            else np.array([], dtype=object)
        )
        land = coverage.land_by_group(acc, by, boundaries) if len(acc) else pd.Series(dtype=float)
        seen = {*zt, *(z for z in fz if z), *(z for z in land.index if abs(land[z]) > 1e-12)}
        extra = sorted(seen - set(BROAD_ZONE_TYPES), key=lambda z: (zone_sort_key(z), z))
        zones = list(BROAD_ZONE_TYPES) + extra
        limit = _limit_for(search_limit_m, lid, layer, dist)
        tr, ts = (targets or {}).get(lid, (layer.target_m, layer.target_share))
        tr, ts = float(tr), float(ts)
        mode = (
            "/".join(sorted(set(acc["access_mode"].astype(str))))
            if "access_mode" in acc.columns and len(acc)
            else ""
        )
        layer_rows: list[dict[str, Any]] = []
        for z in zones:
            m = zt == z
            wz, dz = w[m], dist[m]
            total = float(wz.sum())
            at = float(wz[dz <= tr].sum() / total) if total > 0 and np.isfinite(tr) else np.nan
            status, reason = coverage.judge(
                at, ts, residents=total, layer_has_facilities=has_data, reach_m=tr
            )
            ok = status != STATUS_NO_DATA
            row: dict[str, Any] = {
                "layer": lid,
                by: z,
                "demand": dcol,
                "pop": float(pop[m].sum()),
                "pop_60plus": float(p60[m].sum()),
            }
            for r, lab in zip(layer.radii_m, layer.labels, strict=True):
                row[f"share_demand_{lab}"] = float(wz[dz <= r].sum() / total) if ok else np.nan
            nfac = int((fz == z).sum())
            row["median_dist_m"] = weighted_percentile(dz, wz, 50) if ok else np.nan
            row["p90_dist_m"] = weighted_percentile(dz, wz, 90) if ok else np.nan
            row["facilities"] = nfac
            row["facilities_per_10k"] = nfac / total * 1e4 if ok else np.nan
            row["area_km2"] = float(land.get(z, 0.0))
            row["gini_dist"] = gini(np.minimum(dz, limit), wz) if ok else np.nan
            row["search_limit_m"] = limit
            row["target_radius_m"] = tr
            row["target_share"] = ts
            row["share_at_target"] = at if ok else np.nan
            row["below_target"] = status == STATUS_NOT_MET
            row["status"] = status
            row["status_reason"] = reason
            row["access_mode"] = mode
            row["layer_label"] = layer.name("en")
            row["layer_label_zh"] = layer.name("zh")
            layer_rows.append(row)
        core = next(r for r in layer_rows if r[by] == "core")
        for row in layer_rows:
            for key in layer.labels:
                c, s = core[f"share_demand_{key}"], row[f"share_demand_{key}"]
                row[f"ratio_to_core_{key}"] = (
                    float(s / c) if np.isfinite(c) and c > 0 and np.isfinite(s) else np.nan
                )
        rows.extend(layer_rows)
        if not has_data:
            log.info("layer %s: no facility in the data; zones status no_data", lid)
        below = [r[by] for r in layer_rows if r["below_target"]]
        if below:
            log.info("layer %s below target in: %s", lid, ", ".join(map(str, below)))
    out = pd.DataFrame(rows)
    if len(out):
        share_cols = [c for c in out.columns if c.startswith("share_demand_")]
        ratio_cols = [c for c in out.columns if c.startswith("ratio_to_core_")]
        lead = ["layer", by, "demand", "pop", "pop_60plus"]
        rest = [c for c in out.columns if c not in lead + share_cols + ratio_cols]
        out = out[lead + share_cols + ratio_cols + rest]
    return out


__all__ = [
    "DEFAULT_MIN_SHARE",
    "DEFAULT_MIN_UNCOVERED",
    "DEFAULT_REFINE",
    "GAP_COLUMNS",
    "STATUS_MET",
    "STATUS_NOT_MET",
    "STATUS_NO_DATA",
    "ZONE_GROUPINGS",
    "ZONE_ORDER",
    "compare_zones",
    "empty_gaps",
    "find_gaps",
    "flag_uncovered",
    "gap_reason",
    "gini",
    "weighted_percentile",
]
