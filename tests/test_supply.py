"""Capacity and supply: 2SFCA on hand-built instances, its identity, PySAL access, tags.

Hand-built street (metres in UTM 50N, offset by (X0, Y0)); every point lies ON the street
(access legs 0), so network distances are differences of x::

    A(0) --- B(100) --- C(200) --- D(300)        E(1000) -- F(1100)        G(2000) -- H(2100)

demand   x      60+   | facility  x     capacity
d1       0      10    | f1        50    100
d2       100    20    | f2        250   60
d3       200    30    | f3        2050  50   (its own street: reaches no demand)
d4       300    40    | f4        100   unknown (NaN)
d5       1050   5     |

Reach 120 m. f1 reaches d1, d2 (50 m each): demand 30, R1 = 100/30. f2 reaches d3, d4:
demand 70, R2 = 60/70. f4 reaches d1, d2, d3 (100, 0, 100 m). So sfca = 10/3 for d1
and d2, 6/7 for d3 and d4, 0 for d5; sum(sfca x 60+) = 160 = capacity of f1 + f2.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fixtures import CRS, X0, Y0, P, street
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geoapp import network
from geoapp import sfca as supply
from geoapp.catalog import load_catalog, parse_layer_file
from geoapp.errors import InputError, LayerFileError
from geoapp.layers import select_features
from geoapp.sources.capacity import parse_capacity
from geoapp.sources.facilities_table import read_facility_table


@pytest.fixture(scope="module")
def graph():
    xy = {
        1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0),
        5: (1000, 0), 6: (1100, 0), 7: (2000, 0), 8: (2100, 0),
    }  # fmt: skip
    return street(xy, [(1, 2), (2, 3), (3, 4), (5, 6), (7, 8)])


@pytest.fixture(scope="module")
def layer():
    base = load_catalog()["elderly_care"]
    # a metre-based version of the shipped (minute-based) layer, for hand-worked reaches
    return replace(
        base,
        minutes=(),
        target_min=None,
        target_m=120.0,
        radii_m=(120.0,),
        capacity={"unit": "beds", "per_1000": 40},
    )


def demand_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(1, 6)],
            "pop": [40.0, 80.0, 100.0, 120.0, 20.0],
            "pop_60plus": [10.0, 20.0, 30.0, 40.0, 5.0],
            "district": ["North", "North", "South", "South", "South"],
            "district_code": ["N", "N", "S", "S", "S"],
            "zone_type": ["core", "core", "core", "rural", "rural"],
            "settlement": ["core", "core", "core", "rural", "rural"],
        },
        geometry=[P(0), P(100), P(200), P(300), P(1050)],
        crs=CRS,
    )


def facility_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2", "f3", "f4"],
            "capacity": [100.0, 60.0, 50.0, np.nan],
            "capacity_source": ["osm", "table", "osm", ""],
        },
        geometry=[P(50), P(250), P(2050), P(100)],
        crs=CRS,
    )


# d5 reaches no facility of known capacity: NaN (nothing in reach), not 0
EXPECTED = np.array([10 / 3, 10 / 3, 6 / 7, 6 / 7, np.nan])


# --------------------------------------------------------------------------- 2SFCA


@pytest.mark.parametrize("mode", ["network", "euclidean"])
def test_hand_built_2sfca(graph, layer, mode):
    dem, fac = demand_frame(), facility_frame()
    out = supply.two_step_fca(dem, fac, layer, graph=graph, mode=mode)
    np.testing.assert_allclose(out["sfca"], EXPECTED, rtol=1e-12)
    np.testing.assert_allclose(out["sfca_per_1000"], EXPECTED * 1000, rtol=1e-12)
    assert (dem.columns == demand_frame().columns).all() and "sfca" not in dem.columns
    assert fac["capacity"].isna().sum() == 1  # input unchanged

    res = supply.compute_supply(dem, fac, layer, graph=graph, mode=mode)
    f = res.facilities.set_index("facility_id")
    assert f["serves_demand"].to_dict() == {"f1": True, "f2": True, "f3": False, "f4": True}
    np.testing.assert_allclose(f["demand_in_reach"], [30, 70, 0, 60])
    np.testing.assert_allclose(f["supply_ratio"].iloc[:2], [100 / 30, 60 / 70])
    assert f["supply_ratio"].iloc[2:].isna().all()  # no demand / unknown capacity
    # the identity: capacity of the facilities that reach demand (f3 reaches none)
    total = float((res.demand["sfca"] * res.demand["pop_60plus"]).sum())
    assert total == pytest.approx(160.0, rel=1e-12)
    assert any("1 of 4" in w and "no known capacity" in w for w in res.warnings)
    assert any("1 of 4" in w and "within 120 m" in w and "50 beds" in w for w in res.warnings)


def test_layer_default_fills_unknown_capacity(graph, layer):
    with_default = replace(layer, capacity={**layer.capacity, "default": 12})
    res = supply.compute_supply(demand_frame(), facility_frame(), with_default, graph=graph)
    f = res.facilities.set_index("facility_id")
    assert f.loc["f4", "capacity"] == 12 and f.loc["f4", "capacity_source"] == "layer_default"
    assert f.loc["f1", "capacity_source"] == "osm"
    # f4's 12 beds over d1+d2+d3 (60 aged 60+): + 1/5 for each of them
    np.testing.assert_allclose(res.demand["sfca"], EXPECTED + [0.2, 0.2, 0.2, 0, 0], rtol=1e-12)
    region = res.table.iloc[0]
    assert region["n_capacity_default"] == 1 and region["n_capacity_unknown"] == 0
    assert region["capacity"] == 222
    assert any("layer default of 12 beds" in w for w in res.warnings)


def test_gaussian_decay_by_hand(graph, layer):
    out = supply.two_step_fca(
        demand_frame(), facility_frame(), layer, graph=graph, decay="gaussian"
    )

    def g(d, d0=120.0):
        e = math.exp(-0.5)
        return (math.exp(-0.5 * (d / d0) ** 2) - e) / (1 - e)

    # f1: d1 and d2 at 50 m; f2: d3 and d4 at 50 m (symmetric), so G(50) cancels in R
    r1 = 100 / (g(50) * 10 + g(50) * 20)
    r2 = 60 / (g(50) * 30 + g(50) * 40)
    np.testing.assert_allclose(
        out["sfca"], [g(50) * r1, g(50) * r1, g(50) * r2, g(50) * r2, np.nan], rtol=1e-12
    )
    with pytest.raises(InputError, match="decay"):
        supply.two_step_fca(demand_frame(), facility_frame(), layer, graph=graph, decay="linear")


def _gauss(d, d0=120.0):
    e = math.exp(-0.5)
    return (math.exp(-0.5 * (d / d0) ** 2) - e) / (1 - e)


@pytest.mark.parametrize("decay", [None, "gaussian"])
def test_against_pysal_access(graph, layer, decay):
    """PySAL access's 2SFCA on the same cost table (our sparse OD matrix) agrees."""
    from access import fca

    # moved off the symmetric positions so that the decay weights differ: f1 is 30 and
    # 50 m from d1 and d2, f2 70 and 50 m from d3 and d4
    dem = demand_frame().set_geometry([P(20), P(100), P(180), P(300), P(1050)], crs=CRS)
    fac = facility_frame().iloc[:3]  # access has no notion of unknown capacity
    od = network.od_matrix(graph, dem, fac, 120.0).tocoo()
    cost = pd.DataFrame(
        {"origin": dem["demand_id"].to_numpy()[od.row], "dest": fac["facility_id"].to_numpy()[od.col],
         "cost": od.data}
    )  # fmt: skip
    ref = fca.two_stage_fca(
        dem[["demand_id", "pop_60plus"]].set_index("demand_id"),
        fac[["facility_id", "capacity"]].set_index("facility_id"),
        cost,
        max_cost=120.0,
        demand_index=True,
        demand_name="pop_60plus",
        supply_index=True,
        supply_name="capacity",
        weight_fn=_gauss if decay else None,
    )
    ours = supply.two_step_fca(dem, fac, layer, graph=graph, decay=decay)
    ours = ours.set_index("demand_id")["sfca"]
    ref = ref.reindex(ours.index)  # NaN where nothing is in reach, in both
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 25))
    m = draw(st.integers(1, 8))
    coords = st.floats(0, 2000, allow_nan=False)
    dx = draw(st.lists(coords, min_size=n, max_size=n))
    dy = draw(st.lists(coords, min_size=n, max_size=n))
    # residents: none, or at least a millionth of one (a population of 1e-308 makes the
    # ratio capacity / demand overflow to inf, a float limit, not a planning case)
    residents = st.one_of(st.just(0.0), st.floats(1e-6, 500, allow_nan=False))
    pop = draw(st.lists(residents, min_size=n, max_size=n))
    fx = draw(st.lists(coords, min_size=m, max_size=m))
    fy = draw(st.lists(coords, min_size=m, max_size=m))
    cap = draw(
        st.lists(
            st.one_of(st.floats(0, 400, allow_nan=False), st.just(np.nan)), min_size=m, max_size=m
        )
    )
    reach = draw(st.floats(50, 1500))
    return dx, dy, pop, fx, fy, cap, reach


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_identity_on_random_instances(layer, inst):
    """sum(sfca x demand) == capacity of the facilities that reach demand (no decay)."""
    dx, dy, pop, fx, fy, cap, reach = inst
    dem = gpd.GeoDataFrame(
        {"pop": pop, "pop_60plus": pop},
        geometry=[P(x, y) for x, y in zip(dx, dy, strict=True)],
        crs=CRS,
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(fx))], "capacity": cap},
        geometry=[P(x, y) for x, y in zip(fx, fy, strict=True)],
        crs=CRS,
    )
    res = supply.compute_supply(dem, fac, layer, mode="euclidean", reach_m=reach)
    total = float((res.demand["sfca"] * res.demand["pop_60plus"]).sum())
    f = res.facilities
    expected = float(f.loc[f["serves_demand"], "capacity"].sum())  # NaN (unknown) skipped
    assert total == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # serves_demand, checked by a hand-written distance filter
    d = np.hypot(np.subtract.outer(dx, fx), np.subtract.outer(dy, fy))
    reached = ((d <= reach) & (np.asarray(pop)[:, None] > 0)).any(axis=0)
    np.testing.assert_array_equal(f["serves_demand"].to_numpy(), reached)
    sf = res.demand["sfca"].to_numpy(dtype=float)
    assert (sf[~np.isnan(sf)] >= 0).all()
    # NaN exactly where no facility of known capacity is within reach
    known = ~np.isnan(np.asarray(cap, dtype=float))
    np.testing.assert_array_equal(np.isnan(sf), ~((d <= reach) & known[None, :]).any(axis=1))


# --------------------------------------------------------------------------- supply table


def test_supply_table_groups_and_met(graph, layer):
    boundaries = gpd.GeoDataFrame(
        {"district": ["North", "South", "Empty"], "district_code": ["N", "S", "E"],
         "zone_type": ["core", "rural", "rural"]},
        geometry=[box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 50), box(X0 + 150, Y0 - 50, X0 + 2200, Y0 + 50),
                  box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)],
        crs=CRS,
    )  # fmt: skip
    res = supply.compute_supply(
        demand_frame(), facility_frame(), layer, graph=graph, boundaries=boundaries
    )
    t = res.table.set_index(["level", "group"])
    assert list(res.table.columns) == list(supply.SUPPLY_COLUMNS)
    region = t.loc[("region", "region")]
    assert region["n_facilities"] == 4 and region["n_capacity_known"] == 3
    assert region["n_capacity_unknown"] == 1 and region["capacity"] == 210
    assert region["demand"] == 105 and region["capacity_per_1000"] == pytest.approx(2000)
    assert region["met"] == "met"
    # North holds f1 (100) and f4 (unknown): 100 beds for 30 residents aged 60+
    north = t.loc[("district", "North")]
    assert (north["n_facilities"], north["capacity"], north["demand"]) == (2, 100, 30)
    assert north["district_code"] == "N" and north["met"] == "met"
    south = t.loc[("district", "South")]
    assert (south["n_facilities"], south["capacity"], south["demand"]) == (2, 110, 75)
    empty = t.loc[("district", "Empty")]  # a district with neither demand nor beds
    assert (
        empty["demand"] == 0 and np.isnan(empty["capacity_per_1000"]) and empty["met"] == "no_data"
    )
    # district rows add up to the region row
    d = res.table[res.table["level"] == "district"]
    assert d["capacity"].sum() == 210 and d["demand"].sum() == 105
    # sfca_per_1000: demand-weighted mean of the 2SFCA ratio, x 1000
    assert north["sfca_per_1000"] == pytest.approx(10 / 3 * 1000)
    assert region["sfca_per_1000"] == pytest.approx(160 / 105 * 1000)

    short = replace(layer, capacity={"per_1000": 1500})
    t3 = supply.supply_table(res.demand, res.facilities, short, boundaries=boundaries)
    t3 = t3.set_index(["level", "group"])
    assert t3.loc[("district", "South"), "met"] == "not_met"  # 1,467 < 1,500, all known
    assert t3.loc[("district", "North"), "met"] == "met"  # 3,333 per 1,000
    t4 = supply.supply_table(
        res.demand,
        res.facilities,
        replace(layer, capacity={"per_1000": 4000}),
        boundaries=boundaries,
    ).set_index(["level", "group"])
    assert t4.loc[("district", "North"), "met"] == "no_data"  # short, one capacity unknown
    t5 = supply.supply_table(res.demand, res.facilities, replace(layer, capacity={}))
    assert set(t5["met"]) == {"no_data"} and t5["standard_per_1000"].isna().all()


def test_no_facilities_is_no_data(graph, layer):
    res = supply.compute_supply(demand_frame(), facility_frame().iloc[:0], layer, graph=graph)
    assert res.demand["sfca"].isna().all()  # nothing in reach anywhere
    assert set(res.table["met"]) == {"no_data"}
    assert any("No Elderly care facilities" in w for w in res.warnings)


def test_bad_inputs(graph, layer):
    fac = facility_frame().assign(capacity=[100.0, -1.0, 50.0, np.nan])
    with pytest.raises(InputError, match="f2.*negative"):
        supply.two_step_fca(demand_frame(), fac, layer, graph=graph)
    with pytest.raises(InputError, match="pop_65plus"):
        supply.two_step_fca(
            demand_frame(), facility_frame(), layer, graph=graph, demand_col="pop_65plus"
        )
    with pytest.raises(InputError, match="graph"):
        supply.two_step_fca(demand_frame(), facility_frame(), layer)
    with pytest.raises(InputError, match="reach_m"):
        supply.two_step_fca(
            demand_frame(), facility_frame(), layer, graph=graph, reach_m=float("inf")
        )


# --------------------------------------------------------------------------- where capacity comes from


def test_parse_capacity_values():
    values = ["120", "120 beds", "approx. 50", "20-30", "1,200", "约50床", "120张", "ca 50", " 0 ",
              "yes", "many", "20;30", "-5", "30-20", "", None]  # fmt: skip
    got, bad = parse_capacity(values)
    np.testing.assert_array_equal(got[:9], [120, 120, 50, 25, 1200, 50, 120, 50, 0])
    assert np.isnan(got[9:]).all()
    assert bad.tolist() == [False] * 9 + [True] * 5 + [False, False]


def test_osm_tags_give_capacity(tmp_path):
    """A real extract built with osmium: capacity tags, precedence and unreadable values."""
    from osm_extract_builder import write_extract

    from geoapp.sources.osm_file import read_osm_file

    home = {"amenity": "social_facility", "social_facility": "nursing_home",
            "social_facility:for": "senior"}  # fmt: skip
    nodes = {
        1: (116.400, 39.900), 2: (116.402, 39.900), 3: (116.404, 39.900),
        10: (116.4005, 39.9001, {**home, "name": "A", "beds": "120 beds"}),
        11: (116.4010, 39.9001, {**home, "name": "B", "capacity:beds": "80", "capacity": "200"}),
        12: (116.4015, 39.9001, {**home, "name": "C", "capacity": "approx. 50"}),
        13: (116.4020, 39.9001, {**home, "name": "D", "beds": "many"}),
        14: (116.4025, 39.9001, {**home, "name": "E"}),
        15: (116.4030, 39.9001, {**home, "name": "F", "capacity:persons": "20-30"}),
    }  # fmt: skip
    ways = [(100, [1, 2, 3], {"highway": "residential"})]
    for suffix in ("osm", "osm.pbf"):
        path = write_extract(tmp_path / f"homes.{suffix}", nodes, ways)
        region = read_osm_file(path, buildings=False)
        lay = load_catalog()["elderly_care"]
        fac = select_features(region.features, lay).set_index("name").sort_index()
        cap = fac["capacity"].to_dict()
        assert cap["A"] == 120 and cap["B"] == 80 and cap["C"] == 50 and cap["F"] == 25, suffix
        assert np.isnan(cap["D"]) and np.isnan(cap["E"])
        assert fac["capacity_source"].tolist() == ["osm", "osm", "osm", "", "", "osm"]
        assert fac.loc["D", "capacity_raw"] == "many"
        res = supply.compute_supply(
            gpd.GeoDataFrame({"pop_60plus": [100.0]}, geometry=[Point(116.401, 39.9)], crs=4326),
            fac.reset_index(),
            lay,
            mode="euclidean",
        )
        assert any("1 of 6" in w and "'many'" in w for w in res.warnings)
        assert any("2 of 6" in w and "no known capacity" in w for w in res.warnings)


def test_facility_table_capacity_column_and_bad_values_by_line(tmp_path):
    path = tmp_path / "homes.csv"
    path.write_text(
        "name,lon,lat,beds\nA,116.40,39.91,120\nB,116.41,39.92,lots\nC,116.42,39.93,\n"
        "D,116.43,39.94,20-40\n",
        encoding="utf-8",
    )
    table = read_facility_table(path, coords="wgs84", layer="elderly_care")
    assert table.problems == ()  # every row kept
    assert len(table.capacity_problems) == 1
    assert table.capacity_problems[0].startswith("line 3: beds 'lots' is not a number")
    fac = select_features(table.frame, load_catalog()["elderly_care"])
    assert fac["capacity"].tolist()[:1] == [120] and fac["capacity"].tolist()[3] == 30
    assert np.isnan(fac["capacity"].iloc[1]) and np.isnan(fac["capacity"].iloc[2])
    assert fac["capacity_source"].tolist() == ["table", "", "", "table"]


def test_capacity_table_schema(tmp_path):
    base = (
        'id = "homes"\nlabel = { en = "Homes", zh = "养老" }\npopulation = "age_60plus"\n'
        'radii_m = [500]\ntarget_m = 500\n[[match]]\namenity = "nursing_home"\n'
    )
    f = tmp_path / "homes.toml"
    f.write_text(base + '[capacity]\nunit = "beds"\ndefault = 30\nper_1000 = 40\nsource = "GB"\n')
    assert parse_layer_file(f).capacity == {
        "unit": "beds",
        "default": 30,
        "per_1000": 40,
        "source": "GB",
    }
    for bad, what in (("per_1000 = -4", "capacity.per_1000"), ('default = "30"', "capacity.default"),
                      ("per_100 = 4", "capacity.per_100.*unknown key"), ("unit = 3", "capacity.unit")):  # fmt: skip
        f.write_text(base + f"[capacity]\n{bad}\n")
        with pytest.raises(LayerFileError, match=what):
            parse_layer_file(f)
    shipped = load_catalog()
    assert shipped["elderly_care"].capacity["per_1000"] == 40
    assert shipped["elderly_care"].capacity["unit"] == "beds"


# --------------------------------------------------------------------------- the demo, end to end


@pytest.mark.slow
def test_demo_supply_cli(tmp_path, capsys):
    from geoapp.cli import main

    out = tmp_path / "supply"
    assert (
        main(["supply", "--region", "demo", "--layer", "elderly_care", "--out", str(out), "-q"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "beds per 1,000" in printed and "met" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "demand.geojson", "facilities.geojson", "manifest.json", "metadata.json", "supply.csv"
    ]  # fmt: skip
    meta = json.loads((out / "metadata.json").read_text())
    table = pd.read_csv(out / "supply.csv")
    fac = gpd.read_file(out / "facilities.geojson")
    dem = gpd.read_file(out / "demand.geojson")
    assert meta["synthetic"] is True and meta["supply"]["unit"] == "beds"
    # bed counts from the demo's tags: most facilities carry one
    assert fac["capacity"].notna().mean() > 0.9
    assert set(fac["capacity_source"].fillna("")) <= {"osm", ""}
    # the files agree with each other
    region = table[table["level"] == "region"].iloc[0]
    assert region["capacity"] == pytest.approx(fac["capacity"].sum())
    assert region["demand"] == pytest.approx(dem["pop_60plus"].sum())
    assert region["n_facilities"] == len(fac)
    served = fac.loc[fac["serves_demand"].astype(bool), "capacity"].sum()
    assert (dem["sfca"] * dem["pop_60plus"]).sum() == pytest.approx(served, rel=1e-9)
    assert region["capacity_per_1000"] == pytest.approx(
        region["capacity"] / region["demand"] * 1000
    )
    # district rows add up to the region
    d = table[table["level"] == "district"]
    assert d["capacity"].sum() == pytest.approx(region["capacity"])
    assert set(table["met"]) <= {"met", "not_met", "no_data"}
    # errors exit 2: an unknown layer, an out folder that is a file
    assert (
        main(["supply", "--region", "demo", "--layer", "nope", "--out", str(tmp_path / "x"), "-q"])
        == 2
    )
    (tmp_path / "file").write_text("x")
    assert (
        main(
            [
                "supply",
                "--region",
                "demo",
                "--layer",
                "elderly_care",
                "--out",
                str(tmp_path / "file"),
                "-q",
            ]
        )
        == 2
    )


def test_table_capacity_reaches_the_supply_of_a_region(tmp_path):
    """A facility table on the demo: its beds count as ``table``, a bad cell is a warning."""
    from geoapp import workflow

    region = workflow.load_region("demo")
    homes = select_features(region.features, load_catalog()["elderly_care"])
    x, y = homes.geometry.x.to_numpy()[:2], homes.geometry.y.to_numpy()[:2]
    path = tmp_path / "homes.csv"
    path.write_text(
        "name,lon,lat,床位数\n"
        f"New Home,{x[0] + 0.0003:.6f},{y[0]:.6f},250\n"
        f"Other Home,{x[1] + 0.0003:.6f},{y[1]:.6f},unknown\n",
        encoding="utf-8",
    )
    with_table = workflow.add_facility_tables(region, [(path, "elderly_care", "wgs84")])
    fac = select_features(with_table.features, load_catalog()["elderly_care"])
    added = fac[fac["facility_id"].str.startswith("table/")].set_index("name")
    assert added.loc["New Home", "capacity"] == 250
    assert added.loc["New Home", "capacity_source"] == "table"
    assert np.isnan(added.loc["Other Home", "capacity"])
    warnings = with_table.meta["warnings"]
    assert any(
        "line 3: 床位数 'unknown' is not a number" in w and "homes.csv" in w for w in warnings
    )
    assert not any("row rejected: line 3" in w for w in warnings)
    # the demo's own beds are unchanged; the table's 250 beds add to the total
    assert fac["capacity"].sum() == pytest.approx(homes["capacity"].sum() + 250)


# --------------------------------------------------------------------------- the FCA family


def _shifted_demand() -> gpd.GeoDataFrame:
    # d1..d4 at 20, 100, 180, 300 m; d5 far away: pairs within 120 m are d1-f1 30,
    # d2-f1 50, d3-f2 70, d4-f2 50 (and f4 at 100: d1 80, d2 0, d3 80)
    return demand_frame().set_geometry([P(20), P(100), P(180), P(300), P(1050)], crs=CRS)


def test_e2sfca_by_hand(layer):
    """Zones of 120 m: <= 40 m weigh 1, <= 80 m 0.68, <= 120 m 0.22 (Luo & Qi 2009).

    D_f1 = 1*10 + 0.68*20 = 23.6, D_f2 = 0.68*30 + 0.68*40 = 47.6 (f4: unknown beds)
    A = [R1, 0.68 R1, 0.68 R2, 0.68 R2, NaN] with R1 = 100/23.6, R2 = 60/47.6.
    """
    res = supply.compute_supply(
        _shifted_demand(), facility_frame(), layer, mode="euclidean", method="e2sfca"
    )
    r1, r2 = 100 / 23.6, 60 / 47.6
    np.testing.assert_allclose(
        res.demand["sfca"], [r1, 0.68 * r1, 0.68 * r2, 0.68 * r2, np.nan], rtol=1e-12
    )
    assert float(np.nansum(res.demand["sfca"] * res.demand["pop_60plus"])) == pytest.approx(160)
    assert res.method == "e2sfca" and "0.68" in res.weight


def test_3sfca_by_hand(layer):
    """f4 gets the layer default of 12 beds; residents split among the facilities in reach.

    d1 and d2 reach f1 and f4, d3 reaches f2 and f4 (G = 1/2 each), d4 only f2 (G = 1):
    D_f1 = 15, D_f4 = 30, D_f2 = 55; A_d1 = A_d2 = 100/30 + 0.2, A_d3 = 30/55 + 0.2,
    A_d4 = 60/55; sum A P = 172, every bed.
    """
    with_default = replace(layer, capacity={**layer.capacity, "default": 12})
    res = supply.compute_supply(
        _shifted_demand(), facility_frame(), with_default, mode="euclidean", method="3sfca"
    )
    a = [100 / 30 + 0.2, 100 / 30 + 0.2, 30 / 55 + 0.2, 60 / 55, np.nan]
    np.testing.assert_allclose(res.demand["sfca"], a, rtol=1e-12)
    assert float(np.nansum(res.demand["sfca"] * res.demand["pop_60plus"])) == pytest.approx(172)


def test_method_and_decay_checked(layer):
    with pytest.raises(InputError, match="method"):
        supply.compute_supply(demand_frame(), facility_frame(), layer, mode="euclidean", method="x")
    with pytest.raises(InputError, match="e2sfca"):
        supply.compute_supply(
            demand_frame(), facility_frame(), layer, mode="euclidean", method="e2sfca",
            decay="gaussian",
        )  # fmt: skip


def test_supply_cli_method(tmp_path):
    from geoapp.cli import main

    out = tmp_path / "supply"
    args = ["supply", "--region", "demo", "--layer", "elderly_care", "--out", str(out), "-q"]
    assert main([*args, "--method", "3sfca"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["supply"]["fca_method"] == "3sfca" and "3SFCA" in meta["supply"]["method"]
    dem = gpd.read_file(out / "demand.geojson")
    fac = gpd.read_file(out / "facilities.geojson")
    # 3SFCA's identity: every bed of the facilities with demand in reach is shared out
    total = float(np.nansum(dem["sfca"] * dem["pop_60plus"]))
    assert total == pytest.approx(fac.loc[fac["serves_demand"], "capacity"].sum(), rel=1e-6)
