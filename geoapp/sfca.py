"""Capacity and supply: beds (or places) against demand, and the 2SFCA ratio.

Two views of the same question, "are there enough places, where people live?":

- :func:`supply_table`: capacity (e.g. nursing-home beds) located in each district,
  zone type and settlement class, per 1,000 of the layer's demand (residents aged 60+
  for elderly care), against the standard's indicator from the layer file
  (``[capacity] per_1000``, e.g. 40 beds per 1,000 older residents).
- :func:`two_step_fca`: the two-step floating catchment area ratio of Luo & Wang
  (2003), per demand point. Step 1: every facility ``j`` divides its capacity ``S_j``
  by the demand within its reach, ``R_j = S_j / sum_i w_ij P_i``. Step 2: every demand
  point adds up the ratios of the facilities within its reach, ``A_i = sum_j w_ij R_j``
  (``sfca``: capacity per person of demand). Without distance decay ``w_ij = 1`` within
  the reach, and ``sum_i A_i P_i`` equals the total capacity of the facilities that
  reach any demand (the identity of the method). With ``decay="gaussian"``,
  ``w_ij = (exp(-d²/2d0²) - exp(-1/2)) / (1 - exp(-1/2))`` (Dai 2010), 1 at the
  facility and 0 at the reach ``d0``. ``method=`` runs the other members of the
  family on the same pairs (E2SFCA, 3SFCA, gravity; :mod:`geoapp.fca`), and ``sfca``
  is NaN where no facility of known capacity is within reach.

Distances come from the sparse :func:`geoapp.network.od_matrix` (only pairs within
the reach; never a dense matrix), or straight lines in the local projected CRS.

Unknown capacity: a facility whose capacity is unknown (no ``capacity:beds``,
``beds``, ``capacity`` tag or table value) takes the layer's ``[capacity] default``
when the layer file gives one; otherwise it is EXCLUDED from capacity totals and from
the 2SFCA ratio, counted in ``n_capacity_unknown`` and named in the warnings, and a
group whose known capacity falls short while some capacity is unknown is ``no_data``
(the missing beds could close the gap), not ``not_met``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from geoapp import coverage, fca, network
from geoapp.catalog import Layer
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.region import OUTSIDE_DISTRICTS, SETTLEMENT_TYPES

log = logging.getLogger(__name__)

#: Distance decay functions :func:`two_step_fca` accepts (None: none, Luo & Wang 2003).
DECAYS = (None, "gaussian")
#: ``capacity_source`` values.
CAPACITY_SOURCES = ("table", "osm", "layer_default", "given", "")

SUPPLY_COLUMNS = (
    "layer",
    "level",
    "group",
    "district_code",
    "unit",
    "n_facilities",
    "n_capacity_known",
    "n_capacity_default",
    "n_capacity_unknown",
    "capacity",
    "demand_col",
    "demand",
    "capacity_per_1000",
    "standard_per_1000",
    "met",
    "sfca_per_1000",
)


@dataclass(frozen=True)
class Supply:
    """Result of :func:`compute_supply`.

    Attributes
    ----------
    demand
        The demand points given, plus ``sfca`` (capacity per person of demand within
        reach) and ``sfca_per_1000`` (the same per 1,000).
    facilities
        The facilities given, plus ``capacity`` (float, NaN unknown),
        ``capacity_source``, ``demand_in_reach`` (the layer's demand within the reach,
        decay-weighted when decay is used), ``serves_demand`` (bool: any demand within
        reach) and ``supply_ratio`` (``R_j``: capacity per person of demand in reach;
        NaN when the capacity is unknown or no demand is in reach).
    table
        :func:`supply_table` (with ``sfca_per_1000``).
    """

    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    table: pd.DataFrame
    reach_m: float
    demand_col: str
    decay: str | None
    mode: str
    unit: str
    per_1000: float | None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    method: str = "2sfca"
    weight: str = ""


def method_label(method: str, decay: str | None) -> str:
    """Name the method with its reference, as ``metadata.json``'s ``supply.method``."""
    names = {
        "2sfca": "2SFCA (Luo & Wang 2003)",
        "e2sfca": "E2SFCA (Luo & Qi 2009), zones of the reach weighted 1, 0.68, 0.22",
        "3sfca": "3SFCA (Wan, Zou & Sternberg 2012)",
        "gravity": "gravity-based 2SFCA (Wang 2012), inverse distance",
    }
    text = names.get(method, method)
    if method in ("2sfca", "3sfca"):
        text += ", Gaussian distance decay" if decay else ", no distance decay"
    return text


def demand_column(layer: Layer, demand_col: str | None = None) -> str:
    """Return the demand column of ``layer``: ``pop_60plus`` for 60+ layers, else ``pop``."""
    if demand_col:
        return demand_col
    return "pop_60plus" if layer.population == "age_60plus" else "pop"


def _unit(layer: Layer) -> str:
    return str((layer.capacity or {}).get("unit", "places"))


def _per_1000(layer: Layer) -> float | None:
    v = (layer.capacity or {}).get("per_1000")
    return None if v is None else float(cast(float, v))  # a number (the catalog checks it)


def facility_capacity(facilities: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    """Return a copy of ``facilities`` with ``capacity`` and ``capacity_source`` filled.

    Frames from :func:`geoapp.layers.select_features` already carry both; a frame
    without ``capacity`` (e.g. built by hand) counts as unknown. Unknown values
    (NaN) take the layer's ``[capacity] default`` when it gives one
    (``capacity_source = "layer_default"``). A known capacity without a source (a
    frame built by hand, a scenario's added facility) is ``"given"``. Negative values
    raise.
    """
    out = facilities.copy()
    n = len(out)
    if "capacity" in out.columns:
        cap = pd.to_numeric(out["capacity"], errors="coerce").to_numpy(dtype=float, copy=True)
    else:
        cap = np.full(n, np.nan)
    if (cap < 0).any():
        i = int(np.flatnonzero(cap < 0)[0])
        fid = out["facility_id"].iloc[i] if "facility_id" in out.columns else i
        raise InputError(
            f"facility {fid}: capacity {cap[i]:g} is negative; give a number of "
            f"{_unit(layer)} >= 0, or leave it empty when unknown."
        )
    if "capacity_source" in out.columns:
        source = out["capacity_source"].fillna("").astype(str).to_numpy(dtype=object, copy=True)
        source[np.isnan(cap)] = ""
        source[~np.isnan(cap) & (source == "")] = "given"
    else:
        source = np.where(np.isnan(cap), "", "given").astype(object)
    default = (layer.capacity or {}).get("default")
    if default is not None:
        fill = np.isnan(cap)
        cap[fill] = float(cast(float, default))
        source[fill] = "layer_default"
    out["capacity"] = cap
    out["capacity_source"] = source
    return out


# --------------------------------------------------------------------------- 2SFCA


def _reach_matrix(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    graph: network.WalkGraph | None,
    mode: str,
    reach_m: float,
    demand_snap: network.Snapped | None = None,
) -> csr_array:
    """Sparse (n_demand, n_facilities) distances in metres, every pair within reach."""
    n, m = len(demand), len(facilities)
    if n == 0 or m == 0:
        return csr_array((n, m), dtype=float)
    if mode == "network":
        if graph is None:
            raise InputError("two_step_fca: mode='network' needs the walking graph (graph=...)")
        origins = demand_snap if demand_snap is not None else demand
        return network.od_matrix(graph, origins, facilities, reach_m)
    if mode != "euclidean":
        raise InputError(f"two_step_fca: mode {mode!r}; use 'network' or 'euclidean'")
    crs = local_crs(demand)
    dp = _points(demand, crs)
    fp = _points(facilities, crs)
    dok = np.flatnonzero(~(shapely.is_missing(dp) | shapely.is_empty(dp)))
    fok = np.flatnonzero(~(shapely.is_missing(fp) | shapely.is_empty(fp)))
    if not len(dok) or not len(fok):
        return csr_array((n, m), dtype=float)
    td = cKDTree(shapely.get_coordinates(dp[dok]))
    tf = cKDTree(shapely.get_coordinates(fp[fok]))
    pairs = td.sparse_distance_matrix(tf, reach_m, output_type="ndarray")
    rows, cols = dok[pairs["i"]], fok[pairs["j"]]
    mat = csr_array((pairs["v"].astype(float), (rows, cols)), shape=(n, m))
    mat.sum_duplicates()
    mat.sort_indices()
    return mat


def _points(frame: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    geoms = frame.geometry.to_crs(crs).to_numpy()
    other = (shapely.get_type_id(geoms) != 0) & ~shapely.is_missing(geoms)
    if other.any():
        geoms = geoms.copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
    return geoms


def _check(demand: gpd.GeoDataFrame, col: str, reach_m: float) -> np.ndarray:
    if col not in demand.columns:
        raise InputError(
            f"two_step_fca: the demand points have no column {col!r} (columns: "
            f"{', '.join(map(str, demand.columns))}); pass demand_col= or the points of "
            "geoapp.workflow.prepare_demand."
        )
    if not (np.isfinite(reach_m) and reach_m >= 0):
        raise InputError(f"two_step_fca: reach_m {reach_m!r} must be a finite distance >= 0 m")
    p = pd.to_numeric(demand[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if (p < 0).any():
        raise InputError(f"two_step_fca: demand column {col!r} has negative values")
    return p


def _fca(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    layer: Layer,
    *,
    graph: network.WalkGraph | None,
    mode: str,
    reach_m: float | None,
    demand_col: str | None,
    decay: str | None,
    method: str = "2sfca",
    demand_snap: network.Snapped | None = None,
) -> dict[str, Any]:
    col = demand_column(layer, demand_col)
    reach = float(layer.target_m if reach_m is None else reach_m)
    if decay not in DECAYS:
        raise InputError(f"two_step_fca: decay {decay!r}; use None or 'gaussian'")
    if method not in fca.METHODS:
        raise InputError(f"two_step_fca: method {method!r}; use one of {', '.join(fca.METHODS)}")
    if decay is not None and method not in ("2sfca", "3sfca"):
        raise InputError(
            f"two_step_fca: decay {decay!r} goes with 2sfca or 3sfca; {method} has its own "
            "weights (e2sfca: zones of the reach, gravity: inverse distance)"
        )
    pop = _check(demand, col, reach)
    fac = facility_capacity(facilities, layer)
    cap = fac["capacity"].to_numpy(dtype=float)
    dist = _reach_matrix(
        demand, fac, graph=graph, mode=mode, reach_m=reach, demand_snap=demand_snap
    )
    costs = fca.CostTable.from_matrix(dist)
    weight = fca.default_weight(method, reach, decay) if reach > 0 else fca.Uniform()
    res = fca.solve(method, pop, cap, costs, max_cost=reach, weight=weight)
    reached = csr_array((np.ones_like(dist.data), dist.indices, dist.indptr), shape=dist.shape)
    any_demand = (reached.T @ pop) > 0
    return {
        "col": col,
        "reach": reach,
        "facilities": fac,
        "sfca": res.access,
        "ratio": res.ratio,
        "in_reach": res.demand_in_reach,
        "serves": np.asarray(any_demand, dtype=bool),
        "weight": res.weight,
    }


def two_step_fca(
    demand_points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    layer: Layer,
    *,
    graph: network.WalkGraph | None = None,
    mode: str = "network",
    reach_m: float | None = None,
    demand_col: str | None = None,
    decay: str | None = None,
    demand_snap: network.Snapped | None = None,
    method: str = "2sfca",
) -> gpd.GeoDataFrame:
    """Two-step floating catchment area (2SFCA) ratio per demand point (Luo & Wang 2003).

    Parameters
    ----------
    demand_points
        Demand points (``workflow.prepare_demand(...).points`` or an access table),
        any CRS.
    facilities
        The layer's facilities with ``capacity`` (float, NaN unknown; see
        :func:`facility_capacity` for unknown values); a frame without the column
        has unknown capacity everywhere.
    layer
        The layer: its demand column, ``target_m`` (the default reach) and
        ``[capacity] default``.
    graph
        Walking network (required for ``mode="network"``).
    mode
        ``"network"`` (walking distance, :func:`geoapp.network.od_matrix`) or
        ``"euclidean"`` (straight line in the local projected CRS).
    reach_m
        Catchment size ``d0`` in metres, default ``layer.target_m``.
    demand_col
        Demand weight column; default ``pop_60plus`` for 60+ layers, else ``pop``.
    decay
        None (no distance decay: the method of Luo & Wang) or ``"gaussian"``.
    demand_snap
        :func:`geoapp.network.snap` of ``demand_points`` to reuse.
    method
        ``"2sfca"`` (default), ``"e2sfca"``, ``"3sfca"`` or ``"gravity"``: the floating
        catchment methods of :mod:`geoapp.fca` on the same reach.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand_points`` with ``sfca`` (capacity per person of demand
        within reach, in the layer's capacity unit; **NaN** where no facility of known
        capacity is within reach, 0 where those in reach have no capacity left) and
        ``sfca_per_1000`` (``sfca`` x 1,000).
    """
    res = _fca(
        demand_points,
        facilities,
        layer,
        graph=graph,
        mode=mode,
        reach_m=reach_m,
        demand_col=demand_col,
        decay=decay,
        method=method,
        demand_snap=demand_snap,
    )
    out = demand_points.copy()
    out["sfca"] = res["sfca"]
    out["sfca_per_1000"] = res["sfca"] * 1000.0
    return out


# --------------------------------------------------------------------------- tables


def _text(frame: pd.DataFrame, col: str, default: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    s = frame[col].astype(object).where(frame[col].notna(), default).astype(str)
    return s.where(s != "", default).to_numpy(dtype=object)


def supply_table(
    access: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    layer: Layer,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    demand_col: str | None = None,
    region_name: str = "region",
) -> pd.DataFrame:
    """Capacity, demand and capacity per 1,000 per region, district, zone type and settlement.

    Parameters
    ----------
    access
        Demand points (or the access table) with the demand column, ``district``,
        ``zone_type`` and optionally ``district_code``, ``settlement`` and ``sfca``
        (from :func:`two_step_fca`; fills ``sfca_per_1000``).
    facilities
        The layer's facilities with ``capacity`` (see :func:`facility_capacity`).
    layer
        The layer: demand column, ``[capacity]`` ``unit`` and ``per_1000``.
    boundaries
        District boundaries: every district gets a row and facilities are placed in
        districts by point in polygon; without them, by their nearest demand point.
    demand_col
        Demand column, default as :func:`demand_column`.
    region_name
        ``group`` of the region row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUPPLY_COLUMNS`, one row per group in the order region,
        districts, zone types, settlements (the last only with a ``settlement``
        column): ``n_facilities`` (in the group), ``n_capacity_known`` (from data),
        ``n_capacity_default`` (the layer default), ``n_capacity_unknown``
        (excluded), ``capacity`` (sum of known and default capacities, in ``unit``),
        ``demand`` (persons of ``demand_col``), ``capacity_per_1000`` (capacity per
        1,000 of demand; NaN without demand), ``standard_per_1000`` (the layer's
        ``per_1000``, NaN if none), ``met`` (``met`` when ``capacity_per_1000 >=
        standard_per_1000``; ``not_met`` when below with every facility's capacity
        known; ``no_data`` when below with some capacity unknown, with no standard,
        no demand, or no facility of the layer anywhere) and ``sfca_per_1000`` (the
        demand-weighted mean 2SFCA ratio x 1,000: capacity reachable within the reach
        per 1,000 of demand, counting facilities next door; NaN without ``sfca``).
        Facilities count where they stand, so a district served from next door can
        be ``not_met`` here and still reach capacity through ``sfca_per_1000``.
    """
    col = demand_column(layer, demand_col)
    if col not in access.columns:
        raise InputError(
            f"supply_table: the demand table has no column {col!r}; pass the demand "
            "points of geoapp.workflow.prepare_demand (or demand_col=)."
        )
    fac = facility_capacity(facilities, layer)
    cap = fac["capacity"].to_numpy(dtype=float)
    src = fac["capacity_source"].to_numpy(dtype=object)
    pop = pd.to_numeric(access[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    has_sfca = "sfca" in access.columns
    sf = (
        pd.to_numeric(access["sfca"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if has_sfca
        else np.zeros(len(access))
    )
    # summary.csv's rule; a facility it cannot place counts in the default groups
    placed = coverage.facility_places(fac, access, boundaries, default_groups=True)
    places = {k: v.to_numpy(dtype=object) for k, v in placed.items()}
    labels = {
        "district": _text(access, "district", OUTSIDE_DISTRICTS),
        "zone_type": _text(access, "zone_type", "unknown"),
    }
    has_settlement = "settlement" in access.columns
    if has_settlement:
        labels["settlement"] = _text(access, "settlement", "unknown")
    codes = (
        pd.Series(_text(access, "district_code", ""), index=labels["district"])
        .loc[lambda s: s != ""]
        .groupby(level=0)
        .first()
    )
    if boundaries is not None and len(boundaries):
        bcodes = pd.Series(
            _text(boundaries, "district_code", ""), index=_text(boundaries, "district", "")
        )
        codes = pd.concat([codes, bcodes[bcodes != ""]]).groupby(level=0).first()

    dem = pd.DataFrame({"demand": pop, "_sfp": sf * pop})
    facf = pd.DataFrame(
        {
            "n_facilities": 1,
            "n_capacity_known": (~np.isnan(cap) & (src != "layer_default")).astype(int),
            "n_capacity_default": (src == "layer_default").astype(int),
            "n_capacity_unknown": np.isnan(cap).astype(int),
            "capacity": np.nan_to_num(cap, nan=0.0),
        }
    )
    rows = []

    def block(
        level: str, dlab: np.ndarray, flab: np.ndarray, always: Sequence[str] = ()
    ) -> pd.DataFrame:
        d = dem.groupby(pd.Index(dlab, name="group")).sum()
        f = facf.groupby(pd.Index(flab, name="group")).sum()
        g = d.join(f, how="outer")
        extra = [a for a in always if a not in g.index]
        if extra:
            g = pd.concat([g, pd.DataFrame(index=pd.Index(extra, name="group"))])
        g = g.fillna(0.0)
        if always:
            g = g.reindex([*always, *sorted(x for x in g.index if x not in always)])
        else:
            g = g.sort_index()
        g = g.reset_index()
        g.insert(0, "level", level)
        return g

    region = pd.DataFrame(
        {
            "level": ["region"],
            "group": [region_name],
            **{c: [float(dem[c].sum())] for c in dem.columns},
            **{c: [float(facf[c].sum())] for c in facf.columns},
        }
    )
    rows.append(region)
    dist_always = ()
    if boundaries is not None and len(boundaries):
        dist_always = tuple(sorted(set(_text(boundaries, "district", OUTSIDE_DISTRICTS))))
    rows.append(block("district", labels["district"], places["district"], dist_always))
    rows.append(block("zone_type", labels["zone_type"], places["zone_type"]))
    if has_settlement:
        rows.append(
            block("settlement", labels["settlement"], places["settlement"], SETTLEMENT_TYPES)
        )
    out = pd.concat(rows, ignore_index=True)
    for c in ("n_facilities", "n_capacity_known", "n_capacity_default", "n_capacity_unknown"):
        out[c] = out[c].astype("int64")
    out["layer"] = layer.id
    out["unit"] = _unit(layer)
    out["demand_col"] = col
    code = out["group"].map(codes).astype(object)
    out["district_code"] = np.where(
        (out["level"] == "district") & code.notna(), code.where(code.notna(), ""), ""
    )
    per = _per_1000(layer)
    out["standard_per_1000"] = np.nan if per is None else per
    with np.errstate(divide="ignore", invalid="ignore"):
        out["capacity_per_1000"] = np.where(
            out["demand"] > 0, out["capacity"] / out["demand"] * 1000.0, np.nan
        )
        out["sfca_per_1000"] = (
            np.where(out["demand"] > 0, out["_sfp"] / out["demand"] * 1000.0, np.nan)
            if has_sfca
            else np.nan
        )
    met = np.full(len(out), "no_data", dtype=object)
    if per is not None and len(fac):
        known = out["capacity_per_1000"].notna().to_numpy()
        ratio = out["capacity_per_1000"].to_numpy(dtype=float)
        meets = known & (np.nan_to_num(ratio, nan=-1.0) >= per)
        short = known & ~meets & (out["n_capacity_unknown"].to_numpy() == 0)
        met[meets] = "met"
        met[short] = "not_met"
    out["met"] = met
    return out[list(SUPPLY_COLUMNS)].reset_index(drop=True)


# --------------------------------------------------------------------------- all at once


def compute_supply(
    demand_points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    layer: Layer,
    *,
    graph: network.WalkGraph | None = None,
    mode: str = "network",
    reach_m: float | None = None,
    demand_col: str | None = None,
    decay: str | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    region_name: str = "region",
    method: str = "2sfca",
) -> Supply:
    """2SFCA per demand point, facility reach and the supply table in one pass.

    Parameters are those of :func:`two_step_fca` and :func:`supply_table`. The
    warnings (plain sentences, also logged) say how many facilities have no known
    capacity and what was done with them, which capacity tags could not be read,
    which facilities reach no demand, and when the layer gives no standard.
    """
    res = _fca(
        demand_points,
        facilities,
        layer,
        graph=graph,
        mode=mode,
        reach_m=reach_m,
        demand_col=demand_col,
        decay=decay,
        method=method,
    )
    col, reach = res["col"], res["reach"]
    demand = demand_points.copy()
    demand["sfca"] = res["sfca"]
    demand["sfca_per_1000"] = res["sfca"] * 1000.0
    fac = res["facilities"]
    fac["demand_in_reach"] = res["in_reach"]
    fac["serves_demand"] = res["serves"]
    fac["supply_ratio"] = res["ratio"]
    table = supply_table(
        demand, fac, layer, boundaries=boundaries, demand_col=col, region_name=region_name
    )
    warnings = _warnings(fac, layer, col, reach, mode)
    for w in warnings:
        log.info("%s", w)
    return Supply(
        demand=demand,
        facilities=fac,
        table=table,
        reach_m=reach,
        demand_col=col,
        decay=decay,
        mode=mode,
        unit=_unit(layer),
        per_1000=_per_1000(layer),
        warnings=tuple(warnings),
        method=method,
        weight=res["weight"],
    )


def _warnings(fac: gpd.GeoDataFrame, layer: Layer, col: str, reach: float, mode: str) -> list[str]:
    label = layer.name("en")
    unit = _unit(layer)
    who = "residents aged 60+" if col == "pop_60plus" else "residents"
    cap = fac["capacity"].to_numpy(dtype=float)
    src = fac["capacity_source"].to_numpy(dtype=object)
    n = len(fac)
    out: list[str] = []
    if n == 0:
        out.append(
            f"No {label} facilities are in the data; capacity cannot be assessed "
            "(met is no_data). Import a facility table with a capacity column "
            "(--facilities FILE:LAYER:COORDS)."
        )
        return out
    raw = (
        fac["capacity_raw"].fillna("").astype(str).to_numpy(dtype=object)
        if "capacity_raw" in fac.columns
        else np.full(n, "", dtype=object)
    )
    unread = (raw != "") & ~np.isin(src, ["osm", "table", "given"])
    if unread.any():
        examples = ", ".join(repr(v) for v in pd.unique(raw[unread])[:3])
        out.append(
            f"{int(unread.sum())} of {n} {label} facilities have a capacity tag that is not "
            f"a number ({examples}); they count as unknown capacity. Fix the tag in "
            "OpenStreetMap (e.g. beds=120) or give the capacity in a facility table."
        )
    n_default = int((src == "layer_default").sum())
    if n_default:
        out.append(
            f"{n_default} of {n} {label} facilities have no known capacity and take the "
            f"layer default of {float(cast(float, layer.capacity['default'])):g} {unit} "
            f"([capacity] default in {layer.source_file or layer.id}); totals are estimates."
        )
    unknown = np.isnan(cap)
    if unknown.any():
        out.append(
            f"{int(unknown.sum())} of {n} {label} facilities have no known capacity (no "
            "capacity:beds, beds or capacity tag, no table value) and are excluded from "
            f"capacity totals and the 2SFCA ratio, so supply is understated where they "
            "stand; groups short of the standard with unknown capacity are no_data. Give "
            "their capacity in a facility table (a capacity or beds column) or set "
            "[capacity] default in the layer file."
        )
    idle = ~fac["serves_demand"].to_numpy(dtype=bool)
    if idle.any():
        idle_cap = float(np.nansum(cap[idle]))
        how = "walk" if mode == "network" else "straight-line"
        out.append(
            f"{int(idle.sum())} of {n} {label} facilities have no {who} within "
            f"{reach:,.0f} m ({how}); their {idle_cap:,.0f} {unit} count in the supply "
            "table where they stand but in no resident's 2SFCA ratio."
        )
    if _per_1000(layer) is None:
        out.append(
            f"The layer file of {label} gives no standard ([capacity] per_1000), so "
            "whether capacity is enough cannot be judged (met is no_data)."
        )
    return out
