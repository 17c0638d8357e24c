"""fetch_place with osmnx monkeypatched: no test touches the network."""

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import requests
import shapely
from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError
from shapely.geometry import LineString, Point, box

from geoapp.catalog import load_catalog
from geoapp.errors import GeoappError, InputError, NetworkUnavailableError, PlaceNotFoundError
from geoapp.layers import select_features
from geoapp.sources.osm_online import fetch_place

AREA = box(116.30, 39.90, 116.31, 39.91)


def fake_graph() -> nx.MultiDiGraph:
    """Three nodes, two streets, both directions (as osmnx's walk network is).

    Already simplified (list-valued tags are what osmnx's simplification makes), and
    marked so, as osmnx marks the graphs it simplified.
    """
    G = nx.MultiDiGraph(crs="epsg:4326", simplified=True)
    G.add_node(1, x=116.301, y=39.901)
    G.add_node(2, x=116.302, y=39.901)
    G.add_node(3, x=116.302, y=39.902)
    bend = LineString([(116.302, 39.901), (116.3025, 39.9015), (116.302, 39.902)])
    for u, v, geom, hw, name in [
        (1, 2, None, "residential", "A Street"),
        (2, 3, bend, ["footway", "path"], ["B Lane", "C Lane"]),
    ]:
        for a, b in ((u, v), (v, u)):
            attrs = {"osmid": 10 * u + v, "highway": hw, "name": name, "oneway": False}
            if geom is not None:
                attrs["geometry"] = geom if a == u else shapely.reverse(geom)
            attrs["length"] = 85.3 if geom is None else 150.0
            G.add_edge(a, b, **attrs)
    return G


def fake_features() -> gpd.GeoDataFrame:
    idx = pd.MultiIndex.from_tuples(
        [("node", 5), ("way", 6), ("way", 7), ("relation", 8), ("way", 9)],
        names=["element", "id"],
    )
    return gpd.GeoDataFrame(
        {
            "amenity": ["social_facility", None, None, None, None],
            "social_facility": ["nursing_home", None, None, None, None],
            "social_facility:for": ["senior", None, None, None, None],
            "name": ["Elder Home", "Tower", None, "Dongcheng", None],
            "building": [None, "yes", None, None, "apartments"],
            "building:levels": [None, "12", None, None, "6"],
            "historic": [None, "tower", None, None, None],
            "landuse": [None, None, "residential", None, None],
            "boundary": [None, None, None, "administrative", None],
            "admin_level": [None, None, None, "6", None],
        },
        geometry=[
            Point(116.3012, 39.9012),
            box(116.303, 39.903, 116.3032, 39.9032),
            box(116.304, 39.904, 116.306, 39.906),
            box(116.29, 39.89, 116.305, 39.92),  # reaches outside the area: clipped
            box(116.307, 39.907, 116.3075, 39.9075),
        ],
        index=idx,
        crs="EPSG:4326",
    )


@pytest.fixture()
def fake_osmnx(monkeypatch):
    calls = {}

    def geocode_to_gdf(query, **kw):
        calls["geocode"] = query
        calls["settings"] = (
            ox.settings.use_cache,
            ox.settings.requests_timeout,
            ox.settings.cache_folder,
        )
        return gpd.GeoDataFrame(
            {"display_name": [f"{query}, China"]}, geometry=[AREA], crs="EPSG:4326"
        )

    def graph_from_polygon(polygon, **kw):
        calls["graph"] = (polygon, kw)
        return fake_graph()

    def features_from_polygon(polygon, tags):
        calls["features"] = (polygon, tags)
        return fake_features()

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    monkeypatch.setattr(ox, "graph_from_polygon", graph_from_polygon)
    monkeypatch.setattr(ox, "features_from_polygon", features_from_polygon)
    return calls


def test_fetch_place_by_name_builds_a_region(fake_osmnx, tmp_path):
    before = (ox.settings.use_cache, ox.settings.requests_timeout, ox.settings.cache_folder)
    region = fetch_place("Dongcheng", timeout=42, cache_dir=tmp_path / "cache")
    # osmnx cache on, our timeout and cache folder used during the call, restored after
    assert fake_osmnx["settings"] == (True, 42, str(tmp_path / "cache"))
    assert (ox.settings.use_cache, ox.settings.requests_timeout, ox.settings.cache_folder) == before
    assert fake_osmnx["graph"][1]["network_type"] == "walk"
    tags = fake_osmnx["features"][1]
    assert tags["building"] is True and "residential" in tags["landuse"]
    assert tags["historic"] is True  # from the heritage layer
    assert tags["place"] is True  # settlements with population tags, for the checks
    assert fake_osmnx["graph"][1]["simplify"] is False  # simplified here, rings kept
    assert {"place", "population"} <= set(region.features.columns)
    assert region.source == "osm-place:Dongcheng"
    assert "OpenStreetMap contributors" in region.meta["attribution"]

    edges, nodes = region.edges, region.nodes
    assert len(edges) == 2  # one row per undirected street
    assert sorted(nodes["node_id"]) == [1, 2, 3] and nodes["node_id"].dtype == np.int64
    pair = edges[edges.u.isin([1, 2]) & edges.v.isin([1, 2])]
    assert len(pair) == 1
    street = pair.iloc[0]
    assert street["length_m"] == pytest.approx(85.3)
    assert street["highway"] == "residential" and street["name"] == "A Street"
    # list-valued tags of merged edges keep their first value
    row = edges[(edges.u.isin([2, 3])) & (edges.v.isin([2, 3]))].iloc[0]
    assert row["highway"] == "footway" and row["name"] == "B Lane"
    # geometry runs from u to v
    pts = nodes.set_index("node_id").geometry
    for _, r in edges.iterrows():
        assert Point(r.geometry.coords[0]).distance(pts[r.u]) < 1e-9
        assert Point(r.geometry.coords[-1]).distance(pts[r.v]) < 1e-9

    feats = region.features
    assert set(feats["osm_id"]) == {"node/5", "way/6"}
    assert list(select_features(feats, load_catalog()["elderly_care"])["name"]) == ["Elder Home"]
    assert sorted(region.buildings["building_id"]) == ["way/6", "way/9"]
    assert sorted(region.buildings["levels"]) == [6.0, 12.0]
    assert len(region.landuse) == 1
    # no admin_level: one district, the geocoded area
    assert len(region.boundaries) == 1
    assert region.boundaries.geometry.iloc[0].equals(AREA)
    assert region.boundaries["zone_type"].iloc[0] == "unknown"


def test_admin_level_boundaries_are_clipped_to_the_area(fake_osmnx):
    region = fetch_place("Dongcheng", admin_level=6, network=False)
    assert "administrative" in fake_osmnx["features"][1]["boundary"]
    assert "graph" not in fake_osmnx
    assert len(region.edges) == 0
    bnd = region.boundaries
    assert list(bnd["district"]) == ["Dongcheng"]
    expected = box(116.30, 39.90, 116.305, 39.91)  # the relation intersected with the area
    assert bnd.geometry.iloc[0].symmetric_difference(expected).area < 1e-12


def test_bbox_and_polygon_queries_skip_geocoding(fake_osmnx):
    region = fetch_place((116.30, 39.90, 116.31, 39.91), buildings=False)
    assert "geocode" not in fake_osmnx
    assert region.source.startswith("osm-bbox:116.3,39.9")
    assert "building" not in fake_osmnx["features"][1]
    assert len(region.buildings) == 0
    poly = shapely.Polygon([(116.3, 39.9), (116.31, 39.9), (116.305, 39.91)])
    region = fetch_place(poly)
    assert fake_osmnx["graph"][0].equals(poly)
    assert region.source == "osm-polygon"


@pytest.mark.parametrize(
    "bbox",
    [(116.31, 39.9, 116.30, 39.91), (116.3, 95.0, 116.31, 96.0), (1, 2, 3), ("a", 1, 2, 3)],
)
def test_bad_bbox_is_an_input_error(fake_osmnx, bbox):
    with pytest.raises(InputError, match="west, south, east, north"):
        fetch_place(bbox)


@pytest.mark.parametrize(
    "exc",
    [
        InsufficientResponseError("Nominatim geocoder returned 0 results for query 'Xyzzy'."),
        TypeError("Nominatim did not geocode query 'Xyzzy' to a geometry of type (Multi)Polygon."),
    ],
)
def test_unknown_place(monkeypatch, exc):
    def geocode_to_gdf(query, **kw):
        raise exc

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    with pytest.raises(PlaceNotFoundError, match="Xyzzy") as err:
        fetch_place("Xyzzy")
    assert "\n" not in str(err.value)
    assert isinstance(err.value, GeoappError)


def test_empty_geocode_result_is_place_not_found(monkeypatch):
    monkeypatch.setattr(
        ox, "geocode_to_gdf", lambda q, **kw: gpd.GeoDataFrame(geometry=[], crs=4326)
    )
    with pytest.raises(PlaceNotFoundError):
        fetch_place("Nowhere")


@pytest.mark.parametrize(
    "where, exc",
    [
        (
            "geocode_to_gdf",
            requests.exceptions.ConnectionError("Failed to establish a new connection"),
        ),
        (
            "graph_from_polygon",
            requests.exceptions.ReadTimeout("Read timed out. (read timeout=180)"),
        ),
        ("features_from_polygon", ResponseStatusCodeError("'overpass-api.de' responded: 503")),
    ],
)
def test_network_failures_are_one_clear_error(fake_osmnx, monkeypatch, where, exc):
    def boom(*a, **kw):
        raise exc

    monkeypatch.setattr(ox, where, boom)
    with pytest.raises(NetworkUnavailableError) as err:
        fetch_place("Dongcheng")
    msg = str(err.value)
    assert "Cannot reach OpenStreetMap" in msg and "\n" not in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_unroutable_nominatim_through_real_osmnx_code(monkeypatch, tmp_path):
    """Real osmnx geocoding with the HTTP transport failing as for an unroutable host."""
    sent = []

    def refuse(self, request, **kw):
        sent.append(request.url)
        raise requests.exceptions.ConnectionError(f"unroutable: {request.url}")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)
    monkeypatch.setattr(ox.settings, "nominatim_url", "http://10.255.255.1/")
    monkeypatch.setattr(ox._nominatim.time, "sleep", lambda s: None)
    with pytest.raises(NetworkUnavailableError, match="geocoding"):
        fetch_place("Dongcheng District, Beijing", cache_dir=tmp_path, timeout=1)
    assert sent and sent[0].startswith("http://10.255.255.1/search")


def test_empty_area_gives_empty_frames(monkeypatch):
    def nothing(*a, **kw):
        raise InsufficientResponseError("No data elements in server response.")

    monkeypatch.setattr(ox, "graph_from_polygon", nothing)
    monkeypatch.setattr(ox, "features_from_polygon", nothing)
    region = fetch_place((116.30, 39.90, 116.31, 39.91))
    assert len(region.edges) == len(region.features) == len(region.buildings) == 0
    assert list(region.edges.columns) == ["u", "v", "length_m", "highway", "name", "geometry"]
    assert len(region.boundaries) == 1
