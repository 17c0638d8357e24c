"""Tests of the embedded demo region (geoapp.sources.demo and demo_city)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geoapp.catalog import load_catalog
from geoapp.layers import select_features
from geoapp.region import FEATURE_TAG_KEYS, SYNTHETIC_LABEL, Region
from geoapp.sources import demo, demo_city
from geoapp.sources.demo import demo_census, demo_region

LOCAL = "EPSG:32650"
RESIDENTIAL = ["apartments", "residential", "house", "yes"]
HIGHWAYS = {
    "residential",
    "footway",
    "primary",
    "secondary",
    "tertiary",
    "track",
    "path",
    "service",
}


@pytest.fixture(scope="module")
def region() -> Region:
    return demo_region()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def layer_features(region, catalog) -> dict[str, gpd.GeoDataFrame]:
    return {lid: select_features(region.features, layer) for lid, layer in catalog.items()}


@pytest.fixture(scope="module")
def floor_area(region) -> gpd.GeoDataFrame:
    """Residential floor area (footprint x levels, 2 levels when unknown) per building,
    with its zone type, in the local metric CRS."""
    b = region.buildings.to_crs(LOCAL)
    res = b["building"].isin(RESIDENTIAL).to_numpy()
    fa = np.where(res, b.area.to_numpy() * b["levels"].fillna(2.0).to_numpy(), 0.0)
    pts = gpd.GeoDataFrame({"floor_area": fa}, geometry=b.representative_point(), crs=LOCAL)
    districts = region.boundaries.to_crs(LOCAL)[["district_code", "zone_type", "geometry"]]
    joined = gpd.sjoin(pts, districts, predicate="within", how="left")
    return joined[~joined.index.duplicated()]


def _zone_of(points: gpd.GeoDataFrame, region: Region) -> pd.Series:
    districts = region.boundaries.to_crs(LOCAL)[["zone_type", "geometry"]]
    pts = gpd.GeoDataFrame(geometry=points.to_crs(LOCAL).representative_point(), crs=LOCAL)
    joined = gpd.sjoin(pts, districts, predicate="within", how="left")
    return joined[~joined.index.duplicated()]["zone_type"]


def _frames_equal(a: Region, b: Region) -> None:
    for key, fa in a.layers().items():
        fb = b.layers()[key]
        pd.testing.assert_frame_equal(
            pd.DataFrame(fa.drop(columns="geometry")), pd.DataFrame(fb.drop(columns="geometry"))
        )
        assert np.array_equal(
            shapely.to_wkb(fa.geometry.to_numpy()), shapely.to_wkb(fb.geometry.to_numpy())
        )
    pd.testing.assert_frame_equal(a.census, b.census)
    assert a.meta == b.meta


# --------------------------------------------------------------------- determinism


@pytest.mark.slow
def test_same_seed_gives_identical_region(region):
    fresh = demo._generate(42)  # bypasses the cache
    _frames_equal(region, fresh)


def test_other_seed_gives_other_region(region):
    other = demo_region(7)
    assert other.meta["seed"] == 7
    assert len(other.buildings) != len(region.buildings) or not np.array_equal(
        shapely.to_wkb(other.buildings.geometry.to_numpy()),
        shapely.to_wkb(region.buildings.geometry.to_numpy()),
    )


def test_callers_cannot_mutate_the_cache():
    first = demo_region()
    n_edges = len(first.edges)
    first.edges.loc[0, "length_m"] = -1.0
    first.buildings.loc[first.buildings.index[0], "building"] = "castle"
    first.meta["seed"] = -5
    first.census.loc[0, "pop"] = 0
    second = demo_region()
    assert second.edges.loc[0, "length_m"] > 0
    assert len(second.edges) == n_edges
    assert second.meta["seed"] == 42
    assert second.census.loc[0, "pop"] > 0
    assert second.buildings.loc[second.buildings.index[0], "building"] != "castle"
    assert demo_census().loc[0, "pop"] > 0


# --------------------------------------------------------------------- labels and CRS


def test_synthetic_label_and_provenance(region):
    assert region.synthetic is True
    assert region.source == "demo"
    assert SYNTHETIC_LABEL in region.name
    assert SYNTHETIC_LABEL in region.label
    assert region.meta["data_label"] == SYNTHETIC_LABEL
    assert region.meta["seed"] == 42
    assert "synthetic" in region.meta["attribution"]
    minx, miny, maxx, maxy = region.meta["bbox"]
    assert minx < 116.0 < maxx and miny < 40.0 < maxy


def test_every_frame_is_wgs84_and_valid(region):
    for key, frame in region.layers().items():
        assert frame.crs is not None and frame.crs.to_epsg() == 4326, key
        assert len(frame) > 0, key
        assert frame.geometry.is_valid.all(), key
        assert not frame.geometry.is_empty.any(), key
        minx, miny, maxx, maxy = frame.total_bounds
        assert 115.5 < minx < maxx < 116.5 and 39.7 < miny < maxy < 40.3, key


# --------------------------------------------------------------------- network


def test_network_is_large_enough(region):
    assert len(region.edges) >= 20_000


def test_node_and_edge_integrity(region):
    nodes, edges = region.nodes, region.edges
    assert nodes["node_id"].dtype == np.int64
    assert nodes["node_id"].is_unique
    assert edges["u"].dtype == np.int64 and edges["v"].dtype == np.int64
    assert edges["u"].isin(nodes["node_id"]).all()
    assert edges["v"].isin(nodes["node_id"]).all()
    assert (edges["u"] != edges["v"]).all()
    assert set(edges["highway"]) <= HIGHWAYS
    assert (edges.geom_type == "LineString").all()
    assert (nodes.geom_type == "Point").all()
    # Every edge runs from node u to node v.
    xy = nodes.set_index("node_id").geometry
    start = shapely.get_point(edges.geometry.to_numpy(), 0)
    end = shapely.get_point(edges.geometry.to_numpy(), -1)
    assert np.allclose(
        shapely.get_coordinates(start), shapely.get_coordinates(xy.loc[edges["u"]].to_numpy())
    )
    assert np.allclose(
        shapely.get_coordinates(end), shapely.get_coordinates(xy.loc[edges["v"]].to_numpy())
    )


def test_edge_lengths_are_metres(region):
    edges = region.edges
    measured = edges.to_crs(LOCAL).length.to_numpy()
    assert np.allclose(edges["length_m"].to_numpy(), measured, rtol=1e-6)
    assert edges["length_m"].min() > 10
    assert edges["length_m"].max() < 250  # long roads are split into short edges


def test_network_is_one_component_plus_hamlets(region):
    ids = region.nodes["node_id"].to_numpy()
    order = np.argsort(ids)
    u = order[np.searchsorted(ids, region.edges["u"].to_numpy(), sorter=order)]
    v = order[np.searchsorted(ids, region.edges["v"].to_numpy(), sorter=order)]
    n = len(ids)
    count, label = connected_components(
        coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False
    )
    sizes = np.sort(np.bincount(label))[::-1]
    assert count >= 2  # some demand is unreachable
    assert sizes[0] > 0.98 * n


# --------------------------------------------------------------------- districts


def test_districts_tile_the_region(region):
    b = region.boundaries
    assert {"district", "district_code", "zone_type", "zone_fine", "district_zh"} <= set(b.columns)
    assert len(b) == 9
    assert b["district_code"].is_unique and b["district"].is_unique
    assert set(b["zone_type"]) == {"core", "new_town", "rural"}
    assert set(b["zone_fine"]) == {
        "capital_core",
        "central",
        "sub_centre",
        "plain_new_town",
        "ecological",
    }
    assert (b["zone_fine"] == "sub_centre").sum() == 1
    local = b.to_crs(LOCAL)
    union = local.union_all()
    assert union.area == pytest.approx(local.area.sum(), rel=1e-9)  # no overlaps
    assert union.area == pytest.approx(union.envelope.area, rel=1e-3)  # no holes
    assert 1800e6 < union.area < 2200e6  # about 50 x 40 km


# --------------------------------------------------------------------- buildings and landuse


def test_buildings(region, floor_area):
    b = region.buildings
    assert 10_000 <= len(b) <= 25_000
    assert b["building_id"].is_unique
    assert b["levels"].dtype == float
    assert 0.05 < b["levels"].isna().mean() < 0.15
    assert {"retail", "office", "school", "industrial", "apartments", "house"} <= set(b["building"])
    assert set(b.geom_type) == {"Polygon"}
    pop = floor_area["floor_area"].sum() / 35.0
    assert 1_000_000 < pop < 2_000_000
    # The core is the densest: most residents on a small share of the land.
    by_zone = floor_area.groupby("zone_type")["floor_area"].sum()
    assert by_zone["core"] > by_zone["new_town"] > by_zone["rural"] > 0


def test_new_towns_are_towers_and_villages_low_rise(region, floor_area):
    levels = region.buildings["levels"].to_numpy()
    zone = floor_area["zone_type"].to_numpy()
    btype = region.buildings["building"].to_numpy()
    houses = btype == "house"
    assert np.nanmax(levels[houses]) <= 2
    new_town_towers = (zone == "new_town") & (btype == "apartments")
    assert np.nanmedian(levels[new_town_towers]) >= 12
    core_res = (zone == "core") & np.isin(btype, ["apartments"])
    assert 4 <= np.nanmedian(levels[core_res]) <= 7


def test_landuse_is_residential(region):
    assert (region.landuse["landuse"] == "residential").all()
    assert len(region.landuse) > 20


# --------------------------------------------------------------------- features


def test_feature_columns(region):
    f = region.features
    for key in ("osm_id", "name", *FEATURE_TAG_KEYS):
        assert key in f.columns, key
    assert f["osm_id"].is_unique
    assert f["osm_id"].str.match(r"^demo/\d+$").all()
    assert (
        f["name"].str.contains(r"[\u4e00-\u9fff]", regex=True, na=False).any()
    )  # some Chinese names


def test_every_layer_has_features(layer_features):
    assert set(layer_features) >= {"elderly_care", "community_services", "heritage"}
    assert 40 <= len(layer_features["elderly_care"]) <= 120
    assert 200 <= len(layer_features["community_services"]) <= 600
    assert 25 <= len(layer_features["heritage"]) <= 40
    kinds = set(layer_features["elderly_care"]["kind"])
    assert {"social_facility", "nursing_home", "community_centre"} <= kinds


def test_heritage_zone_and_unprotected_sites(region, layer_features):
    her = layer_features["heritage"]
    zones = her[(her["boundary"] == "protected_area") & (her["protect_class"] == "22")]
    assert len(zones) >= 1
    assert set(zones.geom_type) <= {"Polygon", "MultiPolygon"}
    sites = her[her["historic"].notna()]
    assert len(sites) >= 20
    inside = sites.within(zones.union_all())
    assert inside.sum() > len(sites) / 2  # most sites are protected
    assert (~inside).sum() >= 3  # several are not


def test_hostile_name_is_kept_verbatim(layer_features):
    assert "<img src=x onerror=alert(1)>" in set(layer_features["elderly_care"]["name"])


def test_elderly_care_per_head_higher_in_core(region, layer_features, floor_area):
    zone = _zone_of(layer_features["elderly_care"], region)
    count = zone.value_counts()
    area = floor_area.groupby("zone_type")["floor_area"].sum()
    per_head = count.reindex(area.index, fill_value=0) / area
    assert per_head["core"] > 1.5 * per_head["rural"]
    assert per_head["core"] > 1.5 * per_head["new_town"]


def test_real_gaps_exist(region, layer_features, floor_area):
    care = layer_features["elderly_care"].to_crs(LOCAL)
    homes = floor_area.loc[floor_area["floor_area"] > 0, ["floor_area", "zone_type", "geometry"]]
    near = gpd.sjoin_nearest(
        homes, gpd.GeoDataFrame(geometry=care.geometry, crs=LOCAL), distance_col="d"
    )
    near = near[~near.index.duplicated()]
    far = near["d"] > 1000
    share_far = (near["floor_area"] * far).groupby(near["zone_type"]).sum() / near.groupby(
        "zone_type"
    )["floor_area"].sum()
    assert share_far["core"] < 0.05
    assert share_far["new_town"] > 0.10
    assert share_far["rural"] > 0.5


# --------------------------------------------------------------------- census


def test_census_matches_buildings(region, floor_area):
    census = region.census
    assert list(census.columns[:4]) == ["district_code", "district", "pop", "pop_60plus"]
    assert {"pop_65plus", "pop_80plus", "pop_urban", "pop_rural"} <= set(census.columns)
    assert set(census["district_code"]) == set(region.boundaries["district_code"])
    assert (census["pop_60plus"] < census["pop"]).all()
    assert (census["pop_80plus"] < census["pop_65plus"]).all()
    assert (census["pop_65plus"] < census["pop_60plus"]).all()
    assert (census["pop_urban"] + census["pop_rural"] == census["pop"]).all()
    est = floor_area.groupby("district_code")["floor_area"].sum() / 35.0
    ratio = census.set_index("district_code")["pop"] / est
    assert ratio.between(0.9, 1.25).all(), ratio


def test_census_age_shares_by_zone(region):
    census = region.census.merge(
        region.boundaries[["district_code", "zone_type"]], on="district_code"
    )
    sums = census.groupby("zone_type")[["pop", "pop_60plus"]].sum()
    share = sums["pop_60plus"] / sums["pop"]
    assert share["core"] == pytest.approx(0.26, abs=0.02)
    assert share["new_town"] == pytest.approx(0.14, abs=0.02)
    assert share["rural"] == pytest.approx(0.30, abs=0.02)


def test_demo_census_is_the_region_census(region):
    pd.testing.assert_frame_equal(demo_census(), region.census)
    pd.testing.assert_frame_equal(demo_census(42), demo_region(42).census)


# --------------------------------------------------------------------- helpers


@settings(max_examples=60, deadline=None)
@given(
    x0=st.floats(-30_000, 30_000),
    y0=st.floats(-30_000, 30_000),
    dx=st.floats(-20_000, 20_000),
    dy=st.floats(-20_000, 20_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_road_points_keep_ends_and_split_evenly(x0, y0, dx, dy, seed):
    rng = np.random.default_rng(seed)
    pts = demo_city._road_points(x0, y0, x0 + dx, y0 + dy, rng, max_seg=150.0)
    length = float(np.hypot(dx, dy))
    assert pts.shape == (max(1, int(np.ceil(length / 150.0))) + 1, 2)
    assert tuple(pts[0]) == (x0, y0)
    assert tuple(pts[-1]) == (x0 + dx, y0 + dy)
    if length > 1.0:
        seg = np.hypot(*np.diff(pts, axis=0).T)
        assert seg.max() < 150.0 * 1.3


@pytest.mark.slow
def test_disk_cache_is_used_and_rebuilt_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    demo._cached.cache_clear()
    try:
        first = demo.demo_region(7)
        (pkl,) = (tmp_path / "demo").glob("demo-7-*.pkl")
        demo._cached.cache_clear()
        again = demo.demo_region(7)  # read back from disk
        assert again.edges.equals(first.edges) and again.buildings.equals(first.buildings)
        pkl.write_bytes(b"not a pickle")
        demo._cached.cache_clear()
        rebuilt = demo.demo_region(7)
        assert rebuilt.features.equals(first.features)
    finally:
        demo._cached.cache_clear()
