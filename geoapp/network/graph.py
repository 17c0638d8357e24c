"""The walking network as arrays: :class:`WalkGraph`, its contracted :class:`Route`, the build.

The walking network (``nodes`` / ``edges`` of a :class:`geoapp.region.Region`) is turned
once into numpy arrays and a symmetric :class:`scipy.sparse.csr_array` (the minimum of
parallel edges is kept; self-loops are dropped) in a local projected CRS
(:func:`build_graph`; :func:`graph_from_arrays` for arrays already projected). Edge
coordinates are projected as arrays and oriented from ``u`` to ``v``.
:attr:`WalkGraph.route` contracts the chains of degree-2 nodes for the searches of
:mod:`geoapp.network.routing`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from geoapp.crs import local_crs
from geoapp.errors import EmptyResultError, InputError

log = logging.getLogger(__name__)


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
