"""Coverage engine: who is within walking reach of a layer's facilities.

* :func:`compute_access` adds to every demand point the distance to, and the id of, its
  nearest facility (network or straight-line) and the walking time.
* :func:`coverage_summary` turns that into covered population and coverage shares per
  radius for the whole region, each district and each zone type.
* :func:`catchments` draws each facility's network service area per radius (reached
  streets buffered and unioned, with holes where streets do not reach) and counts the
  population it serves.

Distances are metres measured in a local projected CRS; frames are returned in the CRS
of the input demand (EPSG:4326 by the project's rules); catchments in EPSG:4326.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import contourpy
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from geoapp.catalog import radius_label
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.network import (
    SnapResult,
    WalkGraph,
    _augmented,
    _local_points,
    _snap_geoms,
    _valid,
    euclidean_nearest,
    nearest_from_snapped,
)

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Default walking speed of an adult, km/h.
WALK_SPEED_KMH = 4.5
#: Walking speed preset for older residents, km/h.
ELDERLY_SPEED_KMH = 3.6
SPEED_PRESETS = {"adult": WALK_SPEED_KMH, "elderly": ELDERLY_SPEED_KMH}
MODES = ("network", "euclidean")
#: H3 resolution of the settled-area approximation used by ``share_area_R``.
AREA_H3_RES = 9
NO_DISTRICT = "(no district)"


def walk_minutes(
    dist_m: np.ndarray | pd.Series | float, speed_kmh: float = WALK_SPEED_KMH
) -> np.ndarray | pd.Series:
    """Convert metres to walking minutes at ``speed_kmh`` (``inf`` stays ``inf``).

    Raises
    ------
    InputError
        If ``speed_kmh`` is not a positive number.
    """
    if not np.isfinite(speed_kmh) or speed_kmh <= 0:
        raise InputError(f"walking speed {speed_kmh!r} km/h must be a positive number (e.g. 4.5)")
    metres_per_minute = speed_kmh * 1000.0 / 60.0
    if isinstance(dist_m, pd.Series):
        return dist_m.astype(float) / metres_per_minute
    return np.asarray(dist_m, dtype=float) / metres_per_minute


def facility_ids(facilities: pd.DataFrame) -> np.ndarray:
    """Return the facility id of each row as str (``facility_id``, else ``osm_id``, else row)."""
    for col in ("facility_id", "osm_id"):
        if col in facilities.columns:
            return facilities[col].astype(str).to_numpy(dtype=object)
    return np.array([str(i) for i in range(len(facilities))], dtype=object)


def compute_access(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    graph: WalkGraph | None = None,
    mode: str = "network",
    max_dist_m: float,
    speed_kmh: float = WALK_SPEED_KMH,
    layer_id: str = "",
) -> gpd.GeoDataFrame:
    """Distance from every demand point to its nearest facility.

    Parameters
    ----------
    demand
        Demand points (``demand_id``, ``pop``, ``pop_60plus``, ``district``,
        ``zone_type``, Point ``geometry``), with a CRS.
    facilities
        Facilities of one layer (``facility_id`` and Point or Polygon ``geometry``;
        polygons use their representative point).
    graph
        Walking network, required for ``mode="network"``.
    mode
        ``"network"`` (shortest path over streets plus off-network access legs) or
        ``"euclidean"`` (straight line).
    max_dist_m
        Search bound in metres (the layer's largest radius); farther is ``inf``.
    speed_kmh
        Walking speed for ``walk_min`` (see :data:`SPEED_PRESETS`).
    layer_id
        Written to the ``layer`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` plus ``dist_m`` (float, ``inf`` when no facility within
        ``max_dist_m`` or unreachable), ``facility_id`` (str, ``""`` when none),
        ``walk_min``, ``access_mode`` and ``layer``.

    Raises
    ------
    InputError
        Unknown mode, non-positive bound or speed, no CRS, or network mode without a graph.
    """
    problems = []
    if mode not in MODES:
        problems.append(f"mode {mode!r} is unknown; use one of {MODES}")
    if not np.isfinite(max_dist_m) or max_dist_m <= 0:
        problems.append(f"max_dist_m {max_dist_m!r} must be a positive number of metres")
    if not np.isfinite(speed_kmh) or speed_kmh <= 0:
        problems.append(f"speed_kmh {speed_kmh!r} must be a positive number (e.g. 4.5)")
    if mode == "network" and graph is None:
        problems.append(
            "mode 'network' needs a walking network: build one with "
            "geoapp.network.cached_graph(region.nodes, region.edges), or use mode='euclidean' "
            "(--mode euclidean) for a region without streets"
        )
    for name, frame in (("demand", demand), ("facilities", facilities)):
        if frame.crs is None and len(frame):
            problems.append(f"{name} has no coordinate reference system; set one (e.g. EPSG:4326)")
    if problems:
        raise InputError(f"Cannot compute access for layer {layer_id!r}:", problems)

    out = demand.copy()
    n = len(out)
    if len(facilities) == 0:
        log.warning(
            "layer %r has no facilities in this region: coverage is zero for all %d demand points",
            layer_id,
            n,
        )
        dist = np.full(n, np.inf)
        fidx = np.full(n, -1, dtype=np.int64)
    elif n == 0:
        dist = np.zeros(0)
        fidx = np.zeros(0, dtype=np.int64)
    elif mode == "network":
        dgeoms = _local_points(demand, graph.crs)
        fgeoms = _local_points(facilities, graph.crs)
        fsnap = _snap_geoms(graph, fgeoms)
        far = int((fsnap.access_m > max_dist_m).sum())
        if far:
            log.warning(
                "layer %r: %d of %d facilities are farther than %.0f m from any street and serve "
                "no one in network mode",
                layer_id,
                far,
                len(facilities),
                max_dist_m,
            )
        dist, fidx = nearest_from_snapped(graph, _snap_geoms(graph, dgeoms), fsnap, max_dist_m)
    else:
        crs = graph.crs if graph is not None else local_crs(demand)
        dist, fidx = euclidean_nearest(demand, facilities, max_dist_m, crs=crs)

    ids = facility_ids(facilities)
    fid = np.full(n, "", dtype=object)
    has = fidx >= 0
    fid[has] = ids[fidx[has]]
    out["dist_m"] = dist.astype(float)
    out["facility_id"] = pd.array(fid, dtype="str") if n else pd.array([], dtype="str")
    out["walk_min"] = walk_minutes(dist, speed_kmh)
    out["access_mode"] = mode
    out["layer"] = layer_id
    out.attrs.update(
        {"access_mode": mode, "max_dist_m": float(max_dist_m), "speed_kmh": float(speed_kmh)}
    )
    log.info(
        "layer %r (%s): %d of %d demand points within %.0f m",
        layer_id,
        mode,
        int(has.sum()),
        n,
        max_dist_m,
    )
    return out


# --------------------------------------------------------------------------- summary


def _layer_radii(layer: Any) -> tuple[list[float], str]:
    if hasattr(layer, "radii_m"):
        return [float(r) for r in layer.radii_m], str(getattr(layer, "id", ""))
    radii = [float(r) for r in np.atleast_1d(layer)]
    return radii, ""


def _h3_cells(access: gpd.GeoDataFrame) -> np.ndarray:
    if "h3" in access.columns and access["h3"].notna().all() and (access["h3"] != "").all():
        return access["h3"].astype(str).to_numpy(dtype=object)
    pts = access.geometry.to_crs(WGS84)
    pts = shapely.point_on_surface(pts.to_numpy())
    xy = shapely.get_coordinates(pts)
    return np.array([h3.latlng_to_cell(lat, lon, AREA_H3_RES) for lon, lat in xy], dtype=object)


def _settled_area_weights(access: gpd.GeoDataFrame, pop: np.ndarray) -> np.ndarray:
    """Return each demand point's share of settled area, km².

    The settled area is the union of the H3 cells holding a demand point with
    residents; each cell's area is split equally among the inhabited points in it.
    """
    w = np.zeros(len(access))
    inhabited = pop > 0
    if not inhabited.any():
        return w
    cells = pd.Series(_h3_cells(access.loc[inhabited]))
    counts = cells.map(cells.value_counts())
    uniq = cells.unique()
    area = dict(zip(uniq, (h3.cell_area(c, unit="km^2") for c in uniq), strict=True))
    w[inhabited] = cells.map(area).to_numpy(float) / counts.to_numpy(float)
    return w


def coverage_summary(
    access: gpd.GeoDataFrame,
    layer: Any,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    region_name: str = "region",
) -> pd.DataFrame:
    """Covered population and coverage shares per radius, for the region and each group.

    Parameters
    ----------
    access
        Output of :func:`compute_access` (needs ``dist_m``, ``pop``, ``pop_60plus``,
        ``district``, ``zone_type``; ``district_code`` and ``h3`` when present).
    layer
        A :class:`geoapp.catalog.Layer` (its ``radii_m`` and ``id`` are used) or a
        sequence of radii in metres.
    boundaries
        District boundaries; when given, every district appears (even with no
        demand) and ``area_km2`` is the district's land area.
    region_name
        ``group`` of the region row.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``layer``, ``level`` (``"region"`` | ``"district"`` |
        ``"zone_type"``), ``group``, ``district_code``, ``pop``, ``pop_60plus``,
        ``area_km2``, ``settled_km2`` and for every radius ``R`` (integer metres):
        ``covered_pop_R``, ``covered_pop_60plus_R`` (residents with ``dist_m <= R``),
        ``share_pop_R``, ``share_pop_60plus_R`` (covered / total, NaN when the group
        has no residents) and ``share_area_R``.

    Notes
    -----
    ``share_area_R`` is area-weighted coverage: the share of the group's SETTLED area
    within reach. Settled area (``settled_km2``) is approximated by the H3 resolution-9
    cells (about 0.1 km² each) holding at least one demand point with residents; each
    cell's area is split equally among those points (so a cell straddling two districts
    is shared between them and district rows still add up) and a point's share counts
    as covered when its ``dist_m <= R``. It answers "how much of the inhabited land is
    served", independent of how many people live on it; NaN when nothing is settled.
    ``area_km2`` is the district's area from ``boundaries`` when given (zone rows and
    the region row sum their districts), otherwise ``settled_km2``. District rows
    (including a ``"(no district)"`` row for demand outside every district, if any)
    sum to the region row.
    """
    radii, layer_id = _layer_radii(layer)
    if not layer_id and "layer" in access.columns and len(access):
        layer_id = str(access["layer"].iloc[0])
    required = ["dist_m", "pop", "pop_60plus"]
    missing = [c for c in required if c not in access.columns]
    if missing:
        raise InputError(
            f"coverage_summary: the access table lacks columns {missing}; "
            "pass the output of geoapp.coverage.compute_access"
        )
    pop = pd.to_numeric(access["pop"], errors="coerce").fillna(0).to_numpy(float)
    pop60 = pd.to_numeric(access["pop_60plus"], errors="coerce").fillna(0).to_numpy(float)
    dist = pd.to_numeric(access["dist_m"], errors="coerce").fillna(np.inf).to_numpy(float)
    district = _text(access, "district", NO_DISTRICT)
    code = _text(access, "district_code", "")
    zone = _text(access, "zone_type", "unknown")
    area_w = _settled_area_weights(access, pop) if len(access) else np.zeros(0)

    vals: dict[str, np.ndarray] = {"pop": pop, "pop_60plus": pop60, "settled_km2": area_w}
    for r in radii:
        lab = radius_label(r)
        cov = dist <= r
        vals[f"covered_pop_{lab}"] = np.where(cov, pop, 0.0)
        vals[f"covered_pop_60plus_{lab}"] = np.where(cov, pop60, 0.0)
        vals[f"_covered_area_{lab}"] = np.where(cov, area_w, 0.0)
    frame = pd.DataFrame(vals)
    frame["_district"] = district
    frame["_code"] = code
    frame["_zone"] = zone

    codes = frame.loc[frame["_code"] != ""].groupby("_district")["_code"].first()
    by_d = frame.drop(columns=["_zone", "_code"]).groupby("_district", sort=True).sum()
    by_d.insert(0, "district_code", codes.reindex(by_d.index).fillna("").astype(str))
    by_d = by_d.reset_index().rename(columns={"_district": "group"})
    by_z = frame.drop(columns=["_district", "_code"]).groupby("_zone", sort=True).sum()
    by_z = by_z.reset_index().rename(columns={"_zone": "group"})
    by_z["district_code"] = ""

    if boundaries is not None and len(boundaries):
        by_d, by_z = _with_boundaries(by_d, by_z, boundaries)
    else:
        by_d["area_km2"] = by_d["settled_km2"]
        by_z["area_km2"] = by_z["settled_km2"]

    num_cols = [c for c in by_d.columns if c not in ("group", "district_code")]
    region = by_d[num_cols].sum().to_frame().T
    region["group"] = region_name
    region["district_code"] = ""
    region["level"] = "region"
    by_d["level"] = "district"
    by_z["level"] = "zone_type"
    out = pd.concat([region, by_d, by_z], ignore_index=True)

    for r in radii:
        lab = radius_label(r)
        out[f"share_pop_{lab}"] = _share(out[f"covered_pop_{lab}"], out["pop"])
        out[f"share_pop_60plus_{lab}"] = _share(out[f"covered_pop_60plus_{lab}"], out["pop_60plus"])
        out[f"share_area_{lab}"] = _share(out[f"_covered_area_{lab}"], out["settled_km2"])
    out["layer"] = layer_id
    cols = [
        "layer",
        "level",
        "group",
        "district_code",
        "pop",
        "pop_60plus",
        "area_km2",
        "settled_km2",
    ]
    for r in radii:
        lab = radius_label(r)
        cols += [
            f"covered_pop_{lab}",
            f"covered_pop_60plus_{lab}",
            f"share_pop_{lab}",
            f"share_pop_60plus_{lab}",
            f"share_area_{lab}",
        ]
    out = out[cols]
    for c in ("layer", "level", "group", "district_code"):
        out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def _text(frame: pd.DataFrame, col: str, default: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    s = frame[col].astype(object).where(frame[col].notna(), default).astype(str)
    s = s.where(s != "", default)
    return s.to_numpy(dtype=object)


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype(float)
    den = den.astype(float)
    return (num / den.where(den > 0)).clip(upper=1.0)


def _with_boundaries(
    by_d: pd.DataFrame, by_z: pd.DataFrame, boundaries: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add every district of ``boundaries`` (with its area) to the group tables.

    Districts are matched on their name (``district``); the code comes from the
    boundaries where the demand has none.
    """
    b = boundaries
    area = b.geometry.to_crs(local_crs(b)).area.to_numpy(float) / 1e6
    bd = pd.DataFrame(
        {
            "group": _text(b, "district", NO_DISTRICT),
            "_bcode": _text(b, "district_code", ""),
            "_zone": _text(b, "zone_type", "unknown"),
            "area_km2": area,
        }
    )
    bd = bd.groupby("group", sort=False, as_index=False).agg(
        {"_bcode": "first", "_zone": "first", "area_km2": "sum"}
    )
    num_cols = [c for c in by_d.columns if c not in ("group", "district_code")]
    merged = bd.merge(by_d, on="group", how="outer")
    merged[num_cols] = merged[num_cols].fillna(0.0)
    merged["area_km2"] = merged["area_km2"].fillna(0.0)
    code = merged["district_code"].fillna("").astype(str)
    merged["district_code"] = code.where(code != "", merged["_bcode"].fillna("").astype(str))
    merged = merged.drop(columns=["_bcode", "_zone"]).sort_values("group")

    zone_area = bd.groupby("_zone", as_index=False)["area_km2"].sum()
    by_z = by_z.merge(zone_area.rename(columns={"_zone": "group"}), on="group", how="outer")
    by_z[num_cols] = by_z[num_cols].fillna(0.0)
    by_z["area_km2"] = by_z["area_km2"].fillna(0.0)
    by_z["district_code"] = ""
    return merged.reset_index(drop=True), by_z.sort_values("group").reset_index(drop=True)


# --------------------------------------------------------------------------- catchments


def catchments(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame,
    radii_m: Sequence[float],
    demand_access: gpd.GeoDataFrame | None = None,
    *,
    layer_id: str = "",
    buffer_m: float = 40.0,
    cell_m: float = 5.0,
    max_batch_values: int = 20_000_000,
) -> gpd.GeoDataFrame:
    """Network service area of each facility at each radius, and the population it serves.

    The service area is the union of every street stretch reachable within the radius
    (whole edges, the reached part of an edge where the radius ends midway, and the
    facility's own edge on both sides of it), each buffered by ``buffer_m``: blocks that
    no reached street passes through stay holes, unlike a convex hull. Distances include
    the facility's off-network access leg, as in :func:`compute_access`.

    Parameters
    ----------
    graph
        The walking network.
    facilities
        Facilities (``facility_id``; Point or Polygon geometry) with a CRS.
    radii_m
        Radii in metres.
    demand_access
        Output of :func:`compute_access` for these facilities; fills ``pop_served``
        (residents whose NEAREST facility is this one, within the radius). Without
        it the served columns are NaN.
    layer_id
        Written to the ``layer`` column (default: ``demand_access``'s layer).
    buffer_m
        Half-width of the street buffer, metres.
    cell_m
        Resolution of the union, metres (see Notes).
    max_batch_values
        Memory cap: facilities are processed in batches so that one batch's distance
        table holds at most about this many float64 values.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; one row per facility and radius: ``facility_id``, ``layer``,
        ``radius_m``, ``pop_served``, ``pop_60plus_served``, ``area_km2`` (measured in
        the local CRS) and ``geometry`` (Polygon/MultiPolygon; empty when the facility
        is farther than the radius from any street).

    Notes
    -----
    One bounded multi-source Dijkstra call (per batch of facilities) gives each
    facility's distance to every node; the reached streets are sampled every
    ``cell_m`` metres with their network distance. Buffering and unioning thousands of
    street segments per facility with GEOS takes minutes on a city, so the union is
    computed on a ``cell_m`` grid instead: the exact Euclidean distance transform of
    the reached samples is contoured at ``buffer_m``. The outline is the buffered
    union to within about ``cell_m`` (default 5 m against a 40 m buffer).
    """
    radii = sorted(float(r) for r in radii_m)
    if not radii or any((not np.isfinite(r)) or r <= 0 for r in radii):
        raise InputError(f"catchments: radii {list(radii_m)} must be positive numbers of metres")
    if not (buffer_m > 0 and cell_m > 0):
        raise InputError("catchments: buffer_m and cell_m must be positive numbers of metres")
    if not layer_id and demand_access is not None and "layer" in demand_access.columns:
        layer_id = str(demand_access["layer"].iloc[0]) if len(demand_access) else ""
    k = len(facilities)
    nr = len(radii)
    ids = facility_ids(facilities)
    geoms_out = np.full(k * nr, None, dtype=object)
    if k:
        fsnap = _snap_geoms(graph, _local_points(facilities, graph.crs))
        fok = np.flatnonzero(_valid(fsnap))
        if len(fok):
            _catchment_geoms(
                graph, fsnap, fok, radii, buffer_m, cell_m, max_batch_values, geoms_out
            )
    empty = shapely.is_missing(geoms_out)
    geoms_out[empty] = shapely.Polygon()
    area = shapely.area(geoms_out) / 1e6

    out = pd.DataFrame(
        {
            "facility_id": np.repeat(ids, nr).astype(str),
            "layer": layer_id,
            "radius_m": np.tile(np.asarray(radii, dtype=float), k),
        }
    )
    served = _served(demand_access, radii)
    if served is None:
        out["pop_served"] = np.nan
        out["pop_60plus_served"] = np.nan
    else:
        out = out.merge(served, on=["facility_id", "radius_m"], how="left")
        cols = ["pop_served", "pop_60plus_served"]
        out[cols] = out[cols].fillna(0.0)
    out["area_km2"] = area
    gdf = gpd.GeoDataFrame(out, geometry=geoms_out, crs=graph.crs).to_crs(WGS84)
    log.info("catchments: %d facilities x %d radii", k, nr)
    return gdf


def _served(demand_access: gpd.GeoDataFrame | None, radii: list[float]) -> pd.DataFrame | None:
    if demand_access is None:
        return None
    need = [c for c in ("facility_id", "dist_m", "pop", "pop_60plus") if c not in demand_access]
    if need:
        raise InputError(
            f"catchments: demand_access lacks columns {need}; pass compute_access's output"
        )
    da = pd.DataFrame(
        {
            "facility_id": demand_access["facility_id"].astype(str).to_numpy(),
            "dist_m": pd.to_numeric(demand_access["dist_m"]).to_numpy(float),
            "pop_served": pd.to_numeric(demand_access["pop"]).fillna(0).to_numpy(float),
            "pop_60plus_served": pd.to_numeric(demand_access["pop_60plus"])
            .fillna(0)
            .to_numpy(float),
        }
    )
    da = da[da["facility_id"] != ""]
    frames = []
    for r in radii:
        s = (
            da[da["dist_m"] <= r]
            .groupby("facility_id", as_index=False)[["pop_served", "pop_60plus_served"]]
            .sum()
        )
        s["radius_m"] = float(r)
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def _edge_samples(
    graph: WalkGraph, edges: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample points every ``step`` metres (ends included) along the given edges.

    Returns ``(start, count, pos_m, xy)``: the samples of ``edges[i]`` are
    ``start[i] : start[i] + count[i]`` of ``pos_m`` (metres from ``u``) and ``xy``.
    Interpolation is done in numpy on the edges' vertices (shapely's per-point
    interpolation is several times slower for hundreds of thousands of samples).
    """
    geoms = graph.geometry[edges]
    coords, vidx = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg[vidx[1:] != vidx[:-1]] = 0.0  # no segment between two edges
    cum = np.r_[0.0, np.cumsum(seg)]  # global, non-decreasing
    nverts = np.bincount(vidx, minlength=len(edges))
    vstart = np.cumsum(nverts) - nverts
    geo_len = cum[vstart + nverts - 1] - cum[vstart]
    length = graph.length_m[edges]
    count = np.maximum(2, np.ceil(np.maximum(length, geo_len) / step).astype(np.int64) + 1)
    start = np.cumsum(count) - count
    owner = np.repeat(np.arange(len(edges)), count)
    frac = (np.arange(count.sum()) - start[owner]) / (count[owner] - 1)
    pos_m = frac * length[owner]
    target = cum[vstart[owner]] + frac * geo_len[owner]
    k = np.searchsorted(cum, target, side="right") - 1
    k = np.clip(k, vstart[owner], vstart[owner] + nverts[owner] - 2)
    t = np.divide(target - cum[k], seg[k], out=np.zeros_like(target), where=seg[k] > 0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    xy = coords[k] * (1 - t) + coords[k + 1] * t
    return start, count, pos_m, xy


def _expand(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (owner, index) pairs enumerating ``start[i] : start[i] + count[i]``."""
    owner = np.repeat(np.arange(len(count)), count)
    index = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + start[owner]
    return owner, index


def _catchment_geoms(
    graph: WalkGraph,
    fsnap: SnapResult,
    fok: np.ndarray,
    radii: list[float],
    buffer_m: float,
    cell_m: float,
    max_batch_values: int,
    geoms_out: np.ndarray,
) -> None:
    """Fill ``geoms_out[f * len(radii) + i]`` with facility ``f``'s area at radius ``i``."""
    from scipy.ndimage import distance_transform_edt  # imported here: 0.5 s at app start

    nr = len(radii)
    rmax = radii[-1]
    fac = SnapResult(fsnap.edge[fok], fsnap.along_m[fok], fsnap.access_m[fok])
    aug, sources = _augmented(graph, fac)
    width = max(aug.shape[0], graph.n_edges)
    batch = max(1, int(max_batch_values // max(1, 3 * width)))
    S_j, S_xy, S_d = [], [], []
    for b0 in range(0, len(fok), batch):
        sl = slice(b0, min(len(fok), b0 + batch))
        D = dijkstra(aug, directed=True, indices=sources[sl], limit=rmax)
        du = D[:, graph.u_idx]
        dv = D[:, graph.v_idx]
        del D
        bi, ei = np.nonzero((du < rmax) | (dv < rmax))
        dU, dV = du[bi, ei], dv[bi, ei]
        del du, dv
        # the facilities' own edges are reached directly along the edge; pairs are
        # ordered by facility so that the samples come out grouped by facility
        n_own = sl.stop - sl.start
        pair_j = np.concatenate([bi + b0, np.arange(sl.start, sl.stop)])
        pair_e = np.concatenate([ei, fac.edge[sl]])
        pair_own = np.r_[np.zeros(len(ei), dtype=bool), np.ones(n_own, dtype=bool)]
        pair_u = np.r_[dU, np.full(n_own, np.inf)]
        pair_v = np.r_[dV, np.full(n_own, np.inf)]
        po = np.argsort(pair_j, kind="stable")
        pair_j, pair_e, pair_own = pair_j[po], pair_e[po], pair_own[po]
        pair_u, pair_v = pair_u[po], pair_v[po]
        uniq, inv = np.unique(pair_e, return_inverse=True)
        start, count, pos_m, xy = _edge_samples(graph, uniq, cell_m)
        owner, sidx = _expand(start[inv], count[inv])
        pos = pos_m[sidx]
        length = graph.length_m[pair_e[owner]]
        d = np.minimum(pair_u[owner] + pos, pair_v[owner] + length - pos)
        own = pair_own[owner]
        j_own = pair_j[owner[own]]
        d[own] = fac.access_m[j_own] + np.abs(pos[own] - fac.along_m[j_own])
        keep = d <= rmax
        S_j.append(pair_j[owner[keep]])
        S_xy.append(xy[sidx[keep]])
        S_d.append(d[keep])
    j = np.concatenate(S_j)
    sxy = np.concatenate(S_xy)
    sd = np.concatenate(S_d)
    bounds = np.searchsorted(j, np.arange(len(fok) + 1))

    ring_xy: list[np.ndarray] = []
    ring_poly: list[np.ndarray] = []
    poly_group: list[int] = []
    pad = buffer_m + 2 * cell_m
    for jpos in range(len(fok)):
        pxy, pdist = sxy[bounds[jpos] : bounds[jpos + 1]], sd[bounds[jpos] : bounds[jpos + 1]]
        for r_i, r in enumerate(radii):
            sel = pxy[pdist <= r]
            if len(sel) == 0:
                continue
            origin = sel.min(axis=0) - pad
            cells = np.rint((sel - origin) / cell_m).astype(np.int64)
            shape = np.floor((sel.max(axis=0) + pad - origin) / cell_m).astype(np.int64) + 1
            free = np.ones((shape[1], shape[0]), dtype=bool)
            free[cells[:, 1], cells[:, 0]] = False
            field_m = distance_transform_edt(free) * cell_m
            xs = origin[0] + np.arange(shape[0]) * cell_m
            ys = origin[1] + np.arange(shape[1]) * cell_m
            gen = contourpy.contour_generator(
                xs, ys, field_m, fill_type=contourpy.FillType.OuterOffset
            )
            points, offsets = gen.filled(-1.0, buffer_m)
            group = int(fok[jpos]) * nr + r_i
            for pts_, offs in zip(points, offsets, strict=True):
                n_rings = len(offs) - 1
                ring_xy.append(pts_)
                ring_poly.append(np.repeat(np.arange(n_rings), np.diff(offs)))
                poly_group.append(group)
    if not ring_xy:
        return
    # assemble every ring, polygon and multipolygon in three vectorised calls
    n_rings_per_poly = np.array([r.max() + 1 for r in ring_poly], dtype=np.int64)
    ring_base = np.cumsum(n_rings_per_poly) - n_rings_per_poly
    ring_ids = np.concatenate([r + b for r, b in zip(ring_poly, ring_base, strict=True)])
    rings = shapely.linearrings(np.concatenate(ring_xy), indices=ring_ids)
    polys = shapely.polygons(rings, indices=np.repeat(np.arange(len(poly_group)), n_rings_per_poly))
    # contours step at every grid cell: drop vertices that add < cell_m / 4
    polys = shapely.simplify(polys, cell_m / 4, preserve_topology=False)
    groups = np.asarray(poly_group)
    order = np.argsort(groups, kind="stable")
    uniq, first = np.unique(groups[order], return_index=True)
    multi = shapely.multipolygons(polys[order], indices=np.searchsorted(uniq, groups[order]))
    single = np.diff(np.r_[first, len(order)]) == 1
    out = np.where(single, polys[order][first], multi)
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad], method="structure", keep_collapsed=False)
    geoms_out[uniq] = out
