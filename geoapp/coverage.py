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
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geoapp import catalog, network
from geoapp.catalog import radius_label
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.network import Snapped, WalkGraph
from geoapp.region import OUTSIDE_DISTRICTS, SETTLEMENT_TYPES

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


#: A connected piece of the walking network shorter than this (metres of street in
#: total) is a fragment: a courtyard path or a stub left by missing or excluded ways.
FRAGMENT_M = 1000.0
#: :func:`fragment_warning` speaks when the demand cut off on fragments is at least this
#: share of all residents (0.1%; the synthetic demo's 154 of millions stay quiet).
FRAGMENT_MIN_SHARE = 0.001


def street_fragments(graph: WalkGraph, min_length_m: float = FRAGMENT_M) -> np.ndarray:
    """Return, per edge of ``graph``, whether it lies on a fragment of the network.

    A fragment is a connected component holding less than ``min_length_m`` metres of
    street (the sum of its edges' ``length_m``). Demand whose nearest edge is on a
    fragment reaches only what lies on that fragment.
    """
    from scipy.sparse.csgraph import connected_components

    if graph.n_edges == 0:
        return np.zeros(0, dtype=bool)
    _, comp = connected_components(graph.csr, directed=False)
    length = np.bincount(comp[graph.u_idx], weights=graph.length_m, minlength=comp.max() + 1)
    return length[comp[graph.u_idx]] < float(min_length_m)


def on_fragments(
    graph: WalkGraph,
    points: gpd.GeoDataFrame,
    *,
    demand_snap: Snapped | None = None,
    min_length_m: float = FRAGMENT_M,
) -> np.ndarray:
    """Return, per row of ``points``, whether its nearest street lies on a fragment.

    ``demand_snap`` is ``geoapp.network.snap(graph, points)`` when already computed.
    Points that meet no street are False.
    """
    frag = np.zeros(len(points), dtype=bool)
    if graph is None or graph.n_edges == 0 or not len(points):
        return frag
    dsnap = network.snap(graph, points) if demand_snap is None else demand_snap
    ok = dsnap.valid
    frag[ok] = street_fragments(graph, min_length_m)[dsnap.edge[ok]]
    return frag


def fragment_warning(
    graph: WalkGraph | None,
    access: gpd.GeoDataFrame,
    *,
    layer_id: str = "",
    demand_snap: Snapped | None = None,
    min_length_m: float = FRAGMENT_M,
    min_share: float = FRAGMENT_MIN_SHARE,
    on_fragment: np.ndarray | None = None,
) -> str | None:
    """Say how much unreached demand has a street fragment as its nearest street.

    Parameters
    ----------
    graph
        The walking network the access table was computed on.
    access
        Output of :func:`compute_access` (``dist_m``, ``pop``, ``demand_id``, geometry).
    layer_id
        Named in the sentence.
    demand_snap
        ``geoapp.network.snap(graph, access)`` when already computed; None snaps here.
    min_length_m
        Components with less street than this are fragments (:func:`street_fragments`).
    min_share
        Say nothing when these residents are less than this share of all (logged at
        INFO level instead).
    on_fragment
        :func:`on_fragments` of ``access`` when already known (e.g. merged from the
        parts of a split run); then ``graph`` is not read.

    Returns
    -------
    str or None
        A plain sentence naming the count, the residents, an example demand id and the
        remedy; None when no unreached demand point's nearest street is a fragment.
    """
    if not len(access):
        return None
    if on_fragment is not None:
        frag = np.asarray(on_fragment, dtype=bool)
        if len(frag) != len(access):
            raise InputError(
                f"on_fragment has {len(frag)} values but the access table has "
                f"{len(access)} rows; pass coverage.on_fragments(graph, access)"
            )
    elif graph is None or graph.n_edges == 0:
        return None
    else:
        frag = on_fragments(graph, access, demand_snap=demand_snap, min_length_m=min_length_m)
    dist = pd.to_numeric(access["dist_m"], errors="coerce").fillna(np.inf).to_numpy(float)
    cut = frag & ~np.isfinite(dist)
    if not cut.any():
        return None
    pop = pd.to_numeric(access["pop"], errors="coerce").fillna(0).to_numpy(float)
    ids = access["demand_id"].astype(str).to_numpy() if "demand_id" in access else None
    example = f" (e.g. {ids[np.flatnonzero(cut)[0]]})" if ids is not None else ""
    share = float(pop[cut].sum()) / max(float(pop.sum()), 1e-12)
    text = (
        f"Layer {layer_id!r}: {int(cut.sum()):,} demand points{example} holding "
        f"{pop[cut].sum():,.0f} residents ({share:.1%} of all) have as nearest street a "
        f"fragment of under {min_length_m:,.0f} m of walkable way connected to no other "
        "street (a courtyard path, a stub cut off by excluded or unmapped ways); they count "
        "as unreached although a connected street may be only a few metres farther. Check "
        "the walking network there, or map the missing link."
    )
    if share < min_share:
        log.info("%s", text)
        return None
    log.warning("%s", text)
    return text


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
        A :class:`geoapp.catalog.Layer` (its ``radii_m``, ``labels`` and ``id`` are
        used; pass ``layer.at_speed(speed)`` for a minute-based layer) or a
        sequence of radii in metres.
    boundaries
        District boundaries; when given, every district appears (even with no
        demand), ``area_km2`` is the district's land area and facilities are placed
        in districts by point in polygon.
    facilities
        The layer's facilities as passed to :func:`compute_access` (any CRS; polygons
        use a point on their surface). They fill ``n_facilities`` and ``status``;
        None leaves ``n_facilities`` empty (<NA>) and ``status`` ``"ok"``.
    region_name
        ``group`` of the region row.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``layer``, ``level`` (``"region"`` | ``"district"`` |
        ``"zone_type"`` | ``"settlement"``), ``group``, ``district_code``, ``status``
        (``"ok"`` | ``"no_data"``), ``n_facilities`` (Int64), ``pop``, ``pop_60plus``,
        ``area_km2``, ``settled_km2`` and for every radius, with ``R`` its column
        suffix (``layer.labels``: whole metres such as ``1000``, or minutes such as
        ``15min`` for a minute-based layer, whose reach is minutes x speed):
        ``covered_pop_R``, ``covered_pop_60plus_R`` (residents with ``dist_m <= R``),
        ``share_pop_R``, ``share_pop_60plus_R`` (covered / all residents of the group,
        resp. covered / residents aged 60+; NaN when the group has none) and
        ``share_area_R``.

    Notes
    -----
    **Status.** ``"no_data"`` on every row when ``facilities`` is given and empty:
    the data holds no facility of the layer, so zero coverage says nothing about the
    service. A district row is also ``"no_data"`` when no facility lies inside that
    district (its shares are still computed: residents may be served from next
    door). Zone-type and settlement rows take the region's status.

    **n_facilities.** Region row: all facilities. District rows: facilities inside the
    district's boundary (point in polygon; those inside no district form the
    :data:`geoapp.region.OUTSIDE_DISTRICTS` row, added with zero residents if no
    demand lies there), so district rows sum to the region. Without ``boundaries``,
    and for zone-type and settlement rows, a facility counts in the group of its
    nearest demand point (straight line).

    **Groups.** Demand with no district, or with district
    :data:`geoapp.region.OUTSIDE_DISTRICTS`, forms the ``"(outside districts)"``
    district row. District rows sum to the region row, and so do zone-type rows and
    (when ``access`` has a ``settlement`` column) settlement rows, which always list
    ``core``, ``new_town`` and ``rural``.

    **Area.** ``share_area_R`` is area-weighted coverage: the share of the group's
    SETTLED area within reach. Settled area (``settled_km2``) is approximated by the
    H3 resolution-9 cells (about 0.1 km² each) holding at least one demand point with
    residents; each cell's area is split equally among those points (so a cell
    straddling two districts is shared between them and district rows still add up)
    and a point's share counts as covered when its ``dist_m <= R``; NaN when nothing
    is settled. ``area_km2`` is the district's area from ``boundaries`` when given
    (zone rows and the region row sum their districts), otherwise ``settled_km2``;
    settlement rows always use ``settled_km2``.
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
    district = _text(access, "district", OUTSIDE_DISTRICTS)
    code = _text(access, "district_code", "")
    zone = _text(access, "zone_type", "unknown")
    has_settlement = "settlement" in access.columns
    settlement = _text(access, "settlement", "unknown") if has_settlement else None
    area_w = _settled_area_weights(access, pop) if len(access) else np.zeros(0)

    vals: dict[str, np.ndarray] = {"pop": pop, "pop_60plus": pop60, "settled_km2": area_w}
    for r, lab in zip(radii, labels, strict=True):
        cov = dist <= r
        vals[f"covered_pop_{lab}"] = np.where(cov, pop, 0.0)
        vals[f"covered_pop_60plus_{lab}"] = np.where(cov, pop60, 0.0)
        vals[f"_covered_area_{lab}"] = np.where(cov, area_w, 0.0)
    frame = pd.DataFrame(vals)
    num_cols = list(frame.columns)
    frame["_district"] = district
    frame["_code"] = code

    codes = frame.loc[frame["_code"] != ""].groupby("_district")["_code"].first()
    by_d = frame.drop(columns=["_code"]).groupby("_district", sort=True).sum()
    by_d.insert(0, "district_code", codes.reindex(by_d.index).fillna("").astype(str))
    by_d = by_d.reset_index().rename(columns={"_district": "group"})
    by_z = _group_sum(frame[num_cols], zone)

    fac = _FacilityPlaces(facilities, access, boundaries)
    if fac.any_outside and OUTSIDE_DISTRICTS not in set(by_d["group"]):
        # facilities inside no district: their own row, so district counts add up
        extra = pd.DataFrame({c: [0.0] for c in num_cols})
        extra.insert(0, "district_code", "")
        extra.insert(0, "group", OUTSIDE_DISTRICTS)
        by_d = pd.concat([by_d, extra], ignore_index=True)

    if boundaries is not None and len(boundaries):
        by_d, by_z = _with_boundaries(by_d, by_z, boundaries)
    else:
        by_d["area_km2"] = by_d["settled_km2"]
        by_z["area_km2"] = by_z["settled_km2"]

    region = by_d[[*num_cols, "area_km2"]].sum().to_frame().T
    region["group"] = region_name
    region["district_code"] = ""
    region["level"] = "region"
    by_d["level"] = "district"
    by_z["level"] = "zone_type"
    parts = [region, by_d, by_z]
    if settlement is not None:
        by_s = _group_sum(frame[num_cols], settlement, always=SETTLEMENT_TYPES)
        by_s["area_km2"] = by_s["settled_km2"]
        by_s["level"] = "settlement"
        parts.append(by_s)
    out = pd.concat(parts, ignore_index=True)

    for lab in labels:
        out[f"share_pop_{lab}"] = _share(out[f"covered_pop_{lab}"], out["pop"])
        out[f"share_pop_60plus_{lab}"] = _share(out[f"covered_pop_60plus_{lab}"], out["pop_60plus"])
        out[f"share_area_{lab}"] = _share(out[f"_covered_area_{lab}"], out["settled_km2"])
    out["layer"] = layer_id
    out["n_facilities"] = fac.counts(out, district, zone, settlement)
    out["status"] = fac.status(out)
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
    ]
    for lab in labels:
        cols += [
            f"covered_pop_{lab}",
            f"covered_pop_60plus_{lab}",
            f"share_pop_{lab}",
            f"share_pop_60plus_{lab}",
            f"share_area_{lab}",
        ]
    out = out[cols]
    for c in ("layer", "level", "group", "district_code", "status"):
        out[c] = out[c].astype(str)
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


class _FacilityPlaces:
    """Where the layer's facilities lie: per district, zone type and settlement."""

    def __init__(
        self,
        facilities: gpd.GeoDataFrame | None,
        access: gpd.GeoDataFrame,
        boundaries: gpd.GeoDataFrame | None,
    ) -> None:
        self.known = facilities is not None
        self.total = 0 if facilities is None else len(facilities)
        self.district: np.ndarray | None = None  # per facility, when placed by polygon
        self.nearest: np.ndarray | None = None  # per facility: nearest demand row, or -1
        self.any_outside = False
        if not self.total:
            return
        if facilities.crs is None:
            raise InputError(
                "coverage_summary: facilities have no coordinate reference system; "
                "set one (e.g. EPSG:4326) first"
            )
        crs = local_crs(access) if len(access) else local_crs(facilities)
        fpts = _points(facilities, crs)
        placed = ~(shapely.is_missing(fpts) | shapely.is_empty(fpts))
        if not placed.all():
            log.warning(
                "coverage_summary: %d facilities have no geometry and count only in the region row",
                int((~placed).sum()),
            )
        self.nearest = np.full(self.total, -1, dtype=np.int64)
        if len(access) and placed.any():
            dpts = _points(access, crs)
            dok = np.flatnonzero(~(shapely.is_missing(dpts) | shapely.is_empty(dpts)))
            if len(dok):
                from scipy.spatial import cKDTree  # ~0.8 s to import: only when needed

                tree = cKDTree(shapely.get_coordinates(dpts[dok]))
                _, i = tree.query(shapely.get_coordinates(fpts[placed]), k=1)
                self.nearest[placed] = dok[i]
        if boundaries is not None and len(boundaries):
            bnames = _text(boundaries, "district", OUTSIDE_DISTRICTS)
            bgeoms = boundaries.geometry.to_crs(crs).to_numpy()
            tree = shapely.STRtree(bgeoms)
            fi, bi = tree.query(fpts[placed], predicate="intersects")
            o = np.lexsort((bi, fi))  # on a shared edge: the first district listed
            fi, bi = fi[o], bi[o]
            where = np.full(int(placed.sum()), OUTSIDE_DISTRICTS, dtype=object)
            first = np.ones(len(fi), dtype=bool)
            first[1:] = fi[1:] != fi[:-1]
            where[fi[first]] = bnames[bi[first]]
            self.district = np.full(self.total, "", dtype=object)
            self.district[placed] = where
            self.any_outside = bool((where == OUTSIDE_DISTRICTS).any())

    def counts(
        self,
        out: pd.DataFrame,
        district: np.ndarray,
        zone: np.ndarray,
        settlement: np.ndarray | None,
    ) -> pd.Series:
        """Return ``n_facilities`` for every row of the summary ``out``.

        ``district``, ``zone`` and ``settlement`` are the labels of the demand rows.
        """
        if not self.known:
            return pd.Series(pd.NA, index=out.index, dtype="Int64")
        n = pd.Series(0, index=out.index, dtype="Int64")
        n[out["level"] == "region"] = self.total
        if not self.total:
            return n
        near = self.nearest[self.nearest >= 0]
        labels = {
            "district": (
                self.district[self.district != ""] if self.district is not None else district[near]
            ),
            "zone_type": zone[near],
        }
        if settlement is not None:
            labels["settlement"] = settlement[near]
        for level, lab in labels.items():
            vc = pd.Series(lab, dtype=object).value_counts()
            rows = out["level"] == level
            n[rows] = out.loc[rows, "group"].map(vc).fillna(0).astype("int64").to_numpy()
        return n

    def status(self, out: pd.DataFrame) -> np.ndarray:
        """Return ``status`` for every row of the summary ``out``."""
        if not self.known:
            return np.full(len(out), "ok", dtype=object)
        if not self.total:
            return np.full(len(out), "no_data", dtype=object)
        st = np.full(len(out), "ok", dtype=object)
        district_rows = (out["level"] == "district").to_numpy()
        empty = out["n_facilities"].fillna(0).to_numpy() == 0
        st[district_rows & empty] = "no_data"
        return st


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
            "group": _text(b, "district", OUTSIDE_DISTRICTS),
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
