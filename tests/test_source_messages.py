"""Messages that lead somewhere: sheets, layers, datums, folders, extents, real options."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from geoapp.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geoapp.errors import InputError
from geoapp.sources.boundaries import check_overlap, parse_boundary_spec, read_boundaries
from geoapp.sources.demo import demo_region
from geoapp.sources.facilities_table import read_facility_table
from geoapp.sources.osm_file import read_osm_file
from geoapp.workflow import load_region

DISTRICTS = gpd.GeoDataFrame(
    {"district": ["West", "East"]},
    geometry=[box(116.0, 39.9, 116.1, 40.0), box(116.1, 39.9, 116.2, 40.0)],
    crs=4326,
)


def test_excel_sheet_after_hash(tmp_path):
    path = tmp_path / "homes.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["cover"]}).to_excel(xw, sheet_name="readme", index=False)
        pd.DataFrame({"name": ["A"], "lon": [116.1], "lat": [39.9]}).to_excel(
            xw, sheet_name="Sheet2", index=False
        )
    gdf = read_facility_table(f"{path}#Sheet2", coords="wgs84", layer="elderly_care").frame
    assert list(gdf["name"]) == ["A"]
    with pytest.raises(InputError) as err:
        read_facility_table(f"{path}#Nope", coords="wgs84")
    msg = str(err.value)
    assert "homes.xlsx" in msg and "'Nope'" in msg and "readme, Sheet2" in msg
    assert "homes.xlsx#readme" in msg  # the remedy names the FILE#sheet form


def test_geopackage_layer_after_hash(tmp_path):
    path = tmp_path / "admin.gpkg"
    DISTRICTS.to_file(path, layer="towns", driver="GPKG")
    DISTRICTS.iloc[:1].to_file(path, layer="districts", driver="GPKG")
    assert len(read_boundaries(path)) == 2  # the first layer
    assert list(read_boundaries(f"{path}#districts")["district"]) == ["West"]
    with pytest.raises(InputError) as err:
        read_boundaries(f"{path}#counties")
    msg = str(err.value)
    assert "admin.gpkg" in msg and "'counties'" in msg and "towns" in msg and "districts" in msg
    assert "admin.gpkg#towns" in msg


def test_boundary_datum_suffix_converts(tmp_path):
    gx, gy = wgs84_to_gcj02(np.array([116.0, 116.1]), np.array([39.9, 40.0]))
    gcj = gpd.GeoDataFrame(
        {"district": ["D"]}, geometry=[box(gx[0], gy[0], gx[1], gy[1])], crs=4326
    )
    path = tmp_path / "d.geojson"
    gcj.to_file(path, driver="GeoJSON")
    as_wgs = read_boundaries(f"{path}:wgs84")
    conv = read_boundaries(f"{path}:gcj02")
    x, y = (np.asarray(c) for c in conv.geometry.iloc[0].exterior.coords.xy)
    wx, wy = (np.asarray(c) for c in as_wgs.geometry.iloc[0].exterior.coords.xy)
    ex, ey = gcj02_to_wgs84(wx, wy)
    np.testing.assert_allclose(x, ex, atol=1e-8)
    np.testing.assert_allclose(y, ey, atol=1e-8)
    # back near the true WGS84 box (the GCJ-02 box's corners differ by ~10 m from the
    # true ones, as the offset varies), while read as wgs84 it is hundreds of metres off
    np.testing.assert_allclose(conv.total_bounds, [116.0, 39.9, 116.1, 40.0], atol=2e-4)
    assert abs(as_wgs.total_bounds[0] - 116.0) > 3e-3


@pytest.mark.parametrize(
    ("spec", "path", "layer", "coords"),
    [
        ("d.geojson:gcj02", "d.geojson", None, "gcj02"),
        ("d.geojson:BD-09", "d.geojson", None, "bd09"),
        (r"C:\data\d.geojson", r"C:\data\d.geojson", None, "wgs84"),
        (r"C:\data\d.geojson:bd09", r"C:\data\d.geojson", None, "bd09"),
        ("a.gpkg#districts:gcj02", "a.gpkg", "districts", "gcj02"),
        ("a.gpkg#districts", "a.gpkg", "districts", "wgs84"),
        ("beijing", "beijing", None, "wgs84"),
        ("x:y.geojson", "x:y.geojson", None, "wgs84"),
    ],
)
def test_parse_boundary_spec(spec, path, layer, coords):
    got = parse_boundary_spec(spec)
    assert (str(got.path), got.layer, got.coords) == (path, layer, coords)


def test_existing_file_with_colon_or_hash_is_never_split(tmp_path):
    path = tmp_path / "odd#name:gcj02.geojson"
    DISTRICTS.to_file(path, driver="GeoJSON")
    assert parse_boundary_spec(str(path)).path == path
    assert len(read_boundaries(str(path))) == 2


def test_osm_folder_is_reported_as_a_folder(tmp_path):
    (tmp_path / "city.osm.pbf").write_bytes(b"x")
    with pytest.raises(InputError) as err:
        read_osm_file(tmp_path)
    msg = str(err.value)
    assert "is a folder" in msg and "unsupported" not in msg
    assert f"--osm {tmp_path / 'city.osm.pbf'}" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="is a folder.*no OpenStreetMap extract"):
        read_osm_file(empty)


def test_non_overlapping_boundaries_give_both_extents_and_distance(tmp_path):
    paris = gpd.GeoDataFrame(
        {"district": ["Paris"]}, geometry=[box(2.2, 48.8, 2.5, 48.9)], crs=4326
    )
    path = tmp_path / "paris.geojson"
    paris.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as err:
        load_region("demo", boundaries=str(path))
    msg = str(err.value)
    assert "paris.geojson" in msg
    assert "lon 2.2000..2.5000, lat 48.8000..48.9000" in msg
    region = demo_region()
    w, s, e, n = region.edges.total_bounds
    assert f"lon {w:.4f}" in msg
    km = float(re.search(r"([\d,.]+) km apart", msg).group(1).replace(",", ""))
    assert 7900 < km < 8300  # Paris to Beijing's west edge: ~8,150 km great circle
    # overlapping boundaries pass
    check_overlap(DISTRICTS, region.edges, source="d")


def test_hints_name_options_that_exist(tmp_path):
    bowtie = Polygon([(116.0, 39.0), (116.1, 39.1), (116.1, 39.0), (116.0, 39.1)])
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"district": ["X"]}, geometry=[bowtie], crs=4326).to_file(path)
    with pytest.raises(InputError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "--repair" not in msg and "read_boundaries(path, repair=True)" in msg
    assert len(read_boundaries(path, repair=True)) == 1  # the named option exists
    csv = tmp_path / "t.csv"
    pd.DataFrame({"name": ["A"], "east": [116.1], "north": [39.9]}).to_csv(csv, index=False)
    with pytest.raises(InputError) as err:
        read_facility_table(csv, coords="wgs84")
    msg = str(err.value)
    assert "t.csv" in msg and "lon=" not in msg.replace("lon='", "")
    assert "Rename the coordinate columns to lon and lat" in msg
    assert len(read_facility_table(csv, coords="wgs84", lon="east", lat="north").frame) == 1
