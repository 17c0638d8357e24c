"""Snapping: where points meet the walking network (:func:`snap` -> :class:`Snapped`).

Points (any CRS; polygons use a point on their surface) meet their nearest network
EDGE, not node: edge index, position along the edge (metres from ``u``) and the
off-network access leg. Snap once, reuse the result in every query of
:mod:`geoapp.network.routing` and :mod:`geoapp.network.catchments`. The snaps of the
last few point sets are memoised in-process. Also :func:`snap_nodes` (points exactly on
nodes) and :func:`snap_xy` (coordinates already in the graph's CRS).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geoapp.errors import InputError
from geoapp.network.graph import WalkGraph


@dataclass(frozen=True, eq=False)
class Snapped:
    """Where points meet the network: computed once by :func:`snap`, reused everywhere.

    Attributes
    ----------
    edge
        Index of the nearest edge of each point (into :attr:`WalkGraph.u_idx` etc.),
        ``-1`` for a missing / empty geometry.
    along_m
        Position of the projection along that edge, metres from its ``u`` end
        (scaled so that the edge's far end is at ``length_m``).
    access_m
        Off-network access leg: straight-line distance from the point to the edge,
        metres (``inf`` when not snapped).
    graph_key
        :attr:`WalkGraph.key` of the network snapped to (``""`` when the graph has no
        key); used to refuse a snap made on another network.

    Notes
    -----
    The arrays are read-only views (the dataclass is frozen): a snap can be shared
    between calls and threads without being changed under them.
    """

    edge: np.ndarray
    along_m: np.ndarray
    access_m: np.ndarray
    graph_key: str = ""

    def __post_init__(self) -> None:
        edge = np.asarray(self.edge, dtype=np.int64).reshape(-1)
        along = np.asarray(self.along_m, dtype=np.float64).reshape(-1)
        access = np.asarray(self.access_m, dtype=np.float64).reshape(-1)
        if not (len(edge) == len(along) == len(access)):
            raise InputError(
                f"Snapped: edge, along_m and access_m must have one value per point "
                f"(got {len(edge)}, {len(along)}, {len(access)})"
            )
        for name, arr in (("edge", edge), ("along_m", along), ("access_m", access)):
            view = arr.view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)

    def __len__(self) -> int:
        return int(len(self.edge))

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of the points that met the network (finite access leg)."""
        return (self.edge >= 0) & np.isfinite(self.access_m)

    def take(self, index: np.ndarray | slice) -> Snapped:
        """Return the snap of a subset of the points (positions or a boolean mask)."""
        return Snapped(self.edge[index], self.along_m[index], self.access_m[index], self.graph_key)


#: Former name of :class:`Snapped` (kept for existing callers).
SnapResult = Snapped


def local_points(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> np.ndarray:
    """Return point geometries in ``crs``; polygons/lines become representative points."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"Points must be a GeoDataFrame or GeoSeries with a CRS (got {type(points).__name__}); "
            "or pass a geoapp.network.Snapped from geoapp.network.snap(graph, points)."
        )
    if points.crs is None and len(points):
        raise InputError(
            "Points have no coordinate reference system; set one (e.g. EPSG:4326) first."
        )
    geoms = points.geometry.to_crs(crs).to_numpy() if len(points) else np.array([], dtype=object)
    not_point = ~(shapely.get_type_id(geoms) == 0) & ~shapely.is_missing(geoms)
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return geoms


def snap(graph: WalkGraph, points: gpd.GeoDataFrame | gpd.GeoSeries) -> Snapped:
    """Snap points to their nearest network edge, once, for reuse in every query.

    Parameters
    ----------
    graph
        The walking network.
    points
        Points with a CRS (any; converted to :attr:`WalkGraph.crs`). Polygons and lines
        use :func:`shapely.point_on_surface`.

    Returns
    -------
    Snapped
        Edge index, position along the edge from ``u`` (metres) and access leg
        (metres), one per row of ``points``; ``-1`` / ``inf`` for missing or empty
        geometries.

    Raises
    ------
    InputError
        If ``points`` is not a GeoDataFrame / GeoSeries or has no CRS.

    Notes
    -----
    A :class:`Snapped` passed to :func:`nearest`, :func:`od_matrix` or
    :func:`catchments` gives exactly the same answers as the frame it was made from.
    """
    memo_key = _snap_key(graph, points)
    if memo_key is not None:
        with _SNAP_LOCK:
            hit = _SNAP_MEMO.get(memo_key)
            if hit is not None:
                _SNAP_MEMO.move_to_end(memo_key)
                return hit
    snapped = _snap_geoms(graph, local_points(points, graph.crs))
    if memo_key is not None:
        for arr in (snapped.edge, snapped.along_m, snapped.access_m):
            arr.flags.writeable = False  # shared by every caller of the same points
        with _SNAP_LOCK:
            _SNAP_MEMO[memo_key] = snapped
            while len(_SNAP_MEMO) > _SNAP_MEMO_SIZE:
                _SNAP_MEMO.popitem(last=False)
    return snapped


#: Snaps of the last few point sets, keyed by network and the points' content: the
#: demand of a region is snapped once for every layer, the fragment check and the app.
_SNAP_MEMO: OrderedDict[tuple[str, str], Snapped] = OrderedDict()
_SNAP_MEMO_SIZE = 16
_SNAP_LOCK = threading.Lock()


def clear_snap_memo() -> None:
    """Forget the in-process snap memo (part of :func:`geoapp.network.clear_memo`)."""
    with _SNAP_LOCK:
        _SNAP_MEMO.clear()


def _snap_key(graph: WalkGraph, points: object) -> tuple[str, str] | None:
    """Key of ``points`` on ``graph`` for the snap memo (None: not memoised)."""
    if not graph.key or not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        return None
    if points.crs is None or not len(points):
        return None
    h = hashlib.blake2b(digest_size=16)
    h.update(points.crs.to_wkt().encode())
    for wkb in shapely.to_wkb(points.geometry.to_numpy()):
        h.update(wkb if wkb is not None else b"\x00")
    return graph.key, h.hexdigest()


#: Former name of :func:`snap` (kept for existing callers).
snap_points = snap


def _snap_geoms(graph: WalkGraph, geoms: np.ndarray) -> Snapped:
    n = len(geoms)
    edge = np.full(n, -1, dtype=np.int64)
    along = np.zeros(n, dtype=np.float64)
    access = np.full(n, np.inf, dtype=np.float64)
    if n == 0 or graph.n_edges == 0:
        return Snapped(edge, along, access, graph.key)
    (src, tgt), dist = graph.tree.query_nearest(geoms, return_distance=True, all_matches=False)
    edge[src] = tgt
    access[src] = dist
    lines = graph.geometry[tgt]
    glen = shapely.length(lines)
    pos = shapely.line_locate_point(lines, geoms[src])
    frac = np.divide(pos, glen, out=np.zeros_like(pos), where=glen > 0)
    along[src] = np.clip(frac, 0.0, 1.0) * graph.length_m[tgt]
    return Snapped(edge, along, access, graph.key)


def snap_nodes(graph: WalkGraph, node_idx: np.ndarray) -> Snapped:
    """Return a :class:`Snapped` placing points exactly on given nodes (no search).

    Each node is put at the ``u`` end (or ``v`` end) of one of its edges with a zero
    access leg; isolated nodes get ``-1`` / ``inf``.
    """
    node_idx = np.asarray(node_idx, dtype=np.int64)
    m = graph.n_edges
    ends = np.concatenate([graph.u_idx, graph.v_idx])
    first = np.full(graph.n_nodes, -1, dtype=np.int64)
    # the last write wins: any incident edge will do
    first[ends[::-1]] = np.concatenate([np.arange(m), np.arange(m)])[::-1]
    e = first[node_idx]
    ok = e >= 0
    along = np.where(
        ok & (graph.v_idx[np.maximum(e, 0)] == node_idx), graph.length_m[np.maximum(e, 0)], 0.0
    )
    return Snapped(
        edge=e,
        along_m=np.where(ok, along, 0.0),
        access_m=np.where(ok, 0.0, np.inf),
        graph_key=graph.key,
    )


def as_snapped(
    graph: WalkGraph, points: Snapped | gpd.GeoDataFrame | gpd.GeoSeries, what: str
) -> Snapped:
    """Return ``points`` snapped to ``graph`` (a :class:`Snapped` is checked, not redone)."""
    if not isinstance(points, Snapped):
        return snap(graph, points)
    if points.graph_key and graph.key and points.graph_key != graph.key:
        raise InputError(
            f"{what}: this Snapped was made on another walking network; snap the points "
            "again with geoapp.network.snap(graph, points) for this graph."
        )
    if len(points) and int(points.edge.max(initial=-1)) >= graph.n_edges:
        raise InputError(
            f"{what}: edge index {int(points.edge.max())} does not exist in this walking network "
            f"({graph.n_edges} edges); snap the points again with geoapp.network.snap(graph, points)."
        )
    return points


def snap_xy(graph: WalkGraph, xy: np.ndarray) -> Snapped:
    """Snap points given as ``(k, 2)`` coordinates in :attr:`WalkGraph.crs` (no CRS work).

    The same as :func:`snap` of those points; for interactive edits where building a
    GeoSeries per click would cost more than the snap. NaN coordinates are not snapped.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    geoms = shapely.points(xy)
    geoms[~np.isfinite(xy).all(axis=1)] = None
    return _snap_geoms(graph, geoms)
