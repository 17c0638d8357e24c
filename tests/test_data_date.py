"""The OSM data's date is read from the file and said everywhere (issue 24).

A 2017 extract must not read as current: the date comes from the file header's
replication timestamp, an Overpass answer's ``osm_base``, the ``<osm timestamp>``
attribute, or else the newest way or relation, and goes into the Region, metadata.json,
the map and the report's sources. The demo says it is synthetic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osm_extract_builder import write_extract  # noqa: E402

import geoapp  # noqa: E402
from geoapp import bundle, maps, workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402
from geoapp.sources._osm_common import osm_data_date  # noqa: E402

LON0, LAT0 = 100.0, 17.5
M = 1 / 111_320


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")


def _town(path: Path, **kw) -> Path:
    s = 300 * M
    nodes = {1: (LON0, LAT0), 2: (LON0 + s, LAT0), 3: (LON0 + s, LAT0 + s), 4: (LON0, LAT0 + s)}
    nodes[5] = (LON0 + 1 * M, LAT0 + 1 * M, {"amenity": "clinic"})
    h = 8 * M
    for k, (dx, dy) in enumerate(((-h, -h), (h, -h), (h, h), (-h, h))):
        nodes[10 + k] = (LON0 + 150 * M + dx, LAT0 + 20 * M + dy)
    ways = [
        (1, [1, 2, 3, 4, 1], {"highway": "residential"}),
        (2, [10, 11, 12, 13, 10], {"building": "apartments", "building:levels": "3"}),
    ]
    return write_extract(path, nodes, ways, **kw)


def test_the_newest_way_dates_a_file_without_a_header_date(tmp_path):
    # every object of 2017 but the building, edited in June 2018; a node of 2020 is not
    # read (the date is the newest way or relation: a lower bound)
    path = _town(
        tmp_path / "t.osm.pbf",
        timestamps={
            **{(k, i): "2017-03-01T00:00:00Z" for k, i in [("n", 1), ("n", 2), ("w", 1)]},
            ("w", 2): "2018-06-30T12:34:56Z",
            ("n", 5): "2020-01-01T00:00:00Z",
        },
    )
    assert osm_data_date(path) == ("2018-06-30T12:34:56Z", "newest way or relation in the file")


def test_the_header_replication_timestamp_comes_first(tmp_path):
    path = _town(
        tmp_path / "h.osm.pbf",
        header={"osmosis_replication_timestamp": "2017-05-06T07:08:09Z"},
    )
    date, why = osm_data_date(path)
    assert date == "2017-05-06T07:08:09Z" and "replication" in why


@pytest.mark.parametrize(
    ("head", "want", "why"),
    [
        ('<osm version="0.6" timestamp="2016-02-03T04:05:06Z">', "2016-02-03T04:05:06Z", "<osm"),
        (
            '<osm version="0.6"><meta osm_base="2015-01-02T03:04:05Z"/>',
            "2015-01-02T03:04:05Z",
            "osm_base",
        ),
    ],
)
def test_an_xml_file_states_its_date(tmp_path, head, want, why):
    path = tmp_path / "x.osm"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}\n'
        '<node id="1" lat="17.5" lon="100" version="1" timestamp="2023-01-01T00:00:00Z"/>\n'
        "</osm>\n",
        encoding="utf-8",
    )
    date, source = osm_data_date(path)
    assert date == want and why in source


def test_the_date_reaches_region_metadata_map_and_report(tmp_path):
    path = _town(
        tmp_path / "d.osm.pbf", header={"osmosis_replication_timestamp": "2017-05-06T07:08:09Z"}
    )
    region = workflow.load_region(osm=path)
    assert region.data_date == "2017-05-06T07:08:09Z"
    assert region.with_(name="x").data_date == region.data_date
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    ana = workflow.analyse_layer(
        region, get_layer("community_services"), demand=demand, graph=graph
    )
    assert ana.meta["data_date"] == "2017-05-06T07:08:09Z"
    out = tmp_path / "bundle"
    paths = bundle.write_bundle(ana, region, out, gpkg=False)
    meta = json.loads(paths["metadata"].read_text(encoding="utf-8"))
    assert meta["data_date"] == "2017-05-06T07:08:09Z"
    assert "replication timestamp" in meta["data_date_source"]
    assert "OSM data as of 2017-05-06" in paths["map"].read_text(encoding="utf-8")
    zh = maps.map_html(workflow.coverage_map(region, ana, lang="zh"))
    assert "OSM数据日期：2017-05-06" in zh
    report = geoapp.report(region, tmp_path / "report", layers=["community_services"], pdf=False)
    page = report["html"].read_text(encoding="utf-8")
    assert "Date of the OSM data" in page and "2017-05-06T07:08:09Z" in page


def test_the_demo_says_it_is_synthetic():
    from geoapp.sources.demo import demo_region

    meta = workflow.region_meta(demo_region())
    assert meta["data_date"] is None
    assert meta["data_date_source"].startswith("synthetic demo data")
