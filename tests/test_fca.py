"""The FCA family (geoapp.fca) against PySAL access on access's own test grids, and by hand.

The grids are rebuilt as in access's tests (``access/tests/util.py``, BSD-3-Clause,
PySAL developers): an n x n lattice of points ``id = 1..n²`` at integer x, y, values 1
or ``random.randint(1, 200)`` with ``random.seed(44)``, and the full euclidean cost
matrix between them. access's expected values (5 on the large catchment, 1 on the
small, NaN on a zero catchment) are asserted as in its tests, and every method is
compared with access's functions on random-valued grids.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from access import fca as afca
from access import weights as aw
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp import fca
from geoapp.errors import InputError

# access's own deprecations and its "tracts unaccounted for" notice on partial tables
pytestmark = [
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
    pytest.mark.filterwarnings("ignore:some tracts may be unaccounted"),
]


def grid(n: int, *, random_values: bool = False, seed: int = 44) -> pd.DataFrame:
    """access's ``create_nxn_grid`` without the geometry column."""
    random.seed(seed)
    rows = []
    i = 0
    for x in range(n):
        for y in range(n):
            value = random.randint(1, 200) if random_values else 1
            i += 1
            rows.append({"id": i, "x": x, "y": y, "value": value})
    return pd.DataFrame(rows)


def cost_frame(
    origins: pd.DataFrame, dests: pd.DataFrame, metric: str = "euclidean"
) -> pd.DataFrame:
    """access's ``create_cost_matrix``: every origin to every destination."""
    o = origins[["id", "x", "y"]].to_numpy(dtype=float)
    d = dests[["id", "x", "y"]].to_numpy(dtype=float)
    dx = o[:, None, 1] - d[None, :, 1]
    dy = o[:, None, 2] - d[None, :, 2]
    c = np.hypot(dx, dy) if metric == "euclidean" else np.abs(dx) + np.abs(dy)
    return pd.DataFrame(
        {
            "origin": np.repeat(origins["id"].to_numpy(), len(dests)),
            "dest": np.tile(dests["id"].to_numpy(), len(origins)),
            "cost": c.ravel(),
        }
    )


def ours(method, dem, sup, costs_df, **kw):
    table = fca.CostTable.from_frame(costs_df, origins=dem["id"], dests=sup["id"])
    return method(dem["value"].to_numpy(), sup["value"].to_numpy(), table, **kw)


def theirs(func, dem, sup, costs_df, **kw):
    out = func(
        dem.set_index("id").rename(columns={"value": "demand"}),
        sup.set_index("id").rename(columns={"value": "supply"}),
        costs_df,
        demand_index=True,
        demand_name="demand",
        supply_name="supply",
        **kw,
    )
    return out.reindex(dem["id"]).to_numpy(dtype=float)


# ---------------------------------------------------------------- access's own expectations


@pytest.fixture
def access_setup():
    """access's TestFloatingCatchmentArea: 5x5 supply of 1, 5 sampled demand points of 1."""
    sup = grid(5)
    dem = sup.sample(5, random_state=0)
    # access's fixture uses the supply-to-supply matrix; the demand rows of it
    costs = cost_frame(dem, sup)
    return dem, sup, costs


@pytest.mark.parametrize(
    ("method", "kw"),
    [
        (fca.two_step, {}),
        (fca.enhanced_two_step, {"max_cost": 1e9}),
        (fca.three_step, {"weight": fca.Step(((10.0, 25.0),))}),
    ],
)
def test_access_expectations_large_catchment(access_setup, method, kw):
    dem, sup, costs = access_setup
    # 25 facilities of 1, 5 residents in every catchment: 25 / 5 = 5 everywhere
    np.testing.assert_allclose(ours(method, dem, sup, costs, **kw), 5.0)


@pytest.mark.parametrize("method", [fca.two_step, fca.enhanced_two_step, fca.three_step])
def test_access_expectations_small_and_zero_catchment(access_setup, method):
    dem, sup, costs = access_setup
    # within 0.9 each resident reaches only the facility on its own point: 1 / 1
    np.testing.assert_allclose(ours(method, dem, sup, costs, max_cost=0.9), 1.0)
    # a negative catchment holds nothing: NaN, as access
    assert np.isnan(ours(method, dem, sup, costs, max_cost=-1)).all()


def test_ratio_access_expectations(access_setup):
    _, sup, _ = access_setup
    dem = sup.copy()  # access's fca_ratio fixture: its neighbour table is supply to supply
    s_costs = fca.CostTable.from_frame(cost_frame(dem, sup), origins=dem["id"], dests=sup["id"])
    d_costs = fca.CostTable.from_frame(cost_frame(dem, dem), origins=dem["id"], dests=dem["id"])
    p, s = dem["value"].to_numpy(), sup["value"].to_numpy()
    # large catchment: total supply / total demand
    np.testing.assert_allclose(fca.ratio(p, s, s_costs, d_costs), 25 / 25)
    np.testing.assert_allclose(fca.ratio(p, s, s_costs, d_costs, max_cost=0.9), 1.0)
    assert np.isnan(fca.ratio(p, s, s_costs, d_costs, max_cost=-1)).all()


# ---------------------------------------------------------------- against access, random values


@pytest.fixture(params=[(6, "euclidean"), (5, "manhattan")])
def random_grids(request):
    n, metric = request.param
    sup = grid(n, random_values=True, seed=44)
    dem = grid(n, random_values=True, seed=7)
    dem = dem.assign(x=dem["x"] + 0.3, y=dem["y"] + 0.1, id=dem["id"] + 1000)
    return dem, sup, cost_frame(dem, sup, metric)


@pytest.mark.parametrize("max_cost", [1.5, 2.7, 100.0])
def test_two_step_against_access(random_grids, max_cost):
    dem, sup, costs = random_grids
    expected = theirs(afca.two_stage_fca, dem, sup, costs, max_cost=max_cost)
    np.testing.assert_allclose(ours(fca.two_step, dem, sup, costs, max_cost=max_cost), expected)


@pytest.mark.parametrize("max_cost", [2.0, 3.3])
def test_e2sfca_against_access(random_grids, max_cost):
    dem, sup, costs = random_grids
    third = max_cost / 3
    step = aw.step_fn({third: 1, 2 * third: 0.68, max_cost: 0.22})
    expected = theirs(afca.two_stage_fca, dem, sup, costs, max_cost=max_cost, weight_fn=step)
    got = ours(fca.enhanced_two_step, dem, sup, costs, max_cost=max_cost)
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("sigma", [0.8, 2.0])
def test_gaussian_against_access(random_grids, sigma):
    dem, sup, costs = random_grids
    expected = theirs(
        afca.two_stage_fca, dem, sup, costs, max_cost=3.0, weight_fn=aw.gaussian(sigma)
    )
    got = ours(fca.two_step, dem, sup, costs, max_cost=3.0, weight=fca.Gaussian(sigma))
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize(("scale", "alpha", "min_cost"), [(1.0, -1.0, 0.5), (2.0, -2.0, 1.0)])
def test_gravity_against_access(random_grids, scale, alpha, min_cost):
    dem, sup, costs = random_grids
    fn = aw.gravity(scale, alpha, min_dist=min_cost)
    expected = theirs(afca.two_stage_fca, dem, sup, costs, max_cost=4.0, weight_fn=fn)
    got = ours(
        fca.gravity, dem, sup, costs, max_cost=4.0, weight=fca.Gravity(scale, alpha, min_cost)
    )
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("bound", [2.5, 4.0])
def test_three_step_against_access(random_grids, bound):
    """access's 3SFCA takes the selection weight over every pair it is given, ours over
    the pairs in reach: the two agree when the weight is 0 beyond the reach."""
    dem, sup, costs = random_grids
    steps = {bound / 2: 1.0, bound: 0.4}
    expected = theirs(
        afca.three_stage_fca, dem, sup, costs.copy(), max_cost=bound, weight_fn=aw.step_fn(steps)
    )
    got = ours(
        fca.three_step, dem, sup, costs, max_cost=bound, weight=fca.Step(tuple(steps.items()))
    )
    np.testing.assert_allclose(got, expected)


def test_ratio_against_access(random_grids):
    dem, sup, costs = random_grids
    d_costs = cost_frame(dem, dem)
    expected = afca.fca_ratio(
        dem.set_index("id").rename(columns={"value": "demand"}),
        sup.set_index("id").rename(columns={"value": "supply"}),
        d_costs,  # demand to demand: the demand within reach of each location
        costs,  # demand to supply: the supply within reach of each location
        max_cost=2.2,
        demand_index=True,
        supply_index=True,
        demand_name="demand",
        supply_name="supply",
    ).reindex(dem["id"])
    got = fca.ratio(
        dem["value"].to_numpy(),
        sup["value"].to_numpy(),
        fca.CostTable.from_frame(costs, origins=dem["id"], dests=sup["id"]),
        fca.CostTable.from_frame(d_costs, origins=dem["id"], dests=dem["id"]),
        max_cost=2.2,
    )
    np.testing.assert_allclose(got, expected.to_numpy(dtype=float))


# ---------------------------------------------------------------- by hand


def test_by_hand_asymmetric_and_two_supply_types():
    """Two residents' places, two facilities; costs differ by direction of the table.

    a (10 residents) reaches F (cost 1) and G (cost 3); b (30) reaches only G (cost 2).
    Beds: F 4, G 8; doctors: F 1, G NaN (unknown). 2SFCA, uniform, reach 5:
    beds: R_F = 4/10, R_G = 8/40 -> A_a = 0.4 + 0.2 = 0.6, A_b = 0.2.
    doctors: R_F = 1/10, G unknown -> A_a = 0.1, b reaches no known doctor: NaN.
    """
    costs = fca.CostTable.from_frame(
        pd.DataFrame({"origin": ["a", "a", "b"], "dest": ["F", "G", "G"], "cost": [1, 3, 2]}),
        origins=["a", "b"],
        dests=["F", "G"],
    )
    supply = np.array([[4.0, 1.0], [8.0, np.nan]])
    got = fca.two_step([10, 30], supply, costs, max_cost=5)
    np.testing.assert_allclose(got, [[0.6, 0.1], [0.2, np.nan]])
    # identity of 2SFCA: sum A_i P_i is the supply that reaches someone
    assert got[:, 0] @ [10, 30] == pytest.approx(12.0)
    # 3SFCA, uniform: a splits its 10 between F and G (G = 1/2 each)
    # D_F = 0.5*10 = 5, D_G = 0.5*10 + 1*30 = 35; A_a = 0.5*4/5 + 0.5*8/35, A_b = 8/35
    got3 = fca.three_step([10, 30], supply[:, 0], costs, max_cost=5)
    np.testing.assert_allclose(got3, [0.4 + 4 / 35, 8 / 35])
    assert got3 @ [10, 30] == pytest.approx(12.0)


def test_from_matrix_and_frame_agree():
    dense = np.array([[1.0, np.inf], [0.0, 2.0]])
    a = fca.CostTable.from_matrix(dense)
    from scipy.sparse import coo_array, csr_array

    sparse = csr_array((np.array([1.0, 0.0, 2.0]), (np.array([0, 1, 1]), np.array([0, 0, 1]))))
    b = fca.CostTable.from_matrix(sparse)
    # a COO array with a pair twice keeps its smaller cost (never the sum)
    coo = coo_array(
        (np.array([1.0, 0.0, 2.0, 5.0]), (np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1])))
    )
    c = fca.CostTable.from_matrix(coo)
    assert c.cost.tolist() == [1.0, 0.0, 2.0]
    for t in (a, b, c):
        np.testing.assert_allclose(fca.two_step([1, 1], [2, 2], t), [1.0, 1.0 + 2.0])


def test_bad_cost_tables_name_the_problem():
    frame = pd.DataFrame({"origin": [1, 9], "dest": [1, 1], "cost": [1.0, 2.0]})
    with pytest.raises(InputError, match="not among the origins"):
        fca.CostTable.from_frame(frame, origins=[1, 2], dests=[1])
    frame = pd.DataFrame({"origin": [1, 2], "dest": [1, 1], "cost": [1.0, -2.0]})
    with pytest.raises(InputError, match="row 1"):
        fca.CostTable.from_frame(frame, origins=[1, 2], dests=[1])
    with pytest.raises(InputError, match="method"):
        fca.compute("4sfca", [1], [1], fca.CostTable.from_matrix([[1.0]]), max_cost=1)
    with pytest.raises(InputError, match="min_cost"):
        fca.two_step([1], [1], fca.CostTable.from_matrix([[0.0]]), weight=fca.Gravity(1, -1))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["2sfca", "e2sfca", "3sfca", "gravity"]),
)
def test_identity_and_nan_rule(n, m, seed, method):
    """Invariants: sum A_i P_i equals the supply reaching positive demand for the
    normalised methods (2SFCA any weight, 3SFCA); NaN exactly where nothing is in reach."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, size=(n, m))
    cost[rng.random((n, m)) < 0.4] = np.inf
    p = rng.integers(1, 50, size=n).astype(float)
    s = rng.integers(0, 20, size=m).astype(float)
    table = fca.CostTable.from_matrix(cost)
    a = fca.compute(method, p, s, table, max_cost=8.0)
    in_reach = (cost <= 8.0).any(axis=1)
    assert (np.isnan(a) == ~in_reach).all()
    if method in ("2sfca", "3sfca"):
        reaching = (cost <= 8.0).any(axis=0)
        assert np.nansum(a * p) == pytest.approx(s[reaching].sum(), rel=1e-9, abs=1e-9)
    assert not math.isnan(float(np.nansum(a)))
