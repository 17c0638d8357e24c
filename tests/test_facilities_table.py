import logging

import numpy as np
import pandas as pd
import pytest

from geoapp.catalog import load_catalog
from geoapp.crs import bd09_to_wgs84, gcj02_to_wgs84
from geoapp.errors import InputError
from geoapp.layers import select_features
from geoapp.region import FEATURE_TAG_KEYS
from geoapp.sources.facilities_table import read_facility_table

BROKEN_CSV = """name,lon,lat,capacity
Good One,116.40,39.91,120
Missing lat,116.41,,80

Not a number,east,39.92,10
Out of range,216.40,39.93,5
Good Two,116.42,39.94,60
"""


def test_broken_rows_are_reported_by_line_and_good_rows_load(tmp_path, caplog):
    path = tmp_path / "homes.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        table = read_facility_table(path, coords="wgs84")
    gdf = table.frame
    # header is line 1; the blank line 4 is skipped but still counted
    assert list(gdf["osm_id"]) == ["table/2", "table/7"]
    assert list(gdf["name"]) == ["Good One", "Good Two"]
    assert table.problems == (
        "line 3: missing latitude",
        "line 5: longitude 'east' is not a number",
        "line 6: longitude 216.4 is outside -180..180",
    )
    assert table.capacity_problems == ()
    assert table.coords == "wgs84" and table.source_file == str(path)
    assert gdf.attrs == {}  # results travel in the FacilityTable fields, not in attrs
    assert "line 5" in caplog.text
    assert gdf.crs == "EPSG:4326"
    assert gdf.geometry.x.tolist() == [116.40, 116.42]
    assert list(gdf.columns[:2]) == ["osm_id", "name"]
    for key in FEATURE_TAG_KEYS:
        assert key in gdf.columns
    assert gdf["amenity"].isna().all()


def test_gbk_csv_with_chinese_headers_in_gcj02(tmp_path):
    path = tmp_path / "养老机构.csv"
    text = "名称,经度,纬度\n东城区第一养老院,116.417,39.928\n西城区日间照料中心,116.366,39.912\n"
    path.write_bytes(text.encode("gbk"))
    table = read_facility_table(path, coords="gcj02", layer="elderly_care")
    gdf = table.frame
    assert list(gdf["name"]) == ["东城区第一养老院", "西城区日间照料中心"]
    lon, lat = gcj02_to_wgs84(np.array([116.417, 116.366]), np.array([39.928, 39.912]))
    np.testing.assert_allclose(gdf.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(gdf.geometry.y, lat, atol=1e-9)
    assert np.all(gdf.geometry.x < 116.417 + 1e-9 - 0.004)  # ~500 m west of the GCJ-02 input
    assert table.coords == "gcj02" and table.problems == ()
    # the layer's first [[match]] table: every key set to its first value
    assert gdf["amenity"].tolist() == ["social_facility"] * 2
    assert gdf["social_facility"].tolist() == ["nursing_home"] * 2
    assert gdf["social_facility:for"].tolist() == ["senior"] * 2
    picked = select_features(gdf, load_catalog()["elderly_care"])
    assert list(picked["facility_id"]) == ["table/2", "table/3"]


def test_utf8_bom_semicolon_csv_with_tags(tmp_path):
    path = tmp_path / "pharmacies.csv"
    path.write_text("Name;Longitude;Latitude\nApteekki;24.94;60.17\n", encoding="utf-8-sig")
    gdf = read_facility_table(path, coords="WGS84", tags={"amenity": "pharmacy"}).frame
    assert list(gdf["name"]) == ["Apteekki"]
    picked = select_features(gdf, load_catalog()["community_services"])
    assert list(picked["kind"]) == ["pharmacy"]


def test_excel_in_bd09_with_explicit_columns_and_sheet(tmp_path):
    path = tmp_path / "list.xlsx"
    df = pd.DataFrame({"机构": ["甲", "乙"], "bd_x": [116.41, 116.42], "bd_y": [39.92, 39.93]})
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["cover"]}).to_excel(xw, sheet_name="readme", index=False)
        df.to_excel(xw, sheet_name="data", index=False)
    gdf = read_facility_table(
        path, coords="bd09", lon="bd_x", lat="bd_y", name="机构", sheet="data", layer="heritage"
    ).frame
    lon, lat = bd09_to_wgs84(np.array([116.41, 116.42]), np.array([39.92, 39.93]))
    np.testing.assert_allclose(gdf.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(gdf.geometry.y, lat, atol=1e-9)
    assert list(gdf["name"]) == ["甲", "乙"]
    assert gdf["historic"].tolist() == ["yes", "yes"]  # heritage: historic = true
    assert len(select_features(gdf, load_catalog()["heritage"])) == 2
    with pytest.raises(InputError, match="sheet"):
        read_facility_table(path, coords="bd09", sheet="missing")


def test_amap_location_column(tmp_path):
    path = tmp_path / "amap.csv"
    path.write_text('name,location\nA,"116.40,39.91"\nB,"116.41"\n', encoding="utf-8")
    table = read_facility_table(path, coords="gcj02")
    assert list(table.frame["name"]) == ["A"]
    assert table.problems == ("line 3: missing latitude",)


def test_table_tag_columns_are_kept(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("name,x,y,amenity\nClinic,116.4,39.9,clinic\nLib,116.5,39.9,library\n")
    gdf = read_facility_table(path, coords="wgs84").frame
    assert gdf["amenity"].tolist() == ["clinic", "library"]


@pytest.mark.parametrize("coords", [None, "", "utm", "gps"])
def test_coords_is_required_and_checked(tmp_path, coords):
    path = tmp_path / "t.csv"
    path.write_text("lon,lat\n116.4,39.9\n")
    with pytest.raises(InputError, match="wgs84, gcj02, bd09"):
        read_facility_table(path, coords=coords)


def test_no_good_row_raises_with_every_problem(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("lon,lat\n,39.9\n116.4,95\n")
    with pytest.raises(InputError) as err:
        read_facility_table(path, coords="wgs84")
    assert err.value.problems == [
        "line 2: missing longitude",
        "line 3: latitude 95 is outside -90..90",
    ]
    assert str(path) in str(err.value)


def test_missing_columns_files_and_types(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("名称,地址\n甲,东城区\n")
    with pytest.raises(InputError, match="longitude column.*latitude column.*地址"):
        read_facility_table(path, coords="wgs84")
    with pytest.raises(InputError, match="not found"):
        read_facility_table(tmp_path / "none.csv", coords="wgs84")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_facility_table(empty, coords="wgs84")
    header_only = tmp_path / "header.csv"
    header_only.write_text("lon,lat\n")
    with pytest.raises(InputError, match="no rows"):
        read_facility_table(header_only, coords="wgs84")
    other = tmp_path / "t.pdf"
    other.write_bytes(b"%PDF")
    with pytest.raises(InputError, match="unsupported"):
        read_facility_table(other, coords="wgs84")
    with pytest.raises(InputError, match="Unknown layer"):
        path.write_text("lon,lat\n116.4,39.9\n")
        read_facility_table(path, coords="wgs84", layer="spaceports")
