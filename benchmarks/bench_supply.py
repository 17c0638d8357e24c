"""2SFCA: geoapp.sfca.two_step_fca against PySAL ``access`` on the same pairs.

Baseline: ``access.fca.two_stage_fca`` (PySAL access) given the cost table of every
demand-facility pair within the reach, built from the same distances. geoapp's time
INCLUDES finding those pairs (network: ``network.od_matrix``; straight line: a k-d
tree); access's time does not (its cost table is handed over ready). Both results
are compared (max absolute difference of the ratio).

A second table runs the whole floating catchment family (2SFCA, E2SFCA, 3SFCA, gravity;
``geoapp.fca``) against the same functions of ``access.fca`` on one ready cost table,
wall and CPU time for both.

Usage::

    python benchmarks/bench_supply.py            # the demo's network + 100,000 random points
    python benchmarks/bench_supply.py --quick    # smaller random instance
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_array
from shapely import points

from geoapp import network, workflow
from geoapp import sfca as supply
from geoapp.catalog import load_catalog


def _access(dem_id, pop, fac_id, cap, rows, cols, dist, reach):
    from access import fca

    cost = pd.DataFrame({"origin": dem_id[rows], "dest": fac_id[cols], "cost": dist})
    t = time.perf_counter()
    out = fca.two_stage_fca(
        pd.DataFrame({"pop": pop}, index=dem_id),
        pd.DataFrame({"cap": cap}, index=fac_id),
        cost,
        max_cost=reach,
        demand_index=True,
        demand_name="pop",
        supply_index=True,
        supply_name="cap",
    )
    secs = time.perf_counter() - t
    return out.reindex(dem_id).to_numpy(dtype=float), secs


def _maxdiff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference where both have a value (NaN: nothing in reach).

    On the straight-line instance geoapp measures in its own local CRS and the baseline
    gets the instance's UTM distances, so a few points whose only facility lies at the
    reach (within float error) are in reach for one and not the other: they are left out.
    """
    ok = ~np.isnan(a) & ~np.isnan(b)
    return float(np.abs(a[ok] - b[ok]).max()) if ok.any() else 0.0


def _family(dem_id, pop, fac_id, cap, rows, cols, dist, reach):
    """Every method of geoapp.fca against access.fca on the same cost table."""
    from access import fca as afca
    from access import weights as aw

    from geoapp import fca

    cost = pd.DataFrame({"origin": dem_id[rows], "dest": fac_id[cols], "cost": dist})
    d_df = pd.DataFrame({"pop": pop}, index=dem_id)
    s_df = pd.DataFrame({"cap": cap}, index=fac_id)
    third = reach / 3
    cases = {
        "2SFCA": (fca.Uniform(), None, afca.two_stage_fca, "2sfca"),
        "E2SFCA": (
            fca.Step.thirds(reach),
            aw.step_fn({third: 1, 2 * third: 0.68, reach: 0.22}),
            afca.two_stage_fca,
            "e2sfca",
        ),
        "3SFCA (zones)": (
            fca.Step.thirds(reach),
            aw.step_fn({third: 1, 2 * third: 0.68, reach: 0.22}),
            afca.three_stage_fca,
            "3sfca",
        ),
        "gravity": (
            fca.Gravity(reach, -1.0, reach / 10),
            aw.gravity(reach, -1.0, min_dist=reach / 10),
            afca.two_stage_fca,
            "gravity",
        ),
    }
    print()
    print("method        | geoapp wall |  CPU  | access wall |  CPU  | ratio | max diff")
    for name, (ours_w, their_w, func, method) in cases.items():
        w0, c0 = time.perf_counter(), time.process_time()
        table = fca.CostTable.from_matrix(
            csr_array((dist, (rows, cols)), shape=(len(dem_id), len(fac_id)))
        )
        ours = fca.compute(method, pop, cap, table, max_cost=reach, weight=ours_w)
        w1, c1 = time.perf_counter(), time.process_time()
        ref = func(
            d_df, s_df, cost.copy(), max_cost=reach, demand_index=True, demand_name="pop",
            supply_index=True, supply_name="cap", weight_fn=their_w,
        )  # fmt: skip
        w2, c2 = time.perf_counter(), time.process_time()
        ref = ref.reindex(dem_id).to_numpy(dtype=float)
        print(
            f"{name:<13} | {w1 - w0:>9.3f} s | {c1 - c0:>5.2f} | {w2 - w1:>9.3f} s | "
            f"{c2 - c1:>5.2f} | {(w2 - w1) / (w1 - w0):>5.1f}x | {_maxdiff(ours, ref):.1e}"
        )


def _row(name, n, m, pairs, ours, theirs, diff):
    print(
        f"{name:<26} | {n:>9,} | {m:>6,} | {pairs:>11,} | {ours:>8.3f} s | {theirs:>8.3f} s | "
        f"{theirs / ours:>6.1f}x | {diff:.1e}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--facilities", type=int, default=1_000)
    args = ap.parse_args()
    n_pts = 10_000 if args.quick else args.points
    n_fac = 200 if args.quick else args.facilities
    layer = load_catalog()["elderly_care"]
    print(
        "instance                   |    demand | facil. |       pairs |   geoapp |   access | ratio | max diff"
    )

    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    from geoapp.layers import select_features

    fac = select_features(region.features, layer)
    fac = fac[fac["capacity"].notna()].reset_index(drop=True)
    pts = demand.points
    snap = network.snap(graph, pts)
    t = time.perf_counter()
    ours = supply.two_step_fca(pts, fac, layer, graph=graph, demand_snap=snap)["sfca"].to_numpy()
    t_ours = time.perf_counter() - t
    od = network.od_matrix(graph, snap, fac, layer.target_m).tocoo()
    ref, t_ref = _access(
        pts["demand_id"].to_numpy(), pts["pop_60plus"].to_numpy(), fac["facility_id"].to_numpy(),
        fac["capacity"].to_numpy(), od.row, od.col, od.data, layer.target_m,
    )  # fmt: skip
    _row("demo, network 1,000 m", len(pts), len(fac), od.nnz, t_ours, t_ref, _maxdiff(ours, ref))

    rng = np.random.default_rng(1)
    x0, y0 = 440_000.0, 4_420_000.0
    side = 10_000.0
    dem = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(n_pts)], "pop_60plus": rng.uniform(0, 50, n_pts)},
        geometry=points(rng.uniform(0, side, (n_pts, 2)) + [x0, y0]),
        crs="EPSG:32650",
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(n_fac)], "capacity": rng.integers(10, 400, n_fac) * 1.0},
        geometry=points(rng.uniform(0, side, (n_fac, 2)) + [x0, y0]),
        crs="EPSG:32650",
    )  # fmt: skip
    t = time.perf_counter()
    ours = supply.two_step_fca(dem, fac, layer, mode="euclidean")["sfca"].to_numpy()
    t_ours = time.perf_counter() - t
    from scipy.spatial import cKDTree

    xy_d = np.column_stack([dem.geometry.x, dem.geometry.y])
    xy_f = np.column_stack([fac.geometry.x, fac.geometry.y])
    pairs = cKDTree(xy_d).sparse_distance_matrix(cKDTree(xy_f), 1000.0, output_type="ndarray")
    ref, t_ref = _access(
        dem["demand_id"].to_numpy(), dem["pop_60plus"].to_numpy(), fac["facility_id"].to_numpy(),
        fac["capacity"].to_numpy(), pairs["i"], pairs["j"], pairs["v"], 1000.0,
    )  # fmt: skip
    _row(
        "random, straight 1,000 m",
        n_pts,
        n_fac,
        len(pairs),
        t_ours,
        t_ref,
        _maxdiff(ours, ref),
    )
    print(
        "ratio = access time / geoapp time; geoapp's time includes finding the pairs, "
        "access's does not. Same machine, same pairs."
    )
    _family(
        dem["demand_id"].to_numpy(), dem["pop_60plus"].to_numpy(), fac["facility_id"].to_numpy(),
        fac["capacity"].to_numpy(), pairs["i"], pairs["j"], pairs["v"], 1000.0,
    )  # fmt: skip


if __name__ == "__main__":
    main()
