"""Walking network engine: compressed sparse graph, snapping, nearest, OD pairs, catchments.

The walking network (``nodes`` / ``edges`` of a :class:`geoapp.region.Region`) is turned
once into numpy arrays and a symmetric :class:`scipy.sparse.csr_array` (the minimum of
parallel edges is kept; self-loops are dropped) in a local projected CRS, and cached on
disk as ``.npz`` so repeated runs skip the build (:func:`cached_graph`).

Modules (callers use the names re-exported here: ``from geoapp import network``):

* :mod:`geoapp.network.graph`: :class:`WalkGraph`, the contracted routing graph
  :class:`Route`, :func:`build_graph` and :func:`graph_from_arrays`.
* :mod:`geoapp.network.cache`: the on-disk ``.npz`` cache and the in-process memo
  (:func:`cached_graph`, :func:`default_cache_dir`, :func:`clear_memo`).
* :mod:`geoapp.network.snap`: :class:`Snapped`, :func:`snap`, :func:`snap_nodes`,
  :func:`snap_xy`.
* :mod:`geoapp.network.routing`: :func:`nearest`, :func:`nearest_facility`,
  :func:`od_matrix`, :func:`node_distances`, :func:`euclidean_nearest`,
  :class:`TargetIndex`, :func:`index_targets`, :func:`distances_from`.
* :mod:`geoapp.network.catchments`: :func:`catchments` and the polygon code.

Public API (everything else is internal to the package):

* :func:`snap` -> :class:`Snapped`: points (any CRS; polygons use a point on their
  surface) meet their nearest network EDGE, not node: edge index, position along the
  edge (metres from ``u``) and the off-network access leg. Snap once, reuse the
  result in every query below; the answers equal those of passing the frames.
* :func:`nearest`: every origin's nearest facility within a bound, one bounded
  multi-source Dijkstra pass (``scipy.sparse.csgraph.dijkstra`` with
  ``min_only=True`` and ``limit``) on the contracted routing graph with one virtual
  node per facility. :func:`nearest_facility` does the same for frames.
* :func:`od_matrix`: every origin-destination pair within a bound, as a sparse
  ``csr_array`` of metres (explicit zeros are real zero distances).
* :func:`catchments`: each facility's service-area polygon per radius (by default
  the area whose nearest facility it is, from one multi-source pass).
* :func:`euclidean_nearest`, :func:`node_distances`, :func:`snap_nodes`.

Every distance is in metres in :attr:`WalkGraph.crs` and includes the access legs of
both ends; unreachable or beyond the bound is ``inf`` (never 0) with facility index
``-1``, or no stored entry in :func:`od_matrix`.
"""

from __future__ import annotations

from geoapp.network.cache import cached_graph, clear_memo, default_cache_dir
from geoapp.network.catchments import WGS84, catchments
from geoapp.network.graph import Route, WalkGraph, build_graph, graph_from_arrays
from geoapp.network.routing import (
    TargetIndex,
    distances_from,
    euclidean_nearest,
    index_targets,
    nearest,
    nearest_facility,
    nearest_from_snapped,
    node_distances,
    od_matrix,
)
from geoapp.network.snap import Snapped, SnapResult, snap, snap_nodes, snap_points, snap_xy

__all__ = [
    "WGS84",
    "Route",
    "SnapResult",
    "Snapped",
    "TargetIndex",
    "WalkGraph",
    "build_graph",
    "cached_graph",
    "catchments",
    "clear_memo",
    "default_cache_dir",
    "distances_from",
    "euclidean_nearest",
    "graph_from_arrays",
    "index_targets",
    "nearest",
    "nearest_facility",
    "nearest_from_snapped",
    "node_distances",
    "od_matrix",
    "snap",
    "snap_nodes",
    "snap_points",
    "snap_xy",
]
