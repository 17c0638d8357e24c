"""The network engine on hand-built networks whose answers are worked out on paper.

Coordinates are metres in UTM 50N (EPSG:32650), offset by (X0, Y0), so every distance
below can be checked with a ruler. The main network (its A..D head in tests/fixtures.py)::

          (detour A..B: (0,0)-(0,60)-(100,60)-(100,0), length 220, parallel to A-B)

    A(0,0) ---100--- B(100,0) ---100--- C(200,0)         E(500,0) ---100--- F(600,0)
                      |                                   (a separate component)
                      50
                      |
                     D(100,-50)

plus a self-loop at C (dropped), a second, SHORTER parallel A-B edge of length 100 with
the straight geometry (kept: the minimum), and an edge to a node 99 that does not exist
(dropped with a warning).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from fixtures import AB_EDGES, AB_NODES, CRS, X0, Y0, L, P, edge_frame, node_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geoapp import network
from geoapp.errors import EmptyResultError, InputError

NODES = {**AB_NODES, 5: (500, 0), 6: (600, 0)}


def make_nodes() -> gpd.GeoDataFrame:
    return node_frame(NODES)


def make_edges() -> gpd.GeoDataFrame:
    rows = [
        # u, v, length, geometry: the detour, the straight A-B, B-C, D-B (see fixtures.py)
        *AB_EDGES,
        (3, 3, 10.0, L((200, 0), (205, 5), (200, 0))),  # self-loop
        (5, 6, 100.0, L((500, 0), (600, 0))),
        (6, 99, 10.0, L((600, 0), (610, 0))),  # node 99 is missing
    ]
    return edge_frame(rows, highway="footway", name=None)


@pytest.fixture(scope="module")
def graph() -> network.WalkGraph:
    return network.build_graph(make_nodes(), make_edges(), crs=CRS)


def pts(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[P(x, y) for x, y in xy], crs=CRS)


def idx(graph: network.WalkGraph, node_id: int) -> int:
    return int(np.flatnonzero(graph.node_ids == node_id)[0])


# --------------------------------------------------------------------------- build


def test_build_drops_self_loops_and_dangling_edges(caplog):
    with caplog.at_level(logging.WARNING, logger="geoapp.network"):
        g = network.build_graph(make_nodes(), make_edges(), crs=CRS)
    assert g.n_nodes == 6
    # 7 rows - self-loop - dangling = 5 edges (the two parallels both kept for snapping)
    assert g.n_edges == 5
    assert "missing from the nodes" in caplog.text
    # the CSR holds each undirected pair once per direction: A-B, B-C, B-D, E-F
    assert g.csr.nnz == 8
    assert (g.csr != g.csr.T).nnz == 0


def test_csr_keeps_minimum_of_parallel_edges(graph):
    a, b = idx(graph, 1), idx(graph, 2)
    # 100 (not 220, not their sum 320)
    assert graph.csr[a, b] == 100.0
    assert graph.csr[b, a] == 100.0


def test_geometry_oriented_from_u_to_v(graph):
    # the D-B edge was given as u=4 (D), v=2 (B) with geometry from D: kept; every
    # geometry must start at its u node
    starts = shapely.get_coordinates(shapely.get_point(graph.geometry, 0))
    assert np.allclose(starts, graph.xy[graph.u_idx])


def test_missing_length_is_measured_on_geometry():
    edges = make_edges()
    edges.loc[2, "length_m"] = np.nan  # B-C: geometry is 100 m long
    g = network.build_graph(make_nodes(), edges, crs=CRS)
    assert g.csr[idx(g, 2), idx(g, 3)] == pytest.approx(100.0)


def test_bad_lengths_and_columns_are_reported():
    edges = make_edges()
    edges.loc[2, "length_m"] = -5.0
    with pytest.raises(InputError, match="length_m"):
        network.build_graph(make_nodes(), edges, crs=CRS)
    with pytest.raises(InputError, match="'u'"):
        network.build_graph(make_nodes(), make_edges().drop(columns="u"), crs=CRS)
    with pytest.raises(EmptyResultError, match="Euclidean"):
        network.build_graph(make_nodes(), make_edges().iloc[:0], crs=CRS)


def test_default_crs_is_local_utm():
    nodes = make_nodes().to_crs(4326)
    edges = make_edges().to_crs(4326).drop(columns="length_m")
    g = network.build_graph(nodes, edges)
    assert g.crs.is_projected
    # B-C measured on the geometry in the local CRS: 100 m within projection error
    assert g.csr[idx(g, 2), idx(g, 3)] == pytest.approx(100.0, rel=1e-3)


# --------------------------------------------------------------------------- cache


def test_cached_graph_writes_and_reloads(tmp_path):
    network.clear_memo()
    g1 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    files = list(tmp_path.glob("walkgraph-*.npz"))
    assert len(files) == 1 and g1.key in files[0].name
    assert network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS) is g1
    network.clear_memo()
    g2 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    assert g2 is not g1
    assert g2.key == g1.key
    assert np.array_equal(g2.node_ids, g1.node_ids)
    assert (g2.csr != g1.csr).nnz == 0
    assert shapely.equals_exact(g2.geometry, g1.geometry, tolerance=0).all()
    assert g2.crs == g1.crs
    # other data, other key
    edges = make_edges()
    edges.loc[2, "length_m"] = 90.0
    g3 = network.cached_graph(make_nodes(), edges, cache_dir=tmp_path, crs=CRS)
    assert g3.key != g1.key
    assert len(list(tmp_path.glob("walkgraph-*.npz"))) == 2
    assert not list(tmp_path.glob(".*tmp*"))


def test_corrupt_cache_is_rebuilt(tmp_path, caplog):
    network.clear_memo()
    g1 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    network.clear_memo()
    path = next(tmp_path.glob("walkgraph-*.npz"))
    path.write_bytes(b"not an npz")
    with caplog.at_level(logging.WARNING, logger="geoapp.network"):
        g2 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    assert "unreadable" in caplog.text
    assert (g2.csr != g1.csr).nnz == 0


# --------------------------------------------------------------------------- snapping


def test_snap_to_nearest_edge_not_node(graph):
    # (50,-5): 5 m below the middle of straight A-B; the nearest NODE would be 50 m away
    # (150,10): 10 m above B-C, 50 m from B
    # (104,-30): 4 m right of D-B, 20 m from D (its u end), i.e. 30 m from B
    s = network.snap(graph, pts((50, -5), (150, 10), (104, -30)))
    u = graph.node_ids[graph.u_idx[s.edge]]
    v = graph.node_ids[graph.v_idx[s.edge]]
    assert list(zip(u, v, strict=True)) == [(1, 2), (2, 3), (4, 2)]
    assert graph.length_m[s.edge[0]] == 100.0  # the straight one, not the detour
    assert np.allclose(s.along_m, [50, 50, 20])
    assert np.allclose(s.access_m, [5, 10, 4])


def test_the_same_points_are_snapped_once_and_shared_read_only(tmp_path):
    network.clear_memo()
    g = network.cached_graph(make_nodes(), make_edges(), cache_dir=False, crs=CRS)
    first = network.snap(g, pts((50, -5), (150, 10)))
    again = network.snap(g, pts((50, -5), (150, 10)))  # a new frame, same content
    assert again is first
    with pytest.raises(ValueError):
        again.access_m[0] = 0.0  # shared: no caller may change it
    moved = network.snap(g, pts((50, -6), (150, 10)))
    assert moved is not first
    assert np.allclose(moved.access_m, [6, 10])
    # a graph without a key (built directly) is never memoised
    direct = network.build_graph(make_nodes(), make_edges(), crs=CRS)
    assert network.snap(direct, pts((50, -5))) is not network.snap(direct, pts((50, -5)))


def test_snap_empty_geometry():
    g = network.build_graph(make_nodes(), make_edges(), crs=CRS)
    frame = gpd.GeoDataFrame(geometry=[P(50, -5), None, Point()], crs=CRS)
    s = network.snap(g, frame)
    assert s.edge.tolist()[1:] == [-1, -1]
    assert np.isinf(s.access_m[1:]).all()


def test_snap_scales_along_to_length_m():
    # the detour has geometry length 220 and length_m 220: halve length_m, and a point
    # at the detour's geometric middle (50,60) must sit at along = 110/2 = 55
    edges = make_edges()
    edges.loc[0, "length_m"] = 110.0
    g = network.build_graph(make_nodes(), edges, crs=CRS)
    s = network.snap(g, pts((50, 63)))
    assert g.length_m[s.edge[0]] == 110.0
    assert s.along_m[0] == pytest.approx(55.0)
    assert s.access_m[0] == pytest.approx(3.0)


# --------------------------------------------------------------------------- distances


def test_node_distances(graph):
    d = network.node_distances(graph, idx(graph, 1))
    by_id = dict(zip(graph.node_ids.tolist(), d.tolist(), strict=True))
    # A=0, B=100 (straight, not the 220 detour), C=200, D=150, E and F unreachable
    assert by_id == {1: 0, 2: 100, 3: 200, 4: 150, 5: np.inf, 6: np.inf}
    d, src = network.node_distances(
        graph, [idx(graph, 1), idx(graph, 5)], limit_m=120, return_sources=True
    )
    by_id = dict(zip(graph.node_ids.tolist(), d.tolist(), strict=True))
    # limit 120: C (200) and D (150) beyond; F from E is 100
    assert by_id == {1: 0, 2: 100, 3: np.inf, 4: np.inf, 5: 0, 6: 100}
    assert graph.node_ids[src[idx(graph, 6)]] == 5
    assert src[idx(graph, 3)] == -1


FACILITY = (150, 10)  # on B-C, 50 m from B, access 10 m


def test_nearest_facility_worked_out(graph):
    demand = pts((50, -5), (190, 3), (104, -30), (550, 2))
    dist, fac = network.nearest_facility(graph, demand, pts(FACILITY), limit_m=1000)
    # d1 (50,-5): access 5 + 50 to B + 50 along B-C + facility access 10 = 115
    # d2 (190,3): SAME edge as the facility: access 3 + |90-50| + 10 = 53
    #             (via C would be 3 + 10 + 50 + 10 = 73)
    # d3 (104,-30): access 4 + 30 up to B + 50 + 10 = 94
    # d4 (550,2): on E-F, another component: unreachable -> inf, -1 (never 0)
    assert dist[:3] == pytest.approx([115, 53, 94])
    assert np.isinf(dist[3])
    assert fac.tolist() == [0, 0, 0, -1]


def test_nearest_facility_limit_is_inclusive_and_bounds(graph):
    demand = pts((50, -5), (190, 3), (104, -30))
    dist, fac = network.nearest_facility(graph, demand, pts(FACILITY), limit_m=94)
    # 115 > 94 -> none; 53 and 94 (exactly the limit) -> kept
    assert np.isinf(dist[0]) and fac[0] == -1
    assert dist[1:] == pytest.approx([53, 94])
    assert fac[1:].tolist() == [0, 0]


def test_second_facility_wins_where_nearer(graph):
    # g at (10,-8): on straight A-B, 10 m from A, access 8
    demand = pts((50, -5), (190, 3), (104, -30))
    facilities = pts(FACILITY, (10, -8))
    dist, fac = network.nearest_facility(graph, demand, facilities, limit_m=1000)
    # d1: same edge as g: 5 + |50-10| + 8 = 53 (< 115 via the first facility)
    # d3: via B: 4 + 30 + min(50 + 10, 90 + 8) = 94 -> still the first facility
    assert dist == pytest.approx([53, 53, 94])
    assert fac.tolist() == [1, 0, 0]


def test_each_component_uses_its_own_facility(graph):
    demand = pts((50, -5), (550, 2), (600, 5))
    facilities = pts(FACILITY, (500, -1))  # second one on E-F at E, access 1
    dist, fac = network.nearest_facility(graph, demand, facilities, limit_m=1000)
    # (550,2): same edge as the E facility: 2 + 50 + 1 = 53; (600,5): 5 + 100 + 1 = 106
    assert dist == pytest.approx([115, 53, 106])
    assert fac.tolist() == [0, 1, 1]


def test_facility_far_off_network_is_beyond_limit(graph):
    # a facility 900 m away from any street: access leg alone exceeds a 500 m bound
    dist, fac = network.nearest_facility(graph, pts((50, -5)), pts((150, 900)), limit_m=500)
    assert np.isinf(dist).all() and (fac == -1).all()


def test_facility_on_a_node_zero_length_leg(graph):
    # facility exactly at B: a zero-weight virtual edge must still be an edge
    dist, fac = network.nearest_facility(graph, pts((50, -5), (100, -50)), pts((100, 0)), 1000)
    assert dist == pytest.approx([55, 50])
    assert fac.tolist() == [0, 0]


def test_no_facilities(graph):
    dist, fac = network.nearest_facility(graph, pts((50, -5)), pts(), limit_m=1000)
    assert np.isinf(dist).all() and fac.tolist() == [-1]


def test_polygon_facility_uses_a_point_on_it(graph):
    square = shapely.box(X0 + 140, Y0 + 5, X0 + 160, Y0 + 25)
    facilities = gpd.GeoDataFrame(geometry=[square], crs=CRS)
    dist, fac = network.nearest_facility(graph, pts((190, 3)), facilities, limit_m=1000)
    assert fac.tolist() == [0]
    assert np.isfinite(dist[0])


def test_inputs_in_other_crs(graph):
    demand = pts((50, -5), (190, 3)).to_crs(4326)
    facilities = pts(FACILITY).to_crs(4326)
    dist, _ = network.nearest_facility(graph, demand, facilities, limit_m=1000)
    assert dist == pytest.approx([115, 53], abs=1e-3)


def test_snap_nodes_places_points_on_nodes(graph):
    nodes = np.arange(graph.n_nodes)
    s = network.snap_nodes(graph, nodes)
    d_nodes = network.node_distances(graph, idx(graph, 1))
    f = network.snap_nodes(graph, [idx(graph, 1)])
    dist, _ = network.nearest(graph, s, f, limit_m=np.inf)
    assert np.array_equal(np.isinf(dist), np.isinf(d_nodes))
    assert np.allclose(dist[np.isfinite(dist)], d_nodes[np.isfinite(d_nodes)])


def test_euclidean_nearest():
    demand = pts((0, 0), (30, 40), (1000, 0))
    facilities = pts((0, 10), (30, 0))
    dist, fac = network.euclidean_nearest(demand, facilities, limit_m=100, crs=CRS)
    # (0,0): 10 to the first; (30,40): 40 to the second (vs 42.4); (1000,0): none
    assert dist[:2] == pytest.approx([10, 40])
    assert np.isinf(dist[2])
    assert fac.tolist() == [0, 1, -1]
    dist, fac = network.euclidean_nearest(demand, facilities, limit_m=40, crs=CRS)
    assert dist[1] == pytest.approx(40) and fac[1] == 1  # the bound is inclusive


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
    demand = draw(st.lists(st.tuples(st.floats(0, 400), st.floats(0, 400)), min_size=1, max_size=6))
    facs = draw(st.lists(st.tuples(st.floats(0, 400), st.floats(0, 400)), min_size=1, max_size=4))
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(n, dtype=np.int64)}, geometry=[P(*p) for p in xy], crs=CRS
    )
    geoms = [L(xy[a], xy[b]) for a, b in pairs]
    edges = gpd.GeoDataFrame(
        {
            "u": np.array([a for a, _ in pairs], dtype=np.int64),
            "v": np.array([b for _, b in pairs], dtype=np.int64),
            # a street is never shorter than the straight line between its ends
            "length_m": [g.length * s for g, s in zip(geoms, stretch, strict=True)],
        },
        geometry=geoms,
        crs=CRS,
    )
    return network.build_graph(nodes, edges, crs=CRS), pts(*demand), pts(*facs)


PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@PROP
@given(random_network())
def test_network_distance_never_below_straight_line(case):
    g, demand, facilities = case
    dist, fac = network.nearest_facility(g, demand, facilities, limit_m=5000)
    dp = shapely.get_coordinates(demand.geometry.to_numpy())
    fp = shapely.get_coordinates(facilities.geometry.to_numpy())
    ok = fac >= 0
    straight = np.hypot(*(dp[ok] - fp[fac[ok]]).T)
    assert (dist[ok] >= straight - 1e-6).all()
    assert (np.isinf(dist) == (fac < 0)).all()


@pytest.mark.slow
@PROP
@given(random_network(), st.tuples(st.floats(0, 400), st.floats(0, 400)))
def test_adding_a_facility_never_lowers_coverage(case, extra):
    g, demand, facilities = case
    d1, _ = network.nearest_facility(g, demand, facilities, limit_m=300)
    more = gpd.GeoDataFrame(geometry=[*facilities.geometry, P(*extra)], crs=CRS)
    d2, _ = network.nearest_facility(g, demand, more, limit_m=300)
    assert (d2 <= d1 + 1e-9).all()


@PROP
@given(random_network(), st.floats(10, 400), st.floats(0, 400))
def test_raising_the_radius_never_lowers_coverage(case, r1, extra):
    g, demand, facilities = case
    r2 = r1 + extra
    d1, f1 = network.nearest_facility(g, demand, facilities, limit_m=r1)
    d2, f2 = network.nearest_facility(g, demand, facilities, limit_m=r2)
    assert ((d2 <= r2) | np.isinf(d2)).all()
    assert (np.isfinite(d2)[np.isfinite(d1)]).all()
    assert np.allclose(d1[np.isfinite(d1)], d2[np.isfinite(d1)])


@pytest.mark.slow
@PROP
@given(random_network())
def test_node_distances_match_networkx(case):
    g, _, _ = case
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    for a, b, w in zip(g.u_idx.tolist(), g.v_idx.tolist(), g.length_m.tolist(), strict=True):
        if not G.has_edge(a, b) or G[a][b]["w"] > w:
            G.add_edge(a, b, w=w)
    d = network.node_distances(g, 0)
    ref = nx.single_source_dijkstra_path_length(G, 0, weight="w")
    expected = np.array([ref.get(i, np.inf) for i in range(g.n_nodes)])
    assert np.array_equal(np.isinf(d), np.isinf(expected))
    assert np.allclose(d[np.isfinite(d)], expected[np.isfinite(expected)], atol=1e-9)


def _brute_force(g, dsnap, fsnap, limit):
    """All-pairs reference on the FULL graph: every way out of each point's edge."""
    from scipy.sparse.csgraph import dijkstra

    D = dijkstra(g.csr, directed=False)
    best = np.full(len(dsnap), np.inf)
    for i in range(len(dsnap)):
        ed, ad, xd = dsnap.edge[i], dsnap.along_m[i], dsnap.access_m[i]
        d_ends = [(g.u_idx[ed], ad), (g.v_idx[ed], g.length_m[ed] - ad)]
        for j in range(len(fsnap)):
            ef, af, xf = fsnap.edge[j], fsnap.along_m[j], fsnap.access_m[j]
            f_ends = [(g.u_idx[ef], af), (g.v_idx[ef], g.length_m[ef] - af)]
            cand = [dd + D[x, y] + ff for x, dd in d_ends for y, ff in f_ends]
            if ed == ef:
                cand.append(abs(ad - af))
            best[i] = min(best[i], min(cand) + xd + xf)
    best[best > limit] = np.inf
    return best


@pytest.mark.slow
@PROP
@given(random_network(), st.floats(50, 800))
def test_contracted_search_matches_brute_force(case, limit):
    g, demand, facilities = case
    dsnap = network.snap(g, demand)
    fsnap = network.snap(g, facilities)
    dist, fac = network.nearest(g, dsnap, fsnap, limit)
    expected = _brute_force(g, dsnap, fsnap, limit)
    assert np.array_equal(np.isinf(dist), np.isinf(expected))
    np.testing.assert_allclose(dist[np.isfinite(dist)], expected[np.isfinite(expected)], atol=1e-6)


def test_route_contracts_chains(graph):
    r = graph.route
    # A has exactly two edges (the two parallel A-B edges), so it is not a junction:
    # the chain B -> A -> B is a loop of 220 + 100 = 320 m. B-C, B-D and E-F are
    # single-edge chains between junctions.
    ends = np.sort(np.c_[graph.node_ids[r.chain_a], graph.node_ids[r.chain_b]], axis=1)
    chains = sorted(zip(map(tuple, ends.tolist()), r.chain_len.tolist(), strict=True))
    assert chains == [((2, 2), 320.0), ((2, 3), 100.0), ((2, 4), 50.0), ((5, 6), 100.0)]
    # the loop is not in the routing CSR; the three others are, both ways
    assert r.csr.nnz == 6


def test_cache_keeps_the_route(tmp_path):
    network.clear_memo()
    g1 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    network.clear_memo()
    g2 = network.cached_graph(make_nodes(), make_edges(), cache_dir=tmp_path, crs=CRS)
    assert g2._route is not None  # loaded, not rebuilt
    for name in ("chain_a", "chain_b", "chain_len", "edge_chain", "edge_offset", "edge_forward"):
        assert np.array_equal(getattr(g2.route, name), getattr(g1.route, name))
    assert (g2.route.csr != g1.route.csr).nnz == 0


def test_concurrent_calls_for_one_graph_share_one_build():
    # the CLI starts the graph while a large extract is still read; get_graph then
    # waits for that build instead of building it again
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from geoapp.sources.demo import demo_region

    region = demo_region()
    network.clear_memo()
    start = threading.Barrier(4)

    def build(_):
        start.wait()  # the four calls at once
        return network.cached_graph(region.nodes, region.edges, cache_dir=False)

    with ThreadPoolExecutor(4) as pool:
        graphs = list(pool.map(build, range(4)))
    assert all(g is graphs[0] for g in graphs)
    fresh = network.build_graph(region.nodes, region.edges)
    assert np.array_equal(graphs[0].u_idx, fresh.u_idx)
    assert np.array_equal(graphs[0].length_m, fresh.length_m)
    # a failing build fails every caller waiting for it, with its own error
    broken = region.edges.drop(columns=["u"])
    network.clear_memo()
    with ThreadPoolExecutor(3) as pool:
        jobs = [
            pool.submit(network.cached_graph, region.nodes, broken, cache_dir=False)
            for _ in range(3)
        ]
        for job in jobs:
            with pytest.raises(InputError, match="'u' is missing"):
                job.result()
