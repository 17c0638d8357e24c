"""geoapp.location against spopt (its own SF instance and pinned values), PuLP/CBC and by hand.

References, none of them geoapp code:

* spopt's San Francisco instance (205 tracts x 16 stores, network distances; copied into
  ``tests/data/spopt`` with its licence): spopt's own test expectations (21 uncovered
  tracts and 89.756 % covered at p = 4 and 5 km, a mean distance of 2982.13 m), and
  spopt + CBC run here for every p;
* spopt's synthetic lattice instance (built with spaghetti as spopt's conftest does) and
  the values spopt's tests pin for predefined facilities (p-median 1872.509, p-center
  6.2520432);
* a 10 x 10 lattice with Manhattan distances rebuilt here, against LSCP and p-center
  models written in this file with PuLP and solved by CBC;
* a capacitated MCLP small enough to enumerate (its optimum worked out below).
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_array

from geoapp.errors import CRSError, InputError
from geoapp.location import (
    LSCP,
    MCLP,
    CapacitatedMCLP,
    InfeasibleError,
    PCenter,
    PMedian,
)

DATA = Path(__file__).parent / "data" / "spopt"


# --------------------------------------------------------------------------- SF instance


@pytest.fixture(scope="module")
def sf() -> dict:
    """spopt's TestRealWorldLocate setup, line for line."""
    dist = pd.read_csv(DATA / "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
    piv = dist.pivot_table(values="distance", index="DestinationName", columns="name")
    demand = pd.read_csv(DATA / "SF_demand_205_centroid_uniform_weight.csv")
    stores = pd.read_csv(DATA / "SF_store_site_16_longlat.csv")
    dem = (
        gpd.GeoDataFrame(demand, geometry=gpd.points_from_xy(demand.long, demand.lat))
        .sort_values(by=["NAME"])
        .reset_index()
    )
    fac = (
        gpd.GeoDataFrame(stores, geometry=gpd.points_from_xy(stores.long, stores.lat))
        .sort_values(by=["NAME"])
        .reset_index()
    )
    return {
        "cost": piv.to_numpy(),
        "ai": dem["POP2000"].to_numpy(),
        "dem": dem,
        "fac": fac,
        "radius": 5000.0,
        "p": 4,
    }


def test_sf_mclp_matches_spopts_own_expectations(sf):
    # spopt test_mclp.py TestRealWorldLocate: 21 uncovered, 89.75609756097561 %
    res = MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], sf["p"]).solve()
    assert res.n_cli_uncov == 21
    assert res.perc_cov == pytest.approx(89.75609756097561)
    assert res.status == "Optimal" and res.gap == 0
    assert len(res.sites) == 4
    # fac2cli/cli2fac agree with the cost matrix: a client is listed iff an open store is
    # within 5 km of it
    within = sf["cost"][:, res.sites] <= sf["radius"]
    assert [len(c) for c in res.cli2fac] == within.sum(axis=1).tolist()
    assert res.objective == pytest.approx(sf["ai"][within.any(axis=1)].sum())


def test_sf_pmedian_matches_spopts_mean_distance(sf):
    # spopt test_p_median.py test_mixin_mean_distance: 2982.1268579890657
    res = PMedian.from_cost_matrix(sf["cost"], sf["ai"], sf["p"]).solve()
    assert res.mean_dist == pytest.approx(2982.1268579890657, rel=1e-12)
    assert res.status == "Optimal"
    assert sum(len(c) for c in res.fac2cli) == 205  # each tract assigned once
    assert all(len(c) == 1 for c in res.cli2fac)


def test_sf_lscp_and_infeasible(sf):
    res = LSCP.from_cost_matrix(sf["cost"], sf["radius"]).solve()
    within = sf["cost"][:, res.sites] <= sf["radius"]
    assert within.any(axis=1).all()  # a cover
    assert res.objective == len(res.sites) == 8  # spopt + CBC give 8 (checked below too)
    # spopt's test_infeasibility_lscp_from_cost_matrix: radius 20 m covers no one
    with pytest.raises(InfeasibleError, match="no facility within reach"):
        LSCP.from_cost_matrix(sf["cost"], 20).solve()
    # spopt's test_infeasibility_mclp_from_cost_matrix: p = 1000 of 16 candidates
    with pytest.raises(InfeasibleError, match="only 16 candidates"):
        MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], 1000)
    with pytest.raises(InfeasibleError):
        PMedian.from_cost_matrix(sf["cost"], sf["ai"], 0)


def test_sf_at_most_k_versus_exactly_p(sf):
    at_most = MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], 1000, p_mode="at_most")
    res = at_most.solve()
    assert res.n_cli_uncov == 0 and res.objective == pytest.approx(sf["ai"].sum())
    assert len(res.sites) < 16  # stops once no store adds anyone
    exact = MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], 16).solve()
    assert len(exact.sites) == 16 and exact.objective == pytest.approx(res.objective)


@pytest.mark.slow
def test_sf_against_spopt_for_every_p(sf):
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    cbc = pulp.PULP_CBC_CMD(msg=False)
    for p in range(1, 17):
        ref = spopt_locate.MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], p)
        ref = ref.solve(cbc)
        ours = MCLP.from_cost_matrix(sf["cost"], sf["ai"], sf["radius"], p).solve()
        assert ours.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-9), p
        assert ours.n_cli_uncov == ref.n_cli_uncov, p
    for p in (1, 3, 4, 8):
        ref = spopt_locate.PMedian.from_cost_matrix(sf["cost"], sf["ai"], p).solve(cbc)
        ours = PMedian.from_cost_matrix(sf["cost"], sf["ai"], p).solve()
        assert ours.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-9), p
        ref = spopt_locate.PCenter.from_cost_matrix(sf["cost"], p).solve(cbc)
        ours = PCenter.from_cost_matrix(sf["cost"], p).solve()
        assert ours.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-6), p
    ref = spopt_locate.LSCP.from_cost_matrix(sf["cost"], sf["radius"]).solve(cbc)
    assert pulp.value(ref.problem.objective) == 8


def test_sf_from_geodataframe_as_spopt(sf):
    # spopt's from_geodataframe on lon/lat without a CRS: plain coordinate distances
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    dem, fac = sf["dem"], sf["fac"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = spopt_locate.PMedian.from_geodataframe(
            dem, fac, "geometry", "geometry", "POP2000", 4
        ).solve(pulp.PULP_CBC_CMD(msg=False))
    ours = PMedian.from_geodataframe(dem, fac, "geometry", "geometry", "POP2000", 4).solve()
    assert ours.objective == pytest.approx(pulp.value(ref.problem.objective), rel=1e-9)
    assert ours.site_ids == [int(j) for j in ours.sites]  # the frame's index


# --------------------------------------------------------------------------- spopt's lattice


@pytest.fixture(scope="module")
def spopt_lattice() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """spopt's conftest ``network_instance(100, 5)`` (spaghetti), weights as its tests draw them."""
    spaghetti = pytest.importorskip("spaghetti")
    util = pytest.importorskip("spopt.locate.util")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lattice = spaghetti.regular_lattice((0, 0, 10, 10), 9, exterior=True)
        ntw = spaghetti.Network(in_data=lattice)
        arcs = spaghetti.element_as_gdf(ntw, arcs=True)
        space = arcs["geometry"].buffer(0.2).union_all()
        street = gpd.GeoDataFrame(gpd.GeoSeries(space), crs=arcs.crs, columns=["geometry"])
        clients = util.simulated_geo_points(street, needed=100, seed=5)
        ntw.snapobservations(clients, "clients", attribute=True)
        cli = spaghetti.element_as_gdf(ntw, pp_name="clients", snapped=True)
        facilities = util.simulated_geo_points(street, needed=5, seed=6)
        ntw.snapobservations(facilities, "facilities", attribute=True)
        fac = spaghetti.element_as_gdf(ntw, pp_name="facilities", snapped=True)
    cli["weights"] = np.random.randint(1, 12, 100)  # noqa: NPY002 - as spopt's tests do
    fac["predefined_loc"] = np.array([0, 0, 0, 1, 1])
    return cli, fac


def test_spopt_pinned_values_with_predefined_facilities(spopt_lattice):
    cli, fac = spopt_lattice
    # spopt test_p_median.py: known_objval 1872.5093264630818, mean 3.0299503664451164,
    # facilities y_1, y_3, y_4 (y_3 and y_4 predefined)
    pm = PMedian.from_geodataframe(
        cli, fac, "geometry", "geometry", "weights", 3, predefined_facility_col="predefined_loc"
    ).solve()
    assert pm.objective == pytest.approx(1872.5093264630818)
    assert pm.mean_dist == pytest.approx(3.0299503664451164)
    assert pm.sites.tolist() == [1, 3, 4]
    # spopt test_p_center.py: known_objval 6.2520432, facilities y_2, y_3, y_4
    pc = PCenter.from_geodataframe(
        cli, fac, "geometry", "geometry", 3, predefined_facility_col="predefined_loc"
    ).solve()
    assert pc.objective == pytest.approx(6.2520432)
    assert pc.sites.tolist() == [2, 3, 4]


# --------------------------------------------------------------------------- 10 x 10 lattice


def _grid() -> np.ndarray:
    xy = np.array([(x, y) for x in range(10) for y in range(10)], dtype=float)
    return np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)  # Manhattan, 100 x 100


def _cbc_lscp(cost: np.ndarray, radius: float, predefined=()) -> float:
    pulp = pytest.importorskip("pulp")
    n_c, n_f = cost.shape
    prob = pulp.LpProblem("lscp", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(n_f)]
    prob += pulp.lpSum(y)
    for i in range(n_c):
        prob += pulp.lpSum(y[j] for j in range(n_f) if cost[i, j] <= radius) >= 1
    for j in predefined:
        prob += y[j] == 1
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(prob.objective)


def _cbc_pcenter(cost: np.ndarray, p: int) -> float:
    """p-center in Elloumi's (2004) radius formulation, written in PuLP, solved by CBC.

    ``u_k = 1`` when the radius exceeds the k-th distinct distance ``D_k``; the radius is
    ``D_0 + sum_k (D_k - D_{k-1}) u_k``, and client ``i`` needs ``u_k = 1`` or an open
    facility closer than ``D_k``.
    """
    pulp = pytest.importorskip("pulp")
    n_c, n_f = cost.shape
    dist = np.unique(cost)
    prob = pulp.LpProblem("pcenter", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(n_f)]
    u = [pulp.LpVariable(f"u{k}", cat="Binary") for k in range(len(dist))]
    prob += dist[0] + pulp.lpSum((dist[k] - dist[k - 1]) * u[k] for k in range(1, len(dist)))
    prob += pulp.lpSum(y) == p
    for k in range(2, len(dist)):
        prob += u[k] <= u[k - 1]
    for i in range(n_c):
        for k in range(1, len(dist)):
            prob += u[k] + pulp.lpSum(y[j] for j in np.flatnonzero(cost[i] < dist[k])) >= 1
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(prob.objective)


def _brute_pcenter(cost: np.ndarray, p: int) -> float:
    """Smallest largest distance over every set of ``p`` sites (p <= 2)."""
    if p == 1:
        return float(cost.max(axis=0).min())
    a, b = np.triu_indices(cost.shape[1], 1)
    return float(np.minimum(cost[:, a], cost[:, b]).max(axis=0).min())


@pytest.mark.slow
@pytest.mark.parametrize("radius", [1, 2, 3])
def test_lattice_lscp_against_cbc(radius):
    cost = _grid()
    res = LSCP.from_cost_matrix(cost, radius).solve()
    assert res.objective == _cbc_lscp(cost, radius)
    assert (cost[:, res.sites] <= radius).any(axis=1).all()
    # predefined corner facility kept open
    pre = LSCP.from_cost_matrix(cost, radius, predefined_facilities_arr=[0]).solve()
    assert 0 in pre.sites and pre.objective == _cbc_lscp(cost, radius, predefined=[0])


@pytest.mark.slow
def test_lattice_pcenter_against_cbc():
    cost = _grid()
    for p in (1, 2, 5):
        res = PCenter.from_cost_matrix(cost, p).solve()
        if p <= 2:
            assert res.objective == _brute_pcenter(cost, p)
        else:
            assert res.objective == pytest.approx(_cbc_pcenter(cost, p)), p
        assert len(res.sites) == p and res.status == "Optimal"
    # by hand: a coordinate in 0..9 is at least 5 from one end, so one centre is at least
    # 5 + 5 = 10 steps from some corner, and (4, 4) is exactly 10 from (9, 9)
    assert PCenter.from_cost_matrix(cost, 1).solve().objective == 10


def test_lattice_sparse_cost_matrix_equals_dense():
    cost = _grid()
    sparse = csr_array(np.where(cost <= 3, cost, 0))  # 0 off-diagonal = not stored
    sparse = csr_array((cost[cost <= 3], np.nonzero(cost <= 3)), shape=cost.shape)
    dense = MCLP.from_cost_matrix(cost, np.ones(100), 2, 5).solve()
    sp = MCLP.from_cost_matrix(sparse, np.ones(100), 2, 5).solve()
    assert sp.objective == dense.objective
    assert LSCP.from_cost_matrix(sparse, 3).solve().objective == _cbc_lscp(cost, 3)


# --------------------------------------------------------------------------- capacitated MCLP


def _line_instance() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six clients and three sites on a line, radius 3.

    Clients (position, weight): d0 (0, 4), d1 (2, 3), d2 (10, 5), d3 (8, 2), d4 (5, 6),
    d5 (3, 2). Sites (position, capacity): A (0, 5), B (10, 7), C (5, 6). Within 3:
    A reaches d0, d1, d5; B reaches d2, d3; C reaches d1, d3, d4, d5.

    Uncapacitated, p = 2: B + C reach d1-d5 = 18 (A + C 17, A + B 16).
    Capacitated, whole clients, at most 2 sites:
    * B + C: B takes d2 + d3 = 7 (its capacity); C takes d4 = 6 (its capacity; d1 + d5 = 5
      is less): 13.
    * A + C: A at most 5 of {4, 3, 2} (d1 + d5 = 5); C then d4 = 6: 11.
    * A + B: 5 + 7 = 12. A single site: at most 7.
    Optimum 13: B serves d2, d3; C serves d4; d0, d1, d5 unserved.
    With d4's weight 7 (more than C holds): whole clients give 12 (B 7 + C d1 + d5 = 5,
    or A + B 5 + 7); split clients give 13 (B 7 + C 6 of d4's 7).
    """
    pos_d = np.array([0, 2, 10, 8, 5, 3], dtype=float)
    pos_f = np.array([0, 10, 5], dtype=float)
    w = np.array([4, 3, 5, 2, 6, 2], dtype=float)
    cap = np.array([5, 7, 6], dtype=float)
    return np.abs(pos_d[:, None] - pos_f[None, :]), w, cap


def _enumerate(cost, w, cap, radius, p) -> float:
    """Best served weight over every whole-client assignment (3^6 of them at most)."""
    options = [[-1, *np.flatnonzero(cost[i] <= radius).tolist()] for i in range(len(w))]
    best = 0.0
    for a in itertools.product(*options):
        a = np.asarray(a)
        on = a >= 0
        if len(set(a[on].tolist())) > p:
            continue
        if (np.bincount(a[on], weights=w[on], minlength=len(cap)) <= cap).all():
            best = max(best, float(w[on].sum()))
    return best


def test_capacitated_mclp_known_optimum():
    cost, w, cap = _line_instance()
    plain = MCLP.from_cost_matrix(cost, w, 3, 2).solve()
    assert plain.objective == 18 and plain.sites.tolist() == [1, 2]
    res = CapacitatedMCLP.from_cost_matrix(cost, w, 3, 2, cap).solve()
    assert res.objective == 13 == _enumerate(cost, w, cap, 3, 2)
    assert res.sites.tolist() == [1, 2]
    assert res.fac2cli == [[], [2, 3], [4]]
    assert res.cli2fac == [[], [], [1], [1], [2], []]
    assert res.n_cli_uncov == 3 and res.perc_cov == pytest.approx(50.0)
    assert (res.meta["load"] <= cap + 1e-9).all()
    # splitting changes nothing here: both used sites are full
    assert CapacitatedMCLP.from_cost_matrix(cost, w, 3, 2, cap, split=True).solve().objective == 13


def test_capacitated_mclp_whole_versus_split_clients():
    cost, w, cap = _line_instance()
    w[4] = 7.0
    whole = CapacitatedMCLP.from_cost_matrix(cost, w, 3, 2, cap).solve()
    assert whole.objective == 12 == _enumerate(cost, w, cap, 3, 2)
    split = CapacitatedMCLP.from_cost_matrix(cost, w, 3, 2, cap, split=True).solve()
    assert split.objective == pytest.approx(13)
    assert split.meta["served"][4] == pytest.approx(6.0)  # 6 of d4's 7


def test_capacitated_mclp_predefined_and_exact_p():
    cost, w, cap = _line_instance()
    # A kept open: A + one more, at most 2: A (d1 + d5 = 5) + B (7) = 12 beats A + C (11)
    res = CapacitatedMCLP.from_cost_matrix(cost, w, 3, 2, cap, predefined_facilities_arr=[0])
    out = res.solve()
    assert out.objective == 12 and out.sites.tolist() == [0, 1]
    three = CapacitatedMCLP.from_cost_matrix(cost, w, 3, 3, cap, p_mode="exactly").solve()
    assert len(three.sites) == 3
    assert three.objective == 5 + 7 + 6  # every site full: d1+d5 | d2+d3 | d4


# --------------------------------------------------------------------------- options, errors


def test_predefined_facilities_count_towards_p():
    cost = _grid()
    w = np.ones(100)
    free = MCLP.from_cost_matrix(cost, w, 2, 3).solve()
    forced = MCLP.from_cost_matrix(cost, w, 2, 3, predefined_facilities_arr=[0]).solve()
    assert 0 in forced.sites and len(forced.sites) == 3
    assert forced.objective <= free.objective
    # the corner covers 6 points within 2 steps; brute force over the other two
    a, b = np.triu_indices(100, 1)
    near = cost <= 2
    best = (near[:, [0]] | near[:, a] | near[:, b]).sum(axis=0).max()
    assert forced.objective == best
    with pytest.raises(InfeasibleError, match="fewer than the 2 predefined"):
        MCLP.from_cost_matrix(cost, w, 2, 1, predefined_facilities_arr=[0, 1])
    pm = PMedian.from_cost_matrix(cost, w, 2, predefined_facilities_arr=[99]).solve()
    assert 99 in pm.sites


def test_pmedian_and_pcenter_at_most_beyond_candidates():
    cost = _grid()[:, :3]  # 3 candidates
    with pytest.raises(InfeasibleError, match="only 3 candidates"):
        PMedian.from_cost_matrix(cost, np.ones(100), 5)
    res = PMedian.from_cost_matrix(cost, np.ones(100), 5, p_mode="at_most").solve()
    assert len(res.sites) == 3


def test_input_errors():
    cost = _grid()
    with pytest.raises(InputError, match="weights: 3 values for 100"):
        MCLP.from_cost_matrix(cost, [1, 2, 3], 2, 2)
    with pytest.raises(InputError, match="costs must be >= 0"):
        LSCP.from_cost_matrix(-cost, 2)
    with pytest.raises(InputError, match="p_mode"):
        PMedian.from_cost_matrix(cost, np.ones(100), 2, p_mode="some")
    with pytest.raises(InputError, match="service_radius"):
        LSCP.from_cost_matrix(cost, float("nan"))
    a = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0], [0]), crs="EPSG:4326")
    b = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0], [0]), crs="EPSG:3857")
    with pytest.raises(CRSError, match="different"):
        LSCP.from_geodataframe(a, b, "geometry", "geometry", 10)


def test_geographic_frames_are_measured_in_metres():
    # two points 0.01 degrees of latitude apart (about 1,111 m) near the equator
    dem = gpd.GeoDataFrame(
        {"w": [1.0, 1.0]}, geometry=gpd.points_from_xy([30.0, 30.0], [0.0, 0.01]), crs=4326
    )
    fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0], [0.0]), crs=4326)
    assert (
        MCLP.from_geodataframe(dem, fac, "geometry", "geometry", "w", 1000, 1).solve().objective
        == 1
    )
    assert (
        MCLP.from_geodataframe(dem, fac, "geometry", "geometry", "w", 1200, 1).solve().objective
        == 2
    )


# --------------------------------------------------------------------------- CLI


def test_cli_site_with_a_demand_table(tmp_path):
    """The line instance above in WGS84 near the equator (0.001 degree = 111.3 m)."""
    import json

    from geoapp.cli import main

    lon_d = 30.0 + np.array([0, 2, 10, 8, 5, 3]) / 1000
    pd.DataFrame({"lon": lon_d, "lat": 0.0, "weight": [4, 3, 5, 2, 6, 2]}).to_csv(
        tmp_path / "d.csv", index=False
    )
    pd.DataFrame(
        {"name": ["A", "B", "C"], "lon": [30.0, 30.01, 30.005], "lat": 0.0, "beds": [5, 7, 6]}
    ).to_csv(tmp_path / "c.csv", index=False)
    common = ["site", "--demand", str(tmp_path / "d.csv"), "--candidates", str(tmp_path / "c.csv")]
    common += ["--radius", "340", "--new", "2", "-q"]  # 3 units = 334 m
    assert (
        main([*common, "--model", "cmclp", "--capacity", "beds", "--out", str(tmp_path / "a")]) == 0
    )
    meta = json.loads((tmp_path / "a" / "metadata.json").read_text())
    assert meta["objective"] == 13 and meta["status"] == "Optimal"
    sites = gpd.read_file(tmp_path / "a" / "sites.geojson")
    assert sites["name"].tolist() == ["B", "C"]
    assign = pd.read_csv(tmp_path / "a" / "assignments.csv")
    assert assign["site"].tolist() == [-1, -1, 1, 1, 2, -1]
    assert main([*common, "--out", str(tmp_path / "b")]) == 0  # default model: MCLP
    assert json.loads((tmp_path / "b" / "metadata.json").read_text())["objective"] == 18
    # a user error names the option and exits 2
    assert main([*common, "--model", "cmclp", "--out", str(tmp_path / "c")]) == 2
