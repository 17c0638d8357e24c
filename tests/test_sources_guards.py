"""Coordinate guards for facility tables: off-region and off-street rows, wrong datum."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from geoapp import crs
from geoapp.catalog import get_layer
from geoapp.layers import select_features
from geoapp.region import META_WARNINGS
from geoapp.sources.demo import demo_region
from geoapp.sources.guards import check_datum, guard_facilities
from geoapp.workflow import load_region

# a 1 km x 1 km street grid (100 m blocks) at lon 116.40, lat 39.90
LON0, LAT0 = 116.40, 39.90
DX, DY = 100 / (111320 * np.cos(np.radians(LAT0))), 100 / 110950


def _grid_edges() -> gpd.GeoDataFrame:
    lines = []
    for k in range(11):
        lines.append(LineString([(LON0, LAT0 + k * DY), (LON0 + 10 * DX, LAT0 + k * DY)]))
        lines.append(LineString([(LON0 + k * DX, LAT0), (LON0 + k * DX, LAT0 + 10 * DY)]))
    return gpd.GeoDataFrame(
        {"u": range(22), "v": range(1, 23), "length_m": 1000.0, "highway": "residential"},
        geometry=lines,
        crs=4326,
    )


def _table(points: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": [f"table/{i + 2}" for i in range(len(points))],
            "name": [f"Home {i + 2}" for i in range(len(points))],
        },
        geometry=gpd.points_from_xy(*zip(*points, strict=True)),
        crs=4326,
    )


def test_rows_outside_the_region_or_far_from_streets_are_excluded():
    edges = _grid_edges()
    # the region extends 1 km beyond the grid to the east, where there is no street
    extent = box(LON0, LAT0, LON0 + 20 * DX, LAT0 + 10 * DY)
    table = _table(
        [
            (LON0 + 5.5 * DX, LAT0 + 5.2 * DY),  # line 2: in a block, 20 m from a street
            (2.3522, 48.8566),  # line 3: Paris
            (0.0, 0.0),  # line 4: null island
            (LON0 + 18 * DX, LAT0 + 5 * DY),  # line 5: 800 m east of the last street
            (LON0 + 14 * DX, LAT0 + 5 * DY),  # line 6: 400 m east, within 500 m
        ]
    )
    out = guard_facilities(table, extent, edges, source="homes.csv")
    assert list(out.kept["osm_id"]) == ["table/2", "table/6"]
    reasons = dict(zip(out.excluded["osm_id"], out.excluded["reason"], strict=True))
    assert reasons == {
        "table/3": "outside_region",
        "table/4": "outside_region",
        "table/5": "far_from_street",
    }
    assert out.excluded.set_index("osm_id").loc["table/5", "street_m"] == pytest.approx(800, abs=2)
    text = " ".join(out.warnings)
    assert "homes.csv" in text and "table/3 (Home 3)" in text and "table/4" in text
    assert "table/5 (Home 5) (80" in text  # 800 m (UTM scale: 801)
    # the bound is a parameter
    tight = guard_facilities(table, extent, edges, max_street_m=300.0)
    assert "table/6" in set(tight.excluded["osm_id"])
    assert len(table) == 5  # the input is unchanged


def _demo_facilities():
    region = demo_region()
    homes = select_features(region.features, get_layer("elderly_care"))
    pts = homes.geometry.representative_point()
    return region, homes.set_geometry(pts.to_numpy()), pts.x.to_numpy(), pts.y.to_numpy()


def test_demo_lies_where_the_gcj02_offset_applies():
    _, _, x, y = _demo_facilities()
    gx, gy = crs.wgs84_to_gcj02(x, y)
    shift_m = np.hypot((gx - x) * 111320 * np.cos(np.radians(y)), (gy - y) * 110950)
    assert shift_m.min() > 100  # inside China's GCJ-02 area: the shift is hundreds of metres


@pytest.mark.parametrize(
    ("into", "suggest"), [(crs.wgs84_to_gcj02, "gcj02"), (crs.wgs84_to_bd09, "bd09")]
)
def test_datum_check_fires_on_shifted_demo_facilities_declared_wgs84(into, suggest):
    region, homes, x, y = _demo_facilities()
    shifted = homes.set_geometry(gpd.points_from_xy(*into(x, y)), crs=4326)
    res = check_datum(shifted, region.edges, "wgs84", buildings=region.buildings, source="t.csv")
    assert res.best == suggest
    assert f"coords = {suggest}" in res.warning and "t.csv" in res.warning
    # the same points declared correctly are read back to the true places: no warning
    ok = check_datum(homes, region.edges, suggest, buildings=region.buildings)
    assert ok.warning is None and ok.best == suggest


def test_datum_check_is_quiet_on_true_points_and_few_points():
    region, homes, x, y = _demo_facilities()
    res = check_datum(homes, region.edges, "wgs84", buildings=region.buildings)
    assert res.warning is None and res.best == "wgs84"
    few = homes.iloc[:4].set_geometry(
        gpd.points_from_xy(*crs.wgs84_to_gcj02(x[:4], y[:4])), crs=4326
    )
    assert check_datum(few, region.edges, "wgs84").median_m == {}


def test_datum_check_outside_china_never_fires():
    edges = _grid_edges()
    moved = edges.set_geometry(edges.geometry.translate(-116.40 + 2.35, -39.90 + 48.85))
    pts = _table([(2.35 + (k + 0.5) * DX, 48.85 + 3 * DY) for k in range(8)])
    assert check_datum(pts, moved, "wgs84").warning is None


def test_load_region_excludes_and_warns(tmp_path):
    _, homes, x, y = _demo_facilities()
    gx, gy = crs.wgs84_to_gcj02(x[:20], y[:20])
    rows = pd.DataFrame({"name": [f"H{i}" for i in range(20)], "lon": gx, "lat": gy})
    rows = pd.concat(
        [
            rows,
            pd.DataFrame({"name": ["Paris", "Null"], "lon": [2.3522, 0.0], "lat": [48.8566, 0.0]}),
        ],
        ignore_index=True,
    )
    path = tmp_path / "homes.csv"
    rows.to_csv(path, index=False)
    region = load_region("demo", facility_tables=[(path, "elderly_care", "wgs84")])
    table = region.features[region.features["osm_id"].str.startswith("table/")]
    assert not table["name"].isin(["Paris", "Null"]).any()
    assert len(table) >= 18  # a shifted point may also land > 500 m from every street
    warnings = " ".join(region.meta[META_WARNINGS])
    assert "table/22 (Paris)" in warnings and "table/23 (Null)" in warnings
    assert "coords = gcj02" in warnings
    assert shapely.box(*region.extent().total_bounds).contains(table.geometry).all()


def test_region_area_covers_the_data_outside_every_district():
    from geoapp.sources.guards import region_area

    edges = _grid_edges()
    west_half = gpd.GeoDataFrame(
        {"district": ["W"]}, geometry=[box(LON0, LAT0, LON0 + 5 * DX, LAT0 + 10 * DY)], crs=4326
    )
    area = region_area(west_half, edges)
    table = _table([(LON0 + 8.5 * DX, LAT0 + 5.1 * DY)])  # east half: outside district W
    out = guard_facilities(table, area, edges)
    assert len(out.kept) == 1 and out.warnings == ()
