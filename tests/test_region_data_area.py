"""A partial extract's districts count the land its data covers (issue 25).

An export of 0.01° × 0.01° inside a district of 0.2° × 0.2° (and beside a second
district it does not reach): the census is scaled to the covered share, so the area of
the region row and of each district must be the covered part too, not the districts'
whole land, and the report counts the districts the data reaches.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_extract_builder import write_extract
from shapely.geometry import box

from geoapp import workflow
from geoapp.catalog import load_catalog
from geoapp.inputs import with_data_area
from geoapp.region import DATA_AREA_COLUMN
from geoapp.sources.osm_file import read_osm_file

ASKED = (10.000, 50.000, 10.010, 50.010)  # the box the export declares
HUGE = (9.90, 49.90, 10.10, 50.10)  # the district the export lies in
BESIDE = (10.10, 49.90, 10.30, 50.10)  # a district the data does not reach


def _km2(b: tuple) -> float:
    s = gpd.GeoSeries([box(*b)], crs=4326)
    return float(s.to_crs(s.estimate_utm_crs()).area.iloc[0] / 1e6)


def _export(path: Path) -> Path:
    nodes: dict = {}
    ways = []
    nid = 0

    def node(x: float, y: float) -> int:
        nonlocal nid
        nid += 1
        nodes[nid] = (x, y, {})
        return nid

    w, s, e, n = ASKED
    ring = [node(x, y) for x, y in ((w, s), (e, s), (e, n), (w, n))]
    ways.append((1, [*ring, ring[0]], {"highway": "residential"}))
    k = 10
    for x in np.arange(w + 0.0005, e, 0.001):
        for y in np.arange(s + 0.0005, n, 0.001):
            ids = [node(x, y), node(x + 2e-4, y), node(x + 2e-4, y + 2e-4), node(x, y + 2e-4)]
            k += 1
            ways.append((k, [*ids, ids[0]], {"building": "house"}))
    return write_extract(path, nodes, ways, bbox=ASKED)


def _region(tmp_path):
    region = read_osm_file(_export(tmp_path / "x.osm.pbf"), cache=False)
    districts = gpd.GeoDataFrame(
        {
            "district": ["Huge", "Beside"],
            "district_code": ["H1", "B1"],
            "zone_type": ["core", "rural"],
            "zone_fine": "",
        },
        geometry=[box(*HUGE), box(*BESIDE)],
        crs=4326,
    )
    census = pd.DataFrame(
        {
            "district_code": ["H1", "B1"],
            "district": ["Huge", "Beside"],
            "pop": [1_000_000, 50_000],
            "pop_60plus": [250_000, 20_000],
        }
    )
    return region.with_(boundaries=districts, census=census)


def test_districts_carry_the_land_the_data_covers(tmp_path):
    region = _region(tmp_path)
    out = with_data_area(region)
    assert DATA_AREA_COLUMN not in region.boundaries.columns  # pure
    area = dict(zip(out.boundaries["district"], out.boundaries[DATA_AREA_COLUMN], strict=True))
    assert area["Huge"] == pytest.approx(_km2(ASKED), rel=1e-3)  # about 0.79 km²
    assert area["Beside"] == 0.0


def test_region_row_reports_the_covered_area_and_residents(tmp_path):
    region = with_data_area(_region(tmp_path))
    layer = load_catalog()["community_services"]
    demand = workflow.prepare_demand(region, cache=False)
    result = workflow.analyse_layer(region, layer, demand=demand, mode="euclidean")
    s = result.summary.set_index(["level", "group"])
    reg = result.summary[result.summary["level"] == "region"].iloc[0]
    covered = _km2(ASKED)
    assert reg["area_km2"] == pytest.approx(covered, rel=1e-3)  # not 0.2° × 0.4° of land
    assert s.loc[("district", "Huge"), "area_km2"] == pytest.approx(covered, rel=1e-3)
    assert s.loc[("district", "Beside"), "area_km2"] == 0.0
    # residents: the census × the covered share of the district (1,000,000 × about 0.25 %)
    assert reg["pop"] == pytest.approx(1_000_000 * covered / _km2(HUGE), rel=0.01)


def test_data_covering_every_district_changes_nothing(tmp_path):
    region = read_osm_file(_export(tmp_path / "x.osm.pbf"), cache=False)
    inside = gpd.GeoDataFrame(
        {"district": ["Small"], "district_code": ["S1"], "zone_type": ["core"], "zone_fine": ""},
        geometry=[box(10.002, 50.002, 10.008, 50.008)],
        crs=4326,
    )
    region = region.with_(boundaries=inside)
    assert with_data_area(region) is region
