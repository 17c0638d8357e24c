"""Siting on hand-built streets whose optima are worked out on paper.

A straight street along y = 0 (UTM 50N, offset by (X0, Y0)), nodes every 100 m from
x = -300 to 1300. Demand points lie on the street; the test layer's target is 250 m::

    demand    x      pop
    d1        0      2.5
    d2      400      3
    d3      600      3
    d4     1000      2.5

    candidate  x    covers (<= 250 m)   weight
    left      200   d1, d2              5.5
    mid       500   d2, d3              6
    right     800   d3, d4              5.5

With k = 2 the greedy choice is wrong: it takes ``mid`` (6) and then adds 2.5 (8.5);
the optimum is ``left`` + ``right`` = 11.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from shapely.geometry import LineString, Point, box

from geoapp import hexes, network, siting
from geoapp.catalog import Layer
from geoapp.errors import InputError
from geoapp.region import FEATURE_TAG_KEYS, Region

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0
LAYER = Layer(
    id="clinic",
    label={"en": "Clinic", "zh": "诊所"},
    population="total",
    radii_m=(250.0,),
    target_m=250.0,
    match=({"amenity": "clinic"},),
)
ELDERLY = Layer(**{**LAYER.__dict__, "id": "care", "population": "age_60plus"})


def P(x: float, y: float = 0.0) -> Point:  # noqa: N802
    return Point(X0 + x, Y0 + y)


def to4326(geoms) -> list:
    return list(gpd.GeoSeries(geoms, crs=CRS).to_crs(4326))


def make_graph(xy: dict[int, tuple[float, float]], pairs: list[tuple[int, int]]):
    nodes = gpd.GeoDataFrame(
        {"node_id": np.array(list(xy), dtype=np.int64)},
        geometry=to4326([P(*p) for p in xy.values()]),
        crs=4326,
    )
    geoms = [LineString([P(*xy[a]), P(*xy[b])]) for a, b in pairs]
    edges = gpd.GeoDataFrame(
        {
            "u": np.array([a for a, _ in pairs], dtype=np.int64),
            "v": np.array([b for _, b in pairs], dtype=np.int64),
            "length_m": [g.length for g in geoms],
            "highway": "footway",
            "name": None,
        },
        geometry=to4326(geoms),
        crs=4326,
    )
    return nodes, edges, network.build_graph(nodes, edges, crs=CRS)


def features(facility_x: list[tuple[float, float]] = (), heritage=None) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, xy in enumerate(facility_x):
        rows.append({"osm_id": f"node/{i}", "name": f"Clinic {i}", "amenity": "clinic"})
        geoms.append(P(*xy))
    if heritage is not None:
        rows.append({"osm_id": "way/99", "name": "Old quarter", "historic": "district"})
        geoms.append(heritage)
    frame = pd.DataFrame(rows, columns=["osm_id", "name", *FEATURE_TAG_KEYS])
    return gpd.GeoDataFrame(frame, geometry=to4326(geoms) if geoms else [], crs=4326)


def demand_frame(xs_pops: list[tuple[tuple[float, float], float]]) -> gpd.GeoDataFrame:
    geoms = to4326([P(*xy) for xy, _ in xs_pops])
    g = gpd.GeoSeries(geoms, crs=4326)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i + 1}" for i in range(len(xs_pops))],
            "pop": [float(p) for _, p in xs_pops],
            "pop_60plus": [float(p) / 2 for _, p in xs_pops],
            "district": "Riverside",
            "district_code": "R1",
            "zone_type": "core",
            "settlement": "core",
            "h3": hexes.h3_cells(g),
        },
        geometry=geoms,
        crs=4326,
    )


def region_of(nodes, edges, feats, extent=(-400, -400, 1400, 400)) -> Region:
    boundaries = gpd.GeoDataFrame(
        {
            "district": ["Riverside"],
            "district_code": ["R1"],
            "zone_type": ["core"],
            "zone_fine": [""],
        },
        geometry=to4326([box(X0 + extent[0], Y0 + extent[1], X0 + extent[2], Y0 + extent[3])]),
        crs=4326,
    )
    return Region(
        name="Test street",
        source="test",
        boundaries=boundaries,
        features=feats,
        nodes=nodes,
        edges=edges,
    )


@pytest.fixture(scope="module")
def line():
    xy = {i: (x, 0.0) for i, x in enumerate(range(-300, 1400, 100))}
    return make_graph(xy, [(i, i + 1) for i in range(len(xy) - 1)])


@pytest.fixture(scope="module")
def demand():
    return demand_frame([((0, 0), 2.5), ((400, 0), 3), ((600, 0), 3), ((1000, 0), 2.5)])


def cands(xs: dict[str, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"candidate_id": list(xs)}, geometry=to4326([P(x) for x in xs.values()]), crs=4326
    )


THREE = {"left": 200, "mid": 500, "right": 800}


# --------------------------------------------------------------------------- known optima


@pytest.mark.parametrize("exact", [True, None])
def test_greedy_trap_the_optimum_is_left_and_right(line, demand, exact):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    res = siting.site(
        region, LAYER, 2, demand=demand, graph=graph, candidates=cands(THREE), exact=exact
    )
    assert set(res.sites["candidate_id"]) == {"left", "right"}
    assert res.objective == pytest.approx(11.0)
    assert res.gap == pytest.approx(0.0, abs=1e-9)
    assert res.sites["added_pop"].sum() == pytest.approx(11.0)
    assert res.sites["added_pop_60plus"].sum() == pytest.approx(5.5)
    assert list(res.sites["rank"]) == [1, 2]
    assert (res.sites["district"] == "Riverside").all()
    # the coverage engine agrees: before nothing is covered, after all four points
    col = "covered_pop_250"
    before = res.summary_before.loc[res.summary_before.level == "region", col].item()
    after = res.summary_after.loc[res.summary_after.level == "region", col].item()
    assert (before, after) == (pytest.approx(0.0), pytest.approx(11.0))
    assert res.sites.crs.to_epsg() == 4326


def test_greedy_alone_is_trapped_and_says_so(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    res = siting.site(
        region, LAYER, 2, demand=demand, graph=graph, candidates=cands(THREE), exact=False
    )
    # without the MIP the Lagrangian (LP) step still finds left + right here
    assert res.objective == pytest.approx(11.0)
    cover = csr_array(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=float))
    w = np.array([2.5, 3, 3, 2.5])
    sol = siting.maximise_coverage(cover, w, 2, exact=False, lagrangian=False, local_search=False)
    assert sol.objective == pytest.approx(8.5)  # mid, then one side
    assert sol.solver == "lazy-greedy"
    swapped = siting.maximise_coverage(cover, w, 2, exact=False, lagrangian=False)
    assert swapped.objective == pytest.approx(11.0)  # one swap: mid -> the other side
    assert swapped.solver == "lazy-greedy+swaps"
    assert sol.bound >= 11.0 - 1e-9  # the greedy bound still covers the optimum
    assert sol.gap == pytest.approx((sol.bound - 8.5) / sol.bound)


def test_an_existing_facility_makes_a_candidate_worthless(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features([(800, 0)]))  # covers d3 and d4
    res = siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates=cands(THREE))
    assert list(res.sites["candidate_id"]) == ["left"]
    assert res.objective == pytest.approx(5.5)
    c = res.candidates.set_index("candidate_id")
    assert c.loc["right", "covers_pop"] == pytest.approx(0.0)
    assert c.loc["mid", "covers_pop"] == pytest.approx(3.0)  # d2 only: d3 is covered
    assert res.meta["covered_before"] == pytest.approx(5.5)
    # a second site adds no one: only one is returned, with a warning
    res2 = siting.site(region, LAYER, 2, demand=demand, graph=graph, candidates=cands(THREE))
    assert len(res2.sites) == 1
    assert "Only 1 of the 2" in res2.meta["warnings"][0]


def test_facilities_argument_replaces_the_regions(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features([(800, 0)]))
    scenario = gpd.GeoDataFrame(
        {"facility_id": ["s1"]}, geometry=to4326([P(200)]), crs=4326
    )  # a scenario that moved the clinic to x = 200
    res = siting.site(
        region, LAYER, 1, demand=demand, graph=graph, candidates=cands(THREE), facilities=scenario
    )
    assert list(res.sites["candidate_id"]) == ["right"]
    assert res.objective == pytest.approx(5.5)
    assert res.meta["n_existing"] == 1


def test_heritage_area_and_belt_exclude_candidates(line, demand):
    nodes, edges, graph = line
    # protected area from x = 150 to 250 (holds "left"); "belt" at x = 300 is 50 m away
    area = box(X0 + 150, Y0 - 50, X0 + 250, Y0 + 50)
    region = region_of(nodes, edges, features(heritage=area))
    c = cands({**THREE, "belt": 300})
    res = siting.site(region, LAYER, 2, demand=demand, graph=graph, candidates=c)
    reasons = res.candidates.set_index("candidate_id")["excluded_reason"]
    assert reasons["left"] == "heritage_area"
    assert reasons["belt"] == "heritage_belt"
    assert reasons["mid"] == "" and reasons["right"] == ""
    assert set(res.sites["candidate_id"]) == {"mid", "right"}
    assert res.objective == pytest.approx(8.5)
    # without the exclusion the optimum is back
    res2 = siting.site(
        region, LAYER, 2, demand=demand, graph=graph, candidates=c, exclude_heritage=False
    )
    assert res2.objective == pytest.approx(11.0)


def test_elderly_layer_maximises_the_60plus(line):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    dem = demand_frame([((0, 0), 10), ((1000, 0), 4)])
    dem["pop_60plus"] = [1.0, 4.0]
    c = cands({"a": 0, "b": 1000})
    assert siting.site(region, LAYER, 1, demand=dem, graph=graph, candidates=c).sites[
        "candidate_id"
    ].tolist() == ["a"]
    res = siting.site(region, ELDERLY, 1, demand=dem, graph=graph, candidates=c)
    assert res.sites["candidate_id"].tolist() == ["b"]
    assert res.objective == pytest.approx(4.0)
    assert res.meta["demand_column"] == "pop_60plus"


def test_far_candidates_are_dropped_and_counted(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    c = gpd.GeoDataFrame(
        {"candidate_id": ["near", "far"]}, geometry=to4326([P(200, 10), P(200, 900)]), crs=4326
    )
    res = siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates=c)
    reasons = res.candidates.set_index("candidate_id")["excluded_reason"]
    assert reasons["far"] == "far_from_street" and reasons["near"] == ""
    assert res.meta["n_excluded"]["far_from_street"] == 1


def test_candidate_files(line, demand, tmp_path):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    pts = gpd.GeoSeries(to4326([P(x) for x in THREE.values()]), crs=4326)
    csv = tmp_path / "sites.csv"
    pd.DataFrame({"name": list(THREE), "lon": pts.x, "lat": pts.y}).to_csv(csv, index=False)
    res = siting.site(region, LAYER, 2, demand=demand, graph=graph, candidates=str(csv))
    assert set(res.sites["candidate_id"]) == {"left", "right"}
    gj = tmp_path / "sites.geojson"
    cands(THREE).to_file(gj, driver="GeoJSON")
    res = siting.site(region, LAYER, 2, demand=demand, graph=graph, candidates=gj)
    assert res.objective == pytest.approx(11.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\na,116.1,40.0\nb,oops,40.0\n")
    with pytest.raises(InputError, match="rows 3"):
        siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates=str(bad))
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("name,x1,y1\na,1,2\n")
    with pytest.raises(InputError, match="'lon' and 'lat'"):
        siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates=str(nocols))


def test_grid_candidates_lie_on_the_street(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    res = siting.site(region, LAYER, 2, demand=demand, graph=graph, candidates="grid", grid_m=50.0)
    # centres every 50 m from x = -275: 225 covers d1 + d2, 775 or 825 covers d3 + d4
    assert res.objective == pytest.approx(11.0)
    assert res.meta["grid_m"] == 50.0
    snapped = network.snap(graph, res.candidates)
    assert np.all(snapped.access_m < 1e-6)


def test_bad_input_names_the_field(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features())
    with pytest.raises(InputError, match="k"):
        siting.site(region, LAYER, 0, demand=demand, graph=graph, candidates=cands(THREE))
    area = box(X0 - 400, Y0 - 400, X0 + 1400, Y0 + 400)
    r2 = region_of(nodes, edges, features(heritage=area))
    with pytest.raises(InputError, match="candidates: none"):
        siting.site(r2, LAYER, 1, demand=demand, graph=graph, candidates=cands(THREE))
    with pytest.raises(InputError, match="buildings"):
        siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates="buildings")
    with pytest.raises(InputError, match="respect_capacity"):
        siting.site(
            region, LAYER, 1, demand=demand, graph=graph, candidates=cands(THREE),
            respect_capacity=True,
        )  # fmt: skip
    with pytest.raises(InputError, match="graph"):
        siting.site(region, LAYER, 1, demand=demand, graph=None, candidates=cands(THREE))


def test_inputs_are_left_alone(line, demand):
    nodes, edges, graph = line
    region = region_of(nodes, edges, features([(800, 0)]))
    c = cands(THREE)
    d0, c0, f0 = demand.copy(), c.copy(), region.features.copy()
    siting.site(region, LAYER, 1, demand=demand, graph=graph, candidates=c)
    pd.testing.assert_frame_equal(demand, d0)
    pd.testing.assert_frame_equal(c, c0)
    pd.testing.assert_frame_equal(region.features, f0)


# --------------------------------------------------------------------------- solver


def brute_force(a: np.ndarray, w: np.ndarray, k: int) -> float:
    best = 0.0
    for combo in itertools.combinations(range(a.shape[0]), min(k, a.shape[0])):
        best = max(best, float(w[a[list(combo)].any(axis=0)].sum()))
    return best


PROP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROP
@given(
    st.integers(2, 9),
    st.integers(1, 14),
    st.integers(1, 4),
    st.floats(0.1, 0.6),
    st.integers(0, 2**31 - 1),
)
def test_exact_and_greedy_against_brute_force(n_c, n_d, k, density, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((n_c, n_d)) < density
    w = rng.integers(0, 20, n_d).astype(float)
    opt = brute_force(a, w, k)
    cover = csr_array(a.astype(float))
    exact = siting.maximise_coverage(cover, w, k, exact=True)
    assert exact.objective == pytest.approx(opt)
    assert exact.gap == pytest.approx(0.0, abs=1e-6)
    greedy = siting.maximise_coverage(
        cover, w, k, exact=False, lagrangian=False, local_search=False
    )
    # the greedy answer is feasible, below the optimum, and the bound covers the optimum
    assert greedy.objective <= opt + 1e-9
    assert greedy.bound >= opt - 1e-9
    assert greedy.objective >= (1 - greedy.gap) * greedy.bound - 1e-9
    assert greedy.objective >= (1 - 1 / np.e) * opt - 1e-9
    assert len(set(greedy.chosen.tolist())) == len(greedy.chosen) <= k
    assert float(w[a[greedy.chosen].any(axis=0)].sum()) == pytest.approx(greedy.objective)
    lag = siting.maximise_coverage(cover, w, k, exact=False)
    assert opt - 1e-6 <= lag.bound
    assert lag.objective <= opt + 1e-9


def test_default_path_proves_the_optimum_where_the_lagrangian_stalls():
    # 9 candidates; one demand point per pair of candidates, reached by both. Any 3 sites
    # reach 36 - C(6, 2) = 21 of the 36 pairs, while the LP relaxation (x = 1/3 each,
    # y = 2/3 each) claims 2/3 of all the weight: the Lagrangian bound, never below the
    # LP's value, cannot come near the optimum, so the proof must come from the MIP.
    rng = np.random.default_rng(7)
    pairs = list(itertools.combinations(range(9), 2))
    a = np.zeros((9, len(pairs)), dtype=bool)
    for col, (i, j) in enumerate(pairs):
        a[[i, j], col] = True
    w = rng.integers(10, 13, len(pairs)).astype(float)  # near-even weights keep the LP weak
    opt = brute_force(a, w, 3)
    assert 2 / 3 * w.sum() > 1.05 * opt  # the instance has the weak LP it is meant to have
    sol = siting.maximise_coverage(csr_array(a.astype(float)), w, 3, time_limit_s=60.0)
    assert sol.objective == pytest.approx(opt)
    assert float(w[a[sol.chosen].any(axis=0)].sum()) == pytest.approx(opt)
    assert sol.bound == pytest.approx(opt)
    assert sol.gap == 0.0
    # the Lagrangian ran, stayed far above the optimum and stopped once it stalled
    assert sol.meta["lagrangian_bound"] > 1.05 * opt
    assert sol.meta["lagrangian_iterations"] < 1000
    assert sol.meta["mip_status"] == "Optimal"


def test_identical_demand_and_candidates_are_merged():
    a = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 1, 0]], dtype=float)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    red, rw, rows, col_map = siting.reduce_instance(csr_array(a), w)
    assert red.shape == (2, 2)
    assert list(rows) == [0, 2]
    assert sorted(rw) == [3.0, 7.0]
    assert col_map[0] == col_map[1] == col_map[3] != col_map[2]


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def grid5():
    xy = {i * 5 + j: (i * 100.0, j * 100.0) for i in range(5) for j in range(5)}
    pairs = [(a, a + 1) for a in xy if a % 5 < 4] + [(a, a + 5) for a in xy if a < 20]
    return make_graph(xy, pairs)


coords = st.tuples(st.floats(-20, 420), st.floats(-20, 420))


@pytest.mark.slow
@settings(PROP, max_examples=20)
@given(
    st.lists(st.tuples(coords, st.floats(0.5, 50)), min_size=1, max_size=12),
    st.lists(coords, min_size=0, max_size=2),
    st.lists(coords, min_size=2, max_size=8),
    st.integers(1, 3),
)
def test_adding_a_site_never_lowers_coverage(grid5, dem, existing, cand_xy, k):
    nodes, edges, graph = grid5
    region = region_of(nodes, edges, features(existing), extent=(-100, -100, 500, 500))
    demand = demand_frame(dem)
    c = gpd.GeoDataFrame(
        {"candidate_id": [f"c{i}" for i in range(len(cand_xy))]},
        geometry=to4326([P(*p) for p in cand_xy]),
        crs=4326,
    )
    r1 = siting.site(region, LAYER, k, demand=demand, graph=graph, candidates=c, exact=True)
    r2 = siting.site(region, LAYER, k + 1, demand=demand, graph=graph, candidates=c, exact=True)
    col = "covered_pop_250"
    assert r2.objective >= r1.objective - 1e-9
    for r in (r1, r2):
        assert (r.summary_after[col] >= r.summary_before[col] - 1e-9).all()
        gained = r.summary_after[col] - r.summary_before[col]
        region_gain = gained[r.summary_after["level"] == "region"].item()
        assert region_gain == pytest.approx(r.objective, abs=1e-6)


# --------------------------------------------------------------------------- spopt


@pytest.mark.slow
def test_same_objective_as_spopt_mclp_with_predefined_facilities(grid5):
    """spopt's MCLP on networkx distances (an independent computation) with the
    existing facilities predefined; geoapp's total coverage must equal its objective."""
    pulp = pytest.importorskip("pulp")
    from spopt.locate import MCLP

    nodes, edges, graph = grid5
    rng = np.random.default_rng(7)
    node_xy = {i * 5 + j: (i * 100.0, j * 100.0) for i in range(5) for j in range(5)}
    dem_nodes = rng.choice(25, 14, replace=False)
    pops = rng.integers(1, 40, len(dem_nodes)).astype(float)
    cand_nodes = [n for n in range(25) if n not in (12,)][::3]
    existing = [12]  # the centre
    region = region_of(
        nodes, edges, features([node_xy[n] for n in existing]), extent=(-100, -100, 500, 500)
    )
    demand = demand_frame([(node_xy[n], p) for n, p in zip(dem_nodes, pops, strict=True)])
    c = gpd.GeoDataFrame(
        {"candidate_id": [f"n{n}" for n in cand_nodes]},
        geometry=to4326([P(*node_xy[n]) for n in cand_nodes]),
        crs=4326,
    )
    radius = 250.0
    for k in (1, 2, 3):
        res = siting.site(region, LAYER, k, demand=demand, graph=graph, candidates=c)
        # independent: networkx shortest paths on the same streets
        g = nx.Graph()
        for a, b in [(a, a + 1) for a in node_xy if a % 5 < 4] + [
            (a, a + 5) for a in node_xy if a < 20
        ]:
            g.add_edge(a, b, length=100.0)
        facs = existing + cand_nodes
        cost = np.array(
            [[nx.shortest_path_length(g, d, f, weight="length") for f in facs] for d in dem_nodes]
        )
        pre = np.array([1] * len(existing) + [0] * len(cand_nodes))
        m = MCLP.from_cost_matrix(
            cost, pops, radius, p_facilities=k + len(existing), predefined_facilities_arr=pre
        )
        m = m.solve(pulp.PULP_CBC_CMD(msg=False))
        spopt_total = float(pulp.value(m.problem.objective))
        assert res.meta["covered_after"] == pytest.approx(spopt_total)
        assert res.gap == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_on_the_demo(tmp_path):
    out = tmp_path / "sites"
    proc = subprocess.run(
        [sys.executable, "-m", "geoapp.cli", "site", "--region", "demo", "--layer",
         "elderly_care", "--new", "3", "--out", str(out), "-q", "--time-limit", "30"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gap" in proc.stdout and "objective" in proc.stdout
    files = {p.name for p in out.iterdir()}
    assert files == {
        "sites.geojson",
        "candidates.geojson",
        "summary_before.csv",
        "summary_after.csv",
        "metadata.json",
        "manifest.json",
    }
    meta = json.loads((out / "metadata.json").read_text())
    for key in ("objective", "bound", "gap", "solver", "seconds", "k", "target_m", "run_id"):
        assert key in meta
    assert meta["bound"] >= meta["objective"] - 1e-6
    sites = gpd.read_file(out / "sites.geojson")
    assert len(sites) == 3
    assert list(sites["rank"]) == [1, 2, 3]
    # no site inside a protected area or its 100 m belt
    from geoapp import workflow

    region = workflow.load_region("demo")
    rep = workflow.heritage(region)
    belts = shapely.union_all(rep.buffers.geometry.to_numpy())
    assert not shapely.intersects(sites.geometry.to_numpy(), belts).any()
    before = pd.read_csv(out / "summary_before.csv")
    after = pd.read_csv(out / "summary_after.csv")
    col = "covered_pop_60plus_15min"  # the target of the minute-based layer
    gain = (
        after.loc[after.level == "region", col].item()
        - before.loc[before.level == "region", col].item()
    )
    assert gain == pytest.approx(meta["objective"], rel=1e-6)
    # a bad K exits 2 without a traceback
    proc = subprocess.run(
        [sys.executable, "-m", "geoapp.cli", "site", "--region", "demo", "--layer",
         "elderly_care", "--new", "0", "--out", str(tmp_path / "x"), "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--new" in proc.stderr and "Traceback" not in proc.stderr
    assert not Path(tmp_path / "x").exists()
