"""Nearest-facility catchments (the default) partition the reached area.

Metres in UTM 50N (EPSG:32650), offset by (X0, Y0). Hand-built streets (tests/fixtures.py):

* a straight street x = 0 .. 1000 with facilities at x = 0 and x = 300: they share the
  street at x = 150 (equal distance), so within 500 m the first owns x in [0, 150]
  and the second x in [150, 800], each buffered by 40 m (to x = 840 at the far end);
* a 5 x 5 grid of 100 m blocks, and a ring round one 400 m block (a hole).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fixtures import CRS, X0, L, P, edge_frame, node_frame, straight_km, street
from fixtures import facility_points as facilities
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoapp import coverage, network


@pytest.fixture(scope="module")
def line():
    return straight_km()


@pytest.fixture(scope="module")
def grid():
    xy = {i * 5 + j: (i * 100.0, j * 100.0) for i in range(5) for j in range(5)}
    pairs = [(a, a + 1) for a in xy if a % 5 < 4] + [(a, a + 5) for a in xy if a < 20]
    return street(xy, pairs)


def local(c: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return c.to_crs(CRS)


def overlap_area(geoms: np.ndarray) -> float:
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    k = i < j
    return float(shapely.area(shapely.intersection(geoms[i[k]], geoms[j[k]])).sum())


def test_two_facilities_split_the_street_half_way(line):
    c = local(network.catchments(line, facilities([(0, 0), (300, 0)]), [500]))
    a, b = c.geometry.iloc[0], c.geometry.iloc[1]
    # the border is the line x = 150, where both are 150 m away
    assert a.contains(P(140, 0)) and not a.contains(P(160, 0))
    assert b.contains(P(160, 0)) and b.contains(P(830, 0)) and not b.contains(P(850, 0))
    # to within half a 5 m grid cell (street samples sit on cell centres)
    assert a.bounds[2] == pytest.approx(X0 + 150, abs=2.6)
    assert b.bounds[0] == pytest.approx(X0 + 150, abs=2.6)
    # areas: [0, 150] x 80 and [150, 800] x 80, each with a half disc at the street's end
    assert a.area == pytest.approx(150 * 80 + np.pi * 1600 / 2, rel=0.03)
    assert b.area == pytest.approx(650 * 80 + np.pi * 1600 / 2, rel=0.03)
    assert a.intersection(b).area < 1e-6


def test_default_catchments_partition_the_overlapping_ones(grid):
    fac = facilities([(0, 0), (400, 400), (200, 210), (400, 0)])
    radii = [200, 500]
    part = local(network.catchments(grid, fac, radii))
    full = local(network.catchments(grid, fac, radii, overlapping=True))
    for r in radii:
        p = part[part["radius_m"] == r].geometry.to_numpy()
        f = full[full["radius_m"] == r].geometry.to_numpy()
        # no two facilities share ground ...
        assert overlap_area(p) < 1e-6 * shapely.area(p).sum()
        # ... while their own service areas do overlap
        assert overlap_area(f) > 0.05 * shapely.area(f).sum()
        up, uf = shapely.union_all(p), shapely.union_all(f)
        # the partition sums to its union, which is the union of the full areas
        assert shapely.area(p).sum() == pytest.approx(up.area, rel=1e-6)
        assert up.symmetric_difference(uf).area / uf.area < 0.03
        # each default catchment lies in that facility's full area
        for pi, fi in zip(p, f, strict=True):
            assert pi.difference(fi).area < 0.02 * max(pi.area, 1.0)


def test_agrees_with_overlapping_when_reaches_do_not_overlap(line):
    # 1000 m apart with a 300 m radius: reaches (300 m + 40 m buffer each) never meet
    two = street({1: (0, 0), 2: (500, 0), 3: (1000, 0), 4: (1500, 0)}, [(1, 2), (2, 3), (3, 4)])
    fac = facilities([(200, 0), (1200, 0)])
    part = local(network.catchments(two, fac, [300]))
    full = local(network.catchments(two, fac, [300], overlapping=True))
    # 300 m each way from x = 200 (stopped by the street's end at x = 0): 500 m of
    # street; from x = 1200: 600 m; buffered by 40 m, a half disc at each end
    exact = [500 * 80 + np.pi * 1600, 600 * 80 + np.pi * 1600]
    for p, f, e in zip(part.geometry, full.geometry, exact, strict=True):
        assert p.symmetric_difference(f).area / f.area < 0.02
        assert p.area == pytest.approx(e, rel=0.03)


def test_holes_are_kept():
    sq = street(
        {1: (0, 0), 2: (400, 0), 3: (400, 400), 4: (0, 400)}, [(1, 2), (2, 3), (3, 4), (4, 1)]
    )
    c = local(network.catchments(sq, facilities([(0, 0), (400, 400)]), [1000]))
    union = shapely.union_all(c.geometry.to_numpy())
    assert union.geom_type == "Polygon" and len(union.interiors) == 1
    assert not union.contains(P(200, 200))
    # opposite corners: each owns the two sides at its corner (the other two corners
    # are ties, 400 m from both)
    a, b = c.geometry.iloc[0], c.geometry.iloc[1]
    assert a.contains(P(300, 0)) and a.contains(P(0, 300)) and not a.intersects(P(400, 200))
    assert b.contains(P(100, 400)) and b.contains(P(400, 100)) and not b.intersects(P(0, 200))
    assert a.area + b.area == pytest.approx(union.area, rel=1e-6)


@pytest.mark.parametrize("overlapping", [False, True])
def test_a_street_with_a_bend_is_reached_along_its_vertices(overlapping):
    # one edge from (0, 0) to (300, 300) bending at (300, 0): 600 m long. A facility at its
    # start reaches 450 m along it, the whole first leg and 150 m up the second, so the
    # catchment is the 40 m buffer of the line (0, 0)-(300, 0)-(300, 150)
    bend = L((0, 0), (300, 0), (300, 300))
    graph = network.build_graph(
        node_frame({1: (0, 0), 2: (300, 300)}), edge_frame([(1, 2, bend.length, bend)]), crs=CRS
    )
    c = local(network.catchments(graph, facilities([(0, 0)]), [450], overlapping=overlapping))
    got = c.geometry.iloc[0]
    reached = shapely.buffer(L((0, 0), (300, 0), (300, 150)), 40.0)
    assert got.area == pytest.approx(reached.area, rel=0.03)
    assert shapely.area(shapely.symmetric_difference(got, reached)) < 0.03 * reached.area
    assert got.contains(P(300, 175)) and not got.contains(P(300, 205))
    assert got.contains(P(150, 30)) and not got.contains(P(150, 50))
    # the same street as two straight edges gives the same area
    split = network.build_graph(
        node_frame({1: (0, 0), 3: (300, 0), 2: (300, 300)}),
        edge_frame([(1, 3, 300.0, L((0, 0), (300, 0))), (3, 2, 300.0, L((300, 0), (300, 300)))]),
        crs=CRS,
    )
    twin = local(network.catchments(split, facilities([(0, 0)]), [450], overlapping=overlapping))
    assert twin.geometry.iloc[0].area == pytest.approx(got.area, rel=0.01)


def test_facility_on_no_street_within_reach_is_empty(line):
    c = network.catchments(line, facilities([(0, 0), (500, 900)]), [300])
    assert not c.geometry.iloc[0].is_empty
    assert c.geometry.iloc[1].is_empty and c["area_km2"].iloc[1] == 0


def test_coverage_catchments_pass_the_method(grid):
    fac = facilities([(0, 0), (100, 0)])
    part = coverage.catchments(grid, fac, [300])
    full = coverage.catchments(grid, fac, [300], overlapping=True)
    assert part["facility_id"].tolist() == full["facility_id"].tolist() == ["f0", "f1"]
    assert part["area_km2"].sum() < full["area_km2"].sum()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pts=st.lists(st.tuples(st.floats(-30, 430), st.floats(-30, 430)), min_size=1, max_size=6),
    radius=st.sampled_from([150.0, 350.0]),
)
def test_partition_property(grid, pts, radius):
    c = local(network.catchments(grid, facilities(pts), [radius]))
    g = c.geometry.to_numpy()
    assert shapely.is_valid(g).all()
    total = shapely.area(g).sum()
    assert overlap_area(g) <= 1e-6 * max(total, 1.0)
    union = shapely.union_all(g)
    assert total == pytest.approx(union.area, rel=1e-6, abs=1e-3)
    # an exact coverage (borders shared vertex for vertex): merged without an overlay
    live = g[~shapely.is_empty(g)]
    assert shapely.coverage_is_valid(live)
    assert shapely.coverage_union_all(live).area == pytest.approx(total, rel=1e-9, abs=1e-6)
