"""Walking network engine: compressed sparse graph, edge snapping, nearest facility.

The walking network (``nodes`` / ``edges`` of a :class:`geoapp.region.Region`) is turned
once into numpy arrays and a symmetric :class:`scipy.sparse.csr_array` (the minimum of
parallel edges is kept; self-loops are dropped) in a local projected CRS, and cached on
disk as ``.npz`` so repeated runs skip the build.

Points (demand, facilities) are snapped to the nearest network EDGE, not node: each
point gets the edge index, its position along the edge (metres from ``u``) and its
off-network access leg (perpendicular distance). The distance from every demand point
to its nearest facility is then one multi-source Dijkstra pass over the graph augmented
with one virtual node per facility (``scipy.sparse.csgraph.dijkstra`` with
``min_only=True`` and a ``limit``), whose ``sources`` output says which facility is the
nearest.

Every distance is in metres in :attr:`WalkGraph.crs`; unreachable or beyond the bound is
``inf`` (never 0) with facility index ``-1``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geoapp._atomic import atomic_path
from geoapp._cache import cache_root
from geoapp.crs import local_crs
from geoapp.errors import EmptyResultError, InputError

log = logging.getLogger(__name__)

#: Bump when the cached array layout changes.
_CACHE_VERSION = 2
_MEMO: OrderedDict[str, WalkGraph] = OrderedDict()
_MEMO_SIZE = 4


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


@dataclass
class SnapResult:
    """Where points meet the network.

    Attributes
    ----------
    edge
        Index of the nearest edge of each point, ``-1`` for a missing / empty geometry.
    along_m
        Position of the projection along that edge, metres from its ``u`` end
        (scaled so that the edge's far end is at ``length_m``).
    access_m
        Off-network access leg: distance from the point to the edge, metres
        (``inf`` when not snapped).
    """

    edge: np.ndarray
    along_m: np.ndarray
    access_m: np.ndarray

    def __len__(self) -> int:
        return int(len(self.edge))


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
    nodes_local = nodes.geometry.to_crs(crs)
    xy = shapely.get_coordinates(nodes_local.to_numpy()).astype(np.float64)
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
        geoms = np.array(egeo.to_crs(crs).to_numpy(), dtype=object)
    else:
        geoms = np.full(len(rows), None, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        geoms[missing] = _straight_lines(xy, u_idx[missing], v_idx[missing])
    # orient every geometry from u to v
    starts = shapely.get_point(geoms, 0)
    d_u = shapely.distance(starts, shapely.points(xy[u_idx]))
    d_v = shapely.distance(starts, shapely.points(xy[v_idx]))
    flip = d_v < d_u
    if flip.any():
        geoms[flip] = shapely.reverse(geoms[flip])

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
    h.update(f"v{_CACHE_VERSION}|{nodes.crs}|{edges.crs}|{crs}".encode())
    h.update(nodes["node_id"].to_numpy(dtype=np.int64).tobytes())
    h.update(shapely.get_coordinates(nodes.geometry.to_numpy()).tobytes())
    h.update(edges["u"].to_numpy(dtype=np.int64).tobytes())
    h.update(edges["v"].to_numpy(dtype=np.int64).tobytes())
    if "length_m" in edges.columns:
        h.update(pd.to_numeric(edges["length_m"], errors="coerce").to_numpy(float).tobytes())
    if "geometry" in edges.columns:
        geoms = edges.geometry.to_numpy()
        h.update(shapely.get_num_coordinates(geoms).astype(np.int64).tobytes())
        h.update(shapely.get_coordinates(geoms).tobytes())
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
    warning and the graph is rebuilt.
    """
    key = _graph_key(nodes, edges, CRS.from_user_input(crs) if crs is not None else None)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
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
    _MEMO[key] = graph
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return graph


def clear_memo() -> None:
    """Forget the in-process graph memo (the disk cache is kept)."""
    _MEMO.clear()


# --------------------------------------------------------------------------- snapping


def _local_points(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> np.ndarray:
    """Return point geometries in ``crs``; polygons/lines become representative points."""
    if points.crs is None:
        raise InputError(
            "Points have no coordinate reference system; set one (e.g. EPSG:4326) first."
        )
    geoms = points.geometry.to_crs(crs).to_numpy() if len(points) else np.array([], dtype=object)
    not_point = ~(shapely.get_type_id(geoms) == 0) & ~shapely.is_missing(geoms)
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return geoms


def snap_points(graph: WalkGraph, points: gpd.GeoDataFrame | gpd.GeoSeries) -> SnapResult:
    """Snap points to their nearest network edge.

    Parameters
    ----------
    graph
        The walking network.
    points
        Points with a CRS (polygons use a point on their surface).

    Returns
    -------
    SnapResult
        Edge index, position along the edge from ``u`` (metres) and access leg
        (metres); ``-1`` / ``inf`` for missing or empty geometries.
    """
    geoms = _local_points(points, graph.crs)
    return _snap_geoms(graph, geoms)


def _snap_geoms(graph: WalkGraph, geoms: np.ndarray) -> SnapResult:
    n = len(geoms)
    edge = np.full(n, -1, dtype=np.int64)
    along = np.zeros(n, dtype=np.float64)
    access = np.full(n, np.inf, dtype=np.float64)
    if n == 0 or graph.n_edges == 0:
        return SnapResult(edge, along, access)
    (src, tgt), dist = graph.tree.query_nearest(geoms, return_distance=True, all_matches=False)
    edge[src] = tgt
    access[src] = dist
    lines = graph.geometry[tgt]
    glen = shapely.length(lines)
    pos = shapely.line_locate_point(lines, geoms[src])
    frac = np.divide(pos, glen, out=np.zeros_like(pos), where=glen > 0)
    along[src] = np.clip(frac, 0.0, 1.0) * graph.length_m[tgt]
    return SnapResult(edge, along, access)


def snap_nodes(graph: WalkGraph, node_idx: np.ndarray) -> SnapResult:
    """Return a :class:`SnapResult` placing points exactly on given nodes (no search).

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
    return SnapResult(edge=e, along_m=np.where(ok, along, 0.0), access_m=np.where(ok, 0.0, np.inf))


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
        True: one row, the distance to the nearest source. False: one row per source.
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


def _augmented(graph: WalkGraph, fac: SnapResult) -> tuple[csr_array, np.ndarray]:
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


def _valid(s: SnapResult) -> np.ndarray:
    return (s.edge >= 0) & np.isfinite(s.access_m)


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


def nearest_from_snapped(
    graph: WalkGraph, demand: SnapResult, facilities: SnapResult, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest facility for already snapped demand points (see :func:`nearest_facility`).

    Runs on :attr:`WalkGraph.route` (chains of degree-2 nodes contracted): every point
    is located on its chain, facilities become virtual sources joined to their chain's
    ends, and one bounded multi-source Dijkstra labels every junction with its
    nearest facility.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Distance in metres (``inf`` if none within ``limit_m``) and facility position
        in ``facilities`` (``-1`` if none).
    """
    nd = len(demand)
    dist_out = np.full(nd, np.inf)
    fac_out = np.full(nd, -1, dtype=np.int64)
    fok = np.flatnonzero(_valid(facilities))
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

    dok = np.flatnonzero(_valid(demand))
    c = route.edge_chain[demand.edge[dok]]
    p = route.locate(demand.edge[dok], demand.along_m[dok], graph.length_m)
    a, b = route.chain_a[c], route.chain_b[c]
    via_a = node_dist[a] + p
    via_b = node_dist[b] + (route.chain_len[c] - p)
    best = np.where(via_a <= via_b, via_a, via_b)
    best_f = np.where(via_a <= via_b, node_fac[a], node_fac[b])

    # a demand point and a facility on the same chain: straight along it
    f_order = np.argsort(f_chain, kind="stable")
    f_sorted = f_chain[f_order]
    lo = np.searchsorted(f_sorted, c, side="left")
    hi = np.searchsorted(f_sorted, c, side="right")
    cnt = hi - lo
    if cnt.any():
        which = np.repeat(np.arange(len(c)), cnt)
        offset = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        fpos = f_order[np.repeat(lo, cnt) + offset]
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


def nearest_facility(
    graph: WalkGraph,
    demand: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from every demand point to its nearest facility.

    Both sets are snapped to their nearest edge; each facility becomes a virtual source
    node joined to its edge's two ends; one bounded multi-source Dijkstra pass gives
    every node its nearest facility; each demand point takes the better of its edge's
    two ends (or a facility on the same edge, directly). Off-network access legs of
    both the demand point and the facility are included.

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
    return nearest_from_snapped(
        graph, snap_points(graph, demand), snap_points(graph, facilities), float(limit_m)
    )


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
    tree = cKDTree(shapely.get_coordinates(fg[fok]))
    bound = np.nextafter(float(limit_m), np.inf)
    d, i = tree.query(shapely.get_coordinates(dg[dok]), k=1, distance_upper_bound=bound)
    ok = np.isfinite(d) & (d <= limit_m)
    dist_out[dok[ok]] = d[ok]
    fac_out[dok[ok]] = fok[i[ok]]
    return dist_out, fac_out
