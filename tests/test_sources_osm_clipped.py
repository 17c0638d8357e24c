"""Facility ways cut by the extract's edge are kept from their present nodes and reported.

Issue 24: a market hall mapped as a way with 2 of its 7 nodes in the file was dropped
without a word. The fixture: a street square, a clinic way of 7 nodes with only 2 in the
file (kept as a point between them), a clinic way of 7 nodes with 4 in the file (a 10 m
square: kept as that smaller area), a clinic way with no node in the file (nothing to
keep), a whole clinic way (not clipped) and a block of flats. Every reader gives the same answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osm_extract_builder import write_extract  # noqa: E402

from geoapp import workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402
from geoapp.sources.osm_file import read_osm_file  # noqa: E402

LON0, LAT0 = 100.0, 17.5
M = 1 / 111_320


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")


def _extract(path: Path) -> Path:
    s = 300 * M
    nodes = {1: (LON0, LAT0), 2: (LON0 + s, LAT0), 3: (LON0 + s, LAT0 + s), 4: (LON0, LAT0 + s)}
    ways = [(1, [1, 2, 3, 4, 1], {"highway": "residential"})]
    clinic = {"amenity": "clinic"}
    # 2 of 7 nodes present (52..56 are not in the file)
    nodes[50], nodes[51] = (LON0 + 100 * M, LAT0 + 100 * M), (LON0 + 110 * M, LAT0 + 100 * M)
    ways.append((60, [50, 51, 52, 53, 54, 55, 56, 50], {**clinic, "name": "Market hall"}))
    # 4 of 7 present: the corners of a 10 m square
    for k, n in enumerate((70, 71, 73, 72)):
        nodes[n] = (LON0 + (150 + 10 * (k in (1, 2))) * M, LAT0 + (150 + 10 * (k >= 2)) * M)
    ways.append((61, [70, 71, 73, 72, 74, 75, 76, 70], clinic))
    ways.append((62, [80, 81, 82, 80], clinic))  # no node in the file
    for k, n in enumerate((90, 91, 92, 93)):  # whole
        nodes[n] = (LON0 + (200 + 10 * (k in (1, 2))) * M, LAT0 + (50 + 10 * (k >= 2)) * M)
    ways.append((63, [90, 91, 92, 93, 90], clinic))
    for k, n in enumerate((95, 96, 97, 98)):  # a block of flats: residents to serve
        nodes[n] = (LON0 + (100 + 16 * (k in (1, 2))) * M, LAT0 + (20 + 16 * (k >= 2)) * M)
    ways.append((64, [95, 96, 97, 98, 95], {"building": "apartments", "building:levels": "3"}))
    return write_extract(path, nodes, ways)


@pytest.mark.parametrize(
    ("suffix", "reader"), [("osm.pbf", "osmium"), ("osm.pbf", "pyrosm"), ("osm", None)]
)
def test_clipped_facility_ways_are_kept_and_counted(tmp_path, suffix, reader):
    region = read_osm_file(_extract(tmp_path / f"c.{suffix}"), reader=reader)
    f = region.features.set_index("osm_id")
    assert sorted(f.index) == ["way/60", "way/61", "way/63"]  # way/62: no node to keep
    assert f["clipped"].to_dict() == {"way/60": True, "way/61": True, "way/63": False}
    # 2 nodes left: a point on the line they draw; 4 left: the 10 m square they outline
    hall = f.loc["way/60", "geometry"]
    assert hall.geom_type == "Point"
    left = shapely.LineString([(LON0 + 100 * M, LAT0 + 100 * M), (LON0 + 110 * M, LAT0 + 100 * M)])
    assert hall.distance(left) < 1e-7  # OSM stores 7 decimals
    square = f.loc["way/61", "geometry"]
    assert square.geom_type == "Polygon"
    assert np.isclose(square.area, (10 * M) ** 2, rtol=1e-4)
    assert f.loc["way/63", "geometry"].geom_type == "Polygon"
    assert region.meta["clipped_features"] == 2
    said = [w for w in region.meta["warnings"] if "cut by the extract's edge" in w]
    assert len(said) == 1 and "2 features" in said[0] and "way/60: 2 of its 7 nodes" in said[0]


def test_the_layer_metadata_counts_its_clipped_facilities(tmp_path):
    region = workflow.load_region(osm=_extract(tmp_path / "c.osm.pbf"))
    ana = workflow.analyse_layer(
        region,
        get_layer("community_services"),
        demand=workflow.prepare_demand(region),
        graph=workflow.get_graph(region),
        with_catchments=False,
    )
    assert len(ana.facilities) == 3
    assert ana.meta["clipped_facilities"] == 2
    assert any("cut by the extract's edge" in w for w in ana.warnings)


@pytest.mark.parametrize("suffix", [".osm.pbf", ".osm"])
def test_clipped_ways_with_ids_spread_over_the_id_space(tmp_path, suffix):
    # node and way ids a trillion apart (as in tiled or merged extracts): the check
    # must answer without a dense id set over the whole range (it took gigabytes)
    from geoapp.sources._osm_common import clipped_ways

    far = 10**12
    nodes = {
        1: (LON0, LAT0),
        far + 2: (LON0 + 0.001, LAT0),
        2 * far + 3: (LON0 + 0.001, LAT0 + 0.001),
        7: (LON0 + 0.002, LAT0),
    }
    clinic = {"amenity": "clinic"}
    ways = [
        # closed ring of 4 distinct nodes, one (node 5) not in the file: 3 of 4
        (10, [1, far + 2, 5, 2 * far + 3, 1], clinic),
        # open way, 2 of its 3 distinct nodes missing (one listed twice): 1 of 3
        (3 * far + 11, [7, 8, 9, 8], clinic),
        (12, [1, far + 2, 7], clinic),  # every node in the file: not clipped
        (13, [1, 6], {"highway": "service"}),  # clipped but not asked for
    ]
    path = write_extract(tmp_path / f"spread{suffix}", nodes, ways)
    got = clipped_ways(path, [10, 3 * far + 11, 12])
    assert got == {10: (3, 4), 3 * far + 11: (1, 3)}
    # the same with the ways' tag keys as a filter; a key no way carries finds none
    assert clipped_ways(path, [10, 3 * far + 11, 12], ["amenity"]) == got
    assert clipped_ways(path, [10, 3 * far + 11, 12], ["shop"]) == {}
