"""Messages that lead somewhere: sheets, layers, datums, folders, extents, real options."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

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


# ------------------------------------------------------------------ issue 28's unclear messages


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("经度（E）", "纬度（N）"),  # full-width brackets, as Chinese spreadsheets write them
        ("经度(E)", "纬度(N)"),
        ("x_coord", "y_coord"),
        ("lng", "lat"),
        ("lon", "lat"),
        ("longitude", "latitude"),
        ("Longitude (WGS84)", "Latitude (WGS84)"),
        ("LNG", "LAT"),
    ],
)
def test_common_coordinate_headers_are_recognised(tmp_path, lon, lat):
    csv = tmp_path / "homes.csv"
    pd.DataFrame({"name": ["A", "B"], lon: [116.10, 116.20], lat: [39.90, 39.95]}).to_csv(
        csv, index=False
    )
    frame = read_facility_table(csv, coords="wgs84").frame
    assert list(frame["name"]) == ["A", "B"]
    np.testing.assert_allclose(frame.geometry.x, [116.10, 116.20])
    np.testing.assert_allclose(frame.geometry.y, [39.90, 39.95])


def test_unknown_headers_point_to_the_file_not_to_python(tmp_path):
    csv = tmp_path / "t.csv"
    pd.DataFrame({"name": ["A"], "east": [116.1], "north": [39.9]}).to_csv(csv, index=False)
    with pytest.raises(InputError) as err:
        read_facility_table(csv, coords="wgs84")
    msg = str(err.value)
    assert "read_facility_table(" not in msg and "Python" not in msg
    assert "east, north" in msg  # the columns the file has
    assert "x_coord" in msg and "经度" in msg  # the names that would be recognised


def test_excel_hint_names_the_sheet_holding_coordinates(tmp_path):
    path = tmp_path / "homes.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["cover"]}).to_excel(xw, sheet_name="readme", index=False)
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="totals", index=False)
        pd.DataFrame({"name": ["A"], "经度": [116.1], "纬度": [39.9]}).to_excel(
            xw, sheet_name="list", index=False
        )
    with pytest.raises(InputError) as err:
        read_facility_table(path, coords="wgs84")
    msg = str(err.value)
    assert "readme, totals, list" in msg and "sheet 'list' has them" in msg
    assert "homes.xlsx#list" in msg
    assert len(read_facility_table(f"{path}#list", coords="wgs84").frame) == 1


def test_swapped_rows_are_one_warning_with_a_count(tmp_path, caplog):
    csv = tmp_path / "swapped.csv"
    lon = [116.0 + i / 1000 for i in range(32)]
    lat = [39.9 + i / 1000 for i in range(32)]
    swapped = list(range(30))  # rows 0..29: latitude in the longitude column and back
    rows = pd.DataFrame({
        "name": [f"H{i}" for i in range(32)],
        "lon": [lat[i] if i in swapped else lon[i] for i in range(32)],
        "lat": [lon[i] if i in swapped else lat[i] for i in range(32)],
    })  # fmt: skip
    rows.to_csv(csv, index=False)
    with caplog.at_level("WARNING", logger="geoapp"):
        read = read_facility_table(csv, coords="wgs84")
    assert len(read.frame) == 2 and list(read.frame["name"]) == ["H30", "H31"]
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1, said  # one warning, not one per line
    assert "30 of 32 rows" in said[0] and "columns swapped?" in said[0]
    assert "lines 2, 3, 4, 5, 6, ..." in said[0]  # the first lines, by number (header = 1)
    assert read.problems == (said[0].split(": ", 1)[1],)


def test_other_bad_rows_are_grouped_in_the_log(tmp_path, caplog):
    csv = tmp_path / "far.csv"
    pd.DataFrame({
        "name": [f"H{i}" for i in range(8)],
        "lon": [116.1] * 8,
        "lat": [95.0, 96.0, 97.0, 98.0, 99.0, 39.9, 39.9, 39.9],
    }).to_csv(csv, index=False)  # fmt: skip
    with caplog.at_level("WARNING", logger="geoapp"):
        read = read_facility_table(csv, coords="wgs84")
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(read.problems) == 5  # every rejected row is still named, by line
    assert len(said) == 1 and "(5 warnings like this one" in said[0]
    assert "columns swapped?" not in said[0]  # 116.1 is no latitude: not a swap


def test_swap_inside_the_valid_range_is_detected_by_the_guard():
    from geoapp.sources.guards import guard_facilities

    area = box(24.8, 60.1, 25.1, 60.3)  # Helsinki: lon 24.8..25.1, lat 60.1..60.3
    pts = [Point(60.2, 24.9), Point(60.15, 25.0), Point(24.9, 60.2)]  # two swapped, one right
    fac = gpd.GeoDataFrame(
        {"osm_id": ["table/2", "table/3", "table/4"], "name": ["a", "b", "c"]},
        geometry=pts,
        crs=4326,
    )
    no_streets = gpd.GeoDataFrame(geometry=[], crs=4326)
    res = guard_facilities(fac, area, no_streets, source="list.csv")
    assert list(res.kept["osm_id"]) == ["table/4"]
    (warning,) = res.warnings
    assert "2 facilities lie outside" in warning
    assert "columns swapped? 2 of them fall inside the region" in warning
    far = fac.assign(geometry=[Point(2.35, 48.85), Point(60.15, 25.0), Point(24.9, 60.2)])
    (warning,) = guard_facilities(far, area, no_streets, source="list.csv").warnings
    assert "columns swapped? 1 of them" in warning  # Paris is no swap; the other is


def test_datum_suffix_that_is_no_datum(tmp_path):
    path = tmp_path / "d.geojson"
    DISTRICTS.to_file(path, driver="GeoJSON")
    for spec in (f"{path}:foo", f"{path}:GCJ"):
        with pytest.raises(InputError) as err:
            parse_boundary_spec(spec)
        msg = str(err.value)
        assert "is not a datum (wgs84, gcj02, bd09)" in msg and "d.geojson:gcj02" in msg
        assert "not found" not in msg
    assert str(parse_boundary_spec(str(tmp_path / "x:y.geojson")).path).endswith("x:y.geojson")


def test_unclosed_ring_names_no_layer(tmp_path):
    path = tmp_path / "unclosed.geojson"
    ring = [[116.0, 39.9], [116.1, 39.9], [116.1, 40.0], [116.0, 40.0]]  # not closed
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"district":"A"},"geometry":{"type":"Polygon","coordinates":[' + str(ring) + "]}}]}",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "unclosed.geojson" in msg and "ring is not closed" in msg
    assert "layer" not in msg  # the user gave none; the old message named one


def test_geopackage_of_points_first_suggests_the_polygon_layer(tmp_path):
    path = tmp_path / "admin.gpkg"
    gpd.GeoDataFrame({"name": ["p"]}, geometry=[Point(116.05, 39.95)], crs=4326).to_file(
        path, layer="pois", driver="GPKG"
    )
    DISTRICTS.to_file(path, layer="districts", driver="GPKG")
    with pytest.raises(InputError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "pois, districts" in msg and "admin.gpkg#districts" in msg
    assert len(read_boundaries(f"{path}#districts")) == 2


def _demand(districts: list[str]):
    from geoapp.demand import Demand

    points = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(len(districts))],
            "district": districts,
            "pop": [100.0] * len(districts),
            "pop_60plus": [30.0] * len(districts),
        },
        geometry=[Point(116.0 + i / 100, 39.9) for i in range(len(districts))],
        crs=4326,
    )
    return Demand(points=points, method="buildings", profile={})


def test_projection_matching_no_district_is_said_on_the_terminal(tmp_path, caplog):
    from geoapp.projection import apply_projection, read_projection

    table = tmp_path / "p.csv"
    table.write_text("district,year,factor_60plus\nNowhere,2035,1.5\n", encoding="utf-8")
    demand = _demand(["West", "East"])
    with caplog.at_level("WARNING", logger="geoapp"):
        new, _ = apply_projection(demand, read_projection(table))
    (said,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "matches none of the region's 2 district(s)" in said
    assert "the table names Nowhere" in said and "East, West" in said
    assert said in new.warnings  # and in the metadata of every bundle made from it
    np.testing.assert_array_equal(new.points["pop_60plus"], [30.0, 30.0])


def test_projection_capped_at_the_total_is_said_on_the_terminal(tmp_path, caplog):
    from geoapp.projection import apply_projection, read_projection

    table = tmp_path / "p.csv"
    table.write_text("district,year,factor_60plus\n*,2035,4\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="geoapp"):
        new, _ = apply_projection(_demand(["West", "East"]), read_projection(table))
    (said,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "2 demand points more residents aged 60+ than residents" in said
    np.testing.assert_array_equal(new.points["pop_60plus"], [100.0, 100.0])  # 4 x 30 > 100
