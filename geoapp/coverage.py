"""Coverage engine: who is within walking reach of a layer's facilities.

* :func:`compute_access` adds to every demand point the distance to, and the id of, its
  nearest facility (network or straight-line) and the walking time.
* :func:`coverage_summary` turns that into covered population and coverage shares per
  radius for the whole region, each district, each zone type and each settlement
  class, with a ``status`` that tells missing data (no facility mapped) from missing
  service.
* :func:`catchments` adds the population served to each facility's network service
  area (:func:`geoapp.network.catchments`).

Only public names of :mod:`geoapp.network` are used. Nothing is passed in ``attrs``:
whatever changes a result is a parameter. Distances are metres measured in a local
projected CRS; frames are returned in the CRS of the input demand (EPSG:4326 by the
project's rules); catchments in EPSG:4326.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geoapp import catalog, network
from geoapp.artefacts import DQ_ARTEFACTS, dq_labels
from geoapp.artefacts import FRAGMENT_M as FRAGMENT_M  # re-exported: the fragment rules
from geoapp.artefacts import FRAGMENT_MIN_SHARE as FRAGMENT_MIN_SHARE
from geoapp.artefacts import fragment_warning as fragment_warning
from geoapp.artefacts import on_fragments as on_fragments
from geoapp.artefacts import street_fragments as street_fragments
from geoapp.catalog import radius_label
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.network import Snapped, WalkGraph
from geoapp.region import DATA_AREA_COLUMN, OUTSIDE_DISTRICTS, SETTLEMENT_TYPES

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

# The walking-speed presets live with the layers (a minute-based layer's reach depends
# on them); re-exported here for the callers of compute_access.
WALK_SPEED_KMH = catalog.WALK_SPEED_KMH
ELDERLY_SPEED_KMH = catalog.ELDERLY_SPEED_KMH
SPEED_PRESETS = catalog.SPEED_PRESETS
MODES = ("network", "euclidean")
#: H3 resolution of the settled-area approximation used by ``share_area_R``.
AREA_H3_RES = 9
#: District name of demand outside every district (see :data:`geoapp.region.OUTSIDE_DISTRICTS`).
NO_DISTRICT = OUTSIDE_DISTRICTS


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
    demand_snap: Snapped | None = None,
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
    demand_snap
        ``geoapp.network.snap(graph, demand)`` computed once and reused across layers
        (network mode); None snaps the demand here. The answers are the same.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` (with empty ``attrs``: the search bound and the speed are
        this call's parameters, recorded by the caller) plus ``dist_m`` (float, ``inf`` when no facility within
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
    if demand_snap is not None and len(demand_snap) != len(demand):
        problems.append(
            f"demand_snap has {len(demand_snap)} points but demand has {len(demand)} rows; "
            "pass geoapp.network.snap(graph, demand) of this demand, or None"
        )
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
    out.attrs = {}  # nothing travels in attrs: the bound and speed are the caller's parameters
    n = len(out)
    if len(facilities) == 0:
        log.info(  # the caller reports it as missing data (status no_data), not as a gap
            "layer %r has no facilities: no distance for the %d demand points", layer_id, n
        )
        dist = np.full(n, np.inf)
        fidx = np.full(n, -1, dtype=np.int64)
    elif n == 0:
        dist = np.zeros(0)
        fidx = np.zeros(0, dtype=np.int64)
    elif mode == "network":
        assert graph is not None  # checked above
        fsnap = network.snap(graph, facilities)
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
        dsnap = network.snap(graph, demand) if demand_snap is None else demand_snap
        dist, fidx = network.nearest(graph, dsnap, fsnap, max_dist_m)
    else:
        crs = graph.crs if graph is not None else local_crs(demand)
        dist, fidx = network.euclidean_nearest(demand, facilities, max_dist_m, crs=crs)

    ids = facility_ids(facilities)
    fid = np.full(n, "", dtype=object)
    has = fidx >= 0
    fid[has] = ids[fidx[has]]
    out["dist_m"] = dist.astype(float)
    out["facility_id"] = pd.array(fid, dtype="str") if n else pd.array([], dtype="str")
    out["walk_min"] = walk_minutes(dist, speed_kmh)
    out["access_mode"] = mode
    out["layer"] = layer_id
    log.info(
        "layer %r (%s): %d of %d demand points within %.0f m",
        layer_id,
        mode,
        int(has.sum()),
        n,
        max_dist_m,
    )
    return out


# --------------------------------------------------------------------------- status

#: Status of a unit (one layer in the region, a district, a zone type or a settlement
#: class), derived once by :func:`judge` and used by every table, map and page.
MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"
STATUSES = (MET, NOT_MET, NO_DATA)
#: ``status_reason`` of every unit of a layer with no facility in the data.
NO_FACILITY_REASON = "no facility of the layer in the data: coverage cannot be assessed"
#: ``status_reason`` of a unit holding none of the layer's residents.
NO_RESIDENTS_REASON = "none of the layer's residents live here: there is no share to judge"
#: Added to the reason of a district with no facility inside (its residents may still
#: be reached from next door, so the share and the verdict stand).
NO_FACILITY_INSIDE = "no facility of the layer inside this district in the data"


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def judge(
    share: float,
    target: float,
    *,
    residents: float,
    layer_has_facilities: bool = True,
    lower_bound: bool = False,
    reach_m: float | None = None,
) -> tuple[str, str]:
    """Return the status of one unit and why: ``(status, status_reason)``.

    The one rule behind the ``status`` of ``summary.csv``, ``zones.csv`` and the share
    rules of ``compliance.csv``: ``no_data`` when the layer has no facility in the data,
    the unit has none of the layer's residents, or the share is only a lower bound
    below the target (the reach exceeds the distance searched); otherwise ``met`` when
    ``share >= target`` and ``not_met`` below it.

    Parameters
    ----------
    share
        Share (0..1) of the unit's residents within the reach.
    target
        Share the unit should reach (the layer's ``target_share`` or a rule's threshold).
    residents
        The unit's residents the share counts (all, or aged 60+).
    layer_has_facilities
        False when the data holds no facility of the layer at all.
    lower_bound
        The share is a lower bound (residents beyond the search may be within reach).
    reach_m
        The reach the share is measured at, named in the reason.
    """
    if not layer_has_facilities:
        return NO_DATA, NO_FACILITY_REASON
    if not residents > 0:
        return NO_DATA, NO_RESIDENTS_REASON
    if share is None or not np.isfinite(share):
        return NO_DATA, "the share cannot be computed"
    within = f" within {reach_m:,.0f} m" if reach_m is not None and np.isfinite(reach_m) else ""
    goal = f"the target {target * 100:g}%"
    if share >= target - 1e-12:
        return MET, f"{_pct(share)}{within} meets {goal}"
    if lower_bound:
        return NO_DATA, (
            f"at least {_pct(share)}{within}, below {goal}: the reach exceeds the distance "
            "searched, so the share is only a lower bound"
        )
    return NOT_MET, f"{_pct(share)}{within} is below {goal}"


def _target(layer: Any, radii: list[float]) -> tuple[float, float]:
    """Return the layer's target reach (m) and share; a list of radii: its largest at 85%."""
    target = getattr(layer, "target_m", None)
    share = getattr(layer, "target_share", None)
    return (
        float(target) if target else max(radii, default=np.nan),
        float(share) if share is not None else catalog.DEFAULT_TARGET_SHARE,
    )


def judge_summary(
    summary: pd.DataFrame,
    layer: Any,
    *,
    has_facilities: bool = True,
    covered_at_target: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Return a coverage summary with ``status`` and ``status_reason`` set by :func:`judge`.

    Every row is judged at the layer's target (``target_m``, ``target_share``) on the
    share of the layer's own residents (``pop_60plus`` for 60+ layers). The shares of a
    ``no_data`` row are emptied (NaN): no data is never 0%.

    Parameters
    ----------
    summary
        A summary as :func:`coverage_summary` builds it (``level``, ``n_facilities``,
        ``pop``, ``pop_60plus`` and the covered columns).
    layer
        The layer (or a sequence of radii: judged at the largest, against 85%).
    has_facilities
        False when the data holds no facility of the layer.
    covered_at_target
        The covered residents at the target reach per row; None reads the covered
        column of the target radius (it must be one of the layer's radii).
    """
    radii, _, labels = _layer_radii(layer)
    target, target_share = _target(layer, radii)
    dcol = str(getattr(layer, "demand_column", "pop"))
    if covered_at_target is None:
        lab = labels[radii.index(target)]
        covered_at_target = summary[f"covered_{dcol}_{lab}"]
    residents = pd.to_numeric(summary[dcol], errors="coerce").to_numpy(float)
    covered = np.asarray(covered_at_target, dtype=float)
    share = np.full(len(summary), np.nan)
    pos = residents > 0
    share[pos] = np.minimum(covered[pos] / residents[pos], 1.0)
    nfac = pd.to_numeric(summary["n_facilities"], errors="coerce").to_numpy(dtype=float)
    level = summary["level"].astype(str).to_numpy()
    status = np.empty(len(summary), dtype=object)
    reason = np.empty(len(summary), dtype=object)
    for i in range(len(summary)):
        st_, why = judge(
            share[i],
            target_share,
            residents=residents[i],
            layer_has_facilities=has_facilities,
            reach_m=target,
        )
        if level[i] == "district" and has_facilities and nfac[i] == 0:  # NaN: not known
            why = f"{why}; {NO_FACILITY_INSIDE}"
        status[i], reason[i] = st_, why
    out = summary.copy()
    out["status"] = pd.Series(status, index=out.index, dtype=object).astype(str)
    out["status_reason"] = reason.astype(str)
    blank = status == NO_DATA
    if blank.any():
        cols = [c for c in out.columns if str(c).startswith("share_")]
        out.loc[blank, cols] = np.nan
    return out


# --------------------------------------------------------------------------- summary


def _layer_radii(layer: Any) -> tuple[list[float], str, list[str]]:
    """Radii in metres, layer id and column suffixes (``"300"`` or ``"15min"``)."""
    if hasattr(layer, "radii_m"):
        radii = [float(r) for r in layer.radii_m]
        labels = list(getattr(layer, "labels", [radius_label(r) for r in radii]))
        return radii, str(getattr(layer, "id", "")), labels
    radii = [float(r) for r in np.atleast_1d(layer)]
    return radii, "", [radius_label(r) for r in radii]


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


#: The label of each grouping for a demand point that has none.
GROUP_DEFAULTS = {"district": OUTSIDE_DISTRICTS, "zone_type": "unknown", "settlement": "unknown"}
#: Where a district's land beyond its settled area counts when the grouping is a class of
#: each point (settlements, zone types by density): the rural class.
LAND_REMAINDER = "rural"


def group_labels(frame: pd.DataFrame, level: str) -> np.ndarray:
    """Return each row's group at ``level`` (``district``, ``zone_type``, ``settlement``).

    The labels every table groups by: missing or empty values are the level's default
    (:data:`GROUP_DEFAULTS`: ``"(outside districts)"``, ``"unknown"``).
    """
    return _text(frame, level, GROUP_DEFAULTS.get(level, "unknown"))


def zones_by_point(access: pd.DataFrame) -> bool:
    """Return True when the zone type is a class of each point (a district holds several)."""
    if not len(access) or "zone_type" not in access.columns:
        return False
    d = pd.DataFrame(
        {"d": group_labels(access, "district"), "z": group_labels(access, "zone_type")}
    )
    return bool((d.groupby("d")["z"].nunique() > 1).any())


def split_land(
    district: np.ndarray,
    label: np.ndarray,
    settled: np.ndarray,
    land_km2: Mapping[str, float],
    *,
    rest: Mapping[str, str] | str = LAND_REMAINDER,
) -> pd.Series:
    """Return the land area (km²) of each group: every district's land split among groups.

    Within a district each group gets its settled area (scaled down when the settled
    cells overhang the district's land) and the rest of the district's land goes to
    ``rest`` (one label, or one per district). So the groups' areas add up to the
    districts' land, whatever the grouping: a district zoned as a whole (one zone type,
    given as its ``rest``) keeps all its land in its zone; under density zoning or by
    settlement class, land without residents counts as rural.

    Parameters
    ----------
    district, label, settled
        Per demand point: district, group and share of settled area (km²).
    land_km2
        District -> land area in km² (every district of the summary).
    rest
        The group of each district's unsettled land: one label for all, or per district
        (districts not listed: :data:`LAND_REMAINDER`).
    """
    s = (
        pd.DataFrame({"d": district, "g": label, "a": settled})
        .groupby(["d", "g"], sort=False)["a"]
        .sum()
    )
    by_d: dict[str, pd.Series] = {str(d): part.droplevel(0) for d, part in s.groupby(level=0)}
    out: dict[str, float] = {}
    for d, land in land_km2.items():
        land = float(land) if np.isfinite(land) else 0.0
        part = by_d.get(str(d), pd.Series(dtype=float))
        total = float(part.sum())
        scale = min(1.0, land / total) if total > 0 else 0.0
        for g, a in part.items():
            out[str(g)] = out.get(str(g), 0.0) + float(a) * scale
        r = rest if isinstance(rest, str) else rest.get(str(d), LAND_REMAINDER)
        out[r] = out.get(r, 0.0) + land - total * scale
    return pd.Series(out, dtype=float)


def facility_places(
    facilities: gpd.GeoDataFrame,
    access: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    default_groups: bool = False,
) -> pd.DataFrame:
    """Return where each facility counts: its ``district``, ``zone_type`` and ``settlement``.

    The one rule of every table that counts facilities per group (``summary.csv``,
    ``zones.csv``, ``compliance.csv``). District: the boundary that contains the
    facility (the first listed on a shared edge; :data:`geoapp.region.OUTSIDE_DISTRICTS`
    when none), or without boundaries the district of its nearest demand point. Zone
    type and settlement class: those of its nearest demand point (straight line), so
    they follow the zoning of the residents whatever the method (district attributes or
    density). A facility without geometry, or with no demand point to be near, has
    ``""`` where it cannot be placed (it counts in the region only); with
    ``default_groups=True`` it has each level's default group instead
    (:data:`GROUP_DEFAULTS`, as the supply table counts it).

    Polygons count at a point on their surface. Returns a frame aligned with
    ``facilities`` (``settlement`` is ``""``, or its default, when ``access`` has no such
    column).
    """
    n = len(facilities)
    fill = {k: GROUP_DEFAULTS[k] if default_groups else "" for k in GROUP_DEFAULTS}
    out = pd.DataFrame({k: np.full(n, v, dtype=object) for k, v in fill.items()})
    if not n:
        return out
    if facilities.crs is None:
        raise InputError(
            "facilities have no coordinate reference system; set one (e.g. EPSG:4326) first"
        )
    crs = local_crs(access) if len(access) else local_crs(facilities)
    fpts = _points(facilities, crs)
    placed = ~(shapely.is_missing(fpts) | shapely.is_empty(fpts))
    if not placed.all() and not default_groups:
        log.warning(
            "%d facilities have no geometry and count only in the region row",
            int((~placed).sum()),
        )
    near = np.full(n, -1, dtype=np.int64)
    if len(access) and placed.any():
        dpts = _points(access, crs)
        dok = np.flatnonzero(~(shapely.is_missing(dpts) | shapely.is_empty(dpts)))
        if len(dok):
            from scipy.spatial import cKDTree  # ~0.8 s to import: only when needed

            tree = cKDTree(shapely.get_coordinates(dpts[dok]))
            _, i = tree.query(shapely.get_coordinates(fpts[placed]), k=1)
            near[placed] = dok[i]
    has = near >= 0
    levels = ["district", "zone_type"] + (["settlement"] if "settlement" in access.columns else [])
    for level in levels:
        lab = group_labels(access, level)
        out.loc[has, level] = lab[near[has]]
    if boundaries is not None and len(boundaries):
        bnames = group_labels(boundaries, "district")
        bgeoms = boundaries.geometry.to_crs(crs).to_numpy()
        tree = shapely.STRtree(bgeoms)
        fi, bi = tree.query(fpts[placed], predicate="intersects")
        o = np.lexsort((bi, fi))  # on a shared edge: the first district listed
        fi, bi = fi[o], bi[o]
        where = np.full(int(placed.sum()), OUTSIDE_DISTRICTS, dtype=object)
        first = np.ones(len(fi), dtype=bool)
        first[1:] = fi[1:] != fi[:-1]
        where[fi[first]] = bnames[bi[first]]
        district = np.full(n, fill["district"], dtype=object)
        district[placed] = where
        out["district"] = district
    return out


def coverage_summary(
    access: gpd.GeoDataFrame,
    layer: Any,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    region_name: str = "region",
) -> pd.DataFrame:
    """Covered population and coverage shares per radius, for the region and each group.

    Parameters
    ----------
    access
        Output of :func:`compute_access` (needs ``dist_m``, ``pop``, ``pop_60plus``;
        uses ``district``, ``zone_type``, and ``district_code``, ``settlement`` and
        ``h3`` when present).
    layer
        A :class:`geoapp.catalog.Layer` (its ``radii_m``, ``labels``, ``id``,
        ``target_m`` and ``target_share`` are used; pass ``layer.at_speed(speed)`` for a
        minute-based layer) or a sequence of radii in metres (judged at the largest
        against 85%).
    boundaries
        District boundaries; when given, every district appears (even with no
        demand), ``area_km2`` is the district's land area and facilities are placed
        in districts by point in polygon.
    facilities
        The layer's facilities as passed to :func:`compute_access` (any CRS; polygons
        use a point on their surface). They fill ``n_facilities``; an empty frame
        makes every row ``no_data``; None leaves ``n_facilities`` empty (<NA>).
    region_name
        ``group`` of the region row.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``layer``, ``level`` (``"region"`` | ``"district"`` |
        ``"zone_type"`` | ``"settlement"``), ``group``, ``district_code``, ``status``
        (``"met"`` | ``"not_met"`` | ``"no_data"``), ``status_reason``,
        ``n_facilities`` (Int64), ``pop``, ``pop_60plus``, ``area_km2``,
        ``settled_km2``, ``pop_network_gap``, ``pop_60plus_network_gap``,
        ``pop_edge_of_data``, ``pop_60plus_edge_of_data`` (residents beyond the target
        whose gap is an artefact of the data: the access table's ``dq_class``,
        :mod:`geoapp.artefacts`; 0 without that column; they stay in the shares'
        denominators, so a share is never raised by a guess) and for every radius, with ``R`` its column suffix
        (``layer.labels``: whole metres such as ``1000``, or minutes such as ``15min``
        for a minute-based layer, whose reach is minutes x speed): ``covered_pop_R``,
        ``covered_pop_60plus_R`` (residents with ``dist_m <= R``), ``share_pop_R``,
        ``share_pop_60plus_R`` (covered / all residents of the group, resp. covered /
        residents aged 60+; NaN when the group has none) and ``share_area_R``.

    Notes
    -----
    **Status** (:func:`judge_summary`, :func:`judge`): each row is judged at the layer's
    target: ``met`` when the share of the layer's residents within ``target_m`` is at
    least ``target_share``, ``not_met`` below it, ``no_data`` on every row when
    ``facilities`` is given and empty (the data holds no facility of the layer, so zero
    coverage says nothing about the service) and on a row with none of the layer's
    residents. ``status_reason`` says why. A no_data row has empty (NaN) shares. A district with no facility inside is judged like any other (its
    residents may be reached from next door); its reason says it has none inside.

    **n_facilities** (:func:`facility_places`). Region row: all facilities. District
    rows: facilities inside the district's boundary (point in polygon; those inside no
    district form the :data:`geoapp.region.OUTSIDE_DISTRICTS` row, added with zero
    residents if no demand lies there), so district rows sum to the region. Without
    ``boundaries``, and for zone-type and settlement rows, a facility counts in the
    group of its nearest demand point (straight line); a group holding facilities but
    no resident gets a row. Every grouping sums to the region row.

    **Groups.** Demand with no district, or with district
    :data:`geoapp.region.OUTSIDE_DISTRICTS`, forms the ``"(outside districts)"``
    district row. District rows sum to the region row, and so do zone-type rows and
    (when ``access`` has a ``settlement`` column) settlement rows, which always list
    ``core``, ``new_town`` and ``rural``: residents, residents aged 60+, facilities,
    area and settled area.

    **Area.** ``share_area_R`` is area-weighted coverage: the share of the group's
    SETTLED area within reach. Settled area (``settled_km2``) is approximated by the
    H3 resolution-9 cells (about 0.1 km² each) holding at least one demand point with
    residents; each cell's area is split equally among those points (so a cell
    straddling two districts is shared between them and district rows still add up)
    and a point's share counts as covered when its ``dist_m <= R``; NaN when nothing
    is settled. ``area_km2`` of a district is its land area from ``boundaries`` when
    given, otherwise its settled area; the region row sums the districts. Zone-type
    and settlement rows split each district's land (:func:`split_land`): where the
    zone type is the district's (district attributes, a zone mapping) the district's
    land is its zone's; where it is a class of each point (settlements always, zone
    types under density zoning: some district holds several), each class gets its
    settled area and the district's land without residents counts as ``rural``.
    """
    radii, layer_id, labels = _layer_radii(layer)
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
    district = group_labels(access, "district")
    code = _text(access, "district_code", "")
    zone = group_labels(access, "zone_type")
    has_settlement = "settlement" in access.columns
    settlement = group_labels(access, "settlement") if has_settlement else None
    area_w = _settled_area_weights(access, pop) if len(access) else np.zeros(0)
    target, _ = _target(layer, radii)
    dcol = str(getattr(layer, "demand_column", "pop"))

    vals: dict[str, np.ndarray] = {"pop": pop, "pop_60plus": pop60, "settled_km2": area_w}
    for r, lab in zip(radii, labels, strict=True):
        cov = dist <= r
        vals[f"covered_pop_{lab}"] = np.where(cov, pop, 0.0)
        vals[f"covered_pop_60plus_{lab}"] = np.where(cov, pop60, 0.0)
        vals[f"_covered_area_{lab}"] = np.where(cov, area_w, 0.0)
    vals["_at_target"] = np.where(dist <= target, pop60 if dcol == "pop_60plus" else pop, 0.0)
    dq = dq_labels(access)
    for c in DQ_ARTEFACTS:  # residents beyond the target whose gap the data made
        vals[f"pop_{c}"] = np.where(dq == c, pop, 0.0)
        vals[f"pop_60plus_{c}"] = np.where(dq == c, pop60, 0.0)
    frame = pd.DataFrame(vals)
    num_cols = list(frame.columns)
    frame["_district"] = district
    frame["_code"] = code

    codes = frame.loc[frame["_code"] != ""].groupby("_district")["_code"].first()
    by_d = frame.drop(columns=["_code"]).groupby("_district", sort=True).sum()
    by_d.insert(0, "district_code", codes.reindex(by_d.index).fillna("").astype(str))
    by_d = by_d.reset_index().rename(columns={"_district": "group"})

    known = facilities is not None
    places = (
        facility_places(facilities, access, boundaries)
        if facilities is not None and len(facilities)
        else pd.DataFrame({"district": [], "zone_type": [], "settlement": []}, dtype=object)
    )
    f_district = places["district"].to_numpy(dtype=object)
    if (f_district == OUTSIDE_DISTRICTS).any() and OUTSIDE_DISTRICTS not in set(by_d["group"]):
        # facilities inside no district: their own row, so district counts add up
        extra = pd.DataFrame({c: [0.0] for c in num_cols})
        extra.insert(0, "district_code", "")
        extra.insert(0, "group", OUTSIDE_DISTRICTS)
        by_d = pd.concat([by_d, extra], ignore_index=True)

    if boundaries is not None and len(boundaries):
        by_d = _with_boundaries(by_d, boundaries)
    else:
        by_d["area_km2"] = by_d["settled_km2"]
    by_z = _group_sum(frame[num_cols], zone)
    by_z = _with_area(
        by_z, land_by_group(access, "zone_type", boundaries, settled_km2=area_w), num_cols
    )

    region = by_d[[*num_cols, "area_km2"]].sum().to_frame().T
    region["group"] = region_name
    region["district_code"] = ""
    region["level"] = "region"
    by_d["level"] = "district"
    by_z["level"] = "zone_type"
    parts = [region, by_d, by_z]
    if settlement is not None:
        by_s = _group_sum(frame[num_cols], settlement, always=SETTLEMENT_TYPES)
        land = land_by_group(access, "settlement", boundaries, settled_km2=area_w)
        by_s = _with_area(by_s, land, num_cols)
        by_s["level"] = "settlement"
        parts.append(by_s)
    out = pd.concat(parts, ignore_index=True)
    out = _with_facility_groups(out, places, num_cols)

    for lab in labels:
        out[f"share_pop_{lab}"] = _share(out[f"covered_pop_{lab}"], out["pop"])
        out[f"share_pop_60plus_{lab}"] = _share(out[f"covered_pop_60plus_{lab}"], out["pop_60plus"])
        out[f"share_area_{lab}"] = _share(out[f"_covered_area_{lab}"], out["settled_km2"])
    out["layer"] = layer_id
    out["n_facilities"] = _facility_counts(out, places, known)
    out["status"] = ""
    cols = [
        "layer",
        "level",
        "group",
        "district_code",
        "status",
        "n_facilities",
        "pop",
        "pop_60plus",
        "area_km2",
        "settled_km2",
        *(f"pop{a}_{c}" for c in DQ_ARTEFACTS for a in ("", "_60plus")),
    ]
    for lab in labels:
        cols += [
            f"covered_pop_{lab}",
            f"covered_pop_60plus_{lab}",
            f"share_pop_{lab}",
            f"share_pop_60plus_{lab}",
            f"share_area_{lab}",
        ]
    at_target = out["_at_target"].to_numpy(float)
    out = out[cols]
    for c in ("layer", "level", "group", "district_code", "status"):
        out[c] = out[c].astype(str)
    out = judge_summary(
        out,
        layer,
        has_facilities=facilities is None or len(facilities) > 0,
        covered_at_target=at_target,
    )
    reason = out.pop("status_reason")
    out.insert(list(out.columns).index("status") + 1, "status_reason", reason)
    return out.reset_index(drop=True)


def _group_sum(
    values: pd.DataFrame, labels: np.ndarray, always: Sequence[str] = ()
) -> pd.DataFrame:
    """Sum ``values`` per label (sorted), listing ``always`` labels even when absent."""
    g = values.groupby(pd.Index(labels, name="group"), sort=True).sum()
    if always:
        extra = [a for a in always if a not in g.index]
        if extra:
            g = pd.concat(
                [g, pd.DataFrame(0.0, index=pd.Index(extra, name="group"), columns=g.columns)]
            )
        order = [*always, *sorted(x for x in g.index if x not in always)]
        g = g.reindex(order)
    g = g.reset_index()
    g["district_code"] = ""
    return g


def _with_area(groups: pd.DataFrame, area: pd.Series, num_cols: list[str]) -> pd.DataFrame:
    """Add ``area_km2`` to a zone or settlement table; a group with land only gets a row."""
    present = set(groups["group"].astype(str))
    extra = [g for g in area.index if g not in present and abs(area[g]) > 1e-12]
    if extra:
        add = pd.DataFrame({c: [0.0] * len(extra) for c in num_cols})
        add.insert(0, "group", extra)
        add["district_code"] = ""
        groups = pd.concat([groups, add], ignore_index=True)
        groups = groups.iloc[_group_order(groups["group"].astype(str).tolist())]
    groups = groups.reset_index(drop=True)
    groups["area_km2"] = groups["group"].astype(str).map(area).fillna(0.0).to_numpy(float)
    return groups


def _group_order(groups: list[str]) -> list[int]:
    """Positions of ``groups`` in table order: settlement types first, then by name."""
    first = {g: i for i, g in enumerate(SETTLEMENT_TYPES)}
    return sorted(range(len(groups)), key=lambda i: (first.get(groups[i], len(first)), groups[i]))


def _with_facility_groups(
    out: pd.DataFrame, places: pd.DataFrame, num_cols: list[str]
) -> pd.DataFrame:
    """Add a zero-resident row for every group that holds facilities but no demand."""
    extra = []
    for level in ("district", "zone_type", "settlement"):
        rows = out["level"] == level
        if level == "settlement" and not rows.any():
            continue
        have = set(out.loc[rows, "group"].astype(str))
        for g in dict.fromkeys(places[level].astype(str)):
            if g and g not in have:
                extra.append({**{c: 0.0 for c in num_cols}, "area_km2": 0.0, "group": g,
                              "district_code": "", "level": level})  # fmt: skip
    if not extra:
        return out
    return pd.concat([out, pd.DataFrame(extra)], ignore_index=True)


def _facility_counts(out: pd.DataFrame, places: pd.DataFrame, known: bool) -> pd.Series:
    """Return ``n_facilities`` for every row of the summary ``out``."""
    if not known:
        return pd.Series(pd.NA, index=out.index, dtype="Int64")
    n = pd.Series(0, index=out.index, dtype="Int64")
    n[out["level"] == "region"] = len(places)
    for level in ("district", "zone_type", "settlement"):
        vc = places[level].astype(str).value_counts()
        rows = out["level"] == level
        n[rows] = out.loc[rows, "group"].map(vc).fillna(0).astype("int64").to_numpy()
    return n


def _points(frame: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    geoms = frame.geometry.to_crs(crs).to_numpy()
    not_point = (shapely.get_type_id(geoms) != 0) & ~shapely.is_missing(geoms)
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return geoms


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


def _district_land(boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return each district of ``boundaries`` once: ``group``, ``_bcode``, ``_zone``, area."""
    b = boundaries
    area = b.geometry.to_crs(local_crs(b)).area.to_numpy(float) / 1e6
    if DATA_AREA_COLUMN in b.columns:  # the part of the district the data covers
        data_area = pd.to_numeric(b[DATA_AREA_COLUMN], errors="coerce").to_numpy(float)
        area = np.where(np.isnan(data_area), area, data_area)
    bd = pd.DataFrame(
        {
            "group": _text(b, "district", OUTSIDE_DISTRICTS),
            "_bcode": _text(b, "district_code", ""),
            "_zone": _text(b, "zone_type", "unknown"),
            "area_km2": area,
        }
    )
    return bd.groupby("group", sort=False, as_index=False).agg(
        {"_bcode": "first", "_zone": "first", "area_km2": "sum"}
    )


def land_by_group(
    access: pd.DataFrame,
    by: str,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    settled_km2: np.ndarray | None = None,
) -> pd.Series:
    """Return the land area (km²) of each ``zone_type`` or ``settlement`` group.

    The ``area_km2`` of :func:`coverage_summary`'s zone-type and settlement rows (and of
    ``zones.csv``): each district's land (its boundary's area; without boundaries its
    settled area) split by :func:`split_land`. A zone type that is the district's own
    keeps the district's land; a class of each point (settlements, density zones) gets
    its settled area, the unsettled land counting as rural. The groups add up to the
    region's area.

    Parameters
    ----------
    access
        Demand points (``pop``, ``district``, ``zone_type``, ``settlement``, ``h3``).
    by
        ``"zone_type"`` or ``"settlement"``.
    boundaries
        The districts (``district``, ``zone_type``); None: land is settled area.
    settled_km2
        Each point's settled area when already computed (``settled_km2`` weights).
    """
    pop = pd.to_numeric(access["pop"], errors="coerce").fillna(0).to_numpy(float)
    area_w = _settled_area_weights(access, pop) if settled_km2 is None else settled_km2
    district = group_labels(access, "district")
    label = group_labels(access, by)
    settled = pd.Series(area_w, dtype=float).groupby(district).sum()
    rest: dict[str, str] = {}
    if boundaries is not None and len(boundaries):
        bd = _district_land(boundaries)
        land = dict(zip(bd["group"].astype(str), bd["area_km2"].astype(float), strict=True))
        land.update({d: 0.0 for d in settled.index if d not in land})  # no boundary: no land
        rest = dict(zip(bd["group"].astype(str), bd["_zone"].astype(str), strict=True))
    else:
        land = {str(d): float(a) for d, a in settled.items()}
    if by == "zone_type" and not zones_by_point(access):
        rest.update(zip(district, label, strict=True))  # each district's own zone type
        return split_land(district, label, area_w, land, rest=rest)
    return split_land(district, label, area_w, land)


def _with_boundaries(by_d: pd.DataFrame, boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    """Add every district of ``boundaries`` (with its area) to the district table.

    Districts are matched on their name (``district``); the code comes from the
    boundaries where the demand has none.
    """
    bd = _district_land(boundaries)
    num_cols = [c for c in by_d.columns if c not in ("group", "district_code")]
    merged = bd.merge(by_d, on="group", how="outer")
    merged[num_cols] = merged[num_cols].fillna(0.0)
    merged["area_km2"] = merged["area_km2"].fillna(0.0)
    code = merged["district_code"].fillna("").astype(str)
    merged["district_code"] = code.where(code != "", merged["_bcode"].fillna("").astype(str))
    merged = merged.drop(columns=["_bcode", "_zone"]).sort_values("group")
    return merged.reset_index(drop=True)


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
    facilities_snap: Snapped | None = None,
    overlapping: bool = False,
) -> gpd.GeoDataFrame:
    """Network service area of each facility at each radius, and the population it serves.

    The polygons are :func:`geoapp.network.catchments` (reached streets buffered by
    ``buffer_m``, holes where no reached street passes); this adds the facility ids,
    the layer and the residents each facility serves. By default a catchment is the
    area whose NEAREST facility is this one, within the radius (the catchments of one
    radius partition the reached area, and ``pop_served`` counts the residents in
    it); ``overlapping=True`` gives each facility's full, overlapping service area.

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
    buffer_m, cell_m, max_batch_values
        As for :func:`geoapp.network.catchments`.
    facilities_snap
        ``geoapp.network.snap(graph, facilities)`` when already computed; None snaps
        here (same answers).
    overlapping
        As for :func:`geoapp.network.catchments`: False (default) nearest-facility
        catchments in one pass; True each facility's own service area.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; one row per facility and radius: ``facility_id``, ``layer``,
        ``radius_m``, ``pop_served``, ``pop_60plus_served``, ``area_km2`` (measured in
        the local CRS) and ``geometry`` (Polygon/MultiPolygon; empty when the facility
        is farther than the radius from any street).
    """
    if not layer_id and demand_access is not None and "layer" in demand_access.columns:
        layer_id = str(demand_access["layer"].iloc[0]) if len(demand_access) else ""
    if facilities_snap is not None and len(facilities_snap) != len(facilities):
        raise InputError(
            f"catchments: facilities_snap has {len(facilities_snap)} points but facilities has "
            f"{len(facilities)} rows; pass geoapp.network.snap(graph, facilities), or None"
        )
    areas = network.catchments(
        graph,
        facilities if facilities_snap is None else facilities_snap,
        radii_m,
        buffer_m=buffer_m,
        cell_m=cell_m,
        max_batch_values=max_batch_values,
        overlapping=overlapping,
    )
    radii = sorted(float(r) for r in radii_m)
    ids = facility_ids(facilities)
    out = pd.DataFrame(
        {
            "facility_id": ids[areas["facility"].to_numpy()].astype(str),
            "layer": layer_id,
            "radius_m": areas["radius_m"].to_numpy(float),
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
    out["area_km2"] = areas["area_km2"].to_numpy(float)
    gdf = gpd.GeoDataFrame(out, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    log.info("catchments: %d facilities x %d radii", len(facilities), len(radii))
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
