"""Network distances: nearest facility, origin-destination pairs, single-source searches.

* :func:`nearest`: every origin's nearest facility within a bound, one bounded
  multi-source Dijkstra pass (``scipy.sparse.csgraph.dijkstra`` with
  ``min_only=True`` and ``limit``) on the contracted routing graph with one virtual
  node per facility. :func:`nearest_facility` does the same for frames.
* :func:`od_matrix`: every origin-destination pair within a bound, as a sparse
  ``csr_array`` of metres (explicit zeros are real zero distances).
* :func:`index_targets` / :func:`distances_from`: a few sites to every target within a
  bound, one bounded single-source search per site.
* :func:`node_distances` (from nodes) and :func:`euclidean_nearest` (straight line).

Every distance is in metres in :attr:`WalkGraph.crs` and includes the access legs of
both ends; unreachable or beyond the bound is ``inf`` (never 0) with facility index
``-1``, or no stored entry in :func:`od_matrix`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.network.graph import WalkGraph
from geoapp.network.snap import Snapped, as_snapped, local_points, snap

log = logging.getLogger(__name__)


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


def virtual_sources(
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
    demand = as_snapped(graph, origins, "origins")
    facilities = as_snapped(graph, facilities, "facilities")
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
    aug, sources = virtual_sources(
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
    o = as_snapped(graph, origins, "origins")
    d = as_snapped(graph, destinations, "destinations")
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
            aug, vsrc = virtual_sources(
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
    dg = local_points(demand, crs)
    fg = local_points(facilities, crs)
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
    t = as_snapped(graph, targets, "targets")
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
    s = as_snapped(graph, sites, "sites")
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
    cc = np.concatenate(cols)
    v = np.concatenate(vals)
    o = np.lexsort((cc, r))
    np.cumsum(np.bincount(r, minlength=len(s)), out=indptr[1:])
    return csr_array((v[o], cc[o], indptr), shape=(len(s), ti.n), copy=False)


def _one_source(
    ti: TargetIndex, ja: int, jb: int, wa: float, wb: float, limit: float
) -> np.ndarray:
    """Distances to every junction from a site joined to junctions ``ja`` / ``jb``.

    One bounded Dijkstra from the index's virtual source row, whose two edges are set
    to the site's legs (under the index's lock: the row is shared).
    """
    csr = ti.search_csr
    assert csr is not None  # the caller checks
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
