"""Coverage engine on a hand-built street whose answers are worked out on paper.

Metres in UTM 50N (EPSG:32650), offset by (X0, Y0); built in tests/fixtures.py::

    A(0,0) ---100--- B(100,0) ---100--- C(200,0) ---100--- D(300,0)      E(1000,0) -- F(1100,0)
                                                                          (separate component)

One facility at (100,10): on the street at B, access leg 10 m.

demand  at         pop  60+  district zone    network distance
d1      (10,5)     100   20  North    core    5 + 90 + 10  = 105
d2      (150,-5)    50   10  North    core    5 + 50 + 10  = 65
d3      (290,5)     30   30  South    rural   5 + 190 + 10 = 205
d4      (1050,0)    20    5  South    rural   other component: inf (uncovered, not 0)

Radii 100 and 300: covered at 100 = {d2}, at 300 = {d1, d2, d3}.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from fixtures import CRS, X0, Y0, P, line_demand, line_street, street
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from geoapp import coverage, network
from geoapp.errors import InputError


@pytest.fixture(scope="module")
def graph():
    return line_street()


def cell(x: float, y: float) -> str:
    lon, lat = gpd.GeoSeries([P(x, y)], crs=CRS).to_crs(4326).iloc[0].coords[0]
    return h3.latlng_to_cell(lat, lon, 9)


@pytest.fixture()
def demand():
    # d1 and d2 share one H3 cell (that of d1), d3 and d4 have their own
    c1, c3, c4 = cell(10, 5), cell(290, 5), cell(1050, 0)
    d = line_demand(district_code=["N1", "N1", "S1", "S1"], h3=[c1, c1, c3, c4])
    order = ["demand_id", "pop", "pop_60plus", "district", "district_code", "zone_type", "h3"]
    return d[[*order, "geometry"]].to_crs(4326)


@pytest.fixture()
def facilities():
    return gpd.GeoDataFrame(
        {"facility_id": ["node/7"], "name": ["Home"]}, geometry=[P(100, 10)], crs=CRS
    ).to_crs(4326)


@pytest.fixture()
def access(graph, demand, facilities):
    return coverage.compute_access(
        demand, facilities, graph=graph, max_dist_m=300, layer_id="elderly_care"
    )


# --------------------------------------------------------------------------- access


def test_compute_access_worked_out(access, demand):
    assert access["dist_m"].iloc[:3].tolist() == pytest.approx([105, 65, 205], abs=1e-6)
    assert np.isinf(access["dist_m"].iloc[3])
    assert access["facility_id"].tolist() == ["node/7", "node/7", "node/7", ""]
    # 4.5 km/h = 75 m per minute
    assert access["walk_min"].iloc[1] == pytest.approx(65 / 75)
    assert np.isinf(access["walk_min"].iloc[3])
    assert (access["access_mode"] == "network").all()
    assert (access["layer"] == "elderly_care").all()
    assert access.crs == demand.crs
    assert list(access.columns[: len(demand.columns)]) == list(demand.columns)
    assert "dist_m" not in demand.columns  # input untouched


def test_compute_access_bound(graph, demand, facilities):
    acc = coverage.compute_access(demand, facilities, graph=graph, max_dist_m=100)
    # only d2 (65 m) within 100 m
    assert np.isfinite(acc["dist_m"]).tolist() == [False, True, False, False]
    assert acc["facility_id"].tolist() == ["", "node/7", "", ""]


def test_elderly_speed(graph, demand, facilities):
    acc = coverage.compute_access(
        demand,
        facilities,
        graph=graph,
        max_dist_m=300,
        speed_kmh=coverage.SPEED_PRESETS["elderly"],
    )
    # 3.6 km/h = 60 m per minute
    assert acc["walk_min"].iloc[1] == pytest.approx(65 / 60)
    assert coverage.ELDERLY_SPEED_KMH == 3.6 and coverage.WALK_SPEED_KMH == 4.5


def test_euclidean_mode(demand, facilities):
    acc = coverage.compute_access(demand, facilities, mode="euclidean", max_dist_m=300)
    # straight lines from (100,10): d1 hypot(90,5), d2 hypot(50,15), d3 hypot(190,5)
    expected = [np.hypot(90, 5), np.hypot(50, 15), np.hypot(190, 5)]
    assert acc["dist_m"].iloc[:3].tolist() == pytest.approx(expected, abs=0.05)
    assert np.isinf(acc["dist_m"].iloc[3])
    assert (acc["access_mode"] == "euclidean").all()


def test_polygon_facility_uses_representative_point(graph, demand):
    fac = gpd.GeoDataFrame(
        {"facility_id": ["way/1"]}, geometry=[box(X0 + 95, Y0 + 5, X0 + 105, Y0 + 15)], crs=CRS
    )
    acc = coverage.compute_access(demand, fac, graph=graph, max_dist_m=300)
    # the square's centre is (100,10): the same answers as the point facility
    assert acc["dist_m"].iloc[:3].tolist() == pytest.approx([105, 65, 205], abs=1e-6)


def test_no_facilities_is_no_data_not_zero_service(graph, demand, facilities, caplog):
    with caplog.at_level(logging.INFO, logger="geoapp.coverage"):
        acc = coverage.compute_access(demand, facilities.iloc[:0], graph=graph, max_dist_m=300)
    assert np.isinf(acc["dist_m"]).all()
    assert (acc["facility_id"] == "").all()
    assert "no facilities" in caplog.text
    summary = coverage.coverage_summary(acc, [300], facilities=facilities.iloc[:0])
    assert (summary["covered_pop_300"] == 0).all()
    assert (summary["status"] == "no_data").all()  # missing data, not missing service
    assert summary["share_pop_300"].isna().all()  # no data is empty, never 0%


def test_network_mode_without_graph_is_a_clear_error(demand, facilities):
    with pytest.raises(InputError, match="euclidean"):
        coverage.compute_access(demand, facilities, mode="network", max_dist_m=300)
    with pytest.raises(InputError, match="mode"):
        coverage.compute_access(demand, facilities, mode="bus", max_dist_m=300)


def test_walk_minutes():
    assert coverage.walk_minutes(np.array([75.0, np.inf]), 4.5).tolist() == [1.0, np.inf]
    with pytest.raises(InputError):
        coverage.walk_minutes(10.0, 0)


# --------------------------------------------------------------------------- summary


def test_summary_shares_exact(access):
    s = coverage.coverage_summary(access, [100, 300], region_name="Town")
    region = s[s.level == "region"].iloc[0]
    assert region["group"] == "Town"
    assert region["pop"] == 200 and region["pop_60plus"] == 65
    assert region["covered_pop_100"] == 50 and region["covered_pop_300"] == 180
    assert region["share_pop_100"] == pytest.approx(50 / 200)
    assert region["share_pop_300"] == pytest.approx(180 / 200)
    assert region["share_pop_60plus_100"] == pytest.approx(10 / 65)
    assert region["share_pop_60plus_300"] == pytest.approx(60 / 65)
    north = s[(s.level == "district") & (s.group == "North")].iloc[0]
    south = s[(s.level == "district") & (s.group == "South")].iloc[0]
    assert north["district_code"] == "N1"
    assert north["share_pop_100"] == pytest.approx(50 / 150)
    assert north["share_pop_300"] == pytest.approx(1.0)
    assert south["share_pop_100"] == 0
    assert south["share_pop_300"] == pytest.approx(30 / 50)
    rural = s[(s.level == "zone_type") & (s.group == "rural")].iloc[0]
    assert rural["share_pop_60plus_300"] == pytest.approx(30 / 35)
    assert (s["layer"] == "elderly_care").all()


def test_summary_area_share(access, demand):
    s = coverage.coverage_summary(access, [100, 300])
    a1, a3, a4 = (h3.cell_area(c, unit="km^2") for c in demand["h3"].iloc[[0, 2, 3]])
    region = s[s.level == "region"].iloc[0]
    # d1 and d2 split cell 1; at 100 m only d2's half is covered, at 300 also d1 and d3
    assert region["settled_km2"] == pytest.approx(a1 + a3 + a4)
    assert region["share_area_100"] == pytest.approx((a1 / 2) / (a1 + a3 + a4))
    assert region["share_area_300"] == pytest.approx((a1 + a3) / (a1 + a3 + a4))
    assert region["area_km2"] == pytest.approx(region["settled_km2"])


def test_district_rows_sum_to_region(access):
    s = coverage.coverage_summary(access, [100, 300])
    num = [c for c in s.columns if c.startswith(("pop", "covered_", "area_km2", "settled"))]
    region = s[s.level == "region"][num].iloc[0]
    districts = s[s.level == "district"][num].sum()
    zones = s[s.level == "zone_type"][num].sum()
    pd.testing.assert_series_equal(districts, region, check_names=False)
    pd.testing.assert_series_equal(zones, region, check_names=False)


def test_summary_with_boundaries_and_an_empty_district(access, boundaries):
    # districts of 1 km x 0.5 km, 2 km x 0.5 km and 1 km x 1 km (the boundaries fixture)
    s = coverage.coverage_summary(access, [100, 300], boundaries=boundaries)
    d = s[s.level == "district"].set_index("group")
    assert set(d.index) == {"North", "South", "Empty"}
    assert d.loc["North", "area_km2"] == pytest.approx(0.5, rel=1e-3)
    assert d.loc["South", "area_km2"] == pytest.approx(1.0, rel=1e-3)
    assert d.loc["Empty", "pop"] == 0
    assert d.loc["Empty", "district_code"] == "E1"
    # zero population: share is NaN ("no data"), not a division error or 0
    assert np.isnan(d.loc["Empty", "share_pop_300"])
    assert np.isnan(d.loc["Empty", "share_area_300"])
    z = s[s.level == "zone_type"].set_index("group")
    assert z.loc["new_town", "area_km2"] == pytest.approx(1.0, rel=1e-3)
    region = s[s.level == "region"].iloc[0]
    assert region["area_km2"] == pytest.approx(2.5, rel=1e-3)
    num = [c for c in s.columns if c.startswith(("pop", "covered_", "area_km2"))]
    pd.testing.assert_series_equal(
        s[s.level == "district"][num].sum(), s[s.level == "region"][num].iloc[0], check_names=False
    )


def test_summary_of_a_layer_object(access):
    from geoapp.catalog import get_layer

    layer = get_layer("elderly_care")  # minute-based: columns named by minutes
    s = coverage.coverage_summary(access, layer)
    for lab, r in zip(layer.labels, layer.radii_m, strict=True):
        assert f"share_pop_60plus_{lab}" in s.columns
        region = s[s["level"] == "region"].iloc[0]
        expect = access.loc[access["dist_m"] <= r, "pop_60plus"].sum()
        assert region[f"covered_pop_60plus_{lab}"] == pytest.approx(expect)


# --------------------------------------------------------------------------- catchments


def test_catchment_population_served(graph, access, facilities):
    c = coverage.catchments(graph, facilities, [100, 300], demand_access=access)
    assert c.crs.to_epsg() == 4326
    assert c["radius_m"].tolist() == [100, 300]
    assert c["pop_served"].tolist() == [50, 180]
    assert c["pop_60plus_served"].tolist() == [10, 60]
    assert (c["layer"] == "elderly_care").all()
    assert (c["facility_id"] == "node/7").all()


def test_catchment_is_the_buffered_reached_street(graph, facilities):
    # radius 150 from (100,10): access 10, so 140 m each way along the street from B:
    # x in [0, 240] (A ends it on the left at 100 m). Buffered by 40 m:
    exact = shapely.buffer(LineString([P(0, 0), P(240, 0)]), 40)
    c = coverage.catchments(graph, facilities, [150]).to_crs(CRS)
    got = c.geometry.iloc[0]
    assert got.geom_type == "Polygon"
    assert c["area_km2"].iloc[0] == pytest.approx(exact.area / 1e6, rel=0.03)
    assert got.symmetric_difference(exact).area / exact.area < 0.05
    assert np.isnan(c["pop_served"].iloc[0])  # no demand given


def test_catchment_has_holes_where_streets_do_not_reach():
    # a 400 m square block: the streets go round it, its inside is not served
    sq = street(
        {1: (0, 0), 2: (400, 0), 3: (400, 400), 4: (0, 400)}, [(1, 2), (2, 3), (3, 4), (4, 1)]
    )
    fac = gpd.GeoDataFrame({"facility_id": ["a"]}, geometry=[P(0, 0)], crs=CRS)
    c = coverage.catchments(sq, fac, [1000]).to_crs(CRS)
    poly = c.geometry.iloc[0]
    assert len(poly.interiors) == 1
    assert not poly.contains(P(200, 200))
    ring = box(X0 - 40, Y0 - 40, X0 + 440, Y0 + 440).difference(
        box(X0 + 40, Y0 + 40, X0 + 360, Y0 + 360)
    )
    # exact: the 480 m outer square with corners rounded (radius 40) minus the 320 m inner
    assert poly.area == pytest.approx(ring.area - (4 - np.pi) * 40**2, rel=0.03)


def test_catchment_facility_out_of_reach_is_empty(graph):
    fac = gpd.GeoDataFrame({"facility_id": ["far"]}, geometry=[P(150, 800)], crs=CRS)
    c = coverage.catchments(graph, fac, [300])
    assert c.geometry.iloc[0].is_empty
    assert c["area_km2"].iloc[0] == 0


def test_catchment_in_the_other_component(graph):
    fac = gpd.GeoDataFrame({"facility_id": ["e"]}, geometry=[P(1000, 0)], crs=CRS)
    c = coverage.catchments(graph, fac, [500]).to_crs(CRS)
    # only E-F (100 m) is reachable: a 100 m segment buffered by 40 m
    assert c.geometry.iloc[0].bounds[0] >= X0 + 1000 - 41
    assert c["area_km2"].iloc[0] * 1e6 == pytest.approx(100 * 80 + np.pi * 1600, rel=0.03)


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def grid():
    # a 5 x 5 street grid, 100 m blocks
    xy = {i * 5 + j: (i * 100.0, j * 100.0) for i in range(5) for j in range(5)}
    pairs = [(a, a + 1) for a in xy if a % 5 < 4] + [(a, a + 5) for a in xy if a < 20]
    return street(xy, pairs)


coords = st.tuples(st.floats(-50, 450), st.floats(-50, 450))
PROP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _demand(points, pops):
    return gpd.GeoDataFrame(
        {"pop": pops, "pop_60plus": [p / 2 for p in pops], "district": "X", "zone_type": "core"},
        geometry=[P(*p) for p in points],
        crs=CRS,
    )


@pytest.mark.slow
@PROP
@given(
    st.lists(st.tuples(coords, st.floats(0, 100)), min_size=1, max_size=12),
    st.lists(coords, min_size=1, max_size=3),
    coords,
)
def test_adding_a_facility_never_lowers_covered_population(grid, dem, facs, extra):
    demand = _demand([p for p, _ in dem], [w for _, w in dem])
    f1 = gpd.GeoDataFrame(geometry=[P(*p) for p in facs], crs=CRS)
    f2 = gpd.GeoDataFrame(geometry=[P(*p) for p in [*facs, extra]], crs=CRS)
    radii = [100, 250]
    s1 = coverage.coverage_summary(
        coverage.compute_access(demand, f1, graph=grid, max_dist_m=250), radii
    )
    s2 = coverage.coverage_summary(
        coverage.compute_access(demand, f2, graph=grid, max_dist_m=250), radii
    )
    for r in radii:
        assert (s2[f"covered_pop_{r}"] >= s1[f"covered_pop_{r}"] - 1e-9).all()


@pytest.mark.slow
@PROP
@given(
    st.lists(st.tuples(coords, st.floats(0, 100)), min_size=1, max_size=12),
    st.lists(coords, min_size=1, max_size=3),
    st.floats(20, 300),
    st.floats(0, 300),
)
def test_raising_a_radius_never_lowers_covered_population(grid, dem, facs, r1, extra):
    demand = _demand([p for p, _ in dem], [w for _, w in dem])
    fac = gpd.GeoDataFrame(geometry=[P(*p) for p in facs], crs=CRS)
    r1, r2 = round(r1), round(r1 + extra) + 1
    acc = coverage.compute_access(demand, fac, graph=grid, max_dist_m=r2)
    s = coverage.coverage_summary(acc, [r1, r2])
    assert (s[f"covered_pop_{r2}"] >= s[f"covered_pop_{r1}"] - 1e-9).all()
    assert (s[f"share_pop_{r2}"].fillna(0) <= 1 + 1e-12).all()


# --------------------------------------------------------------------------- no attrs


def test_access_carries_no_attrs_and_leaves_demand_alone(graph, demand, facilities):
    demand = demand.copy()
    demand.attrs = {"max_dist_m": 5.0, "search_limit_m": 5.0, "demand_method": "buildings"}
    acc = coverage.compute_access(demand, facilities, graph=graph, max_dist_m=300)
    assert acc.attrs == {}
    assert demand.attrs["max_dist_m"] == 5.0  # the input is not changed
    # the bound came from the parameter, not from the input's attrs
    assert acc["dist_m"].iloc[:3].tolist() == pytest.approx([105, 65, 205], abs=1e-6)


def test_summary_ignores_attrs(access, facilities):
    plain = coverage.coverage_summary(access, [100, 300], facilities=facilities)
    odd = access.copy()
    odd.attrs = {"max_dist_m": 1.0, "speed_kmh": 1.0, "access_mode": "euclidean"}
    pd.testing.assert_frame_equal(
        coverage.coverage_summary(odd, [100, 300], facilities=facilities), plain
    )


def test_reused_demand_snap_gives_the_same_access(graph, demand, facilities):
    snap = network.snap(graph, demand)
    a = coverage.compute_access(demand, facilities, graph=graph, max_dist_m=300)
    b = coverage.compute_access(demand, facilities, graph=graph, max_dist_m=300, demand_snap=snap)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(InputError, match="demand_snap"):
        coverage.compute_access(
            demand, facilities, graph=graph, max_dist_m=300, demand_snap=snap.take(slice(0, 2))
        )


# --------------------------------------------------------------------------- status


@pytest.fixture()
def boundaries():
    return gpd.GeoDataFrame(
        {
            "district": ["North", "South", "Empty"],
            "district_code": ["N1", "S1", "E1"],
            "zone_type": ["core", "rural", "new_town"],
            "zone_fine": "",
        },
        geometry=[
            box(X0 - 500, Y0, X0 + 500, Y0 + 500),
            box(X0 + 500, Y0 - 500, X0 + 2500, Y0),
            box(X0 - 3000, Y0, X0 - 2000, Y0 + 1000),
        ],
        crs=CRS,
    ).to_crs(4326)


def rows(s, level):
    return s[s.level == level].set_index("group")


def test_no_facilities_in_the_data_is_no_data_everywhere(graph, demand, facilities, boundaries):
    none = facilities.iloc[:0]
    acc = coverage.compute_access(demand, none, graph=graph, max_dist_m=300)
    s = coverage.coverage_summary(acc, [300], boundaries=boundaries, facilities=none)
    assert (s["status"] == "no_data").all()
    assert (s["n_facilities"] == 0).all()
    # issue 24: the shares of a no_data unit are empty (NaN), never 0%
    assert s["share_pop_300"].isna().all() and s["share_area_300"].isna().all()
    assert set(s["status_reason"]) == {coverage.NO_FACILITY_REASON}


def test_district_without_a_facility_is_judged_on_its_share(access, facilities, boundaries):
    s = coverage.coverage_summary(access, [100, 300], boundaries=boundaries, facilities=facilities)
    assert s.columns[:7].tolist() == [
        "layer", "level", "group", "district_code", "status", "status_reason", "n_facilities"
    ]  # fmt: skip
    d = rows(s, "district")
    # the facility at (100,10) lies inside North's box
    assert d["n_facilities"].to_dict() == {"Empty": 0, "North": 1, "South": 0}
    # judged at the largest radius (300 m) against 85%: North 150/150, South 30/50;
    # Empty has no residents: no share to judge (issue 24: one status, derived once)
    assert d["status"].to_dict() == {"Empty": "no_data", "North": "met", "South": "not_met"}
    # South has no facility of its own, but its residents are served from North:
    # the share is computed and judged, the reason says the data holds no facility there
    assert d.loc["South", "share_pop_300"] == pytest.approx(30 / 50)
    assert d.loc["South", "status_reason"] == (
        f"60.0% within 300 m is below the target 85%; {coverage.NO_FACILITY_INSIDE}"
    )
    assert np.isnan(d.loc["Empty", "share_pop_300"])
    region = rows(s, "region").iloc[0]
    assert region["status"] == "met" and region["n_facilities"] == 1  # 180 / 200 = 90%
    z = rows(s, "zone_type")
    # Empty's land is new_town (its boundary's zone type): a row with no residents
    assert z["status"].to_dict() == {"core": "met", "new_town": "no_data", "rural": "not_met"}
    # zones count a facility in the zone of its nearest demand point (d2: core)
    assert z.loc["core", "n_facilities"] == 1 and z["n_facilities"].sum() == 1
    # every grouping adds up to the region, land included
    assert z["area_km2"].sum() == pytest.approx(region["area_km2"])
    assert z.loc["new_town", "area_km2"] == pytest.approx(d.loc["Empty", "area_km2"])


def test_status_without_boundaries_uses_the_nearest_demand_point(access, facilities):
    s = coverage.coverage_summary(access, [300], facilities=facilities)
    d = rows(s, "district")
    assert d["n_facilities"].to_dict() == {"North": 1, "South": 0}
    assert d["status"].to_dict() == {"North": "met", "South": "not_met"}  # 100%, 60% vs 85%


def test_status_without_facilities_argument_judges_the_shares(access):
    s = coverage.coverage_summary(access, [300])
    # facilities unknown: the shares are judged as they are (region 90%, South 60%)
    assert s.set_index("group")["status"].to_dict() == {
        "region": "met", "North": "met", "South": "not_met", "core": "met", "rural": "not_met"
    }  # fmt: skip
    assert s["n_facilities"].isna().all() and str(s["n_facilities"].dtype) == "Int64"


def test_facility_outside_every_district_has_its_own_row(access, facilities, boundaries):
    from geoapp.region import OUTSIDE_DISTRICTS

    far = gpd.GeoDataFrame(
        {"facility_id": ["node/7", "node/8"]}, geometry=[P(100, 10), P(5000, 5000)], crs=CRS
    )
    s = coverage.coverage_summary(access, [300], boundaries=boundaries, facilities=far)
    d = rows(s, "district")
    assert d.loc[OUTSIDE_DISTRICTS, "n_facilities"] == 1
    assert d.loc[OUTSIDE_DISTRICTS, "pop"] == 0
    assert d["n_facilities"].sum() == rows(s, "region").iloc[0]["n_facilities"] == 2


# --------------------------------------------------------------------------- groups


def test_settlement_rows(graph, demand, facilities):
    dem = demand.assign(settlement=["core", "new_town", "rural", "rural"])
    acc = coverage.compute_access(dem, facilities, graph=graph, max_dist_m=300)
    s = coverage.coverage_summary(acc, [100, 300], facilities=facilities)
    st_ = rows(s, "settlement")
    assert st_.index.tolist() == ["core", "new_town", "rural"]
    assert st_["pop"].tolist() == [100, 50, 50]
    assert st_["covered_pop_300"].tolist() == [100, 50, 30]
    assert st_["share_pop_100"].tolist() == pytest.approx([0, 1, 0])
    assert st_.loc["rural", "share_pop_60plus_300"] == pytest.approx(30 / 35)
    assert st_["n_facilities"].tolist() == [0, 1, 0]  # nearest demand point: d2, new town
    assert st_["status"].tolist() == ["met", "met", "not_met"]  # 100%, 100%, 60% at 300 m
    # zone_type rows are still there
    assert rows(s, "zone_type").index.tolist() == ["core", "rural"]
    num = [c for c in s.columns if c.startswith(("pop", "covered_", "settled"))]
    pd.testing.assert_series_equal(
        st_[num].sum(), rows(s, "region")[num].iloc[0], check_names=False
    )


def test_settlement_rows_list_every_class(graph, demand, facilities):
    acc = coverage.compute_access(
        demand.assign(settlement="rural"), facilities, graph=graph, max_dist_m=300
    )
    st_ = rows(coverage.coverage_summary(acc, [300]), "settlement")
    assert st_.index.tolist() == ["core", "new_town", "rural"]
    assert st_["pop"].tolist() == [0, 0, 200]
    assert np.isnan(st_.loc["core", "share_pop_300"])  # nobody there: NaN, not 0


def test_no_settlement_column_no_settlement_rows(access):
    assert "settlement" not in set(coverage.coverage_summary(access, [300])["level"])


def test_demand_outside_districts_forms_its_own_row(graph, demand, facilities, boundaries):
    from geoapp.region import OUTSIDE_DISTRICTS

    dem = demand.copy()
    dem.loc[2, "district"] = OUTSIDE_DISTRICTS
    dem.loc[3, "district"] = None  # no district at all: the same group
    acc = coverage.compute_access(dem, facilities, graph=graph, max_dist_m=300)
    for b in (None, boundaries):
        s = coverage.coverage_summary(acc, [300], boundaries=b, facilities=facilities)
        d = rows(s, "district")
        assert d.loc[OUTSIDE_DISTRICTS, "pop"] == 50
        assert d.loc[OUTSIDE_DISTRICTS, "covered_pop_300"] == 30
        num = [c for c in s.columns if c.startswith(("pop", "covered_", "area_km2", "settled"))]
        pd.testing.assert_series_equal(
            d[num].sum(), rows(s, "region")[num].iloc[0], check_names=False
        )
        assert d["n_facilities"].sum() == 1


districts = st.sampled_from(["West", "East", "(outside districts)"])
settlements = st.sampled_from(["core", "new_town", "rural"])


@pytest.mark.slow
@PROP
@given(
    st.lists(st.tuples(coords, st.floats(0, 100), districts, settlements), min_size=1, max_size=15),
    st.lists(coords, min_size=0, max_size=4),
)
def test_every_level_sums_to_the_region(grid, dem, facs):
    demand = _demand([p for p, *_ in dem], [w for _, w, *_ in dem]).assign(
        district=[d for *_, d, _ in dem], settlement=[s for *_, s in dem]
    )
    fac = gpd.GeoDataFrame(geometry=[P(*p) for p in facs], crs=CRS)
    halves = gpd.GeoDataFrame(
        {"district": ["West", "East"], "zone_type": ["core", "rural"]},
        geometry=[
            box(X0 - 100, Y0 - 100, X0 + 200, Y0 + 500),
            box(X0 + 200, Y0 - 100, X0 + 500, Y0 + 500),
        ],
        crs=CRS,
    )
    acc = coverage.compute_access(demand, fac, graph=grid, max_dist_m=250)
    s = coverage.coverage_summary(acc, [100, 250], boundaries=halves, facilities=fac)
    num = [c for c in s.columns if c.startswith(("pop", "covered_", "settled", "area_km2"))]
    num += ["n_facilities"]
    region = s[s.level == "region"][num].iloc[0].astype(float)
    for level in ("district", "zone_type", "settlement"):
        part = s[s.level == level][num].astype(float).sum()
        np.testing.assert_allclose(part.to_numpy(), region.to_numpy(), rtol=1e-9, atol=1e-9)
    assert region["n_facilities"] == len(facs)
    assert set(s["status"]) <= set(coverage.STATUSES)
    if not facs:
        assert (s["status"] == "no_data").all()
    else:  # no_data only where no one lives: a district without a facility is judged
        assert ((s["pop"] <= 0) == (s["status"] == "no_data")).all()
    assert s.loc[s["status"] == "no_data", "share_pop_250"].isna().all()


def test_split_land_hand_computed():
    """Each district's land split among the groups of its points (issue 24).

    D1 (10 km²): core settled 1.0, rural 0.5 -> core 1.0, rural 0.5 + 8.5 unsettled.
    D2 (2 km²): core 2.0, new town 1.0 settled: the cells overhang the land, scaled by
    2/3 -> core 4/3, new town 2/3, nothing left. D3 (5 km², nobody): all to the rest.
    """
    district = np.array(["D1", "D1", "D2", "D2"], dtype=object)
    label = np.array(["core", "rural", "core", "new_town"], dtype=object)
    settled = np.array([1.0, 0.5, 2.0, 1.0])
    land = {"D1": 10.0, "D2": 2.0, "D3": 5.0}
    got = coverage.split_land(district, label, settled, land)
    assert got.to_dict() == pytest.approx(
        {"core": 1 + 4 / 3, "rural": 9.0 + 5.0, "new_town": 2 / 3}
    )
    assert got.sum() == pytest.approx(17.0)
    # the district's own zone type takes its unsettled land (district attributes)
    own = coverage.split_land(district, label, settled, land, rest={"D1": "core", "D3": "new_town"})
    assert own.to_dict() == pytest.approx(
        {"core": 1 + 8.5 + 4 / 3, "rural": 0.5, "new_town": 2 / 3 + 5.0}
    )


def test_density_zones_split_the_land_and_keep_every_facility(access, facilities, boundaries):
    """Zone types that vary inside a district (density zoning) share its land."""
    dens = access.assign(zone_type=["core", "new_town", "rural", "rural"])
    assert coverage.zones_by_point(dens) and not coverage.zones_by_point(access)
    s = coverage.coverage_summary(dens, [300], boundaries=boundaries, facilities=facilities)
    z, region = rows(s, "zone_type"), rows(s, "region").iloc[0]
    assert z["area_km2"].sum() == pytest.approx(region["area_km2"])
    # core and new town hold their settled area; rural the rest of the land (Empty too)
    for g in ("core", "new_town"):
        assert z.loc[g, "area_km2"] == pytest.approx(z.loc[g, "settled_km2"])
    assert z.loc["rural", "area_km2"] > 1.0
    # the facility counts in the zone of its nearest demand point (d2: new town)
    assert z["n_facilities"].to_dict() == {"core": 0, "new_town": 1, "rural": 0}
    places = coverage.facility_places(facilities, dens, boundaries)
    assert places.to_dict("records") == [
        {"district": "North", "zone_type": "new_town", "settlement": ""}
    ]
