"""Artefacts of the data: unreached residents whose gap the data made, not the service.

A resident beyond a layer's target is a service gap unless the data explains it:

* ``network_gap``: the resident's nearest street is a *fragment*, a connected piece of
  the walking network with less than :data:`FRAGMENT_M` metres of street that joins no
  other street (a courtyard path, a stub left by missing or excluded ways). From there
  nothing farther than the fragment can be reached, though a connected street may be a
  few metres away.
* ``edge_of_data``: the resident lies beyond the data's last street, within the search
  distance of the data's edge: a street or facility just outside the extract may serve
  them. See :func:`dq_classes` for the rule.

Every other resident is ``ok`` (reached within the target, or a real service gap).
:func:`dq_classes` gives the class of each demand point (the ``dq_class`` column of an
access table, :func:`with_dq_class`); :func:`geoapp.gaps.find_gaps` forms gaps only
from ``ok`` residents and :func:`geoapp.coverage.coverage_summary` counts the residents
of each class (``pop_network_gap``, ``pop_edge_of_data``).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp import network
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.network import Snapped, WalkGraph

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: A connected piece of the walking network shorter than this (metres of street in
#: total) is a fragment: a courtyard path or a stub left by missing or excluded ways.
FRAGMENT_M = 1000.0
#: :func:`fragment_warning` speaks when the demand cut off on fragments is at least this
#: share of all residents (0.1%; the synthetic demo's 154 of millions stay quiet).
FRAGMENT_MIN_SHARE = 0.001

#: Data-quality classes of a demand point (the ``dq_class`` column), in precedence order.
DQ_OK = "ok"
DQ_NETWORK_GAP = "network_gap"
DQ_EDGE_OF_DATA = "edge_of_data"
DQ_CLASSES = (DQ_OK, DQ_NETWORK_GAP, DQ_EDGE_OF_DATA)
#: The classes that are artefacts of the data (not findings).
DQ_ARTEFACTS = (DQ_NETWORK_GAP, DQ_EDGE_OF_DATA)
#: A point this far (m) or more outside the convex hull of the streets lies beyond the
#: data's last street (less: rounding, a building on the outer side of the last street).
HULL_TOLERANCE_M = 1.0
#: A point at most this share as far from the data's edge as from its nearest street lies
#: beyond the data's last street: a street beyond the edge, unseen, is as likely as the
#: nearest one in the data (a point inside a street grid is never nearer the edge than
#: the grid's last street, which draws that edge).
EDGE_RATIO = 0.5


# --------------------------------------------------------------------------- fragments


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
        Output of :func:`geoapp.coverage.compute_access` (``dist_m``, ``pop``,
        ``demand_id``, geometry).
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
        "as a network gap (data quality), not as a service gap. Check the walking network "
        "there, or map the missing link."
    )
    if share < min_share:
        log.info("%s", text)
        return None
    log.warning("%s", text)
    return text


# --------------------------------------------------------------------------- classes


def data_hull(*frames: gpd.GeoDataFrame | None) -> Any:
    """Return the convex hull (EPSG:4326) of every geometry of ``frames``, or None.

    The data's extent for :func:`dq_classes`: the region's streets, buildings,
    features and land use together (``Region.edges``, ``buildings`` ...). Each
    geometry counts by its bounding box's corners, so the hull is cheap on a city.
    """
    corners = []
    for f in frames:
        if f is None or not len(f):
            continue
        g = f.geometry if f.crs is None else f.geometry.to_crs(WGS84)
        b = g.bounds.to_numpy(float)
        b = b[np.isfinite(b).all(axis=1)]
        if len(b):
            corners.append(b[:, [0, 1]])
            corners.append(b[:, [2, 3]])
            corners.append(b[:, [0, 3]])
            corners.append(b[:, [2, 1]])
    if not corners:
        return None
    xy = np.vstack(corners)
    if len(xy) > 64:  # qhull first: a city's millions of corners in a fraction of a second
        from scipy.spatial import ConvexHull, QhullError

        try:
            xy = xy[ConvexHull(xy).vertices]
        except (QhullError, ValueError):  # all on a line: GEOS below
            pass
    return shapely.convex_hull(shapely.multipoints(xy))


def dq_classes(
    access: gpd.GeoDataFrame,
    *,
    target_m: float,
    search_limit_m: float,
    streets: gpd.GeoDataFrame | None = None,
    extent: Any = None,
    on_fragment: np.ndarray | None = None,
) -> np.ndarray:
    """Return the data-quality class of every demand point (``ok`` ... see the module).

    The rule, for a demand point NOT reached within ``target_m`` (``dist_m`` above it,
    ``inf`` or NaN); a reached point is always ``ok``:

    1. ``network_gap`` when its nearest street is a fragment (``on_fragment``).
    2. ``edge_of_data`` when it lies beyond the data's last street: more than
       :data:`HULL_TOLERANCE_M` outside the convex hull of ``streets``, or at most half
       as far from the data's edge as from the nearest street (:data:`EDGE_RATIO`); and
       within ``search_limit_m`` (the distance facilities were searched) of that edge. The
       data's edge is the boundary of ``extent`` (default the hull of ``streets`` and
       the demand itself, :func:`data_hull`). Such a point's nearest street and
       facility may lie just beyond the edge, outside the data.
    3. ``ok`` otherwise: a real service gap.

    Distances are straight lines measured in the demand's local projected CRS.

    Parameters
    ----------
    access
        Demand points with ``dist_m`` (an access table), with a CRS.
    target_m
        The layer's target reach (m): points within it are ``ok``.
    search_limit_m
        How far facilities were searched (m).
    streets
        The walking network's edges (any CRS); None or empty: no edge-of-data rule.
    extent
        The data's extent as a shapely polygon in EPSG:4326, or a tuple of the data's
        frames (e.g. ``(region.buildings, region.features, region.landuse)``) whose
        :func:`data_hull` with ``streets`` and ``access`` it is (computed only when a
        point needs it); None: :func:`data_hull` of ``streets`` and ``access``.
    on_fragment
        Per row of ``access``: its nearest street lies on a fragment
        (:func:`on_fragments`); None: no network-gap rule.

    Returns
    -------
    numpy.ndarray
        ``dq_class`` per row (object array of :data:`DQ_CLASSES`).
    """
    n = len(access)
    out = np.full(n, DQ_OK, dtype=object)
    if not n:
        return out
    dist = pd.to_numeric(access["dist_m"], errors="coerce").fillna(np.inf).to_numpy(float)
    unreached = ~(dist <= float(target_m))
    if on_fragment is not None:
        frag = np.asarray(on_fragment, dtype=bool).reshape(-1)
        if len(frag) != n:
            raise InputError(
                f"on_fragment has {len(frag)} values but the access table has {n} rows; "
                "pass coverage.on_fragments(graph, access)"
            )
        out[unreached & frag] = DQ_NETWORK_GAP
    todo = np.flatnonzero(unreached & (out == DQ_OK))
    if streets is None or not len(streets) or not len(todo):
        return out
    if access.crs is None:
        raise InputError("the access table has no coordinate reference system; set one first")
    crs = local_crs(access)
    lines = streets.geometry if streets.crs is None else streets.geometry.to_crs(WGS84)
    if extent is None:
        extent = data_hull(streets, access)
    elif isinstance(extent, list | tuple):  # the frames of the data: their hull, now
        extent = data_hull(streets, access, *extent)
    street_hull = data_hull(streets)
    to_local = gpd.GeoSeries([extent, street_hull], crs=WGS84).to_crs(crs).to_numpy()
    edge, hull = shapely.boundary(to_local[0]), to_local[1]
    pts = access.geometry.iloc[todo].to_crs(crs).to_numpy()
    pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    d_edge = shapely.distance(pts, edge)
    near_edge = d_edge <= float(search_limit_m)
    if not near_edge.any():
        return out
    cand, d_edge = todo[near_edge], d_edge[near_edge]
    pts = pts[near_edge]
    beyond = shapely.distance(hull, pts) >= HULL_TOLERANCE_M
    # the streets near the candidates, projected: the nearest street of each
    box = shapely.box(*gpd.GeoSeries(pts, crs=crs).to_crs(WGS84).total_bounds)
    pad = float(search_limit_m) / 111_320.0 * 2.0  # degrees; generous at any latitude
    near = lines.iloc[lines.sindex.query(shapely.buffer(box, pad), predicate="intersects")]
    if len(near):
        local = near.to_crs(crs).to_numpy()
        tree = shapely.STRtree(local)
        _, d_street = tree.query_nearest(pts, return_distance=True, all_matches=False)
    else:
        d_street = np.full(len(pts), np.inf)
    beyond |= d_edge <= EDGE_RATIO * d_street
    out[cand[beyond]] = DQ_EDGE_OF_DATA
    return out


def with_dq_class(
    access: gpd.GeoDataFrame,
    *,
    target_m: float,
    search_limit_m: float,
    streets: gpd.GeoDataFrame | None = None,
    extent: Any = None,
    on_fragment: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Return a copy of ``access`` with its ``dq_class`` column (:func:`dq_classes`)."""
    out = access.copy()
    out["dq_class"] = dq_classes(
        access,
        target_m=target_m,
        search_limit_m=search_limit_m,
        streets=streets,
        extent=extent,
        on_fragment=on_fragment,
    )
    n = {c: int((out["dq_class"] == c).sum()) for c in DQ_ARTEFACTS}
    if any(n.values()):
        log.info("data-quality classes (demand points): %s", n)
    return out


def dq_labels(access: pd.DataFrame) -> np.ndarray:
    """Return each row's ``dq_class`` (``ok`` where the column is missing or empty)."""
    if "dq_class" not in access.columns:
        return np.full(len(access), DQ_OK, dtype=object)
    s = access["dq_class"].astype(object)
    return s.where(s.notna() & (s != ""), DQ_OK).astype(str).to_numpy(dtype=object)


def dq_pop(access: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Return, per artefact class, its ``demand_points``, ``pop`` and ``pop_60plus``."""
    lab = dq_labels(access)
    out: dict[str, dict[str, float]] = {}
    for c in DQ_ARTEFACTS:
        m = lab == c
        row: dict[str, float] = {"demand_points": int(m.sum())}
        for col in ("pop", "pop_60plus"):
            v = pd.to_numeric(access[col], errors="coerce") if col in access else None
            row[col] = round(float(v[m].fillna(0).sum()), 1) if v is not None else 0.0
        out[c] = row
    return out


__all__ = [
    "DQ_ARTEFACTS",
    "DQ_CLASSES",
    "DQ_EDGE_OF_DATA",
    "DQ_NETWORK_GAP",
    "DQ_OK",
    "FRAGMENT_M",
    "EDGE_RATIO",
    "FRAGMENT_MIN_SHARE",
    "HULL_TOLERANCE_M",
    "data_hull",
    "dq_classes",
    "dq_labels",
    "dq_pop",
    "fragment_warning",
    "on_fragments",
    "street_fragments",
    "with_dq_class",
]
