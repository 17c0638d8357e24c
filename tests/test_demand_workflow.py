"""Demand through the workflow on an extract built here: zones per settlement, the
population raster option, and steps that leave the region unchanged."""

from __future__ import annotations

import copy
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import box

from geoapp import bundle, workflow
from geoapp.demand import Demand
from geoapp.region import SETTLEMENT_TYPES

LON0, LAT0 = -8.0, 39.6  # central Portugal: the "world" profile
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def _ll(x: float, y: float) -> tuple[float, float]:
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


class _Extract:
    """Builds a small OSM extract in local metres and writes it with pyosmium."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, tuple[float, float], dict]] = []
        self.ways: list[tuple[int, list[int], dict]] = []
        self._n = 0
        self._w = 0

    def node(self, x: float, y: float, tags: dict | None = None) -> int:
        self._n += 1
        self.nodes.append((self._n, _ll(x, y), tags or {}))
        return self._n

    def way(self, ids: list[int], tags: dict) -> None:
        self._w += 1
        self.ways.append((self._w, ids, tags))

    def building(self, x: float, y: float, side: float, tags: dict) -> None:
        ids = [self.node(x + dx, y + dy) for dx, dy in ((0, 0), (side, 0), (side, side), (0, side))]
        self.way([*ids, ids[0]], tags)

    def street(self, pts: list[tuple[float, float]], highway: str = "residential") -> None:
        self.way([self.node(x, y) for x, y in pts], {"highway": highway})

    def town(self, x0: float, y0: float, size: float, spacing: float, side: float, tags: dict):
        for x in np.arange(x0, x0 + size, spacing):
            for y in np.arange(y0, y0 + size, spacing):
                self.building(float(x), float(y), side, tags)
        for v in np.arange(x0 - 10, x0 + size + 1, 200.0):
            self.street([(float(v), y0 - 10), (float(v), y0 + size)])
        for v in np.arange(y0 - 10, y0 + size + 1, 200.0):
            self.street([(x0 - 10, float(v)), (x0 + size, float(v))])

    def write(self, path) -> None:
        import osmium
        from osmium.osm.mutable import Node, Way

        w = osmium.SimpleWriter(str(path))
        try:
            for nid, loc, tags in self.nodes:
                w.add_node(Node(id=nid, location=loc, tags=tags, version=1))
            for wid, refs, tags in self.ways:
                w.add_way(Way(id=wid, nodes=refs, tags=tags, version=1))
        finally:
            w.close()


def _three_settlements() -> _Extract:
    e = _Extract()
    # town A: dense centre (1 km², 625 blocks of 6 levels ≈ 37,500 residents at 40 m²)
    e.town(0, 0, 1000, 40, 20, {"building": "apartments", "building:levels": "6"})
    # second, smaller town B (500 m, 13 x 13 blocks of 8 levels ≈ 13,500 residents)
    e.town(6000, 0, 500, 40, 20, {"building": "apartments", "building:levels": "8"})
    # three villages of 12 houses (≈ 60 residents each)
    for vx, vy in ((0, 5000), (6000, 5000), (3000, -5000)):
        for i in range(12):
            e.building(
                vx + (i % 4) * 30,
                vy + (i // 4) * 30,
                10,
                {"building": "house", "building:levels": "2"},
            )
        e.street([(vx - 10, vy - 10), (vx + 120, vy - 10)])
    # roads joining them, and a nursing home in town A
    e.street([(1000, 500), (6000, 250)], "primary")
    e.street([(500, 1000), (60, 4990)], "primary")
    e.street([(6250, 500), (6060, 4990)], "primary")
    e.street([(500, -10), (3060, -5010)], "primary")
    e.node(
        510,
        510,
        {
            "amenity": "social_facility",
            "social_facility": "nursing_home",
            "social_facility:for": "senior",
            "name": "Lar A",
        },
    )
    return e


@pytest.fixture(scope="module")
def extract_pbf(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "towns.osm.pbf"
    _three_settlements().write(path)
    return path


def test_density_zones_give_three_zone_types_on_a_built_extract(extract_pbf):
    region = workflow.load_region(osm=extract_pbf, zones="density")
    assert region.zone_method == "density"
    dem = workflow.prepare_demand(region)
    assert isinstance(dem, Demand) and dem.zone_method == "density"
    pts = dem.points
    by = pts.groupby("zone_type")["pop"].sum()
    assert set(by.index) == set(SETTLEMENT_TYPES)
    assert (by > 0).all()
    assert (pts["zone_type"] == pts["settlement"]).all()
    # by hand: town A ≈ 37,500 is the core, town B ≈ 13,500 a new town, villages rural
    assert by["core"] == pytest.approx(625 * 20 * 20 * 6 / 40, rel=0.02)
    assert by["new_town"] == pytest.approx(13 * 13 * 20 * 20 * 8 / 40, rel=0.02)
    assert by["rural"] == pytest.approx(3 * 12 * 100 * 2 / 40, rel=0.02)
    assert dem.profile["name"] == "world"


@pytest.mark.slow
def test_cli_coverage_density_zones(extract_pbf, tmp_path):
    from geoapp.cli import main

    out = tmp_path / "out"
    code = main(
        [
            "coverage",
            "--osm",
            str(extract_pbf),
            "--zones",
            "density",
            "--layer",
            "elderly_care",
            "--out",
            str(out),
            "--quiet",
            "--no-map",
        ]
    )
    assert code == 0
    demand = gpd.read_file(out / "demand.geojson")
    by = demand.groupby("zone_type")["pop"].sum()
    assert set(by.index) == set(SETTLEMENT_TYPES) and (by > 0).all()
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["zone_method"] == "density"
    assert meta["zone_params"]["cell_m"] == 1000.0
    assert meta["population_profile"]["name"] == "world"
    assert isinstance(meta["warnings"], list)
    assert {r["district"] for r in meta["data_quality"]}


def test_boundaries_and_zone_map_fill_zone_type_and_settlement(extract_pbf, tmp_path):
    west = box(*_ll(-500, -6000), *_ll(3000, 6000))
    east = box(*_ll(3000, -6000), *_ll(7000, 6000))
    bnd = gpd.GeoDataFrame(
        {
            "district": ["West", "East"],
            "district_code": ["", ""],
            "zone_type": "unknown",
            "zone_fine": "",
        },
        geometry=[west, east],
        crs=4326,
    )
    toml = tmp_path / "zones.toml"
    toml.write_text(
        'name = "towns"\n[[district]]\nname = "West"\nzone_type = "core"\n'
        '[[district]]\nname = "East"\nzone_type = "rural"\n',
        encoding="utf-8",
    )
    region = workflow.load_region(osm=extract_pbf, boundaries=bnd, zones=str(toml))
    pts = workflow.prepare_demand(region).points
    assert pts["zone_type"].notna().all() and pts["settlement"].notna().all()
    east_pts = pts[pts["district"] == "East"]
    assert set(east_pts["zone_type"]) == {"rural"}  # the planned type stays
    assert set(east_pts["settlement"]) == {"new_town", "rural"}  # town B and villages
    assert set(pts.loc[pts["district"] == "West", "settlement"]) == {"core", "rural"}


def test_population_raster_through_load_region(extract_pbf, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "pop.tif"
    arr = np.full((20, 20), 10.0, dtype="float32")
    arr[5, 5] = np.nan
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=20,
        width=20,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(LON0 - 0.01, LAT0 + 0.02, 0.002, 0.002),
        nodata=np.nan,
    ) as dst:
        dst.write(arr, 1)
    region = workflow.load_region(osm=extract_pbf, population=path)
    assert region.population_raster == str(path)
    dem = workflow.prepare_demand(region)
    from geoapp.sources.raster import read_population_raster

    cells = read_population_raster(path, region.boundaries)
    assert dem.points["pop"].sum() == pytest.approx(cells.total, rel=1e-9)
    assert set(dem.points["pop_source"]) == {"raster"}
    assert dem.method in ("raster", "raster+buildings")


# --------------------------------------------------------------------------- pure steps


def _snapshot(region):
    return {
        "boundaries": region.boundaries.copy(),
        "buildings": region.buildings.copy(),
        "features": region.features.copy(),
        "edges": region.edges.copy(),
        "meta": copy.deepcopy(region.meta),
        "zone_method": region.zone_method,
    }


def _assert_unchanged(region, snap):
    for name in ("boundaries", "buildings", "features", "edges"):
        assert_geodataframe_equal(getattr(region, name), snap[name], check_like=False)
        assert getattr(region, name).attrs == snap[name].attrs
    assert region.meta == snap["meta"]
    assert region.zone_method == snap["zone_method"]


DEMO_ZONES = """name = "demo-plan"
[[district]]
name = "Old Town"
zone_type = "core"
[[district]]
name = "Central West"
zone_type = "core"
[[district]]
name = "Central East"
zone_type = "core"
[[district]]
name = "East New Town"
zone_type = "new_town"
[[district]]
name = "North New Town"
zone_type = "new_town"
[[district]]
name = "Southwest New Town"
zone_type = "new_town"
[[district]]
name = "South New Town"
zone_type = "new_town"
[[district]]
name = "West Hills"
zone_type = "rural"
[[district]]
name = "Northeast Hills"
zone_type = "rural"
"""


@pytest.mark.slow
@pytest.mark.parametrize("zones", ["density", "mapping"])
def test_steps_leave_the_region_unchanged(zones, tmp_path):
    from geoapp.catalog import get_layer

    if zones == "mapping":
        path = tmp_path / "demo.toml"
        path.write_text(DEMO_ZONES, encoding="utf-8")
        zones = str(path)
    region = workflow.load_region("demo", zones=zones)
    snap = _snapshot(region)
    with pytest.raises(AttributeError):
        region.boundaries = region.boundaries  # frozen
    demand = workflow.prepare_demand(region)
    _assert_unchanged(region, snap)
    layer = get_layer("elderly_care")
    result = workflow.analyse_layer(
        region, layer, demand=demand, mode="euclidean", with_catchments=False
    )
    _assert_unchanged(region, snap)
    workflow.compare(region, {layer.id: result})
    _assert_unchanged(region, snap)
    bundle.write_bundle(result, region, tmp_path / "out", html_map=False, gpkg=False)
    _assert_unchanged(region, snap)
    pd.testing.assert_frame_equal(
        demand.points.drop(columns="geometry"),
        result.access[demand.points.columns.drop("geometry")].drop(columns=[]),
        check_dtype=False,
    )
    assert result.warnings == tuple(demand.warnings)
    if zones == "density":
        assert set(demand.points["zone_type"]) <= set(SETTLEMENT_TYPES)
    else:
        assert (demand.points["zone_type"] != "unknown").all()


def test_cli_population_option(extract_pbf, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    from geoapp.cli import main

    path = tmp_path / "pop.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=4,
        width=4,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(LON0 + 0.001, LAT0 + 0.009, 0.002, 0.002),
        nodata=-1,
    ) as dst:
        dst.write(
            np.array(
                [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, -1, 12], [13, 14, 15, 16]], dtype="float32"
            ),
            1,
        )
    out = tmp_path / "out"
    args = [
        "coverage",
        "--osm",
        str(extract_pbf),
        "--population",
        str(path),
        "--layer",
        "elderly_care",
    ]
    assert main([*args, "--out", str(out), "--quiet", "--no-map"]) == 0
    demand = gpd.read_file(out / "demand.geojson")
    # every cell lies inside the extract: all but the nodata cell count
    assert demand["pop"].sum() == pytest.approx(136 - 11, rel=1e-6)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["demand_method"].startswith("raster")
    assert (
        main(
            [
                *args[:-4],
                "--population",
                str(tmp_path / "nope.tif"),
                "--layer",
                "elderly_care",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 2
    )
