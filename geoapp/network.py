"""Walking network engine: compressed sparse graph, snapping, nearest, OD pairs, catchments.

The walking network (``nodes`` / ``edges`` of a :class:`geoapp.region.Region`) is turned
once into numpy arrays and a symmetric :class:`scipy.sparse.csr_array` (the minimum of
parallel edges is kept; self-loops are dropped) in a local projected CRS, and cached on
disk as ``.npz`` so repeated runs skip the build (:func:`cached_graph`).

Public API (everything else is private):

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

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import contourpy
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from geoapp._atomic import atomic_path
from geoapp._cache import cache_root, frame_digest
from geoapp.crs import local_crs
from geoapp.errors import EmptyResultError, InputError

log = logging.getLogger(__name__)

#: Bump when the cached array layout changes.
_CACHE_VERSION = 3
_MEMO: OrderedDict[str, WalkGraph] = OrderedDict()
_MEMO_SIZE = 4
#: Graphs being built, by key: a second caller waits for the first one's build.
_BUILDING: dict[str, Future] = {}
_MEMO_LOCK = threading.Lock()
WGS84 = "EPSG:4326"


@dataclass
class WalkGraph:
    """An undirected walking network as arrays, in a local projected CRS.

    Attributes
    ----------
    crs
        Local projected CRS (metres) of ``xy`` and ``geometry``.
    node_ids
        OSM / source node id of each node index, int64, shape ``(n,)``.
    xy
        Projected node coordinates, float64, shape ``(n, 2)``.
    u_idx, v_idx
        Node indices of each edge's ends, int64, shape ``(m,)``. Self-loops are
        dropped; parallel edges are kept here (a point may snap to any of them).
    length_m
        Edge length in metres, float64, shape ``(m,)``.
    geometry
        Edge geometries (shapely LineStrings oriented from ``u`` to ``v``) in ``crs``.
    csr
        Symmetric ``(n, n)`` sparse adjacency holding, for each node pair, the
        minimum length of the edges joining them.
    key
        Content hash of the source arrays (the cache key), or ``""``.
    """

    crs: CRS
    node_ids: np.ndarray
    xy: np.ndarray
    u_idx: np.ndarray
    v_idx: np.ndarray
    length_m: np.ndarray
    geometry: np.ndarray
    csr: csr_array
    key: str = ""
    _tree: shapely.STRtree | None = field(default=None, repr=False, compare=False)
    _route: Route | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(len(self.node_ids))

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges, parallel edges included."""
        return int(len(self.u_idx))

    @property
    def route(self) -> Route:
        """Contracted routing graph (chains of degree-2 nodes merged; built on first use)."""
        if self._route is None:
            self._route = _build_route(self.n_nodes, self.u_idx, self.v_idx, self.length_m)
        return self._route

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree over :attr:`geometry` (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.geometry)
        return self._tree


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


@dataclass
class Route:
    """The walking network with chains of degree-2 nodes contracted into single edges.

    Half the nodes of an OSM walking network have degree 2 (a way bending, or two
    ways meeting end to end). Shortest paths only branch at the other nodes
    (junctions), so the multi-source search runs on a graph of junctions joined by
    chains, about 40 % smaller; a point on an edge is located on its chain.

    Attributes
    ----------
    csr
        ``(n, n)`` symmetric adjacency over the SAME node indices as the full graph,
        with entries only between chain ends (minimum of parallel chains).
    chain_a, chain_b, chain_len
        End node indices and length (metres) of each chain (``a == b`` for a loop).
    edge_chain, edge_offset, edge_forward
        For each edge of the full graph: its chain, the chain position (metres from
        ``chain_a``) of the edge's start on the chain, and whether the edge runs from
        ``u`` to ``v`` in the chain's direction.
    """

    csr: csr_array
    chain_a: np.ndarray
    chain_b: np.ndarray
    chain_len: np.ndarray
    edge_chain: np.ndarray
    edge_offset: np.ndarray
    edge_forward: np.ndarray
    _junction: tuple[csr_array, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def junction_graph(self) -> tuple[csr_array, np.ndarray]:
        """Return the routing graph renumbered to chain ends only, and the renumbering.

        Returns ``(csr, node_to_junction)``: a symmetric ``(k, k)`` adjacency over the
        ``k`` chain ends (minimum of parallel chains, loops left out) and, for every
        node index of the full graph, its junction index (``-1`` for a node inside a
        chain). Searches that keep one row per source (:func:`od_matrix`) touch only
        these ``k`` nodes, about half of a walking network's. Built on first use.
        """
        if self._junction is None:
            n = len(self.csr.indptr) - 1
            ends = np.unique(np.concatenate([self.chain_a, self.chain_b]))
            node_to = np.full(n, -1, dtype=np.int64)
            node_to[ends] = np.arange(len(ends))
            loop = self.chain_a == self.chain_b
            csr = _symmetric_min_csr(
                len(ends),
                node_to[self.chain_a[~loop]],
                node_to[self.chain_b[~loop]],
                self.chain_len[~loop],
            )
            self._junction = (csr, node_to)
        return self._junction

    def locate(self, edge: np.ndarray, along_m: np.ndarray, length_m: np.ndarray) -> np.ndarray:
        """Return chain positions (metres from ``chain_a``) of points on edges."""
        fwd = self.edge_forward[edge]
        return self.edge_offset[edge] + np.where(fwd, along_m, length_m[edge] - along_m)


def _build_route(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> Route:
    """Contract the chains of degree-2 nodes (vectorised, two scipy passes).

    Each edge end at a junction (degree != 2) gets its own copy vertex, which cuts the
    graph into one path per chain; a multi-source Dijkstra from one end of every chain
    then gives each node its position along its chain. Rings of degree-2 nodes with no
    junction get their lowest node promoted to a junction.
    """
    m = len(u)
    deg = np.bincount(np.concatenate([u, v]), minlength=n)
    junction = deg != 2
    copies = n + np.arange(2 * m)
    for attempt in range(2):
        ue = np.where(junction[u], copies[0::2], u)
        ve = np.where(junction[v], copies[1::2], v)
        cut = csr_array(
            (np.ones(m), (ue, ve)), shape=(n + 2 * m, n + 2 * m)
        )  # structure only: summed parallels do not matter for components
        ncomp, label = connected_components(cut, directed=False)
        if attempt == 1:
            break
        used = np.concatenate([ue[ue >= n], ve[ve >= n]])
        has_copy = np.zeros(ncomp, dtype=bool)
        has_copy[label[used]] = True
        ring_nodes = np.flatnonzero(~junction & ~has_copy[label[:n]] & (deg > 0))
        if len(ring_nodes) == 0:
            break
        lowest = np.full(ncomp, n, dtype=np.int64)
        np.minimum.at(lowest, label[ring_nodes], ring_nodes)
        junction[lowest[lowest < n]] = True
    # chains: components holding an edge; start = the lower of their two copy vertices
    chain_of_comp = np.full(ncomp, -1, dtype=np.int64)
    comps = np.unique(label[ue])
    chain_of_comp[comps] = np.arange(len(comps))
    edge_chain = chain_of_comp[label[ue]]
    k = len(comps)
    used = np.concatenate([ue[ue >= n], ve[ve >= n]])
    start = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    end = np.full(k, -1, dtype=np.int64)
    np.minimum.at(start, chain_of_comp[label[used]], used)
    np.maximum.at(end, chain_of_comp[label[used]], used)
    cut_w = _symmetric_min_csr(n + 2 * m, ue, ve, w)
    pos = dijkstra(cut_w, directed=True, indices=start, min_only=True)
    du, dv = pos[ue], pos[ve]
    edge_forward = du <= dv
    edge_offset = np.minimum(du, dv)
    # a copy vertex n + 2e is edge e's u end, n + 2e + 1 its v end
    end_node = np.concatenate([u[:, None], v[:, None]], axis=1).ravel()
    chain_a = end_node[start - n]
    chain_b = end_node[end - n]
    chain_len = pos[end]
    loop = chain_a == chain_b
    csr = _symmetric_min_csr(n, chain_a[~loop], chain_b[~loop], chain_len[~loop])
    return Route(csr, chain_a, chain_b, chain_len, edge_chain, edge_offset, edge_forward)


# --------------------------------------------------------------------------- build


def _symmetric_min_csr(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> csr_array:
    """Return the symmetric CSR of an undirected edge list keeping the minimum of parallels.

    ``scipy.sparse`` constructors ADD duplicate entries, which would give wrong shortest
    paths; here duplicates are removed before the CSR is assembled from its arrays.
    """
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([w, w]).astype(np.float64)
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data = rows[first], cols[first], data[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n, len(cols)) < np.iinfo(np.int32).max else np.int64
    # scipy's csgraph keeps explicit zeros of a CSR input as zero-length edges.
    return csr_array(
        (data, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n), copy=False
    )


def graph_from_arrays(
    node_ids: np.ndarray,
    xy: np.ndarray,
    u_idx: np.ndarray,
    v_idx: np.ndarray,
    length_m: np.ndarray,
    crs: CRS | str,
    geometry: np.ndarray | None = None,
    key: str = "",
) -> WalkGraph:
    """Assemble a :class:`WalkGraph` from arrays already in a projected CRS.

    Parameters
    ----------
    node_ids
        Node ids, shape ``(n,)``.
    xy
        Node coordinates in ``crs`` (metres), shape ``(n, 2)``.
    u_idx, v_idx
        Edge end node INDICES (positions in ``node_ids``), shape ``(m,)``.
    length_m
        Edge lengths in metres (finite, >= 0).
    crs
        The projected CRS of ``xy``.
    geometry
        Edge LineStrings from ``u`` to ``v`` in ``crs``; straight segments when None.
    key
        Optional content hash.

    Returns
    -------
    WalkGraph
        Self-loops dropped; the CSR keeps the minimum of parallel edges.
    """
    node_ids = np.asarray(node_ids, dtype=np.int64)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    u_idx = np.asarray(u_idx, dtype=np.int64)
    v_idx = np.asarray(v_idx, dtype=np.int64)
    length_m = np.asarray(length_m, dtype=np.float64)
    keep = u_idx != v_idx
    if not keep.all():
        log.info("walking network: dropped %d self-loop edges", int((~keep).sum()))
        u_idx, v_idx, length_m = u_idx[keep], v_idx[keep], length_m[keep]
        if geometry is not None:
            geometry = np.asarray(geometry)[keep]
    if geometry is None:
        geometry = _straight_lines(xy, u_idx, v_idx)
    csr = _symmetric_min_csr(len(node_ids), u_idx, v_idx, length_m)
    return WalkGraph(
        crs=CRS.from_user_input(crs),
        node_ids=node_ids,
        xy=xy,
        u_idx=u_idx,
        v_idx=v_idx,
        length_m=length_m,
        geometry=np.asarray(geometry, dtype=object),
        csr=csr,
        key=key,
    )


def _project_coordinates(geoms: np.ndarray, src: CRS | None, dst: CRS) -> np.ndarray:
    """Return the 2-D coordinates of ``geoms`` (in order) transformed from ``src`` to ``dst``.

    The coordinates are transformed as arrays, without building projected geometries
    (what ``GeoSeries.to_crs`` would do; the same pyproj transformation, so the same
    numbers).
    """
    if src is None:
        raise InputError(
            "The walking network cannot be used: nodes have no coordinate reference "
            "system; set one (e.g. EPSG:4326) first."
        )
    coords = shapely.get_coordinates(geoms).astype(np.float64)
    if CRS.from_user_input(src) == dst or not len(coords):
        return coords
    tr = Transformer.from_crs(CRS.from_user_input(src), dst, always_xy=True)
    x, y = tr.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _local_edge_lines(
    geoms: np.ndarray,
    src: CRS | None,
    dst: CRS,
    xy: np.ndarray,
    u_idx: np.ndarray,
    v_idx: np.ndarray,
) -> np.ndarray:
    """Return the edge lines in ``dst``, each running from its ``u`` node to its ``v`` node.

    Missing or empty geometries become straight segments; a line whose first vertex is
    nearer ``v`` than ``u`` is reversed. Plain 2-D LineStrings (every reader's output)
    are projected and oriented as one coordinate array; anything else (Z values, other
    geometry types) through ``GeoSeries.to_crs`` and ``shapely.reverse``.
    """
    geoms = np.array(geoms, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    have = np.flatnonzero(~missing)
    plain = bool(
        (shapely.get_type_id(geoms[have]) == 1).all() and not shapely.has_z(geoms[have]).any()
    )
    if plain and len(have):
        coords, owner = shapely.get_coordinates(geoms[have], return_index=True)
        if src is not None and CRS.from_user_input(src) != dst:
            tr = Transformer.from_crs(CRS.from_user_input(src), dst, always_xy=True)
            x, y = tr.transform(coords[:, 0], coords[:, 1])
            coords = np.column_stack([x, y])
        counts = np.bincount(owner, minlength=len(have))
        start = np.zeros(len(have), dtype=np.int64)
        np.cumsum(counts[:-1], out=start[1:])
        first = coords[start]
        d_u = np.hypot(*(first - xy[u_idx[have]]).T)
        d_v = np.hypot(*(first - xy[v_idx[have]]).T)
        flip = d_v < d_u
        if flip.any():
            # within a flipped line, vertex k takes vertex (count - 1 - k)'s coordinates
            rank = np.arange(len(owner)) - start[owner]
            take = np.where(
                flip[owner], start[owner] + counts[owner] - 1 - rank, np.arange(len(owner))
            )
            coords = coords[take]
        geoms[have] = shapely.linestrings(coords, indices=owner)
    elif len(have):
        local = gpd.GeoSeries(geoms[have], crs=src).to_crs(dst).to_numpy()
        starts = shapely.get_point(local, 0)
        d_u = shapely.distance(starts, shapely.points(xy[u_idx[have]]))
        d_v = shapely.distance(starts, shapely.points(xy[v_idx[have]]))
        flip = d_v < d_u
        local = np.array(local, dtype=object)
        local[flip] = shapely.reverse(local[flip])
        geoms[have] = local
    if missing.any():
        geoms[missing] = _straight_lines(xy, u_idx[missing], v_idx[missing])
    return geoms


def _straight_lines(xy: np.ndarray, u_idx: np.ndarray, v_idx: np.ndarray) -> np.ndarray:
    coords = np.stack([xy[u_idx], xy[v_idx]], axis=1).reshape(-1, 2)
    return shapely.linestrings(coords, indices=np.repeat(np.arange(len(u_idx)), 2))


def _check_columns(frame: pd.DataFrame, what: str, columns: tuple[str, ...]) -> list[str]:
    return [
        f"{what}: column '{c}' is missing; the walking network {what} table needs {columns}"
        for c in columns
        if c not in frame.columns
    ]


def build_graph(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs: CRS | str | None = None
) -> WalkGraph:
    """Build a :class:`WalkGraph` from a walking network's node and edge tables.

    Parameters
    ----------
    nodes
        ``node_id`` (int64) and Point ``geometry``, with a CRS.
    edges
        ``u``, ``v`` (node ids), optional ``length_m`` (metres; missing or NaN values
        are measured on the geometry in the local CRS) and LineString ``geometry``
        (a straight segment is used where it is missing).
    crs
        Projected CRS to work in; default :func:`geoapp.crs.local_crs` of ``nodes``.

    Returns
    -------
    WalkGraph

    Raises
    ------
    InputError
        Missing columns, or negative / non-finite edge lengths (every problem listed).
    EmptyResultError
        If no usable edge is left (use the Euclidean mode then).

    Notes
    -----
    Self-loops are dropped; the CSR keeps the minimum of parallel edges; edges whose
    ``u`` or ``v`` is missing from ``nodes`` are dropped with a logged warning; edge
    geometries are reversed where they run from ``v`` to ``u``.
    """
    problems = _check_columns(nodes, "nodes", ("node_id", "geometry"))
    problems += _check_columns(edges, "edges", ("u", "v"))
    if problems:
        raise InputError("The walking network cannot be used:", problems)
    if len(nodes) == 0 or len(edges) == 0:
        raise EmptyResultError(
            f"The walking network is empty ({len(nodes)} nodes, {len(edges)} edges); "
            "load a region with streets or use the Euclidean (straight-line) mode."
        )
    crs = CRS.from_user_input(crs) if crs is not None else local_crs(nodes)

    node_ids = nodes["node_id"].to_numpy(dtype=np.int64)
    dup = pd.Index(node_ids).duplicated()
    if dup.any():
        log.warning("walking network: %d duplicate node_id values; keeping the first", dup.sum())
        nodes = nodes.loc[~dup]
        node_ids = node_ids[~dup]
    xy = _project_coordinates(np.asarray(nodes.geometry.to_numpy(), dtype=object), nodes.crs, crs)
    if len(xy) != len(node_ids):
        raise InputError(
            "The walking network cannot be used: nodes: every row needs a Point geometry "
            f"({len(node_ids) - len(xy)} rows have none); remove or fix them."
        )

    index = pd.Index(node_ids)
    u_idx = index.get_indexer(edges["u"].to_numpy(dtype=np.int64))
    v_idx = index.get_indexer(edges["v"].to_numpy(dtype=np.int64))
    known = (u_idx >= 0) & (v_idx >= 0)
    if not known.all():
        log.warning(
            "walking network: dropped %d of %d edges whose u/v node is missing from the nodes",
            int((~known).sum()),
            len(known),
        )
    rows = np.flatnonzero(known)
    u_idx, v_idx = u_idx[rows].astype(np.int64), v_idx[rows].astype(np.int64)

    if isinstance(edges, gpd.GeoDataFrame) and edges.geometry.name in edges.columns:
        egeo = edges.geometry.iloc[rows]
        if egeo.crs is None:
            log.warning("walking network edges have no CRS; assuming the nodes' %s", nodes.crs)
            egeo = egeo.set_crs(nodes.crs)
        geoms = np.array(egeo.to_numpy(), dtype=object)
        src_crs = egeo.crs
    else:
        geoms = np.full(len(rows), None, dtype=object)
        src_crs = crs
    geoms = _local_edge_lines(geoms, src_crs, crs, xy, u_idx, v_idx)

    if "length_m" in edges.columns:
        length = np.array(pd.to_numeric(edges["length_m"].iloc[rows], errors="coerce"), float)
    else:
        length = np.full(len(rows), np.nan)
    nan = np.isnan(length)
    if nan.any():
        length[nan] = shapely.length(geoms[nan])
    bad = ~np.isfinite(length) | (length < 0)
    if bad.any():
        labels = edges.index[rows[bad]][:10]
        raise InputError(
            "The walking network cannot be used: edges: 'length_m' must be a finite number "
            ">= 0 (metres); fix or remove these rows:",
            [
                f"row {r}: length_m = {length[i]!r}"
                for r, i in zip(labels, np.flatnonzero(bad)[:10], strict=True)
            ],
        )
    graph = graph_from_arrays(node_ids, xy, u_idx, v_idx, length, crs, geometry=geoms)
    if graph.n_edges == 0:
        raise EmptyResultError(
            "The walking network has no usable edge (all self-loops or dangling); "
            "use the Euclidean (straight-line) mode."
        )
    log.info("walking network: %d nodes, %d edges", graph.n_nodes, graph.n_edges)
    return graph


# --------------------------------------------------------------------------- cache


def _graph_key(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs: CRS | None) -> str:
    h = hashlib.blake2b(digest_size=16)
    # the same CRS prints differently after a GeoParquet round trip ("EPSG:4326" vs
    # PROJJSON): key on its WKT so a cached region finds the graph built from the parse
    h.update(f"v{_CACHE_VERSION}|{crs.to_wkt() if crs is not None else ''}".encode())
    # content digests, once per frame object (a parsed extract's frames come with theirs)
    h.update(frame_digest(nodes).encode())
    h.update(frame_digest(edges).encode())
    return h.hexdigest()


def default_cache_dir() -> Path:
    """Return the on-disk graph cache folder.

    ``$GEOAPP_CACHE_DIR/networks`` when set, else ``$XDG_CACHE_HOME/geoapp/networks``,
    else ``~/.cache/geoapp/networks``.
    """
    return cache_root() / "networks"


def _save_graph(graph: WalkGraph, path: Path) -> None:
    geoms = graph.geometry
    counts = shapely.get_num_coordinates(geoms).astype(np.int64)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            node_ids=graph.node_ids,
            xy=graph.xy,
            u_idx=graph.u_idx,
            v_idx=graph.v_idx,
            length_m=graph.length_m,
            coords=shapely.get_coordinates(geoms),
            counts=counts,
            csr_data=graph.csr.data,
            csr_indices=graph.csr.indices,
            csr_indptr=graph.csr.indptr,
            crs_wkt=np.array(graph.crs.to_wkt()),
            **{f"route_{k}": val for k, val in _route_arrays(graph.route).items()},
        )


def _route_arrays(route: Route) -> dict[str, np.ndarray]:
    return {
        "data": route.csr.data,
        "indices": route.csr.indices,
        "indptr": route.csr.indptr,
        "chain_a": route.chain_a,
        "chain_b": route.chain_b,
        "chain_len": route.chain_len,
        "edge_chain": route.edge_chain,
        "edge_offset": route.edge_offset,
        "edge_forward": route.edge_forward,
    }


def _load_graph(path: Path, key: str) -> WalkGraph:
    with np.load(path, allow_pickle=False) as z:
        n = len(z["node_ids"])
        geoms = shapely.linestrings(
            z["coords"], indices=np.repeat(np.arange(len(z["counts"])), z["counts"])
        )
        csr = csr_array((z["csr_data"], z["csr_indices"], z["csr_indptr"]), shape=(n, n))
        rcsr = csr_array((z["route_data"], z["route_indices"], z["route_indptr"]), shape=(n, n))
        route = Route(
            rcsr,
            *(z[f"route_{k}"] for k in ("chain_a", "chain_b", "chain_len")),
            *(z[f"route_{k}"] for k in ("edge_chain", "edge_offset", "edge_forward")),
        )
        return WalkGraph(
            crs=CRS.from_wkt(str(z["crs_wkt"])),
            node_ids=z["node_ids"],
            xy=z["xy"],
            u_idx=z["u_idx"],
            v_idx=z["v_idx"],
            length_m=z["length_m"],
            geometry=geoms,
            csr=csr,
            key=key,
            _route=route,
        )


def cached_graph(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    crs: CRS | str | None = None,
) -> WalkGraph:
    """Return :func:`build_graph` ``(nodes, edges)``, memoised in-process and on disk.

    Parameters
    ----------
    nodes, edges
        As for :func:`build_graph`.
    cache_dir
        Folder of the ``.npz`` cache; None uses :func:`default_cache_dir`; ``False``
        keeps only the in-process memo.
    crs
        As for :func:`build_graph`.

    Returns
    -------
    WalkGraph
        ``key`` holds the hash of the node and edge arrays the cache is keyed on.

    Notes
    -----
    Files are written atomically; an unreadable or unwritable cache only logs a
    warning and the graph is rebuilt. Thread-safe: a call for a graph that another
    thread is building waits for that build (and gets its result or its error).
    """
    key = _graph_key(nodes, edges, CRS.from_user_input(crs) if crs is not None else None)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
        pending = _BUILDING.get(key)
        if pending is None:
            pending = _BUILDING[key] = Future()
            owner = True
        else:
            owner = False
    if not owner:  # the same graph is being built in another thread: wait for it
        return pending.result()
    try:
        graph = _load_or_build(nodes, edges, cache_dir, crs, key)
    except BaseException as exc:
        with _MEMO_LOCK:
            _BUILDING.pop(key, None)
        pending.set_exception(exc)
        raise
    with _MEMO_LOCK:
        _MEMO[key] = graph
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
        _BUILDING.pop(key, None)
    pending.set_result(graph)
    return graph


def _load_or_build(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    cache_dir: str | os.PathLike[str] | bool | None,
    crs: CRS | str | None,
    key: str,
) -> WalkGraph:
    graph = None
    path = None
    if cache_dir is not False:
        folder = default_cache_dir() if cache_dir in (None, True) else Path(cache_dir)
        path = folder / f"walkgraph-{key}.npz"
        if path.exists():
            try:
                graph = _load_graph(path, key)
                log.info("walking network loaded from cache %s", path)
            except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt
                log.warning("walking network cache %s unreadable (%s); rebuilding", path, exc)
    if graph is None:
        graph = build_graph(nodes, edges, crs=crs)
        graph.key = key
        if path is not None:
            try:
                _save_graph(graph, path)
            except OSError as exc:
                log.warning("could not write walking network cache %s: %s", path, exc)
    return graph


def clear_memo() -> None:
    """Forget the in-process graph and snap memos (the disk cache is kept)."""
    with _MEMO_LOCK:
        _MEMO.clear()
    with _SNAP_LOCK:
        _SNAP_MEMO.clear()


# --------------------------------------------------------------------------- snapping


def _local_points(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> np.ndarray:
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
    snapped = _snap_geoms(graph, _local_points(points, graph.crs))
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


def _as_snapped(
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


def _check_limit(limit_m: float, what: str) -> float:
    try:
        limit = float(limit_m)
    except (TypeError, ValueError):
        limit = float("nan")
    if not np.isfinite(limit) or limit < 0:
        raise InputError(
            f"{what}: limit_m {limit_m!r} must be a finite number of metres >= 0 "
            "(the search bound; e.g. the layer's largest radius)"
        )
    return limit


# --------------------------------------------------------------------------- distances


def node_distances(
    graph: WalkGraph,
    source_node_idx: np.ndarray | int,
    limit_m: float = np.inf,
    *,
    min_only: bool = True,
    return_sources: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Shortest network distances (metres) from source nodes to every node.

    Parameters
    ----------
    graph
        The walking network.
    source_node_idx
        Node INDEX or indices of the sources.
    limit_m
        Search bound; farther nodes get ``inf``.
    min_only
        True: one row, the distance to the nearest source. False: one row per source
        (a dense ``(sources, nodes)`` array: keep the sources few, or use
        :func:`od_matrix`).
    return_sources
        With ``min_only``, also return the nearest source's node index (``-1`` if none).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
    """
    src = np.atleast_1d(np.asarray(source_node_idx, dtype=np.int64))
    if not min_only:
        return dijkstra(graph.csr, directed=True, indices=src, limit=limit_m)
    if len(src) == 0:
        dist = np.full(graph.n_nodes, np.inf)
        return (dist, np.full(graph.n_nodes, -1, dtype=np.int64)) if return_sources else dist
    dist, _, sources = dijkstra(
        graph.csr,
        directed=True,
        indices=src,
        limit=limit_m,
        min_only=True,
        return_predecessors=True,
    )
    if return_sources:
        return dist, np.where(sources >= 0, sources, -1).astype(np.int64)
    return dist


def _augmented(graph: WalkGraph, fac: Snapped) -> tuple[csr_array, np.ndarray]:
    """Return the full-graph CSR with one virtual source node per snapped facility.

    Virtual node ``n + j`` has two outgoing edges, to its edge's ``u`` and ``v`` ends,
    weighted ``access + along`` and ``access + (length - along)``.
    """
    e = fac.edge
    return _virtual_sources(
        graph.csr,
        graph.u_idx[e],
        graph.v_idx[e],
        fac.access_m + fac.along_m,
        fac.access_m + (graph.length_m[e] - fac.along_m),
    )


def _virtual_sources(
    csr: csr_array, a: np.ndarray, b: np.ndarray, w_a: np.ndarray, w_b: np.ndarray
) -> tuple[csr_array, np.ndarray]:
    """Return ``csr`` plus one virtual node per source joined to ``a`` and ``b``.

    Virtual node ``n + j`` has directed edges to ``a[j]`` (weight ``w_a[j]``) and
    ``b[j]`` (``w_b[j]``); one edge of the smaller weight when ``a[j] == b[j]``.
    """
    n = csr.shape[0]
    k = len(a)
    same = a == b
    w_a = np.where(same, np.minimum(w_a, w_b), w_a)
    cnt = np.where(same, 1, 2)
    idx_dtype = csr.indices.dtype
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + np.cumsum(cnt)]).astype(idx_dtype)
    targets = np.stack([a, b], axis=1)
    weights = np.stack([w_a, w_b], axis=1)
    keep = np.stack([np.ones(k, dtype=bool), ~same], axis=1)
    indices = np.concatenate([csr.indices, targets[keep].astype(idx_dtype)])
    data = np.concatenate([csr.data, weights[keep]])
    aug = csr_array((data, indices, indptr), shape=(n + k, n + k), copy=False)
    return aug, n + np.arange(k)


def nearest(
    graph: WalkGraph,
    origins: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest facility of every origin, for snapped points (see :func:`snap`).

    Runs on :attr:`WalkGraph.route` (chains of degree-2 nodes contracted): every point
    is located on its chain, facilities become virtual sources joined to their chain's
    ends, and one bounded multi-source Dijkstra labels every junction with its
    nearest facility. Off-network access legs of both ends are included, and a point
    on the same chain as a facility is also measured directly along it.

    Parameters
    ----------
    graph
        The walking network.
    origins, facilities
        :class:`Snapped` from :func:`snap` (or frames, snapped here).
    limit_m
        Search bound in metres (inclusive).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``dist_m`` (float, ``inf`` if unreachable or beyond ``limit_m``, never 0 for
        that) and the facility's position in ``facilities`` (int64, ``-1`` if none),
        one per origin.
    """
    demand = _as_snapped(graph, origins, "origins")
    facilities = _as_snapped(graph, facilities, "facilities")
    limit_m = float(limit_m)
    nd = len(demand)
    dist_out = np.full(nd, np.inf)
    fac_out = np.full(nd, -1, dtype=np.int64)
    fok = np.flatnonzero(facilities.valid)
    if len(fok) == 0 or nd == 0:
        return dist_out, fac_out
    route = graph.route
    f_chain = route.edge_chain[facilities.edge[fok]]
    f_pos = route.locate(facilities.edge[fok], facilities.along_m[fok], graph.length_m)
    f_acc = facilities.access_m[fok]
    f_len = route.chain_len[f_chain]
    aug, sources = _virtual_sources(
        route.csr,
        route.chain_a[f_chain],
        route.chain_b[f_chain],
        f_acc + f_pos,
        f_acc + (f_len - f_pos),
    )
    node_dist, _, node_src = dijkstra(
        aug, directed=True, indices=sources, min_only=True, limit=limit_m, return_predecessors=True
    )
    n = graph.n_nodes
    node_dist = node_dist[:n]
    node_fac = np.where(node_src[:n] >= 0, node_src[:n] - n, -1)

    dok = np.flatnonzero(demand.valid)
    c = route.edge_chain[demand.edge[dok]]
    p = route.locate(demand.edge[dok], demand.along_m[dok], graph.length_m)
    a, b = route.chain_a[c], route.chain_b[c]
    via_a = node_dist[a] + p
    via_b = node_dist[b] + (route.chain_len[c] - p)
    best = np.where(via_a <= via_b, via_a, via_b)
    best_f = np.where(via_a <= via_b, node_fac[a], node_fac[b])

    # a demand point and a facility on the same chain: straight along it
    which, fpos = _same_chain_pairs(c, f_chain)
    if len(which):
        direct = np.abs(p[which] - f_pos[fpos]) + f_acc[fpos]
        order = np.lexsort((direct, which))
        which, direct, fpos = which[order], direct[order], fpos[order]
        first = np.ones(len(which), dtype=bool)
        first[1:] = which[1:] != which[:-1]
        w, d, f = which[first], direct[first], fpos[first]
        better = d < best[w]
        best[w[better]] = d[better]
        best_f[w[better]] = f[better]

    total = best + demand.access_m[dok]
    ok = np.isfinite(total) & (total <= limit_m) & (best_f >= 0)
    dist_out[dok[ok]] = total[ok]
    fac_out[dok[ok]] = fok[best_f[ok]]
    return dist_out, fac_out


#: Former name of :func:`nearest` (kept for existing callers).
nearest_from_snapped = nearest


def _same_chain_pairs(c: np.ndarray, f_chain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return every ``(i, j)`` with ``c[i] == f_chain[j]`` (vectorised join on chains)."""
    f_order = np.argsort(f_chain, kind="stable")
    f_sorted = f_chain[f_order]
    lo = np.searchsorted(f_sorted, c, side="left")
    hi = np.searchsorted(f_sorted, c, side="right")
    cnt = hi - lo
    which = np.repeat(np.arange(len(c)), cnt)
    offset = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return which, f_order[np.repeat(lo, cnt) + offset]


def nearest_facility(
    graph: WalkGraph,
    demand: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from every demand point to its nearest facility.

    Both sets are snapped to their nearest edge (:func:`snap`) and passed to
    :func:`nearest`. Off-network access legs of both the demand point and the
    facility are included.

    Parameters
    ----------
    graph
        The walking network.
    demand
        Demand points (any CRS).
    facilities
        Facility points or polygons (a point on the surface is used).
    limit_m
        Search bound in metres.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``dist_m`` (float, ``inf`` if unreachable or beyond ``limit_m``) and the
        facility's position in ``facilities`` (int64, ``-1`` if none), one per demand row.
    """
    return nearest(graph, snap(graph, demand), snap(graph, facilities), float(limit_m))


# --------------------------------------------------------------------------- OD pairs


def od_matrix(
    graph: WalkGraph,
    origins: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    destinations: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
    *,
    max_batch_values: int = 8_000_000,
) -> csr_array:
    """Network distance of every origin-destination pair within a bound, as a sparse matrix.

    Parameters
    ----------
    graph
        The walking network.
    origins, destinations
        :class:`Snapped` from :func:`snap` (reuse them across calls), or frames with a
        CRS (snapped here; polygons use a point on their surface).
    limit_m
        Search bound in metres (inclusive, finite, >= 0).
    max_batch_values
        Memory cap: the bounded searches run in batches whose distance table holds at
        most about this many float64 values (8,000,000 = 64 MB).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(len(origins), len(destinations))``, float64 metres. Entry ``[i, j]`` is
        stored if and only if destination ``j`` is within ``limit_m`` of origin ``i``
        over the network, off-network access legs of both points included (and
        directly along the street when both lie on the same stretch between
        junctions). Rows are sorted by column, one entry per pair.

    Raises
    ------
    InputError
        Bad ``limit_m``, frames without a CRS, or a :class:`Snapped` made on another
        network.

    Notes
    -----
    **A stored 0.0 is a real zero distance** (an origin and a destination at the same
    place on the network), kept as an explicit entry; a pair that is NOT stored is
    beyond the bound or unreachable. So test membership with the sparsity structure
    (``m.indptr`` / ``m.indices``, ``m.nnz``, ``m.tocoo()``), never with
    ``m.toarray() == 0`` or ``m[i, j] == 0``, and do not call ``m.eliminate_zeros()``.
    Unreachable is never 0. Every way is walked over the street: two points at the
    same spot OFF the street (a point and itself, say) are two access legs apart.

    The searches are bounded multi-source Dijkstra calls
    (``scipy.sparse.csgraph.dijkstra`` with ``limit``) on the contracted routing graph
    (:attr:`WalkGraph.route`, junctions only, which is exact: a shortest path only
    turns at junctions). They run from the smaller side (the network is undirected),
    one virtual source node per point, and each reached junction is joined to the
    points of the other side on the chains ending there. On a large network the
    sources are grouped in tiles and each group searches only the junctions near its
    tile; a source whose search reaches the edge of that region within the bound
    (a street much shorter than the straight line, say) is searched again on the
    whole network, so the result stays exact. Time and memory grow with the number
    of pairs within the bound; no dense origins x destinations table is ever built.
    """
    o = _as_snapped(graph, origins, "origins")
    d = _as_snapped(graph, destinations, "destinations")
    limit = _check_limit(limit_m, "od_matrix")
    no, nd = len(o), len(d)
    ov = np.flatnonzero(o.valid & (o.access_m <= limit))
    dv = np.flatnonzero(d.valid & (d.access_m <= limit))
    if len(ov) == 0 or len(dv) == 0:
        return _csr_from_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), (no, nd))
    swap = len(dv) < len(ov)
    if swap:
        s_rows, t_cols, dist = _bounded_pairs(graph, d, dv, o, ov, limit, max_batch_values)
        rows, cols = t_cols, s_rows
    else:
        rows, cols, dist = _bounded_pairs(graph, o, ov, d, dv, limit, max_batch_values)
    out = _csr_from_pairs(rows, cols, dist, (no, nd))
    log.debug("od_matrix: %d x %d, %d pairs within %.0f m", no, nd, out.nnz, limit)
    return out


def _csr_from_pairs(
    rows: np.ndarray, cols: np.ndarray, data: np.ndarray, shape: tuple[int, int]
) -> csr_array:
    """Assemble a canonical CSR from UNIQUE pairs, keeping explicit zeros.

    scipy's COO -> CSR conversion (a counting sort) keeps explicit zeros; if a scipy
    version ever dropped them, the CSR is assembled from sorted arrays instead.
    """
    data = np.asarray(data, dtype=np.float64)
    out = csr_array((data, (rows, cols)), shape=shape)
    if out.nnz != len(data):  # pragma: no cover - depends on the scipy version
        order = np.lexsort((cols, rows))
        indptr = np.zeros(shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
        out = csr_array((data[order], cols[order], indptr), shape=shape, copy=False)
    out.sort_indices()
    return out


def _expand_ranges(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(owner, index)`` enumerating ``start[i] : start[i] + count[i]`` for every i."""
    owner = np.repeat(np.arange(len(count)), count)
    index = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return owner, index + start[owner]


#: Junction count from which :func:`od_matrix` searches regional subgraphs.
_REGION_MIN_JUNCTIONS = 20_000


def _bounded_pairs(
    graph: WalkGraph,
    src: Snapped,
    sv: np.ndarray,
    tgt: Snapped,
    tv: np.ndarray,
    limit: float,
    max_batch_values: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(source position, target position, metres)`` of every pair within ``limit``.

    Sources become virtual nodes of the junction graph; one bounded Dijkstra row per
    source gives its distance to every junction. A target on chain ``c`` is then at
    ``min(D[a_c] + leg_a, D[b_c] + leg_b)`` (and directly along the chain when the
    source lies on ``c`` too). Each (source, chain) pair is enumerated once, from the
    reached chain ends, so every (source, target) pair comes out once, unsorted.

    On a large network the sources are grouped in square tiles of ``2 * limit`` and
    each group is searched on the junctions within ``limit`` of its tile only (the
    rows of a full-graph search would cost O(junctions) per source). This stays
    exact: a path that leaves the region must first reach a junction on its cut at
    its true distance, so a source reaching no cut junction within the bound has
    all its pairs; the other sources are searched again on the whole graph.
    """
    route = graph.route
    ccsr, node_c = route.junction_graph()
    nc = ccsr.shape[0]
    length = graph.length_m
    ja, jb = node_c[route.chain_a], node_c[route.chain_b]  # chain ends, junction indices

    s_chain = route.edge_chain[src.edge[sv]]
    s_pos = route.locate(src.edge[sv], src.along_m[sv], length)
    s_acc = src.access_m[sv]
    s_wa = s_acc + s_pos
    s_wb = s_acc + (route.chain_len[s_chain] - s_pos)

    # targets grouped by chain, with their legs to either end of it
    t_chain = route.edge_chain[tgt.edge[tv]]
    t_order = np.argsort(t_chain)
    t_chain = t_chain[t_order]
    t_id = tv[t_order]
    t_pos = route.locate(tgt.edge[t_id], tgt.along_m[t_id], length)
    t_acc = tgt.access_m[t_id]
    t_leg_a = t_acc + t_pos
    t_leg_b = t_acc + (route.chain_len[t_chain] - t_pos)
    c_count = np.bincount(t_chain, minlength=len(route.chain_len))
    c_start = np.cumsum(c_count) - c_count
    # the ends of the chains holding targets, sorted by junction (a loop has one end)
    held = np.flatnonzero(c_count)
    two = ja[held] != jb[held]
    e_node = np.concatenate([ja[held], jb[held][two]])
    e_chain = np.concatenate([held, held[two]])
    e_is_a = np.r_[np.ones(len(held), dtype=bool), np.zeros(int(two.sum()), dtype=bool)]
    e_order = np.argsort(e_node)
    e_node, e_chain, e_is_a = e_node[e_order], e_chain[e_order], e_is_a[e_order]

    out_s: list[np.ndarray] = []
    out_t: list[np.ndarray] = []
    out_d: list[np.ndarray] = []

    def search(group: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
        """Search ``group`` (source positions) on the junctions ``region`` (None: all).

        Returns the sources to search again on the whole graph (they reached the cut).
        """
        if region is None:
            csr, to_r, cut = ccsr, np.arange(nc), None
        else:
            csr = ccsr[region][:, region]
            to_r = np.full(nc, -1, dtype=np.int64)
            to_r[region] = np.arange(len(region))
            cut = np.flatnonzero(np.diff(ccsr.indptr)[region] > np.diff(csr.indptr))
        n_r = csr.shape[0]
        batch = max(1, int(max_batch_values // max(1, n_r + len(group))))
        redo = []
        for b0 in range(0, len(group), batch):
            chunk = group[b0 : b0 + batch]
            aug, vsrc = _virtual_sources(
                csr, to_r[ja[s_chain[chunk]]], to_r[jb[s_chain[chunk]]], s_wa[chunk], s_wb[chunk]
            )
            dmat = dijkstra(aug, directed=True, indices=vsrc, limit=limit)
            good = np.ones(len(chunk), dtype=bool)
            if cut is not None and len(cut):
                good = ~(dmat[:, cut] <= limit).any(axis=1)
                redo.append(chunk[~good])
            row, node = np.nonzero(dmat[:, :n_r] <= limit)
            ok = good[row]
            row, node = row[ok], node[ok]
            if region is not None:
                node = region[node]
            lo = np.searchsorted(e_node, node, side="left")
            hi = np.searchsorted(e_node, node, side="right")
            which, k = _expand_ranges(lo, hi - lo)
            ps, pc = row[which], e_chain[k]
            # once per (source, chain): from end a, or from end b when a is not reached;
            # the source's own chain is added below, reached or not (the direct way)
            once = e_is_a[k] | ~(_row_dist(dmat, ps, to_r[ja[pc]]) <= limit)
            once &= pc != s_chain[chunk[ps]]
            ps, pc = ps[once], pc[once]
            own = np.flatnonzero(good & (c_count[s_chain[chunk]] > 0))
            ps = np.concatenate([ps, own])
            pc = np.concatenate([pc, s_chain[chunk[own]]])
            # every target on each of those chains
            da, db = _row_dist(dmat, ps, to_r[ja[pc]]), _row_dist(dmat, ps, to_r[jb[pc]])
            own_chain = pc == s_chain[chunk[ps]]
            del dmat
            w, k = _expand_ranges(c_start[pc], c_count[pc])
            d = np.minimum(da[w] + t_leg_a[k], db[w] + t_leg_b[k])
            on = np.flatnonzero(own_chain[w])
            g = chunk[ps[w[on]]]
            kk = k[on]
            d[on] = np.minimum(d[on], s_acc[g] + np.abs(s_pos[g] - t_pos[kk]) + t_acc[kk])
            keep = d <= limit
            out_s.append(sv[chunk[ps[w[keep]]]])
            out_t.append(t_id[k[keep]])
            out_d.append(d[keep])
        return np.concatenate(redo) if redo else np.zeros(0, dtype=np.int64)

    everyone = np.arange(len(sv))
    if nc < _REGION_MIN_JUNCTIONS or len(sv) < 2:
        search(everyone)
    else:
        redo = []
        j_node = np.flatnonzero(node_c >= 0)  # junction -> node index
        for group, region in _regions(graph.xy[j_node], ja, jb, s_chain, limit):
            redo.append(search(group, region))
        again = np.concatenate(redo) if redo else np.zeros(0, dtype=np.int64)
        if len(again):
            log.debug(
                "od_matrix: %d of %d sources searched again on the whole graph", len(again), len(sv)
            )
            search(np.sort(again))
    if not out_s:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_d)


def _row_dist(dmat: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Return ``dmat[row, col]``, ``inf`` where ``col`` is -1 (a junction outside)."""
    inside = col >= 0
    flat = dmat.reshape(-1)
    return np.where(inside, flat[row * dmat.shape[1] + np.where(inside, col, 0)], np.inf)


def _regions(
    jxy: np.ndarray, ja: np.ndarray, jb: np.ndarray, s_chain: np.ndarray, limit: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(source positions, junctions of their region)`` per tile of sources.

    Tiles are ``2 * limit`` squares (at least 200 m) placed by each source's chain ends;
    a region holds the junctions within ``limit`` (plus 50 m) of the tile's sources'
    chain ends, and those ends themselves.
    """
    tile = max(2.0 * limit, 200.0)
    pad = limit + 50.0
    end_a, end_b = jxy[ja[s_chain]], jxy[jb[s_chain]]
    centre = (end_a + end_b) / 2.0
    cell = np.floor(centre / tile).astype(np.int64)
    _, inv = np.unique(cell, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    order = np.argsort(inv)
    bounds = np.flatnonzero(np.r_[True, inv[order][1:] != inv[order][:-1], True])
    # junctions bucketed by x for the range queries
    x_order = np.argsort(jxy[:, 0])
    xs = jxy[x_order, 0]
    for g0, g1 in pairwise(bounds):
        group = order[g0:g1]
        lo = np.minimum(end_a[group].min(axis=0), end_b[group].min(axis=0)) - pad
        hi = np.maximum(end_a[group].max(axis=0), end_b[group].max(axis=0)) + pad
        i0, i1 = np.searchsorted(xs, [lo[0], hi[0]], side="left")
        cand = x_order[i0:i1]
        y = jxy[cand, 1]
        mask = np.zeros(len(jxy), dtype=bool)
        mask[cand[(y >= lo[1]) & (y <= hi[1])]] = True
        mask[ja[s_chain[group]]] = True
        mask[jb[s_chain[group]]] = True
        yield group, np.flatnonzero(mask)


def euclidean_nearest(
    demand: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
    crs: CRS | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance from every demand point to its nearest facility.

    Parameters
    ----------
    demand, facilities
        GeoDataFrames with a CRS (polygons use a point on their surface).
    limit_m
        Search bound in metres.
    crs
        Projected CRS to measure in; default the local CRS of the demand (or facilities).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``dist_m`` (``inf`` beyond ``limit_m``) and facility position (``-1`` if none).
    """
    nd = len(demand)
    dist_out = np.full(nd, np.inf)
    fac_out = np.full(nd, -1, dtype=np.int64)
    if nd == 0 or len(facilities) == 0:
        return dist_out, fac_out
    if crs is None:
        crs = local_crs(demand)
    crs = CRS.from_user_input(crs)
    dg = _local_points(demand, crs)
    fg = _local_points(facilities, crs)
    fok = np.flatnonzero(~shapely.is_missing(fg) & ~shapely.is_empty(fg))
    dok = np.flatnonzero(~shapely.is_missing(dg) & ~shapely.is_empty(dg))
    if len(fok) == 0 or len(dok) == 0:
        return dist_out, fac_out
    from scipy.spatial import cKDTree  # ~0.8 s to import: only when needed

    tree = cKDTree(shapely.get_coordinates(fg[fok]))
    bound = np.nextafter(float(limit_m), np.inf)
    d, i = tree.query(shapely.get_coordinates(dg[dok]), k=1, distance_upper_bound=bound)
    ok = np.isfinite(d) & (d <= limit_m)
    dist_out[dok[ok]] = d[ok]
    fac_out[dok[ok]] = fok[i[ok]]
    return dist_out, fac_out


# --------------------------------------------------------------------------- catchments


def catchments(
    graph: WalkGraph,
    facilities: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    radii_m: Sequence[float],
    *,
    buffer_m: float = 40.0,
    cell_m: float = 5.0,
    max_batch_values: int = 20_000_000,
    overlapping: bool = False,
    max_cells: int = 20_000_000,
) -> gpd.GeoDataFrame:
    """Network service area of each facility at each radius.

    By default a catchment is **the area whose nearest facility is F, within reach
    R**: every street stretch (whole edges, and the part of an edge up to where it
    tips to another facility or the radius ends) is labelled with its nearest facility
    in ONE bounded multi-source Dijkstra pass, the labelled stretches reached within R
    are buffered by ``buffer_m``, and every spot of the buffer goes to the facility of
    the nearest reached street. The catchments of one radius therefore partition the
    reached area (no two overlap) and their union is the area within R of some
    facility; blocks that no reached street passes through stay holes.

    With ``overlapping=True`` each facility instead gets its full service area (the
    streets IT reaches within R, whether or not another facility is nearer), computed
    per facility on a grid bounded to its own neighbourhood; these overlap where
    facilities' reaches do and cost one search and one grid per facility.

    Distances include the facility's off-network access leg, as in :func:`nearest`.

    Parameters
    ----------
    graph
        The walking network.
    facilities
        :class:`Snapped` from :func:`snap`, or facilities with a CRS (Point or
        Polygon; polygons use a point on their surface).
    radii_m
        Radii in metres (positive, finite).
    buffer_m
        Half-width of the street buffer, metres.
    cell_m
        Resolution of the union, metres (see Notes).
    max_batch_values
        Memory cap of ``overlapping=True``: facilities are processed in batches so
        that one batch's distance table holds at most about this many float64 values.
    overlapping
        False (default): nearest-facility catchments (a partition, one pass).
        True: each facility's own, overlapping service area.
    max_cells
        Memory cap of the default method: the grid covering every reached street
        holds at most this many cells; a larger region is gridded coarser than
        ``cell_m`` (logged).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; one row per facility and radius, facilities in input order and
        radii ascending: ``facility`` (int, position in ``facilities``), ``radius_m``,
        ``area_km2`` (measured in :attr:`WalkGraph.crs`) and ``geometry``
        (Polygon/MultiPolygon; empty when the facility is farther than the radius from
        any street or not snapped).

    Raises
    ------
    InputError
        Non-positive radii, ``buffer_m`` or ``cell_m``.

    Notes
    -----
    Default method: one bounded multi-source Dijkstra (``min_only``, one virtual
    source per facility) labels every node with its nearest facility; the streets are
    sampled every ``cell_m`` metres, each sample taking the nearer of its edge's two
    ends (or the facility itself on the facility's own edge). Per radius, the reached
    samples are burnt into one grid over the whole region, one exact Euclidean
    distance transform (with nearest-sample indices) gives each cell its distance to
    the nearest reached street and that street's facility, and the cells within
    ``buffer_m`` are contoured per facility in its own window (see
    ``_partition_geoms``), so that neighbours share their border vertex for vertex. Radii are nested: a spot in F's catchment at a smaller radius stays F's
    at the larger ones. Outlines are within about ``cell_m`` of the exact buffered
    union, as below.

    ``overlapping=True``: one bounded multi-source Dijkstra call (per batch of
    facilities) gives each facility's distance to every node; the reached streets are sampled every
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
    fsnap = _as_snapped(graph, facilities, "facilities")
    k = len(fsnap)
    nr = len(radii)
    geoms_out = np.full(k * nr, None, dtype=object)
    fok = np.flatnonzero(fsnap.valid)
    if len(fok) and overlapping:
        _catchment_geoms(graph, fsnap, fok, radii, buffer_m, cell_m, max_batch_values, geoms_out)
    elif len(fok):
        _partition_geoms(graph, fsnap, fok, radii, buffer_m, cell_m, max_cells, geoms_out)
    empty = shapely.is_missing(geoms_out)
    geoms_out[empty] = shapely.Polygon()
    frame = pd.DataFrame(
        {
            "facility": np.repeat(np.arange(k, dtype=np.int64), nr),
            "radius_m": np.tile(np.asarray(radii, dtype=float), k),
            "area_km2": shapely.area(geoms_out) / 1e6,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geoms_out, crs=graph.crs).to_crs(WGS84)


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
    fsnap: Snapped,
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
    fac = fsnap.take(fok)
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


def _sample_labels(
    graph: WalkGraph, fac: Snapped, rmax: float, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample the streets within ``rmax`` of any facility, each with its nearest facility.

    Returns ``(xy, dist_m, label)`` of the samples with ``dist_m <= rmax``; ``label`` is
    the position in ``fac``. One bounded multi-source Dijkstra labels the nodes; a
    sample takes the nearer of its edge's ends, or a facility on the same edge when
    that is nearer straight along the edge.
    """
    n = graph.n_nodes
    aug, sources = _augmented(graph, fac)
    dist, _, src = dijkstra(
        aug, directed=True, indices=sources, min_only=True, limit=rmax, return_predecessors=True
    )
    dn = dist[:n]
    lab = np.where(src[:n] >= 0, src[:n] - n, -1)
    take = (dn[graph.u_idx] <= rmax) | (dn[graph.v_idx] <= rmax)
    take[fac.edge] = True  # the facilities' own edges
    edges = np.flatnonzero(take)
    start, count, pos, xy = _edge_samples(graph, edges, step)
    owner = np.repeat(np.arange(len(edges)), count)
    e = edges[owner]
    via_u = dn[graph.u_idx[e]] + pos
    via_v = dn[graph.v_idx[e]] + (graph.length_m[e] - pos)
    d = np.minimum(via_u, via_v)
    label = np.where(via_u <= via_v, lab[graph.u_idx[e]], lab[graph.v_idx[e]])
    # facilities on their own edge: straight along it (several per edge: the nearest)
    f_slot = np.searchsorted(edges, fac.edge)
    f_owner, f_sample = _expand(start[f_slot], count[f_slot])
    direct = fac.access_m[f_owner] + np.abs(pos[f_sample] - fac.along_m[f_owner])
    order = np.lexsort((direct, f_sample))
    f_sample, direct, f_owner = f_sample[order], direct[order], f_owner[order]
    first = np.r_[True, f_sample[1:] != f_sample[:-1]]
    f_sample, direct, f_owner = f_sample[first], direct[first], f_owner[first]
    better = direct < d[f_sample]
    d[f_sample[better]] = direct[better]
    label[f_sample[better]] = f_owner[better]
    keep = (d <= rmax) & (label >= 0)
    return xy[keep], d[keep], label[keep]


#: Width, in cells, of the strips of facility windows contoured in one call.
_STRIP_CELLS = 8192


def _contour_windows(
    field: np.ndarray,
    lab: np.ndarray,
    wins: list[tuple[int, int, int, int, int]],
    lower: float,
) -> Iterator[tuple[np.ndarray, np.ndarray, int, int, int]]:
    """Contour each facility's own area in its window, many windows per contourpy call.

    ``field`` is the signed distance to the buffer outline (< 0 inside), ``lab`` the
    facility of every cell; ``wins`` holds ``(label, r0, r1, c0, c1)``; ``lower`` is
    below every value of the field. In its window a facility's field is ``field`` on its own cells and beyond the buffer and
    ``-field`` on other facilities' cells within it, whose zero line is the buffer's
    outline outside and, between two facilities, the same line seen from both sides
    (linear interpolation is symmetric), so neighbours share their border. Windows of
    similar height are laid side by side in strips, one cell of "outside" apart (a
    facility's cells never touch its window's edge), and each strip is contoured
    once: contourpy's set-up costs about 0.4 ms a call, which thousands of facilities
    per radius would pay each.

    Yields ``(points, offsets, label, r0, c0)`` per polygon, points in the window's
    cell coordinates (x = column, y = row).
    """
    if not wins:
        return
    heights = np.array([w[2] - w[1] for w in wins])
    widths = np.array([w[4] - w[3] for w in wins])
    strips: list[list[int]] = []
    used = 0
    for i in np.argsort(-heights, kind="stable"):
        if not strips or used + widths[i] + 1 > max(_STRIP_CELLS, widths[i] + 1):
            strips.append([])
            used = 0
        strips[-1].append(int(i))
        used += int(widths[i]) + 1
    for strip in strips:
        height = int(heights[strip[0]])
        starts = np.cumsum([0, *(int(widths[i]) + 1 for i in strip)])
        mfield = np.ones((height, int(starts[-1])), dtype=float)
        mown = np.zeros(mfield.shape, dtype=bool)
        for i, c_m in zip(strip, starts[:-1], strict=False):
            l_i, r0, r1, c0, c1 = wins[i]
            mfield[: r1 - r0, c_m : c_m + c1 - c0] = field[r0:r1, c0:c1]
            mown[: r1 - r0, c_m : c_m + c1 - c0] = lab[r0:r1, c0:c1] == l_i
        mfield = np.where(mown | (mfield > 0), mfield, -mfield)
        del mown
        gen = contourpy.contour_generator(z=mfield, fill_type=contourpy.FillType.OuterOffset)
        points, offsets = gen.filled(lower, 0.0)
        for pts_, offs in zip(points, offsets, strict=True):
            k = int(np.searchsorted(starts, pts_[0, 0], side="right")) - 1
            l_i, r0, _, c0, _ = wins[strip[k]]
            local = pts_.copy()
            local[:, 0] -= starts[k]
            yield local, offs, l_i, r0, c0


def _partition_geoms(
    graph: WalkGraph,
    fsnap: Snapped,
    fok: np.ndarray,
    radii: list[float],
    buffer_m: float,
    cell_m: float,
    max_cells: int,
    geoms_out: np.ndarray,
) -> None:
    """Fill ``geoms_out[f * len(radii) + i]`` with facility ``f``'s nearest-facility area.

    Per radius: one distance transform (with nearest-sample indices) over the grid of
    the whole region gives each cell its distance ``d`` to the nearest reached street
    sample and that sample's facility. Each facility's area is then contoured in its
    own window on the field ``d - buffer`` (own cells, and every cell beyond the
    buffer) / ``buffer - d`` (cells of other facilities within the buffer), whose zero
    line is the buffer's outline outside and, between two facilities, the same line
    seen from both sides (linear interpolation is symmetric), so neighbours share
    their border.
    """
    from scipy.ndimage import distance_transform_edt, find_objects

    nr = len(radii)
    fac = fsnap.take(fok)
    sxy, sd, slab = _sample_labels(graph, fac, radii[-1], cell_m)
    if len(sxy) == 0:
        return
    b = float(buffer_m)
    cell = float(cell_m)
    pad = b + 3 * cell
    lo = sxy.min(axis=0) - pad
    span = sxy.max(axis=0) + pad - lo
    if (span[0] / cell + 1) * (span[1] / cell + 1) > max_cells:
        cell = float(np.sqrt(span[0] * span[1] / max_cells)) * 1.01
        log.info(
            "catchments: %.1f x %.1f km of reached streets; gridded at %.1f m instead of "
            "%.1f m (max_cells=%d)",
            span[0] / 1e3,
            span[1] / 1e3,
            cell,
            cell_m,
            max_cells,
        )
    shape = (int(np.floor(span[1] / cell)) + 1, int(np.floor(span[0] / cell)) + 1)
    col = np.clip(np.rint((sxy[:, 0] - lo[0]) / cell).astype(np.int64), 0, shape[1] - 1)
    row = np.clip(np.rint((sxy[:, 1] - lo[1]) / cell).astype(np.int64), 0, shape[0] - 1)
    # the nearest sample of a cell is written last, so it names the cell
    order = np.argsort(-sd, kind="stable")
    col, row, sd, slab = col[order], row[order], sd[order], slab[order]
    # a tiny deterministic jitter per cell breaks the exact ties of lattice distances,
    # so a saddle quad goes to the same side in the fields of both neighbours
    jit = (((np.arange(shape[0], dtype=np.int64) * 7919) % 1009).astype(np.int32)[:, None]
           + ((np.arange(shape[1], dtype=np.int64) * 104729) % 1009).astype(np.int32)[None, :])  # fmt: skip
    jit %= 1009
    jit = jit.astype(np.float32) * np.float32(cell * 1e-9)

    def distance_field(r: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Distance of every cell to the nearest sample reached within ``r``, and its label."""
        sel = sd <= r
        if not sel.any():
            return None
        free = np.ones(shape, dtype=bool)
        free[row[sel], col[sel]] = False
        grid = np.full(shape, -1, dtype=np.int32)
        grid[row[sel], col[sel]] = slab[sel]
        dist_c, (ir, ic) = distance_transform_edt(free, return_indices=True)
        del free
        lab = grid[ir, ic]
        del ir, ic, grid
        dist_c *= cell
        lab[dist_c > b] = -1
        return dist_c, lab

    ring_xy: list[np.ndarray] = []
    ring_poly: list[np.ndarray] = []
    poly_group: list[int] = []
    prev_lab: np.ndarray | None = None
    # the distance transform releases the GIL: the next radius's runs in a thread while
    # this one's windows are contoured (at most two fields in memory)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        pending = pool.submit(distance_field, radii[0])
        for r_i in range(nr):
            fields = pending.result()
            if r_i + 1 < nr:
                pending = pool.submit(distance_field, radii[r_i + 1])
            if fields is None:
                continue
            dist_c, lab = fields
            del fields
            if prev_lab is not None:
                # nested radii: a spot keeps the facility it had at the smaller radius (a
                # street reached only farther out may be nearer to it as the crow flies)
                np.copyto(lab, prev_lab, where=prev_lab >= 0)
            prev_lab = lab
            # signed field: its zero line is the buffer outline (> 0 beyond the buffer)
            dist_c += jit
            dist_c -= b
            wins = [
                (
                    l_i,
                    max(w[0].start - 1, 0),
                    min(w[0].stop + 1, shape[0]),
                    max(w[1].start - 1, 0),
                    min(w[1].stop + 1, shape[1]),
                )  # fmt: skip
                for l_i, w in enumerate(find_objects(lab + 1))
                if w is not None
            ]
            for pts_, offs, l_i, r0, c0 in _contour_windows(dist_c, lab, wins, -2.0 * b - 1.0):
                group = int(fok[l_i]) * nr + r_i
                origin = (lo[0] + c0 * cell, lo[1] + r0 * cell)
                ring_xy.append(pts_ * cell + origin)
                ring_poly.append(np.repeat(np.arange(len(offs) - 1), np.diff(offs)))
                poly_group.append(group)
            del dist_c
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not ring_xy:
        return
    # assemble every ring, polygon and multipolygon in three vectorised calls
    n_rings_per_poly = np.array([r.max() + 1 for r in ring_poly], dtype=np.int64)
    ring_base = np.cumsum(n_rings_per_poly) - n_rings_per_poly
    ring_ids = np.concatenate([r + b_ for r, b_ in zip(ring_poly, ring_base, strict=True)])
    rings = shapely.linearrings(np.concatenate(ring_xy), indices=ring_ids)
    polys = shapely.polygons(rings, indices=np.repeat(np.arange(len(poly_group)), n_rings_per_poly))
    grp = np.asarray(poly_group, dtype=np.int64)
    # not simplified here: neighbours share their border vertex for vertex (to ~1e-9
    # m); light copies are simplified as a coverage (geoapp.export.simplified_for_web)
    keep = ~shapely.is_empty(polys)
    polys, grp = polys[keep], grp[keep]
    order = np.argsort(grp, kind="stable")
    polys, grp = polys[order], grp[order]
    uniq, first = np.unique(grp, return_index=True)
    multi = shapely.multipolygons(polys, indices=np.searchsorted(uniq, grp))
    single = np.diff(np.r_[first, len(grp)]) == 1
    out = np.where(single, polys[first], multi)
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad], method="structure", keep_collapsed=False)
    geoms_out[uniq] = out


# --------------------------------------------------------------------------- single-source


@dataclass(frozen=True, eq=False)
class TargetIndex:
    """Points grouped by the routing chain they lie on, for repeated searches.

    Built once by :func:`index_targets` and reused by every :func:`distances_from`
    call, so a single-source search costs only the part of the network it reaches
    (no pass over all the points per call).
    """

    n: int
    order: np.ndarray  # target positions sorted by chain (valid targets only)
    pos: np.ndarray  # chain position of each sorted target, metres from chain_a
    leg_a: np.ndarray  # access + pos: metres from the chain's a end
    leg_b: np.ndarray  # access + (chain_len - pos): metres from the b end
    acc: np.ndarray  # access leg of each sorted target, metres
    c_start: np.ndarray  # per chain: first sorted target
    c_count: np.ndarray  # per chain: number of targets
    j_ptr: np.ndarray  # per junction: CSR pointer into j_chain
    j_chain: np.ndarray  # chains holding targets that end at each junction
    graph_key: str = ""
    #: the junction graph plus one virtual source row whose two edges each search sets
    search_csr: csr_array | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def index_targets(
    graph: WalkGraph, targets: Snapped | gpd.GeoDataFrame | gpd.GeoSeries
) -> TargetIndex:
    """Group points by routing chain once, for :func:`distances_from`.

    Parameters
    ----------
    graph
        The walking network.
    targets
        :class:`Snapped` from :func:`snap` (or a frame, snapped here).

    Returns
    -------
    TargetIndex
    """
    t = _as_snapped(graph, targets, "targets")
    route = graph.route
    _, node_c = route.junction_graph()
    nj = int((node_c >= 0).sum())
    tv = np.flatnonzero(t.valid)
    chain = route.edge_chain[t.edge[tv]]
    o = np.argsort(chain, kind="stable")
    chain, tid = chain[o], tv[o]
    pos = route.locate(t.edge[tid], t.along_m[tid], graph.length_m)
    acc = t.access_m[tid]
    nch = len(route.chain_len)
    c_count = np.bincount(chain, minlength=nch)
    c_start = np.cumsum(c_count) - c_count
    held = np.flatnonzero(c_count)
    ja, jb = node_c[route.chain_a[held]], node_c[route.chain_b[held]]
    two = ja != jb
    e_node = np.concatenate([ja, jb[two]])
    e_chain = np.concatenate([held, held[two]])
    eo = np.argsort(e_node, kind="stable")
    j_ptr = np.zeros(nj + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_node, minlength=nj), out=j_ptr[1:])
    ccsr, _ = route.junction_graph()
    idx_t = ccsr.indices.dtype
    search_csr = csr_array(
        (
            np.concatenate([ccsr.data, [np.inf, np.inf]]),
            np.concatenate([ccsr.indices, np.array([0, min(1, nj - 1)], dtype=idx_t)]),
            np.concatenate([ccsr.indptr, [ccsr.indptr[-1] + 2]]).astype(ccsr.indptr.dtype),
        ),
        shape=(nj + 1, nj + 1),
        copy=False,
    )
    return TargetIndex(
        search_csr=search_csr,
        n=len(t),
        order=tid,
        pos=pos,
        leg_a=acc + pos,
        leg_b=acc + (route.chain_len[chain] - pos),
        acc=acc,
        c_start=c_start,
        c_count=c_count,
        j_ptr=j_ptr,
        j_chain=e_chain[eo],
        graph_key=t.graph_key,
    )


def distances_from(
    graph: WalkGraph,
    sites: Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    targets: TargetIndex | Snapped | gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
) -> csr_array:
    """Network distance from a few sites to every target within a bound.

    One bounded single-source search per site on the junction graph
    (:meth:`Route.junction_graph`): the search starts at the two ends of the site's
    chain (offset by the legs to them), and only the chains it reaches are read, so
    the cost follows the reached area, not the network or target count. Meant for
    what-if edits (one changed site); for many sources use :func:`od_matrix`.

    Parameters
    ----------
    graph
        The walking network.
    sites
        :class:`Snapped` (or a frame) of the sites; keep them few (one search each).
    targets
        A :class:`TargetIndex` from :func:`index_targets` (reuse it), a
        :class:`Snapped` or a frame.
    limit_m
        Search bound in metres (inclusive, finite, >= 0).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(len(sites), n_targets)``, metres, access legs of both ends included
        (and straight along the street when both lie on the same chain): the same
        distances as :func:`od_matrix`; a stored 0.0 is a real zero distance.
    """
    s = _as_snapped(graph, sites, "sites")
    if not isinstance(targets, TargetIndex):
        targets = index_targets(graph, targets)
    elif targets.graph_key and graph.key and targets.graph_key != graph.key:
        raise InputError(
            "distances_from: this TargetIndex was made on another walking network; build it "
            "again with geoapp.network.index_targets(graph, targets)."
        )
    limit = _check_limit(limit_m, "distances_from")
    ti = targets
    route = graph.route
    ccsr, node_c = route.junction_graph()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for i in np.flatnonzero(s.valid & (s.access_m <= limit)):
        e = int(s.edge[i])
        c = int(route.edge_chain[e])
        p = float(route.locate(np.array([e]), s.along_m[i : i + 1], graph.length_m)[0])
        acc = float(s.access_m[i])
        ja, jb = int(node_c[route.chain_a[c]]), int(node_c[route.chain_b[c]])
        wa, wb = acc + p, acc + (float(route.chain_len[c]) - p)
        chains = np.zeros(0, dtype=np.int64)
        dj = None
        if min(wa, wb) <= limit and ti.search_csr is not None:
            dj = _one_source(ti, ja, jb, wa, wb, limit)
            hit = np.flatnonzero(dj <= limit)
            lo, hi = ti.j_ptr[hit], ti.j_ptr[hit + 1]
            _, k = _expand_ranges(lo, hi - lo)
            mark = np.zeros(len(ti.c_count), dtype=bool)  # each reached chain once
            mark[ti.j_chain[k]] = True
            mark[c] = ti.c_count[c] > 0 or mark[c]
            chains = np.flatnonzero(mark)
        elif ti.c_count[c] > 0:
            chains = np.array([c], dtype=np.int64)
        if len(chains) == 0:
            continue
        w, k = _expand_ranges(ti.c_start[chains], ti.c_count[chains])
        pc = chains[w]
        if dj is None:
            d = np.full(len(k), np.inf)
        else:
            da = dj[node_c[route.chain_a[pc]]]
            db = dj[node_c[route.chain_b[pc]]]
            d = np.minimum(da + ti.leg_a[k], db + ti.leg_b[k])
        own = pc == c
        if own.any():
            ko = k[own]
            d[own] = np.minimum(d[own], acc + np.abs(p - ti.pos[ko]) + ti.acc[ko])
        keep = d <= limit
        rows.append(np.full(int(keep.sum()), i, dtype=np.int64))
        cols.append(ti.order[k[keep]])
        vals.append(d[keep])
    # rows come out in site order: assemble the CSR directly, columns sorted per row
    indptr = np.zeros(len(s) + 1, dtype=np.int64)
    if not rows:
        return csr_array((np.zeros(0), np.zeros(0, np.int64), indptr), shape=(len(s), ti.n))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    o = np.lexsort((c, r))
    np.cumsum(np.bincount(r, minlength=len(s)), out=indptr[1:])
    return csr_array((v[o], c[o], indptr), shape=(len(s), ti.n), copy=False)


def _one_source(
    ti: TargetIndex, ja: int, jb: int, wa: float, wb: float, limit: float
) -> np.ndarray:
    """Distances to every junction from a site joined to junctions ``ja`` / ``jb``.

    One bounded Dijkstra from the index's virtual source row, whose two edges are set
    to the site's legs (under the index's lock: the row is shared).
    """
    csr = ti.search_csr
    nj = csr.shape[0] - 1
    if ja == jb:  # a loop: one real edge, the other never used
        cols, wts = (ja, (ja + 1) % max(nj, 1)), (min(wa, wb), np.inf)
    else:
        cols, wts = ((ja, jb), (wa, wb)) if ja < jb else ((jb, ja), (wb, wa))
    if cols[0] > cols[1]:
        cols, wts = cols[::-1], wts[::-1]
    with ti.lock:
        csr.indices[-2:] = cols
        csr.data[-2:] = wts
        d = dijkstra(csr, directed=True, indices=nj, limit=limit, min_only=True)
    return d[:nj]


def snap_xy(graph: WalkGraph, xy: np.ndarray) -> Snapped:
    """Snap points given as ``(k, 2)`` coordinates in :attr:`WalkGraph.crs` (no CRS work).

    The same as :func:`snap` of those points; for interactive edits where building a
    GeoSeries per click would cost more than the snap. NaN coordinates are not snapped.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    geoms = shapely.points(xy)
    geoms[~np.isfinite(xy).all(axis=1)] = None
    return _snap_geoms(graph, geoms)
