"""Artefacts of the data are not findings (issue 24): a street fragment and the data's edge.

The fixture, in metres east (x) and north (y) of a clinic at (0, 0): a ladder of
streets 3 km wide (y = 0 and y = 600 from x = 0 to 3,000, joined at x = 0, 1,500 and
3,000), and four blocks of flats (16 m squares, 4 levels, ~24 residents each):

* A at (200, 20): 220 m walk from the clinic, covered.
* R at (2,500, 300): inside the streets, 300 m from the nearest; its walk to the clinic is
  more than 3 km: a real service gap.
* F at (700, 286): 14 m from a 30 m footway joined to nothing (and 286 m from y = 0): its
  nearest street is a fragment, so nothing is reached from it: a network gap.
* E at (1,500, 900): 300 m beyond the last street (y = 600) and at the data's edge (its
  own outline draws the hull of the data): edge of data.

By hand: R is the only gap (rank 1); summary.csv's region row counts F's residents in
``pop_network_gap`` and E's in ``pop_edge_of_data``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osm_extract_builder import write_extract  # noqa: E402

from geoapp import artefacts, gaps, network, workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402

LON0, LAT0 = 100.0, 17.5
MY = 1 / 111_320  # one metre of latitude, in degrees
MX = MY / math.cos(math.radians(LAT0))  # one metre of longitude here


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")
    network.clear_memo()
    yield
    network.clear_memo()


def _xy(x: float, y: float) -> tuple[float, float]:
    return (LON0 + x * MX, LAT0 + y * MY)


def _flats(nodes, ways, wid, first, x, y, half=8.0):
    ids = []
    for k, (dx, dy) in enumerate(((-half, -half), (half, -half), (half, half), (-half, half))):
        nodes[first + k] = _xy(x + dx, y + dy)
        ids.append(first + k)
    ways.append((wid, [*ids, ids[0]], {"building": "apartments", "building:levels": "4"}))


def _extract(path: Path) -> Path:
    nodes = {}
    for i, (x, y) in enumerate(
        [(0, 0), (1500, 0), (3000, 0), (0, 600), (1500, 600), (3000, 600)], start=1
    ):
        nodes[i] = _xy(x, y)
    ways = [
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [4, 5, 6], {"highway": "residential"}),
        (12, [1, 4], {"highway": "residential"}),
        (13, [2, 5], {"highway": "residential"}),
        (14, [3, 6], {"highway": "residential"}),
    ]
    nodes[20], nodes[21] = _xy(685, 300), _xy(715, 300)  # the fragment
    ways.append((15, [20, 21], {"highway": "footway"}))
    nodes[30] = (*_xy(1, 1), {"amenity": "clinic"})
    _flats(nodes, ways, 100, 100, 200, 20)  # A
    _flats(nodes, ways, 101, 110, 2500, 300)  # R
    _flats(nodes, ways, 102, 120, 700, 286)  # F
    _flats(nodes, ways, 103, 130, 1500, 900)  # E
    return write_extract(path, nodes, ways)


@pytest.fixture
def analysed(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "edge.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    layer = get_layer("community_services")
    ana = workflow.analyse_layer(region, layer, demand=demand, graph=graph, with_catchments=False)
    return region, ana


def test_fragment_and_edge_residents_get_their_class_not_a_gap(analysed):
    _, ana = analysed
    acc = ana.access.set_index("demand_id")
    assert acc["dq_class"].to_dict() == {
        "way/100": "ok",
        "way/101": "ok",
        "way/102": "network_gap",
        "way/103": "edge_of_data",
    }
    assert acc.loc["way/100", "dist_m"] < 300
    assert not acc.loc["way/101", "dist_m"] <= 1000  # R: a real gap
    assert np.isinf(acc.loc["way/102", "dist_m"])  # F: cut off on its fragment
    # the real gap still ranks, alone: R's residents, nobody else's
    assert len(ana.gaps) == 1
    gap = ana.gaps.iloc[0]
    assert gap["rank"] == 1
    assert np.isclose(gap["uncovered_demand"], acc.loc["way/101", "pop"])
    r = shapely.Point(_xy(2500, 300))
    assert gap.geometry.contains(r)


def test_the_coverage_figures_count_each_class(analysed):
    _, ana = analysed
    acc = ana.access.set_index("demand_id")
    row = ana.summary[ana.summary["level"] == "region"].iloc[0]
    assert np.isclose(row["pop_network_gap"], acc.loc["way/102", "pop"])
    assert np.isclose(row["pop_edge_of_data"], acc.loc["way/103", "pop"])
    assert np.isclose(row["pop_60plus_network_gap"], acc.loc["way/102", "pop_60plus"])
    # they stay residents beyond the target: the share is not raised by a guess
    total = acc["pop"].sum()
    at_target = f"share_pop_{ana.layer.labels[-1]}"  # 15 minutes at 4 km/h: 1,000 m
    assert np.isclose(row[at_target], acc.loc["way/100", "pop"] / total)
    dq = ana.meta["data_quality_classes"]
    assert dq["network_gap"]["demand_points"] == 1
    assert dq["edge_of_data"]["demand_points"] == 1
    assert np.isclose(dq["edge_of_data"]["pop"], round(acc.loc["way/103", "pop"], 1))


def test_the_rule_by_hand_on_points():
    """Straight from the rule: reached is ok; beyond the streets' hull near the edge, or
    twice as near the edge as any street, is the edge of data; a fragment comes first."""
    streets = gpd.GeoDataFrame(
        geometry=[shapely.LineString([_xy(0, 0), _xy(1000, 0)])], crs="EPSG:4326"
    )
    pts = [(500, 0), (500, 100), (500, 100), (500, 100), (500, 5000)]
    acc = gpd.GeoDataFrame(
        {"dist_m": [10.0, np.inf, np.inf, 50.0, np.inf]},
        geometry=[shapely.Point(_xy(*p)) for p in pts],
        crs="EPSG:4326",
    )
    extent = shapely.box(*_xy(-10, -10), *_xy(1010, 120))
    frag = np.array([False, False, True, False, False])
    got = artefacts.dq_classes(
        acc, target_m=100, search_limit_m=3000, streets=streets, extent=extent, on_fragment=frag
    )
    # (500, 100): 100 m from the street, 20 m from the edge and outside the streets' hull
    # (a line); (500, 5000) is 4,880 m beyond the edge: farther than the search
    assert list(got) == ["ok", "edge_of_data", "network_gap", "ok", "ok"]
    # no streets: no edge rule
    assert list(artefacts.dq_classes(acc, target_m=100, search_limit_m=3000)) == ["ok"] * 5


def test_find_gaps_leaves_artefacts_out(analysed):
    _, ana = analysed
    # the same table without the classes: the fragment's and the edge's blocks are gaps
    plain = gaps.find_gaps(ana.access.drop(columns="dq_class"), ana.layer, search_limit_m=3000.0)
    assert len(plain) == 3
    assert len(gaps.find_gaps(ana.access, ana.layer, search_limit_m=3000.0)) == 1


def test_the_map_draws_each_class_apart(analysed):
    region, ana = analysed
    from geoapp import maps

    page = maps.map_html(workflow.coverage_map(region, ana))
    assert "Data quality (not gaps)" in page
    assert "Network gap: nearest street joins no other" in page
    assert "Edge of data: beyond the last street in the data" in page
    zh = maps.map_html(workflow.coverage_map(region, ana, lang="zh"))
    assert "数据质量（非服务缺口）" in zh
