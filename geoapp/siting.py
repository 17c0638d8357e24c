"""Siting: where K new facilities cover the most residents not yet within reach.

:func:`site` solves a maximal covering location problem (MCLP, Church & ReVelle 1974)
on the walking network, with the layer's existing facilities kept and fixed:

1. **Demand**: the layer's demand column (``pop_60plus`` for elderly layers, else
   ``pop``), snapped once. Residents already within the layer's target reach
   (``layer.at_speed(speed_kmh).target_m``) of an existing facility are covered and
   leave the problem; so do residents no candidate can reach.
2. **Candidates**: building representative points (one per ``dedupe_m`` grid cell), a
   regular grid snapped onto the streets, or a user's table (GeoDataFrame, CSV with
   lon/lat, GeoJSON / GeoPackage). Candidates farther than ``max_street_m`` from every
   street, inside a protected heritage area or its 100 m control belt
   (:mod:`geoapp.heritage`) are excluded, with the reason.
3. **Coverage** of each candidate from the sparse :func:`geoapp.network.od_matrix`
   (never a dense matrix). Demand points reached by the same set of candidates are
   merged (their weights summed) and candidates covering the same set of demand are
   merged, which leaves an equivalent, smaller problem.
4. **Solve** (:func:`maximise_coverage`): lazy greedy (Minoux's accelerated greedy)
   first, with its data-dependent bound (OPT <= f(S) + the sum of the k largest
   marginal gains, minimised over the greedy steps; Leskovec et al. 2007) and the
   Lagrangian bound of the coverage constraints (subgradient steps; its minimum is
   the LP relaxation's value), whose iterates also yield feasible solutions; it stops
   once its bound stalls. When the gap is left open, an exact MIP through HiGHS
   (highspy), warm-started with the best solution, gets the rest of the time limit.

The result reports the objective, the best proven bound, the gap, the solver and the
time. Capacity is not modelled by the solver (``respect_capacity=True`` is refused):
check the beds of the suggested sites with the supply table afterwards.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csc_array, csr_array

from geoapp import catalog, coverage, heritage, network
from geoapp.catalog import Layer
from geoapp.demand import Demand
from geoapp.errors import InputError
from geoapp.layers import select_features
from geoapp.region import OUTSIDE_DISTRICTS, Region

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
Progress = Callable[[str, float], None]

#: Candidates from the buildings: one per square cell of this size (metres).
DEFAULT_DEDUPE_M = 25.0
#: Spacing of the ``"grid"`` candidates (metres).
DEFAULT_GRID_M = 100.0
#: Candidates farther than this from every street are dropped (metres).
DEFAULT_MAX_STREET_M = 200.0
#: The exact MIP is tried when the reduced instance has at most this many coverage pairs
#: plus demand groups. It is warm-started from the heuristic and cancelled at the deadline,
#: so a MIP that cannot finish costs time, not quality: the Beijing-sized benchmark (225,085
#: pairs after reduction) is solved to proven optimality in about 30 s at K = 50 and 200,
#: where the heuristics alone stopped at a 0.6-1.5% gap.
EXACT_MAX_PAIRS = 2_000_000
#: HiGHS's presolve runs on reduced instances up to this many coverage pairs. Above, its
#: dominated-column search costs more than it saves: on Liechtenstein (1.14 M reduced pairs)
#: presolve alone took 20 s of CPU, the whole MIP without it 3.7 s (the LP there is tight).
PRESOLVE_MAX_PAIRS = 500_000
#: With ``exact=None`` the MIP is skipped when less time is left than this per reduced pair
#: (Liechtenstein's 1.14 M pairs: 3.3-4.4 CPU s without presolve): it could not finish.
MIP_SECONDS_PER_PAIR = 4e-6
#: The Lagrangian stops when the gap shrank by less than this share over this many steps.
LAGRANGIAN_STALL = (25, 0.1)
#: Reasons a candidate is left out (``candidates.excluded_reason``).
EXCLUDED_REASONS = ("heritage_area", "heritage_belt", "far_from_street")

SITE_COLUMNS = (
    "rank",
    "candidate_id",
    "added_pop",
    "added_pop_60plus",
    "district",
    "zone_type",
    "geometry",
)


# --------------------------------------------------------------------------- solver


@dataclass(frozen=True)
class CoverageSolution:
    """Result of :func:`maximise_coverage`.

    Attributes
    ----------
    chosen
        Positions (rows of the coverage matrix) of the chosen candidates, in rank
        order: each adds the most not yet covered weight given the ones before it.
    gains
        Weight newly covered by each chosen candidate in that order (sums to
        ``objective``).
    objective
        Weight covered by the chosen candidates.
    bound
        Proven upper bound on the best possible objective (>= ``objective``).
    gap
        ``(bound - objective) / bound`` (0 when ``bound`` is 0).
    solver
        ``"highs-mip"`` (the exact MIP gave the answer), ``"lazy-greedy"`` or
        ``"lagrangian"`` (the best solution came from a Lagrangian iterate).
    seconds
        Wall time of the solve.
    meta
        Details: sizes before and after the reduction, each bound, MIP status.
    """

    chosen: np.ndarray
    gains: np.ndarray
    objective: float
    bound: float
    gap: float
    solver: str
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)


def _hash_groups(indptr: np.ndarray, indices: np.ndarray, n: int) -> np.ndarray:
    """Group label of each of ``n`` compressed vectors; equal index sets share a label.

    Two independent 64-bit random sums per vector (wrapping), then the exact lengths:
    vectors with different sets collide with probability ~2**-128.
    """
    rng = np.random.default_rng(12345)
    size = int(indices.max()) + 1 if len(indices) else 1
    keys = []
    lengths = np.diff(indptr)
    for _ in range(2):
        r = rng.integers(0, np.iinfo(np.int64).max, size=size, dtype=np.int64).view(np.uint64)
        vals = r[indices]
        sums = np.zeros(n, dtype=np.uint64)
        nonempty = lengths > 0
        if len(vals):
            with np.errstate(over="ignore"):
                red = np.add.reduceat(vals, indptr[:-1][nonempty])
            sums[nonempty] = red
        keys.append(sums)
    table = np.stack([keys[0], keys[1], lengths.astype(np.uint64)], axis=1)
    _, labels = np.unique(table, axis=0, return_inverse=True)
    return labels.reshape(-1)


def reduce_instance(
    cover: csr_array, weights: np.ndarray
) -> tuple[csr_array, np.ndarray, np.ndarray, np.ndarray]:
    """Merge identical demand columns and identical candidate rows; drop empty ones.

    Parameters
    ----------
    cover
        Coverage matrix (candidates x demand); a stored entry means "covers".
    weights
        Demand weight per column (>= 0).

    Returns
    -------
    (csr_array, numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The reduced 0/1 matrix, its column weights, the original row of each reduced
        row (the first of its group) and the reduced column of each original column
        (-1 when dropped: no candidate reaches it or its weight is 0).
    """
    cover = csr_array(cover)
    n_c, n_d = cover.shape
    w = np.asarray(weights, dtype=np.float64)
    col_keep = (np.bincount(cover.indices, minlength=n_d) > 0) & (w > 0)
    csc = csc_array(cover[:, np.flatnonzero(col_keep)])
    csc.sort_indices()
    kept = np.flatnonzero(col_keep)
    col_map = np.full(n_d, -1, dtype=np.int64)
    if len(kept) == 0:
        empty = csr_array((0, 0), dtype=np.float64)
        return empty, np.zeros(0), np.zeros(0, dtype=np.int64), col_map
    labels = _hash_groups(csc.indptr, csc.indices, csc.shape[1])
    first = np.unique(labels, return_index=True)[1]
    agg_w = np.bincount(labels, weights=w[kept], minlength=len(first))
    col_map[kept] = labels
    reduced = csc_array(csc[:, first]).tocsr()  # columns ordered by label
    reduced = csr_array(
        (np.ones(reduced.nnz), reduced.indices, reduced.indptr), shape=reduced.shape
    )
    # identical candidate rows: keep the first of each group; drop empty rows
    reduced.sort_indices()
    row_len = np.diff(reduced.indptr)
    rlabels = _hash_groups(reduced.indptr, reduced.indices, n_c)
    _, rfirst = np.unique(rlabels, return_index=True)
    rfirst = np.sort(rfirst[row_len[rfirst] > 0])
    reduced = csr_array(reduced[rfirst])
    reduced.sort_indices()
    return reduced, agg_w, rfirst.astype(np.int64), col_map


def _covered_weight(cover: csr_array, w: np.ndarray, rows: np.ndarray) -> float:
    if len(rows) == 0:
        return 0.0
    cols = np.concatenate([cover.indices[cover.indptr[r] : cover.indptr[r + 1]] for r in rows])
    return float(w[np.unique(cols)].sum())


def _order_gains(
    cover: csr_array, w: np.ndarray, rows: np.ndarray | list[int]
) -> tuple[list[int], list[float]]:
    """Order ``rows`` greedily (largest newly covered weight first) and return the gains."""
    left = w.copy()
    rows = [int(r) for r in rows]
    order, gains = [], []
    while rows:
        g = [float(left[cover.indices[cover.indptr[r] : cover.indptr[r + 1]]].sum()) for r in rows]
        i = int(np.argmax(g))
        r = rows.pop(i)
        left[cover.indices[cover.indptr[r] : cover.indptr[r + 1]]] = 0.0
        order.append(r)
        gains.append(g[i])
    return order, gains


def _lazy_greedy(cover: csr_array, w: np.ndarray, k: int) -> tuple[list[int], list[float], float]:
    """Accelerated (lazy) greedy; returns the choice, the gains and the greedy bound."""
    n = cover.shape[0]
    left = w.copy()
    ub = cover @ left  # stale upper bounds of the marginal gains (exact now)
    heap = [(-float(g), int(j)) for j, g in enumerate(ub)]
    heapq.heapify(heap)
    fresh = np.zeros(n, dtype=np.int64)  # ub is exact for step 0
    chosen: list[int] = []
    gains: list[float] = []
    f = 0.0
    kk = min(k, n)
    bound = float(np.sort(ub)[::-1][:kk].sum())  # step 0: f = 0, exact gains
    while len(chosen) < kk and heap:
        neg, j = heapq.heappop(heap)
        if fresh[j] == len(chosen):
            if -neg <= 0:
                break
            chosen.append(j)
            gains.append(-neg)
            f += -neg
            left[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = 0.0
            ub[j] = 0.0
            # stale values still bound the true marginal gains (submodularity)
            top = np.partition(ub, n - kk)[n - kk :] if kk < n else ub
            bound = min(bound, f + float(top.sum()))
            continue
        g = float(left[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]].sum())
        ub[j] = g
        fresh[j] = len(chosen)
        heapq.heappush(heap, (-g, j))
    # exact marginal gains after the last step: the tightest greedy bound
    g_end = cover @ left
    g_end[chosen] = 0.0
    top = np.partition(g_end, n - kk)[n - kk :] if kk < n else g_end
    bound = min(bound, f + float(top.sum()))
    return chosen, gains, bound


def _swap_search(
    cover: csr_array,
    cover_t: csr_array,
    w: np.ndarray,
    rows: np.ndarray,
    deadline: float,
    *,
    max_swaps: int = 500,
) -> tuple[np.ndarray, float, int]:
    """Best-improvement interchange (Teitz & Bart 1968) from a starting choice.

    Swaps a chosen site for another candidate while that covers more weight; returns
    the rows, their weight and the number of swaps.

    One step scores every (candidate, chosen site) pair at once: a swap gains what the
    candidate covers that nothing covers yet, plus what it covers among the weight only
    the leaving site covers, and loses that weight. ``cover_t`` is ``cover.T`` as CSR.
    """
    n_c, n_d = cover.shape
    rows = np.asarray(rows, dtype=np.int64).copy()
    k = len(rows)
    swaps = 0
    if k == 0 or k >= n_c:
        return rows, _covered_weight(cover, w, rows), 0
    while swaps < max_swaps and time.perf_counter() < deadline:
        sel = np.zeros(n_c)
        sel[rows] = 1.0
        cnt = cover_t @ sel  # how many chosen sites reach each demand group
        free = w * (cnt == 0)
        gain = cover @ free  # what each candidate would add as it stands
        # the weight only one chosen site covers, by that site
        only = np.flatnonzero(cnt == 1)
        pos = np.full(n_c, -1, dtype=np.int64)
        pos[rows] = np.arange(k)
        sub = cover_t[only]  # demand groups covered once x candidates
        owner = np.full(len(only), -1, dtype=np.int64)
        r_of = np.repeat(np.arange(len(only)), np.diff(sub.indptr))
        hit = pos[sub.indices] >= 0
        owner[r_of[hit]] = pos[sub.indices[hit]]
        wu = csr_array((w[only], (only, owner)), shape=(n_d, k))
        loss = np.bincount(owner, weights=w[only], minlength=k)
        delta = (cover @ wu).toarray() + gain[:, None] - loss[None, :]
        delta[rows, :] = -np.inf
        j, s = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[j, s] > 1e-9 * max(1.0, float(w.sum())):
            break
        rows[s] = j
        swaps += 1
    return rows, _covered_weight(cover, w, rows), swaps


def _topk(values: np.ndarray, k: int) -> np.ndarray:
    n = len(values)
    if k >= n:
        return np.arange(n)
    return np.argpartition(values, n - k)[n - k :]


def _lagrangian(
    cover: csr_array,
    w: np.ndarray,
    k: int,
    best: float,
    deadline: float,
    *,
    max_iter: int = 1000,
    stall: tuple[int, float] | None = None,
) -> tuple[float, np.ndarray | None, float, int]:
    """Lagrangian bound of the coverage constraints by subgradient steps.

    ``L(lam) = sum(max(0, w - lam)) + (sum of the k largest entries of cover @ lam)``
    bounds the optimum for every ``lam >= 0``; its minimum equals the LP relaxation.
    Each iterate's k candidates are a feasible solution too. With ``stall = (n, share)``
    the steps stop when the gap (bound - best) shrank by less than ``share`` of itself over
    the last ``n`` steps: subgradient steps converge slowly, and the MIP that follows
    proves the optimum faster than a stalled bound closes the gap.

    Returns the best bound, the best solution found (or None), its weight and the
    number of iterations.
    """
    n = cover.shape[0]
    kk = min(k, n)
    cover_t = csr_array(cover.T)
    # start: each demand's weight shared among the candidates reaching it
    reach = np.diff(cover_t.indptr).astype(np.float64)
    lam = w / np.maximum(reach, 1.0)
    bound = math.inf
    best_sol: np.ndarray | None = None
    mu = 2.0
    since = 0
    it = 0
    gaps: list[float] = []
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        c = cover @ lam
        top = _topk(c, kk)
        value = float(np.maximum(w - lam, 0.0).sum() + c[top].sum())
        if value < bound - 1e-9 * max(1.0, abs(value)):
            bound = value
            since = 0
        else:
            since += 1
            if since >= 10:
                mu /= 2.0
                since = 0
        # the iterate's candidates as a solution
        sel = np.zeros(n)
        sel[top] = 1.0
        cnt = cover_t @ sel  # chosen candidates reaching each demand group
        val = float(w[cnt > 0].sum())
        if val > best:
            best, best_sol = val, top.copy()
        if bound - best <= 1e-9 * max(1.0, best) or time.perf_counter() > deadline or mu < 1e-4:
            break
        gaps.append(bound - best)
        if stall and len(gaps) > stall[0] and gaps[-1] > (1.0 - stall[1]) * gaps[-1 - stall[0]]:
            break
        g = cnt - (lam < w)  # subgradient of L at lam
        norm = float(g @ g)
        if norm == 0:
            break
        step = mu * (value - best) / norm
        lam = np.clip(lam - step * g, 0.0, w)
    return bound, best_sol, best, it


def _quiet_highs(highspy: Any) -> Any:
    """Return a new ``highspy.Highs`` without its banner on stdout (the library never prints)."""
    import sys

    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable stdout: nothing to protect
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs_mip(
    cover: csr_array,
    w: np.ndarray,
    k: int,
    start: np.ndarray,
    time_limit_s: float,
    presolve: bool = True,
) -> tuple[np.ndarray | None, float, float, str]:
    """Solve the reduced MCLP exactly with HiGHS; returns (choice, objective, bound, status)."""
    import highspy

    n_c, n_d = cover.shape
    # columns: x_j (binary, n_c) then y_i (continuous in [0, 1], n_d)
    # rows:    y_i - sum_{j covers i} x_j <= 0 (n_d), sum_j x_j <= k (1)
    cover = csr_array(cover)
    x_len = np.diff(cover.indptr) + 1
    start_x = np.concatenate([[0], np.cumsum(x_len)])
    nnz_x = int(start_x[-1])
    index = np.empty(nnz_x + n_d, dtype=np.int32)
    value = np.empty(nnz_x + n_d, dtype=np.float64)
    pos_last = start_x[1:] - 1  # the k-row entry of each x column
    mask = np.ones(nnz_x, dtype=bool)
    mask[pos_last] = False
    index[:nnz_x][mask] = cover.indices
    value[:nnz_x][mask] = -1.0
    index[pos_last] = n_d
    value[pos_last] = 1.0
    index[nnz_x:] = np.arange(n_d)
    value[nnz_x:] = 1.0
    a_start = np.concatenate([start_x[:-1], nnz_x + np.arange(n_d + 1)]).astype(np.int32)

    h = _quiet_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.5, float(time_limit_s)))
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "on" if presolve else "off")
    lp = highspy.HighsLp()
    lp.num_col_ = n_c + n_d
    lp.num_row_ = n_d + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_c), w])
    lp.col_lower_ = np.zeros(n_c + n_d)
    lp.col_upper_ = np.ones(n_c + n_d)
    lp.row_lower_ = np.full(n_d + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_d), [float(k)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a_start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_c + [
        highspy.HighsVarType.kContinuous
    ] * n_d
    h.passModel(lp)
    if len(start):
        sol = highspy.HighsSolution()
        x = np.zeros(n_c)
        x[start] = 1.0
        covered = np.zeros(n_d)
        covered[np.unique(cover[start].indices)] = 1.0
        sol.col_value = list(np.concatenate([x, covered]))
        sol.value_valid = True
        h.setSolution(sol)
    # HiGHS checks its time limit between steps; a long root LP is stopped by a cancel
    h.HandleUserInterrupt = True
    h.startSolve()
    done, _ = h.wait(max(0.5, float(time_limit_s)) + 1.0)
    if not done:
        h.cancelSolve()
        h.wait()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        return None, 0.0, math.inf, status
    xs = np.asarray(h.getSolution().col_value[:n_c])
    choice = np.flatnonzero(xs > 0.5)
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        bound = math.inf
    return choice, float(info.objective_function_value), bound, status


def _mip_has_time(exact: bool | None, left: float, pairs: int, meta: dict[str, Any]) -> bool:
    """Return False (noted in ``meta``) when ``exact`` is None and ``left`` s are too few."""
    if exact is None and left < MIP_SECONDS_PER_PAIR * pairs:
        meta.update(mip_status=f"not run: {left:.1f} s left for {pairs:,} pairs")
        return False
    return True


def check_time_limit(value: object) -> float:
    """Return the solver's time budget as seconds (a finite number > 0).

    Raises
    ------
    InputError
        Zero, negative, NaN, infinite or not a number, naming ``--time-limit``.
    """
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(value, bool) or not (math.isfinite(seconds) and seconds > 0):
        raise InputError(
            f"time_limit_s (--time-limit SECONDS): {value!r} must be a number of seconds "
            "> 0 (e.g. 60)"
        )
    return seconds


def maximise_coverage(
    cover: csr_array,
    weights: np.ndarray,
    k: int,
    *,
    time_limit_s: float = 60.0,
    exact: bool | None = None,
    exact_max_pairs: int = EXACT_MAX_PAIRS,
    lagrangian: bool = True,
    local_search: bool = True,
    progress: Progress | None = None,
) -> CoverageSolution:
    """Choose ``k`` rows of a coverage matrix covering the most column weight.

    Parameters
    ----------
    cover
        Sparse coverage matrix, candidates x demand: a stored entry (any value, an
        explicit 0 included) means the candidate covers the demand point.
    weights
        Weight of each demand column (>= 0; columns covered already should have 0).
    k
        Number of candidates to choose (>= 1).
    time_limit_s
        Wall-time budget of the Lagrangian steps and the exact MIP together.
    exact
        True: always try the MIP; False: never; None: when the reduced instance has
        at most ``exact_max_pairs`` coverage pairs, the heuristics left a gap and at
        least ``MIP_SECONDS_PER_PAIR`` per pair of the budget is left.
    lagrangian
        Also compute the Lagrangian (LP) bound and its solutions.
    local_search
        Improve the greedy choice by best-improvement swaps (Teitz & Bart).
    progress
        ``progress(message, fraction)`` callback.

    Returns
    -------
    CoverageSolution
        Positions in ``cover``'s rows, the objective, the best bound and the gap.

    Raises
    ------
    InputError
        ``k`` < 1, or ``weights`` not matching the columns or negative.
    """
    t0 = time.perf_counter()
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise InputError(f"k: {k!r} must be a whole number of new sites >= 1")
    deadline = t0 + check_time_limit(time_limit_s)
    cover = csr_array(cover)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (cover.shape[1],):
        raise InputError(
            f"weights: {w.shape[0] if w.ndim else 0} values for {cover.shape[1]} demand columns"
        )
    if (~np.isfinite(w)).any() or (w < 0).any():
        raise InputError("weights: every demand weight must be a finite number >= 0")
    red, rw, rows, _ = reduce_instance(cover, w)
    meta: dict[str, Any] = {
        "n_candidates": int(cover.shape[0]),
        "n_demand": int(cover.shape[1]),
        "pairs": int(cover.nnz),
        "reduced_candidates": int(red.shape[0]),
        "reduced_demand": int(red.shape[1]),
        "reduced_pairs": int(red.nnz),
    }
    if progress:
        progress(
            f"siting: {red.shape[0]:,} distinct candidates x {red.shape[1]:,} demand groups", 0.05
        )
    if red.shape[0] == 0 or red.nnz == 0:
        return CoverageSolution(
            np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, 0.0, 0.0, "none", 0.0, meta
        )
    chosen, gains, g_bound = _lazy_greedy(red, rw, k)
    best = float(sum(gains))
    best_rows = np.asarray(chosen, dtype=np.int64)
    solver = "lazy-greedy"
    bound = g_bound
    meta.update(greedy_objective=best, greedy_bound=g_bound)
    if progress:
        progress("siting: lazy greedy done", 0.2)
    tol = 1e-9 * max(1.0, bound)
    use_mip = exact if exact is not None else red.nnz + red.shape[1] <= exact_max_pairs
    if local_search and bound - best > tol and len(best_rows):
        # local search: a greedy choice is often a few % short of the optimum
        s_deadline = t0 + (0.15 if use_mip else 0.4) * time_limit_s
        s_rows, s_best, swaps = _swap_search(red, csr_array(red.T), rw, best_rows, s_deadline)
        meta.update(swaps=swaps, swap_objective=s_best)
        if s_best > best + tol:
            best, best_rows, solver = s_best, s_rows, "lazy-greedy+swaps"
    if lagrangian and bound - best > tol:
        # when the MIP follows, stop once the bound stalls and leave it the rest
        l_deadline = t0 + 0.5 * time_limit_s if use_mip else deadline
        l_bound, l_sol, l_best, iters = _lagrangian(
            red, rw, k, best, l_deadline, max_iter=5000, stall=LAGRANGIAN_STALL if use_mip else None
        )
        meta.update(lagrangian_bound=l_bound, lagrangian_iterations=iters)
        bound = min(bound, l_bound)
        if l_sol is not None and l_best > best + tol:
            best, best_rows, solver = l_best, l_sol, "lagrangian"
        if progress:
            progress("siting: Lagrangian bound done", 0.5)
    left = max(1.0, deadline - time.perf_counter())
    gap_open = bound - best > 1e-9 * max(1.0, bound)
    if use_mip and gap_open and _mip_has_time(exact, left, red.nnz, meta):
        presolve = red.nnz <= PRESOLVE_MAX_PAIRS
        choice, obj, m_bound, status = _highs_mip(red, rw, k, best_rows, left, presolve)
        meta.update(mip_status=status, mip_objective=obj, mip_bound=m_bound, mip_presolve=presolve)
        bound = min(bound, m_bound)
        if choice is not None and obj > best + 1e-9 * max(1.0, obj):
            best_rows, solver = choice, "highs-mip"
            best = _covered_weight(red, rw, choice)
        elif status == "Optimal":
            solver = f"{solver}, proven optimal by highs-mip"
        if progress:
            progress("siting: MIP done", 0.9)
    order, ordered_gains = _order_gains(red, rw, best_rows)
    best = float(sum(ordered_gains))
    bound = max(bound, best)
    gap = (bound - best) / bound if bound > 0 else 0.0
    if gap < 1e-9:
        gap = 0.0
    return CoverageSolution(
        chosen=rows[np.asarray(order, dtype=np.int64)],
        gains=np.asarray(ordered_gains),
        objective=best,
        bound=float(bound),
        gap=float(gap),
        solver=solver,
        seconds=time.perf_counter() - t0,
        meta=meta,
    )


# --------------------------------------------------------------------------- candidates


def _points_4326(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = frame.geometry.to_crs(WGS84).to_numpy() if frame.crs is not None else None
    if geoms is None:
        raise InputError("candidates: the frame has no coordinate reference system; set one")
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return geoms


def _dedupe(points: gpd.GeoSeries, cell_m: float) -> np.ndarray:
    """Positions of the first point in each ``cell_m`` square (local CRS)."""
    if cell_m <= 0 or len(points) == 0:
        return np.arange(len(points))
    xy = shapely.get_coordinates(points.to_crs(points.estimate_utm_crs()).to_numpy())
    cells = np.floor(xy / cell_m).astype(np.int64)
    _, first = np.unique(cells, axis=0, return_index=True)
    return np.sort(first)


def _read_candidates(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    p = Path(path)
    if not p.exists():
        raise InputError(f"candidates: file {p} not found; pass a CSV with lon/lat or a GeoJSON")
    if p.suffix.lower() in (".csv", ".txt"):
        try:
            df = pd.read_csv(p)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"candidates: {p} is not a readable CSV ({exc})") from None
        lower = {c.lower().strip(): c for c in df.columns}
        lon = next((lower[c] for c in ("lon", "lng", "longitude", "x") if c in lower), None)
        lat = next((lower[c] for c in ("lat", "latitude", "y") if c in lower), None)
        if lon is None or lat is None:
            raise InputError(
                f"candidates: {p} needs 'lon' and 'lat' columns (WGS84 degrees); "
                f"it has {', '.join(map(str, df.columns))}"
            )
        x = pd.to_numeric(df[lon], errors="coerce")
        y = pd.to_numeric(df[lat], errors="coerce")
        bad = np.flatnonzero((x.isna() | y.isna() | (x.abs() > 180) | (y.abs() > 90)).to_numpy())
        if len(bad):
            rows = ", ".join(str(int(i) + 2) for i in bad[:5])
            raise InputError(
                f"candidates: {p} rows {rows}: '{lon}'/'{lat}' must be WGS84 longitude and "
                "latitude in degrees; fix or remove those rows"
            )
        return gpd.GeoDataFrame(
            df.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(x, y), crs=WGS84
        )
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises many types
        raise InputError(
            f"candidates: cannot read {p} ({exc}); pass a CSV with lon/lat, GeoJSON or GeoPackage"
        ) from None
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    return gdf


def _candidate_frame(
    region: Region,
    graph: network.WalkGraph,
    candidates: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    dedupe_m: float,
    grid_m: float,
) -> tuple[gpd.GeoDataFrame, str]:
    """Return candidate points (EPSG:4326, ``candidate_id``) and the kind."""
    if isinstance(candidates, gpd.GeoDataFrame):
        frame, kind = candidates, "table"
    elif isinstance(candidates, str) and candidates == "buildings":
        b = region.buildings
        if len(b) == 0:
            raise InputError(
                f"candidates: region {region.name!r} has no buildings; use candidates='grid' "
                "(--candidates grid) or a table of sites (--candidates FILE)"
            )
        pts = gpd.GeoSeries(_points_4326(b), crs=WGS84)
        keep = _dedupe(pts, dedupe_m)
        ids = (
            b["building_id"].astype(str).to_numpy()
            if "building_id" in b.columns
            else np.array([f"building/{i}" for i in range(len(b))], dtype=object)
        )
        return (
            gpd.GeoDataFrame({"candidate_id": ids[keep]}, geometry=pts.to_numpy()[keep], crs=WGS84),
            "buildings",
        )
    elif isinstance(candidates, str) and candidates == "grid":
        if grid_m <= 0:
            raise InputError(f"grid_m: {grid_m!r} must be a positive spacing in metres")
        x0, y0 = graph.xy.min(axis=0)
        x1, y1 = graph.xy.max(axis=0)
        nx_, ny_ = int((x1 - x0) // grid_m) + 1, int((y1 - y0) // grid_m) + 1
        if nx_ * ny_ > 5_000_000:
            raise InputError(
                f"grid_m: a {grid_m:g} m grid over this network has {nx_ * ny_:,} points; "
                "choose a larger spacing"
            )
        gx, gy = np.meshgrid(
            x0 + grid_m * (np.arange(nx_) + 0.5), y0 + grid_m * (np.arange(ny_) + 0.5)
        )
        pts = gpd.GeoSeries(gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=graph.crs)
        s = network.snap(graph, pts)
        ok = s.valid & (s.access_m <= grid_m * 0.75)  # a grid cell with a street in it
        lines = graph.geometry[s.edge[ok]]
        frac = np.divide(
            s.along_m[ok],
            graph.length_m[s.edge[ok]],
            out=np.zeros(int(ok.sum())),
            where=graph.length_m[s.edge[ok]] > 0,
        )
        on_street = shapely.line_interpolate_point(lines, frac, normalized=True)
        ids = np.array([f"grid/{i}" for i in np.flatnonzero(ok)], dtype=object)
        out = gpd.GeoDataFrame(
            {"candidate_id": ids}, geometry=gpd.GeoSeries(on_street, crs=graph.crs).to_crs(WGS84)
        )
        return out, "grid"
    elif isinstance(candidates, str | os.PathLike):
        frame, kind = _read_candidates(candidates), f"file:{candidates}"
    else:
        raise InputError(
            f"candidates: {candidates!r} must be 'buildings', 'grid', a GeoDataFrame or a "
            "file path (CSV with lon/lat, GeoJSON, GeoPackage)"
        )
    if len(frame) == 0:
        raise InputError("candidates: the table of candidate sites is empty")
    frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty]
    geoms = _points_4326(frame)
    if "candidate_id" in frame.columns:
        ids = frame["candidate_id"].astype(str).to_numpy(dtype=object)
    elif "name" in frame.columns:
        ids = np.array([f"{n}" for n in frame["name"].astype(str)], dtype=object)
    else:
        ids = np.array([f"candidate/{i}" for i in range(len(frame))], dtype=object)
    out = gpd.GeoDataFrame({"candidate_id": ids}, geometry=geoms, crs=WGS84)
    if out["candidate_id"].duplicated().any():
        out["candidate_id"] = (
            out["candidate_id"] + "#" + out.groupby("candidate_id").cumcount().astype(str)
        )
    return out, kind


def _heritage_reasons(
    points: gpd.GeoDataFrame, region: Region, heritage_layer: Layer, buffer_m: float
) -> tuple[np.ndarray, int]:
    """Exclusion reason per point: heritage area, control belt, or ""; and the zone count."""
    reasons = np.full(len(points), "", dtype=object)
    feats = select_features(region.features, heritage_layer)
    if len(feats) == 0:
        return reasons, 0
    rep = heritage.heritage_report(feats, region.boundaries, buffer_m=buffer_m)
    if len(rep.zones) == 0:
        return reasons, 0
    tree = shapely.STRtree(rep.buffers.geometry.to_numpy())
    hit = np.unique(tree.query(points.geometry.to_numpy(), predicate="intersects")[0])
    reasons[hit] = "heritage_belt"
    ztree = shapely.STRtree(rep.zones.geometry.to_numpy())
    inside = np.unique(ztree.query(points.geometry.to_numpy(), predicate="intersects")[0])
    reasons[inside] = "heritage_area"
    return reasons, len(rep.zones)


def _districts(
    points: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    n = len(points)
    district = np.full(n, OUTSIDE_DISTRICTS, dtype=object)
    zone = np.full(n, "unknown", dtype=object)
    if n == 0 or boundaries is None or len(boundaries) == 0:
        return district, zone
    b = boundaries.to_crs(WGS84)
    tree = shapely.STRtree(b.geometry.to_numpy())
    pi, bi = tree.query(points.geometry.to_numpy(), predicate="intersects")
    first = np.unique(pi, return_index=True)[1]
    pi, bi = pi[first], bi[first]
    if "district" in b.columns:
        district[pi] = b["district"].astype(str).to_numpy()[bi]
    if "zone_type" in b.columns:
        zone[pi] = b["zone_type"].fillna("unknown").astype(str).to_numpy()[bi]
    return district, zone


# --------------------------------------------------------------------------- site


@dataclass(frozen=True)
class SitingResult:
    """Result of :func:`site` (every GeoDataFrame in EPSG:4326).

    Attributes
    ----------
    sites
        The chosen sites in rank order: ``rank`` (1 = adds the most), ``candidate_id``,
        ``added_pop`` and ``added_pop_60plus`` (residents newly within the target
        reach thanks to this site, counted in rank order: a resident reached by two
        new sites counts for the higher-ranked one, so the columns sum to the total
        added), ``district``, ``zone_type``, Point ``geometry`` (the candidate's
        location, to add as a facility).
    candidates
        Every candidate considered: ``candidate_id``, ``covers_pop`` and
        ``covers_pop_60plus`` (residents not yet covered that this candidate alone
        would bring within reach; 0 for excluded ones), ``excluded_reason`` (``""``,
        ``"heritage_area"``, ``"heritage_belt"``, ``"far_from_street"``),
        ``chosen`` (bool), Point ``geometry``.
    objective
        The layer's demand (``pop_60plus`` or ``pop``) newly covered by the sites.
    bound
        Proven upper bound on the best possible objective with ``k`` new sites among
        these candidates.
    gap
        ``(bound - objective) / bound``; 0 means proven optimal.
    solver
        How the answer was found (``highs-mip``, ``lazy-greedy``, ``lagrangian``,
        ``... proven optimal by highs-mip``).
    seconds
        Wall time of the whole call.
    summary_before, summary_after
        :func:`geoapp.coverage.coverage_summary` with the existing facilities, and with
        the existing facilities plus the sites.
    meta
        Parameters and figures: ``layer``, ``k``, ``target_m``, ``speed_kmh``,
        ``demand_column``, ``candidates`` (kind), ``n_candidates``,
        ``n_excluded`` (by reason), ``n_existing``, ``covered_before``,
        ``covered_after`` (the layer's demand within the target), sizes and bounds of
        the solver, ``warnings``.
    """

    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    objective: float
    bound: float
    gap: float
    solver: str
    seconds: float
    summary_before: pd.DataFrame
    summary_after: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


def _tick(progress: Progress | None, message: str, fraction: float) -> None:
    if progress is not None:
        progress(message, fraction)


def site(
    region: Region,
    layer: Layer,
    k: int,
    *,
    demand: Demand | gpd.GeoDataFrame,
    graph: network.WalkGraph,
    facilities: gpd.GeoDataFrame | None = None,
    candidates: str | os.PathLike[str] | gpd.GeoDataFrame = "buildings",
    exclude_heritage: bool = True,
    speed_kmh: float | None = None,
    time_limit_s: float = 60.0,
    progress: Progress | None = None,
    respect_capacity: bool = False,
    heritage_layer: Layer | None = None,
    heritage_buffer_m: float = heritage.DEFAULT_BUFFER_M,
    max_street_m: float = DEFAULT_MAX_STREET_M,
    dedupe_m: float = DEFAULT_DEDUPE_M,
    grid_m: float = DEFAULT_GRID_M,
    exact: bool | None = None,
) -> SitingResult:
    """Choose ``k`` new sites that bring the most residents within the layer's reach.

    Parameters
    ----------
    region
        The loaded region (its buildings, features, boundaries).
    layer
        The layer; its demand column (``pop_60plus`` for elderly layers) is maximised
        within ``layer.at_speed(speed_kmh).target_m``.
    k
        Number of new sites (>= 1).
    demand
        ``workflow.prepare_demand(region)`` (or its ``points`` frame).
    graph
        The walking network (``workflow.get_graph(region)``).
    facilities
        Existing facilities to keep (a scenario's, say); None: the layer's facilities
        in the region. Demand they already reach counts as covered.
    candidates
        ``"buildings"`` (one per ``dedupe_m`` cell), ``"grid"`` (every ``grid_m``,
        moved onto the nearest street), a GeoDataFrame, or a file path (CSV with
        ``lon``/``lat`` in WGS84, GeoJSON, GeoPackage; ``candidate_id`` or ``name``
        columns name the sites).
    exclude_heritage
        Leave out candidates inside protected heritage areas or their control belt
        (``heritage_buffer_m``, default 100 m) of ``heritage_layer`` (default the
        catalog's ``heritage`` layer).
    speed_kmh
        Walking speed for minute-based layers (None: the layer's default).
    time_limit_s
        Budget of the solver's bound and exact steps (the greedy always runs).
    progress
        ``progress(message, fraction)`` callback.
    respect_capacity
        Not supported: True raises :class:`InputError`.
    max_street_m
        Candidates farther than this from every street are dropped.
    exact
        Force (True) or forbid (False) the exact MIP; None decides by size.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        ``k`` < 1, no candidates left, no graph, or capacity requested.
    """
    t0 = time.perf_counter()
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise InputError(f"k (--new): {k!r} must be a whole number of new sites >= 1")
    time_limit_s = check_time_limit(time_limit_s)
    if respect_capacity:
        raise InputError(
            "respect_capacity: siting with capacity is not supported; site without it and "
            "check the beds of the suggested sites with 'geoapp supply'"
        )
    if graph is None:
        raise InputError(
            "graph: siting needs the walking network (workflow.get_graph(region)); the "
            "region must have streets"
        )
    if not math.isfinite(max_street_m) or max_street_m < 0:
        raise InputError(f"max_street_m: {max_street_m!r} must be a distance in metres >= 0")
    lay = layer.at_speed(speed_kmh)
    target = float(lay.target_m)
    dcol = lay.demand_column
    points: gpd.GeoDataFrame = demand.points if hasattr(demand, "points") else demand
    warnings: list[str] = []

    _tick(progress, "siting: candidates", 0.02)
    cands, kind = _candidate_frame(region, graph, candidates, dedupe_m=dedupe_m, grid_m=grid_m)
    reasons = np.full(len(cands), "", dtype=object)
    n_zones = 0
    if exclude_heritage and len(cands):
        hl = heritage_layer if heritage_layer is not None else catalog.get_layer("heritage")
        reasons, n_zones = _heritage_reasons(cands, region, hl, heritage_buffer_m)
    csnap = network.snap(graph, cands)
    far = (~csnap.valid) | (csnap.access_m > max_street_m)
    reasons[far & (reasons == "")] = "far_from_street"
    usable = np.flatnonzero(reasons == "")
    n_excl = {r: int((reasons == r).sum()) for r in EXCLUDED_REASONS}
    if len(usable) == 0:
        raise InputError(
            f"candidates: none of the {len(cands):,} candidate sites is left "
            f"({', '.join(f'{v:,} {r}' for r, v in n_excl.items() if v)}); pass other "
            "candidates, --candidates grid, or a larger max_street_m"
        )
    if n_excl["far_from_street"]:
        log.info(
            "%d candidates are farther than %.0f m from every street and were dropped",
            n_excl["far_from_street"],
            max_street_m,
        )

    # existing facilities: demand they reach within the target is covered already
    _tick(progress, "siting: existing coverage", 0.1)
    fac = select_features(region.features, layer) if facilities is None else facilities
    dsnap = network.snap(graph, points)
    w_all = pd.to_numeric(points[dcol], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    pop = pd.to_numeric(points["pop"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    pop60 = pd.to_numeric(points["pop_60plus"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if len(fac):
        d_before, _ = network.nearest(graph, dsnap, network.snap(graph, fac), target)
    else:
        d_before = np.full(len(points), np.inf)
    covered = d_before <= target
    open_ = np.flatnonzero(~covered & ((pop > 0) | (w_all > 0)) & dsnap.valid)

    _tick(progress, f"siting: coverage of {len(usable):,} candidates", 0.2)
    cover = network.od_matrix(graph, csnap.take(usable), dsnap.take(open_), target)
    w = w_all[open_]
    # a stored entry (an explicit 0 m included) means "within reach": use the structure
    reach = csr_array((np.ones(cover.nnz), cover.indices, cover.indptr), shape=cover.shape)
    cover_pop = reach @ pop[open_]
    cover_60 = reach @ pop60[open_]

    sol = maximise_coverage(
        cover,
        w,
        int(k),
        time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)),
        exact=exact,
        progress=(lambda m, f: _tick(progress, m, 0.3 + 0.5 * f)) if progress else None,
    )
    chosen = usable[sol.chosen]
    if len(chosen) < k:
        warnings.append(
            f"Only {len(chosen)} of the {k} new sites requested bring anyone new within "
            f"{target:,.0f} m of a {layer.name('en')}; the other candidates add no one."
        )

    # per-site added residents in rank order (all residents and 60+)
    left_pop, left_60 = pop[open_].copy(), pop60[open_].copy()
    added_pop, added_60 = [], []
    for r in sol.chosen:
        cols = cover.indices[cover.indptr[r] : cover.indptr[r + 1]]
        added_pop.append(float(left_pop[cols].sum()))
        added_60.append(float(left_60[cols].sum()))
        left_pop[cols] = 0.0
        left_60[cols] = 0.0
    site_pts = cands.iloc[chosen]
    district, zone = _districts(site_pts, region.boundaries)
    sites = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1, dtype=np.int64),
            "candidate_id": site_pts["candidate_id"].to_numpy(),
            "added_pop": np.asarray(added_pop, dtype=float),
            "added_pop_60plus": np.asarray(added_60, dtype=float),
            "district": district,
            "zone_type": zone,
        },
        geometry=site_pts.geometry.to_numpy(),
        crs=WGS84,
    )
    cp = np.zeros(len(cands))
    c60 = np.zeros(len(cands))
    cp[usable] = cover_pop
    c60[usable] = cover_60
    is_chosen = np.zeros(len(cands), dtype=bool)
    is_chosen[chosen] = True
    cand_out = gpd.GeoDataFrame(
        {
            "candidate_id": cands["candidate_id"].to_numpy(),
            "covers_pop": cp,
            "covers_pop_60plus": c60,
            "excluded_reason": reasons.astype(str),
            "chosen": is_chosen,
        },
        geometry=cands.geometry.to_numpy(),
        crs=WGS84,
    )

    # before / after summaries, by the same coverage engine as every analysis
    _tick(progress, "siting: coverage before and after", 0.85)
    limit = float(lay.max_radius_m)
    fac_before = gpd.GeoDataFrame(
        {"facility_id": coverage.facility_ids(fac)},
        geometry=fac.geometry.to_crs(WGS84).to_numpy() if len(fac) else [],
        crs=WGS84,
    )
    new_fac = gpd.GeoDataFrame(
        {"facility_id": [f"site/{r}" for r in sites["rank"]]},
        geometry=sites.geometry.to_numpy(),
        crs=WGS84,
    )
    fac_after = pd.concat([fac_before, new_fac], ignore_index=True)
    fac_after = gpd.GeoDataFrame(fac_after, geometry="geometry", crs=WGS84)
    summaries = []
    for f in (fac_before, fac_after):
        acc = coverage.compute_access(
            points, f, graph=graph, max_dist_m=limit, layer_id=lay.id, demand_snap=dsnap
        )
        summaries.append(
            coverage.coverage_summary(
                acc, lay, boundaries=region.boundaries, facilities=f, region_name=region.name
            )
        )
    w_cov_before = float(w_all[covered].sum())
    meta = {
        "layer": lay.id,
        "k": int(k),
        "n_sites": len(sites),
        "target_m": target,
        "speed_kmh": speed_kmh,
        "demand_column": dcol,
        "candidates": kind,
        "n_candidates": len(cands),
        "n_usable_candidates": len(usable),
        "n_excluded": n_excl,
        "n_heritage_zones": n_zones,
        "heritage_buffer_m": heritage_buffer_m if exclude_heritage else None,
        "exclude_heritage": bool(exclude_heritage),
        "max_street_m": max_street_m,
        "dedupe_m": dedupe_m if kind == "buildings" else None,
        "grid_m": grid_m if kind == "grid" else None,
        "n_existing": len(fac),
        "demand_total": float(w_all.sum()),
        "covered_before": w_cov_before,
        "covered_after": w_cov_before + sol.objective,
        "uncovered_demand_points": len(open_),
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "solver": sol.solver,
        "solver_seconds": round(sol.seconds, 3),
        "solver_detail": sol.meta,
        "time_limit_s": time_limit_s,
        "respect_capacity": False,
        "capacity": "not modelled: each site covers every resident within reach",
        "warnings": warnings,
    }
    for wmsg in warnings:
        log.warning("%s", wmsg)
    _tick(progress, "siting: done", 1.0)
    return SitingResult(
        sites=sites,
        candidates=cand_out,
        objective=float(sol.objective),
        bound=float(sol.bound),
        gap=float(sol.gap),
        solver=sol.solver,
        seconds=time.perf_counter() - t0,
        summary_before=summaries[0],
        summary_after=summaries[1],
        meta=meta,
    )


__all__ = [
    "DEFAULT_DEDUPE_M",
    "DEFAULT_GRID_M",
    "DEFAULT_MAX_STREET_M",
    "EXCLUDED_REASONS",
    "CoverageSolution",
    "SitingResult",
    "maximise_coverage",
    "reduce_instance",
    "site",
]
