"""One network whatever the reader: .osm, .osm.bz2, .osm.pbf and online give the same distances.

The extract is built here with pyosmium: a main street with a loop street (a closed way
starting and ending on it), a service spur to a closed service ring, a through street
crossing a closed ring (so the ring's two halves join the same two intersections), an
isolated closed ring, and buildings next to each (one nearest the far side of the loop).
"""

from __future__ import annotations

import bz2
import shutil
import warnings

import geopandas as gpd
import hypothesis.strategies as st
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import pyrosm
import pytest
import shapely
from hypothesis import given, settings
from osm_extract_builder import write_extract
from shapely.geometry import LineString, Point

from geoapp import network
from geoapp.sources._osm_common import is_walkable_way, split_loops, walk_tags
from geoapp.sources.osm_file import read_osm_file
from geoapp.sources.osm_online import network_frames

LON0, LAT0, D = 116.40, 39.90, 0.001


def _p(x: float, y: float) -> tuple[float, float]:
    return (LON0 + x * D, LAT0 + y * D * 0.77)


def _extract() -> tuple[dict, list]:
    nodes = {1 + i: _p(i * 2, 0) for i in range(5)}
    nodes.update({10: _p(3.5, 2), 11: _p(4, 4), 12: _p(2.5, 3.5)})
    nodes.update({19: _p(8, 2), 20: _p(8, 3), 21: _p(9, 4), 22: _p(8, 5), 23: _p(7, 4)})
    nodes.update({31: _p(2, -2), 32: _p(3.5, -3.5), 34: _p(2, -5), 33: _p(0.5, -3.5)})
    nodes.update({36: _p(2, -7), 50: _p(12, 0), 51: _p(13, 1), 52: _p(12, 2), 53: _p(11, 1)})
    nodes.update({60: _p(6, -1), 61: _p(6, -2), 62: _p(-1, -1)})
    ways = [
        (100, [1, 2, 3, 4, 5], {"highway": "residential", "name": "Main"}),
        (101, [3, 10, 11, 12, 3], {"highway": "residential", "name": "Loop"}),
        (102, [5, 19, 20], {"highway": "service"}),
        (103, [20, 21, 22, 23, 20], {"highway": "service"}),
        (104, [2, 31, 34, 36], {"highway": "residential", "name": "Through"}),
        (105, [31, 32, 34, 33, 31], {"highway": "residential", "name": "Ring"}),
        (106, [50, 51, 52, 53, 50], {"highway": "service"}),
        # closed to pedestrians by the access hierarchy / open by foot=yes
        (107, [4, 60, 61], {"highway": "service", "access": "no"}),
        (108, [1, 62], {"highway": "footway", "access": "no", "foot": "yes"}),
    ]
    nid, wid = 1000, 2000
    # (4.3, 4.2) is nearest the loop's far side, (9.3, 4.2) the service ring,
    # (3.8, -3.8) the ring's east half, (13.2, 1.2) the isolated ring
    for x, y in ((4.3, 4.2), (2.0, 3.9), (9.3, 4.2), (3.8, -3.8), (0.0, -3.9), (13.2, 1.2)):
        ids = []
        for dx, dy in ((0, 0), (0.3, 0), (0.3, 0.3), (0, 0.3)):
            nodes[nid] = _p(x + dx, y + dy)
            ids.append(nid)
            nid += 1
        ways.append((wid, [*ids, ids[0]], {"building": "yes"}))
        wid += 1
    return nodes, ways


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("loops")
    nodes, ways = _extract()
    xml = write_extract(tmp / "x.osm", nodes, ways)
    pbf = write_extract(tmp / "x.osm.pbf", nodes, ways)
    bz = tmp / "x.osm.bz2"
    with open(xml, "rb") as src, bz2.open(bz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return {"xml": xml, "pbf": pbf, "bz2": bz}


def _distances(nodes, edges, buildings, ids, every: int = 0) -> np.ndarray:
    """Distance from each building (centroid) to the facility: a point 11 m south of node 1,
    or (``every > 0``) the nearest of every ``every``-th building."""
    graph = network.cached_graph(nodes, edges, cache_dir=False)
    b = buildings.set_index("building_id").loc[ids]
    local = b.geometry.to_crs(b.geometry.estimate_utm_crs())
    pts = gpd.GeoSeries(local.centroid.to_crs(4326).to_numpy(), crs=4326)
    facility = gpd.GeoSeries(gpd.points_from_xy([LON0], [LAT0 - 0.0001]), crs=4326)
    if every:
        facility = pts.iloc[::every]
    dist, _ = network.nearest_facility(graph, pts, facility, 5000.0)
    return dist


def test_loop_street_is_in_the_network(files):
    region = read_osm_file(files["xml"])
    edges = region.edges
    assert (edges["u"] != edges["v"]).all()
    pairs = set(map(frozenset, zip(edges["u"], edges["v"], strict=True)))
    assert len(pairs) == len(edges)  # no parallel edges left
    loop = edges[edges["name"] == "Loop"]
    # the loop 3 -> 10 -> 11 -> 12 -> 3: 176.47 + 176.47 + 134.92 + 325.85 m (PBF segments)
    assert loop["length_m"].sum() == pytest.approx(813.71, abs=0.5)
    # the isolated closed service ring (4 x 120.86 m) is kept
    iso = edges[edges["u"].isin([50, 51, 52, 53]) | edges["v"].isin([50, 51, 52, 53])]
    assert iso["length_m"].sum() == pytest.approx(4 * 120.86, abs=0.5)
    ends = set(edges["u"]) | set(edges["v"])
    assert 62 in ends  # access=no, foot=yes: walkable
    assert not {60, 61} & ends  # access=no alone: closed


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "service", "access": "no"}, False),
        ({"highway": "footway", "access": "no", "foot": "yes"}, True),
        ({"highway": "path", "access": "private;delivery"}, False),
        ({"highway": "path", "foot": "private"}, False),
        ({"highway": "residential", "access": "destination"}, True),
        ({"highway": "motorway_link"}, False),
        ({"highway": "cycleway", "foot": "yes"}, False),
        ({"highway": "footway", "area": "yes"}, False),
        ({"highway": "service", "service": "private"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_filter_follows_the_access_hierarchy(tags, walkable):
    assert is_walkable_way(tags) is walkable


@pytest.mark.parametrize("kind", ["xml", "bz2"])
def test_xml_and_pbf_give_the_same_distances(files, kind):
    a = read_osm_file(files["pbf"])
    b = read_osm_file(files[kind])
    ids = sorted(a.buildings["building_id"])
    assert sorted(b.buildings["building_id"]) == ids
    da = _distances(a.nodes, a.edges, a.buildings, ids)
    db = _distances(b.nodes, b.edges, b.buildings, ids)
    assert np.array_equal(np.isfinite(da), np.isfinite(db))
    assert np.isinf(da).sum() == 1  # the building by the isolated ring cannot reach it
    fin = np.isfinite(da)
    np.testing.assert_allclose(db[fin], da[fin], atol=1.0)
    total_a, total_b = a.edges["length_m"].sum(), b.edges["length_m"].sum()
    assert total_b == pytest.approx(total_a, rel=1e-3)


def test_building_by_the_loop_walks_along_the_loop(files):
    region = read_osm_file(files["xml"])
    ids = ["way/2000"]  # the building nearest the loop's far side, at (4.3, 4.2)
    d = _distances(region.nodes, region.edges, region.buildings, ids)[0]
    # facility 11 m south of node 1; node 1 -> node 3 is 341.2 m; node 3 -> node 10 -> 11
    # is 353 m along the loop: the building is reached along the loop, not the main road
    assert 341.2 + 353.0 < d < 341.2 + 353.0 + 80


def test_online_graph_goes_through_the_same_code(files):
    # Overpass answers a walk query with the walkable ways only: the streets of the extract
    a = read_osm_file(files["pbf"])
    nodes, ways = _extract()
    streets = [w for w in ways if "highway" in w[2]]
    used = {r for w in streets for r in w[1]}
    xml = write_extract(files["xml"].with_name("streets.osm"), {k: nodes[k] for k in used}, streets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with walk_tags():
            G = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    nodes, edges = network_frames(G)
    ids = sorted(a.buildings["building_id"])
    da = _distances(a.nodes, a.edges, a.buildings, ids)
    db = _distances(nodes, edges, a.buildings, ids)
    fin = np.isfinite(da)
    assert np.array_equal(fin, np.isfinite(db))
    np.testing.assert_allclose(db[fin], da[fin], atol=1.0)
    assert edges["length_m"].sum() == pytest.approx(a.edges["length_m"].sum(), rel=1e-3)


@pytest.mark.slow
def test_pyrosm_test_pbf_as_xml_gives_the_same_network(tmp_path):
    src = pyrosm.get_data("test_pbf")
    xml = tmp_path / "test.osm"
    writer = osmium.SimpleWriter(str(xml))
    for obj in osmium.FileProcessor(src):
        writer.add(obj)
    writer.close()
    a, b = read_osm_file(src), read_osm_file(xml)
    ids = sorted(a.buildings["building_id"])
    assert sorted(b.buildings["building_id"]) == ids
    assert b.edges["length_m"].sum() == pytest.approx(a.edges["length_m"].sum(), rel=1e-3)
    da = _distances(a.nodes, a.edges, a.buildings, ids, every=50)
    db = _distances(b.nodes, b.edges, b.buildings, ids, every=50)
    fin = np.isfinite(da)
    assert fin.mean() > 0.5
    assert np.array_equal(fin, np.isfinite(db))
    np.testing.assert_allclose(db[fin], da[fin], atol=1.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 3),
            st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_split_loops_leaves_no_loop_or_parallel_edge_and_keeps_lengths(specs):
    node_xy = {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (1.0, 1.0), 3: (0.0, 1.0)}

    def deg(x: float, y: float) -> tuple[float, float]:
        return (LON0 + D * x, LAT0 + D * y)

    rows = []
    for u, v, mid in specs:
        pts = [deg(*node_xy[u]), *[deg(x, y) for x, y in mid], deg(*node_xy[v])]
        rows.append({"u": u, "v": v, "length_m": 100.0, "highway": "path", "name": None,
                     "geometry": LineString(pts)})  # fmt: skip
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    nodes = gpd.GeoDataFrame(
        {"node_id": list(node_xy)},
        geometry=[Point(deg(x, y)) for x, y in node_xy.values()],
        crs=4326,
    )
    before = edges.copy()
    out_nodes, out = split_loops(nodes, edges)
    pd.testing.assert_frame_equal(edges, before)  # the input is unchanged
    assert (out["u"] != out["v"]).all()
    pairs = [frozenset(p) for p in zip(out["u"], out["v"], strict=True)]
    assert len(set(pairs)) == len(pairs)
    # lengths are kept, but for exact duplicates (the same line twice), dropped once,
    # and loops of no length, dropped
    canon = {}
    for r in rows:
        if r["u"] == r["v"] and r["geometry"].length == 0:
            continue
        key = (frozenset((r["u"], r["v"])), shapely.normalize(r["geometry"]).wkb)
        canon[key] = r["length_m"]
    assert out["length_m"].sum() == pytest.approx(sum(canon.values()), rel=1e-9)
    # every edge runs from its u node to its v node
    pos = out_nodes.set_index("node_id").geometry
    start = shapely.get_point(out.geometry.to_numpy(), 0)
    end = shapely.get_point(out.geometry.to_numpy(), -1)
    assert np.allclose(shapely.distance(start, pos.loc[out["u"]].to_numpy()), 0, atol=1e-9)
    assert np.allclose(shapely.distance(end, pos.loc[out["v"]].to_numpy()), 0, atol=1e-9)
