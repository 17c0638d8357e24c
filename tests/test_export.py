"""Data out: RFC 7946 GeoJSON, GeoPackage, CSV, atomic writes."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geoapp import export


@pytest.fixture
def gdf():
    cw_square = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])  # clockwise exterior
    return gpd.GeoDataFrame(
        {
            "name": ["a <b>", "中文", "c"],
            "dist_m": [12.5, np.inf, np.nan],
            "n": [1, 2, 3],
        },
        geometry=[Point(116.123456789, 39.987654321), LineString([(0, 0), (1, 1)]), cw_square],
        crs="EPSG:4326",
    )


def test_geojson_is_rfc7946(tmp_path, gdf):
    p = export.write_geojson(
        gdf, tmp_path / "x.geojson", meta={"synthetic": True, "data_label": "synthetic demo data"}
    )
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert doc["geoapp"]["data_label"] == "synthetic demo data"
    f0, f1, f2 = doc["features"]
    assert f0["geometry"]["coordinates"] == [116.1234568, 39.9876543]
    assert f1["properties"]["dist_m"] is None  # inf -> null
    assert f2["properties"]["dist_m"] is None
    ring = shapely.LinearRing(f2["geometry"]["coordinates"][0])
    assert ring.is_ccw  # RFC 7946 exterior rings are counter-clockwise
    back = pyogrio.read_dataframe(p)
    assert len(back) == 3 and back.crs == "EPSG:4326" and back.is_valid.all()
    assert list(back["name"]) == ["a <b>", "中文", "c"]


def test_geojson_from_projected_is_reprojected(tmp_path, gdf):
    proj = gdf.to_crs(32650)
    doc = export.geojson_dict(proj)
    x, y = doc["features"][0]["geometry"]["coordinates"]
    assert abs(x - 116.1234568) < 1e-6 and abs(y - 39.9876543) < 1e-6


def test_gpkg_several_layers_roundtrip(tmp_path, gdf):
    p = export.write_gpkg(
        {"a": gdf, "b": gdf.iloc[:1], "t": pd.DataFrame({"k": [1]})},
        tmp_path / "x.gpkg",
        meta={"m": 1},
    )
    layers = dict(pyogrio.list_layers(p))
    # "a" mixes a point, a line and a polygon: every row at a point, the shapes apart
    assert layers == {
        "a": "Point",
        "a_lines": "LineString",
        "a_footprints": "Polygon",
        "b": "Point",
        "t": None,
        "geoapp_metadata": None,
        "layer_styles": None,  # QGIS styles of every layer (geoapp.qgis_styles)
    }
    a = pyogrio.read_dataframe(p, layer="a")
    assert len(a) == 3 and list(a["geoapp_row"]) == [0, 1, 2]
    assert a.geometry.iloc[2].equals(Point(0.5, 0.5))  # on the square's surface
    assert list(pyogrio.read_dataframe(p, layer="a_lines")["name"]) == ["中文"]
    assert list(pyogrio.read_dataframe(p, layer="a_footprints")["geoapp_row"]) == [2]


def test_failed_write_keeps_previous_file(tmp_path, gdf, monkeypatch):
    target = tmp_path / "x.geojson"
    export.write_geojson(gdf, target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export.json, "dumps", boom)
    with pytest.raises(RuntimeError):
        export.write_geojson(gdf, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.geojson"]  # no temp file left


def test_failed_gpkg_keeps_previous_file(tmp_path, gdf, monkeypatch):
    target = tmp_path / "x.gpkg"
    export.write_gpkg({"a": gdf}, target)
    before = target.read_bytes()
    real = pyogrio.write_dataframe
    calls = []

    def second_fails(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(*a, **k)

    monkeypatch.setattr(export.pyogrio, "write_dataframe", second_fails)
    with pytest.raises(RuntimeError):
        export.write_gpkg({"a": gdf, "b": gdf}, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gpkg"]


def test_csv_utf8_bom(tmp_path):
    p = export.write_csv(pd.DataFrame({"district": ["东城区"], "pop": [1]}), tmp_path / "s.csv")
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(p, encoding="utf-8-sig")["district"][0] == "东城区"
