"""Catchments: each facility's service-area polygon per radius (:func:`catchments`).

By default the area whose nearest facility it is, from one bounded multi-source pass
(a partition of the reached area, contoured per facility on one grid); with
``overlapping=True`` each facility's own service area, one search and one grid each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import contourpy
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from geoapp.crs import project_geometries
from geoapp.errors import InputError
from geoapp.network.graph import WalkGraph
from geoapp.network.routing import virtual_sources
from geoapp.network.snap import Snapped, as_snapped

log = logging.getLogger(__name__)
# what contourpy's filled() returns with FillType.OuterOffset: ring points, ring offsets
_OuterOffset = tuple[list[np.ndarray], list[np.ndarray]]
# ... with FillType.ChunkCombinedOffsetOffset: per chunk points, ring and polygon offsets
_CombinedOffsetOffset = tuple[
    list[np.ndarray | None], list[np.ndarray | None], list[np.ndarray | None]
]
#: CRS of the catchment polygons returned.
WGS84 = "EPSG:4326"


def _augmented(graph: WalkGraph, fac: Snapped) -> tuple[csr_array, np.ndarray]:
    """Return the full-graph CSR with one virtual source node per snapped facility.

    Virtual node ``n + j`` has two outgoing edges, to its edge's ``u`` and ``v`` ends,
    weighted ``access + along`` and ``access + (length - along)``.
    """
    e = fac.edge
    return virtual_sources(
        graph.csr,
        graph.u_idx[e],
        graph.v_idx[e],
        fac.access_m + fac.along_m,
        fac.access_m + (graph.length_m[e] - fac.along_m),
    )


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
    ``_partition_geoms``), so that neighbours share their border vertex for vertex
    (bit for bit: the catchments of one radius form an exact coverage, merged by
    :func:`shapely.coverage_union_all` without an overlay). Radii are nested: a spot
    in F's catchment at a smaller radius stays F's at the larger ones. Outlines are
    within about ``cell_m`` of the exact buffered union, as below.

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
    fsnap = as_snapped(graph, facilities, "facilities")
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
    # GeoDataFrame.to_crs's coordinates, each shared border vertex projected once, and
    # known valid (made so above): the GeoPackage export need not check them again
    wgs = project_geometries(geoms_out, graph.crs, WGS84, valid=True)
    return gpd.GeoDataFrame(frame, geometry=wgs, crs=WGS84)


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
    # per sample, its edge's values (np.repeat: cheaper than indexing by the sample's edge)
    frac = (np.arange(count.sum()) - np.repeat(start, count)) / np.repeat(count - 1, count)
    pos_m = frac * np.repeat(length, count)
    target = np.repeat(cum[vstart], count) + frac * np.repeat(geo_len, count)
    # the segment of each sample: its edge's first on a straight (two-vertex) edge, the
    # usual case (an extract's ways are split at every node), else searched for
    k = np.repeat(vstart, count)
    bent = np.repeat(nverts != 2, count)
    if bent.any():
        kb = np.searchsorted(cum, target[bent], side="right") - 1
        k[bent] = np.clip(kb, k[bent], k[bent] + np.repeat(nverts, count)[bent] - 2)
    seg_k = seg[k]
    # 0 on a zero-length segment (a masked divide, ``where=``, is several times slower)
    t = np.subtract(target, cum[k], out=target)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(t, seg_k, out=t)
    t[~(seg_k > 0)] = 0.0
    np.clip(t, 0.0, 1.0, out=t)
    # each sample between its segment's ends, a coordinate at a time (contiguous columns:
    # cheaper than rows of (x, y) pairs; the same products and sums, bit for bit)
    s = 1 - t
    xy = np.empty((len(t), 2), order="F")  # x and y each contiguous
    for axis in (0, 1):
        c = np.ascontiguousarray(coords[:, axis])
        out = xy[:, axis]
        np.multiply(c[k], s, out=out)
        hi_c = c[1:][k]  # c[k + 1]
        hi_c *= t
        out += hi_c
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
            points, offsets = cast(_OuterOffset, gen.filled(-1.0, buffer_m))
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
    ue, ve = graph.u_idx[edges], graph.v_idx[edges]
    via_u = np.repeat(dn[ue], count) + pos
    via_v = np.repeat(dn[ve], count) + (np.repeat(graph.length_m[edges], count) - pos)
    d = np.minimum(via_u, via_v)
    label = np.where(via_u <= via_v, np.repeat(lab[ue], count), np.repeat(lab[ve], count))
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
    if keep.all():  # the usual case in a dense extract: no copies
        return xy, d, label
    return xy[keep], d[keep], label[keep]


#: Width, in cells, of the strips of facility windows contoured in one call.
_STRIP_CELLS = 8192


def _contour_windows(
    field: np.ndarray,
    lab: np.ndarray,
    wins: list[tuple[int, int, int, int, int]],
    lower: float,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Contour each facility's own area in its window, many windows per contourpy call.

    ``field`` is the signed distance to the buffer outline (< 0 inside), ``lab`` the
    facility of every cell plus one (0: none); ``wins`` holds ``(label, r0, r1, c0,
    c1)``, ``label`` the facility; ``lower`` is below every value of the field. In its
    window a facility's field is ``field`` on its own cells and beyond the buffer and
    ``-field`` on other facilities' cells within it, whose zero line is the buffer's
    outline outside and, between two facilities, the same line seen from both sides
    (linear interpolation is symmetric), so neighbours share their border. Windows of
    similar height are laid side by side in strips, one cell of "outside" apart (a
    facility's cells never touch its window's edge), and each strip is contoured once:
    contourpy's set-up costs about 0.4 ms a call, which thousands of facilities per
    radius would pay each.

    Yields per strip ``(points, ring_offsets, poly_offsets, labels)``: the points of
    every ring in the whole grid's cell coordinates (x = column, y = row; made
    canonical by :func:`_on_grid`), ring ``i`` being ``points[ring_offsets[i] :
    ring_offsets[i + 1]]`` and polygon ``j`` rings ``poly_offsets[j] :
    poly_offsets[j + 1]``, and the facility label of each polygon.
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
    info = np.asarray(wins, dtype=np.int64)  # label, r0, r1, c0, c1
    win_start = np.zeros(len(wins), dtype=np.int64)  # column of each window in its strip
    # every strip is as wide (padded with "outside"), so that the cell coordinates of one
    # grid, its first rows, serve them all (contourpy wants them C-contiguous)
    width = max(sum(int(widths[i]) + 1 for i in strip) for strip in strips)
    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float64), np.arange(int(heights.max()), dtype=np.float64)
    )
    for strip in strips:
        height = int(heights[strip[0]])
        starts = np.cumsum([0, *(int(widths[i]) + 1 for i in strip)])
        mfield = np.ones((height, width), dtype=np.float64)
        mown = np.zeros(mfield.shape, dtype=bool)
        for i, c_m in zip(strip, starts[:-1], strict=False):
            l_i, r0, r1, c0, c1 = wins[i]
            mfield[: r1 - r0, c_m : c_m + c1 - c0] = field[r0:r1, c0:c1]
            np.equal(lab[r0:r1, c0:c1], l_i + 1, out=mown[: r1 - r0, c_m : c_m + c1 - c0])
        np.negative(mfield, out=mfield, where=~mown & (mfield <= 0))
        del mown
        # contourpy.contour_generator(z=mfield, fill_type=...) without its per-call checks
        # and coordinate grids (the field is finite: no mask)
        gen = contourpy.SerialContourGenerator(
            grid_x[:height],
            grid_y[:height],
            mfield,
            None,  # type: ignore[arg-type]  # no mask, as contour_generator passes it
            corner_mask=True,
            line_type=contourpy.LineType.Separate,
            fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
            quad_as_tri=False,
            z_interp=contourpy.ZInterp.Linear,
        )
        points, offsets, outers = cast(_CombinedOffsetOffset, gen.filled(lower, 0.0))
        pts = points[0]
        if pts is None or len(pts) == 0:
            continue
        roff = np.asarray(offsets[0], dtype=np.int64)
        poff = np.asarray(outers[0], dtype=np.int64)
        # each polygon's window, from the first point of its outer ring
        k = np.searchsorted(starts, pts[roff[poff[:-1]], 0], side="right") - 1
        w = np.asarray(strip, dtype=np.int64)[k]
        kp = np.repeat(w, roff[poff[1:]] - roff[poff[:-1]])
        win_start[strip] = starts[:-1]
        gxy = np.column_stack([(pts[:, 0] - win_start[kp]) + info[kp, 3], pts[:, 1] + info[kp, 1]])
        yield gxy, roff, poff, info[w, 0]


def _on_grid(gxy: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Return contour points ``gxy`` (the whole grid's cell coordinates), canonically.

    A contour point lies on a grid edge, at the zero crossing of the signed ``field``
    between the edge's two cells. It is recomputed here from the whole grid's indices
    and the magnitudes of ``field`` at those two cells (``|f_a| / (|f_a| + |f_b|)`` from
    cell ``a``), which do not depend on the window or on which facility's side the
    field was negated for: two neighbours' shared border comes out with bit-identical
    vertices, so the catchments of a radius form an exact coverage (their union is a
    :func:`shapely.coverage_union_all`, linear in the vertices, not an overlay).
    """
    gx, gy = gxy[:, 0], gxy[:, 1]
    ix, iy = np.rint(gx), np.rint(gy)
    # x is a whole column: on an edge between two rows. Rounding leaves ~1e-11 of a
    # cell; a crossing is >= ~1e-7 of a cell from a cell centre (the jitter), and
    # snapping two such crossings on either side of a centre would pinch the ring
    on_col = np.abs(gx - ix) < 1e-9
    on_row = np.abs(gy - iy) < 1e-9
    out = np.column_stack([np.where(on_col, ix, gx), np.where(on_row, iy, gy)])
    last_r, last_c = field.shape[0] - 1, field.shape[1] - 1
    cells = field.ravel()  # by flat index: cheaper than field[r, c]
    ncol = field.shape[1]
    h = np.flatnonzero(on_row & ~on_col)
    r = iy[h].astype(np.int64)
    c = np.clip(np.floor(gx[h]).astype(np.int64), 0, last_c - 1)
    at = r * ncol + c
    fa, fb = np.abs(cells[at]), np.abs(cells[at + 1])
    out[h, 0] = c + fa / np.maximum(fa + fb, 1e-300)
    v = np.flatnonzero(on_col & ~on_row)
    c = ix[v].astype(np.int64)
    r = np.clip(np.floor(gy[v]).astype(np.int64), 0, last_r - 1)
    at = r * ncol + c
    fa, fb = np.abs(cells[at]), np.abs(cells[at + ncol])
    out[v, 1] = r + fa / np.maximum(fa + fb, 1e-300)
    return out


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
    # per column: a reduction along axis 0 of (n, 2) rows is several times slower
    x, y = sxy[:, 0], sxy[:, 1]
    lo = np.array([x.min(), y.min()]) - pad
    span = np.array([x.max(), y.max()]) + pad - lo
    del x, y
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
    # one sample names each cell: its nearest (of equally near ones, the last). At every
    # radius that reaches it, it is the nearest reached one, so one choice serves all radii
    at = row * shape[1] + col
    del col, row
    nearest = np.full(shape[0] * shape[1], np.inf)
    np.minimum.at(nearest, at, sd)
    ties = np.flatnonzero(sd == nearest[at])
    del nearest
    chosen = np.full(shape[0] * shape[1], -1, dtype=np.int64)
    np.maximum.at(chosen, at[ties], ties)
    flat = np.flatnonzero(chosen >= 0)
    chosen = chosen[flat]
    sd, slab = sd[chosen], slab[chosen]
    del at, ties, chosen
    # squared cell distances are exact integers: int32 when any fits (rows² + columns²)
    wide = np.dtype(np.int32 if shape[0] ** 2 + shape[1] ** 2 < 2**31 else np.int64)
    # a tiny deterministic jitter per cell breaks the exact ties of lattice distances,
    # so a saddle quad goes to the same side in the fields of both neighbours (else both
    # take, or both leave, its middle). It is a product of a row and a column factor:
    # a quad's two diagonal sums then differ by (R[r] - R[r+1]) * (C[c] - C[c+1]),
    # at least 0.15 of the scale here (a sum of a row and a column term would cancel)
    rf = (1.0 + np.arange(shape[0]) * 0.6180339887498949 % 1.0).astype(np.float32)
    cf = (1.0 + np.arange(shape[1]) * 0.41421356237309515 % 1.0).astype(np.float32)
    jit = np.outer(rf, cf * np.float32(cell * 1e-7))

    flat_ok = shape[0] * shape[1] < 2**31  # flat cell indices fit the transform's int32
    # each sample cell's facility plus one (0: none): one grid serves every radius, as a
    # radius's transform names only the cells of samples reached within it
    grid = np.zeros(shape, dtype=np.int32)
    grid.ravel()[flat] = slab + 1
    # the transform's output and the flat indices: reused by every radius (the radii's
    # fields are made one after another), so their pages are touched once
    ft = np.empty((2, *shape), dtype=np.int32)
    cell_at = np.empty(shape, dtype=np.int32 if flat_ok else np.int64)
    # distance fields done with (two alternate: one is contoured while the next is made)
    spare: list[np.ndarray] = []

    def distance_field(r: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Distance of every cell to the nearest sample reached within ``r``, and its label.

        The label is the nearest sample's facility plus one, 0 beyond the buffer.
        """
        sel = sd <= r
        if not sel.any():
            return None
        free = np.ones(shape, dtype=bool)
        free.ravel()[flat[sel]] = False
        # the nearest sample's cell only: scipy's own distances cost as much again (float64
        # temporaries); the same exact squared distance in integers, then one sqrt
        distance_transform_edt(free, return_distances=False, return_indices=True, indices=ft)
        del free
        ir, ic = ft[0], ft[1]
        # the label of each cell's nearest sample, by flat index (cheaper than grid[ir, ic])
        np.multiply(ir, shape[1], out=cell_at, dtype=cell_at.dtype)
        np.add(cell_at, ic, out=cell_at)
        lab = grid.ravel()[cell_at]
        ir -= np.arange(shape[0], dtype=ir.dtype)[:, None]
        ic -= np.arange(shape[1], dtype=ic.dtype)
        d2 = ir if ir.dtype == wide else ir.astype(wide)
        d2 *= d2
        dc = ic if ic.dtype == wide else ic.astype(wide)
        dc *= dc
        d2 += dc
        del ir, ic, dc
        dist_c = np.sqrt(d2, out=spare.pop() if spare else None, dtype=np.float64)
        del d2
        dist_c *= cell
        lab[dist_c > b] = 0
        return dist_c, lab

    ring_xy: list[np.ndarray] = []  # points, per strip
    ring_len: list[np.ndarray] = []  # points per ring
    poly_rings: list[np.ndarray] = []  # rings per polygon
    poly_group: list[np.ndarray] = []  # facility * len(radii) + radius, per polygon
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
                np.copyto(lab, prev_lab, where=prev_lab > 0)
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
                for l_i, w in enumerate(find_objects(lab))  # label l_i + 1
                if w is not None
            ]
            for gxy, roff, poff, labels in _contour_windows(dist_c, lab, wins, -2.0 * b - 1.0):
                ring_xy.append(_on_grid(gxy, dist_c) * cell + lo)
                ring_len.append(np.diff(roff))
                poly_rings.append(np.diff(poff))
                poly_group.append(fok[labels] * nr + r_i)
            spare.append(dist_c)
            del dist_c
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not ring_xy:
        return
    # assemble every ring, polygon and multipolygon in three vectorised calls
    n_pts = np.concatenate(ring_len)
    rings = shapely.linearrings(
        np.concatenate(ring_xy), indices=np.repeat(np.arange(len(n_pts)), n_pts)
    )
    n_rings = np.concatenate(poly_rings)
    polys = shapely.polygons(rings, indices=np.repeat(np.arange(len(n_rings)), n_rings))
    grp = np.concatenate(poly_group).astype(np.int64)
    # not simplified here: neighbours share their border vertex for vertex (bit for
    # bit); light copies are simplified as a coverage (geoapp.export.simplified_for_web)
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
