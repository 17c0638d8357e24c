from __future__ import annotations

import logging

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geoapp.errors import EmptyResultError, InputError
from geoapp.population import (
    DEFAULT_LEVELS,
    DEFAULT_M2_PER_PERSON,
    DEFAULT_SHARE_60PLUS,
    LANDUSE_DENSITY_PER_KM2,
    NON_RESIDENTIAL,
    aggregate_h3,
    estimate_population,
)

UTM = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def _buildings(specs) -> gpd.GeoDataFrame:
    """specs: (x, y, w, h, tag, levels) in metres relative to X0, Y0."""
    geoms = [box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h, _, _ in specs]
    return gpd.GeoDataFrame(
        {
            "building_id": [f"way/{i}" for i in range(len(specs))],
            "building": [s[4] for s in specs],
            "levels": [s[5] for s in specs],
            "name": None,
        },
        geometry=geoms,
        crs=UTM,
    ).to_crs(4326)


def _two_districts(names=("东城区", "西城区"), codes=("", "")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "district": list(names),
            "district_code": list(codes),
            "zone_type": ["core", "rural"],
            "zone_fine": "",
        },
        geometry=[
            box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 1000),
            box(X0 + 1000, Y0 - 100, X0 + 2000, Y0 + 1000),
        ],
        crs=UTM,
    ).to_crs(4326)


def test_defaults_documented():
    assert DEFAULT_M2_PER_PERSON == 35.0
    assert DEFAULT_LEVELS == 2
    assert {"retail", "garage", "school", "church", "train_station"} <= NON_RESIDENTIAL


def test_ten_by_ten_three_levels_is_300_m2():
    b = _buildings([(0, 0, 10, 10, "yes", 3.0)])
    d = estimate_population(b, _two_districts())
    assert d["floor_area_m2"].iloc[0] == pytest.approx(300.0, rel=1e-4)
    assert d["pop"].iloc[0] == pytest.approx(300.0 / 35.0, rel=1e-4)
    assert d["pop_60plus"].iloc[0] == pytest.approx(300.0 / 35.0 * DEFAULT_SHARE_60PLUS, rel=1e-4)
    assert d.attrs["demand_method"] == "buildings"
    assert any("0.187" in a for a in d.attrs["assumptions"])
    row = d.iloc[0]
    assert (row["district"], row["zone_type"], row["demand_id"]) == ("东城区", "core", "way/0")
    assert h3.get_resolution(row["h3"]) == 9
    assert d.crs.to_epsg() == 4326 and (d.geom_type == "Point").all()


def test_levels_default_non_residential_and_parameters():
    b = _buildings(
        [
            (0, 0, 10, 10, "apartments", np.nan),  # default 2 levels -> 200 m²
            (50, 0, 10, 10, "retail", 5.0),  # no residents
            (100, 0, 10, 10, " Garage ", 1.0),  # tag normalised, no residents
            (150, 0, 20, 10, None, 0.0),  # untagged, levels 0 -> default -> 400 m²
        ]
    )
    d = estimate_population(
        b, _two_districts(), m2_per_person=20.0, default_levels=2, share_60plus=0.5
    )
    assert list(d["building_id"]) == ["way/0", "way/3"]
    assert d["floor_area_m2"].to_numpy() == pytest.approx([200.0, 400.0], rel=1e-4)
    assert d["pop"].to_numpy() == pytest.approx([10.0, 20.0], rel=1e-4)
    assert d["pop_60plus"].to_numpy() == pytest.approx([5.0, 10.0], rel=1e-4)
    assert list(b["building"])[1] == "retail"  # input untouched


def _census(names, codes, pops, p60s):
    return pd.DataFrame(
        {"district_code": codes, "district": names, "pop": pops, "pop_60plus": p60s}
    )


@pytest.mark.parametrize(
    ("names", "codes"),
    [
        (["东城", "西城"], ["", ""]),  # by name without suffix
        (["x", "y"], ["110101", "110102"]),  # by code
    ],
)
def test_census_scaling_sums_to_district_totals(names, codes):
    b = _buildings(
        [
            (0, 0, 10, 10, "yes", 1.0),
            (100, 0, 10, 10, "yes", 3.0),
            (1500, 0, 10, 10, "yes", 2.0),
        ]
    )
    bounds = _two_districts(codes=("110101", "110102"))
    c = _census(names, codes, [1000, 500], [250, 100])
    d = estimate_population(b, bounds, census=c)
    by = d.groupby("district")[["pop", "pop_60plus"]].sum()
    assert by.loc["东城区", "pop"] == pytest.approx(1000.0)
    assert by.loc["西城区", "pop"] == pytest.approx(500.0)
    assert by.loc["东城区", "pop_60plus"] == pytest.approx(250.0)
    assert by.loc["西城区", "pop_60plus"] == pytest.approx(100.0)
    # dasymetric: within a district residents follow floor area (100 m² vs 300 m²)
    dc = d[d["district"] == "东城区"]["pop"].to_numpy()
    assert dc == pytest.approx([250.0, 750.0])
    assert d.attrs["census_scaled"] is True


def test_census_unmatched_named_both_ways(caplog):
    b = _buildings([(0, 0, 10, 10, "yes", 1.0), (1500, 0, 10, 10, "yes", 1.0)])
    c = _census(["东城区", "Gotham"], ["", ""], [1000, 7], [100, 1])
    with pytest.raises(InputError) as exc:
        estimate_population(b, _two_districts(), census=c)
    msg = str(exc.value)
    assert "Gotham" in msg and "西城区" in msg
    with caplog.at_level(logging.WARNING, logger="geoapp.population"):
        d = estimate_population(b, _two_districts(), census=c, strict=False)
    assert "Gotham" in caplog.text
    by = d.groupby("district")["pop"].sum()
    assert by["东城区"] == pytest.approx(1000.0)
    assert by["西城区"] == pytest.approx(10 * 10 / 35.0, rel=1e-4)  # unscaled
    assert d.attrs["census_problems"]


def test_census_district_without_buildings_warns(caplog):
    b = _buildings([(0, 0, 10, 10, "yes", 1.0)])
    c = _census(["东城区", "西城区"], ["", ""], [1000, 500], [100, 50])
    with caplog.at_level(logging.WARNING, logger="geoapp.population"):
        d = estimate_population(b, _two_districts(), census=c)
    assert d["pop"].sum() == pytest.approx(1000.0)
    assert "西城区" in caplog.text


def test_points_outside_districts_dropped_with_warning(caplog):
    b = _buildings([(0, 0, 10, 10, "yes", 1.0), (5000, 5000, 10, 10, "yes", 1.0)])
    with caplog.at_level(logging.WARNING, logger="geoapp.population"):
        d = estimate_population(b, _two_districts())
    assert len(d) == 1 and d.attrs["dropped_outside"] == 1
    assert "outside every district" in caplog.text


def test_no_boundaries_is_one_unknown_region():
    d = estimate_population(_buildings([(0, 0, 10, 10, "yes", 1.0)]), None)
    assert d["zone_type"].tolist() == ["unknown"]


def test_landuse_fallback():
    b = _buildings([(0, 0, 10, 10, "retail", 1.0)])  # no residential building
    lu = gpd.GeoDataFrame(
        {"landuse": ["residential", "industrial", "residential"]},
        geometry=[
            box(X0, Y0, X0 + 1000, Y0 + 500),  # 0.5 km²
            box(X0, Y0 + 500, X0 + 900, Y0 + 900),
            box(X0 + 1500, Y0, X0 + 1520, Y0 + 20),  # 400 m², smaller than the grid
        ],
        crs=UTM,
    ).to_crs(4326)
    d = estimate_population(b, _two_districts(), landuse=lu, share_60plus=0.2)
    assert d.attrs["demand_method"] == "landuse"
    assert any("landuse" in a for a in d.attrs["assumptions"])
    by = d.groupby("district")["pop"].sum()
    assert by["东城区"] == pytest.approx(0.5 * LANDUSE_DENSITY_PER_KM2, rel=1e-3)
    assert by["西城区"] == pytest.approx(400e-6 * LANDUSE_DENSITY_PER_KM2, rel=1e-3)
    assert (d["building_id"] == "").all() and d["demand_id"].is_unique
    assert d["pop_60plus"].sum() == pytest.approx(0.2 * d["pop"].sum())
    assert len(d) > 10  # the large polygon is spread over grid points


def test_landuse_fallback_scaled_to_census():
    lu = gpd.GeoDataFrame(
        {"landuse": ["residential"]}, geometry=[box(X0, Y0, X0 + 500, Y0 + 500)], crs=UTM
    ).to_crs(4326)
    c = _census(["东城区", "西城区"], ["", ""], [1234, 0], [100, 0])
    d = estimate_population(None, _two_districts(), landuse=lu, census=c)
    assert d["pop"].sum() == pytest.approx(1234.0)


def test_neither_buildings_nor_landuse():
    with pytest.raises(EmptyResultError, match="no residential buildings"):
        estimate_population(_buildings([(0, 0, 10, 10, "church", 1.0)]), _two_districts())
    with pytest.raises(EmptyResultError):
        estimate_population(None, _two_districts(), landuse=gpd.GeoDataFrame(geometry=[], crs=4326))


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.floats(5, 60), min_size=1, max_size=6),
    levels=st.lists(st.one_of(st.none(), st.integers(1, 30)), min_size=6, max_size=6),
    total=st.integers(1, 10_000_000),
    p60=st.floats(0, 1),
)
def test_census_scaling_property(sizes, levels, total, p60):
    specs = [(i * 80.0, 0.0, s, s, "yes", levels[i]) for i, s in enumerate(sizes)]
    b = _buildings(specs)
    bounds = _two_districts().iloc[[0]]
    c = _census(["东城区"], [""], [total], [round(total * p60)])
    d = estimate_population(b, bounds, census=c)
    assert d["pop"].sum() == pytest.approx(total, rel=1e-9)
    assert d["pop_60plus"].sum() == pytest.approx(round(total * p60), rel=1e-9, abs=1e-6)
    assert (d["pop"] >= 0).all()


def test_aggregate_h3_sums_and_weighted_distance():
    pts = [Point(116.4, 39.9), Point(116.40001, 39.90001), Point(116.5, 39.95)]
    t = gpd.GeoDataFrame(
        {
            "pop": [10.0, 30.0, 5.0],
            "pop_60plus": [1.0, 3.0, 2.0],
            "dist_m": [100.0, np.inf, 400.0],
            "district": ["A", "B", "A"],
            "zone_type": ["core", "rural", "core"],
        },
        geometry=pts,
        crs=4326,
    )
    hexes = aggregate_h3(t, res=9)
    assert len(hexes) == 2
    assert hexes["pop"].sum() == pytest.approx(45.0)
    first = hexes[hexes["n_points"] == 2].iloc[0]
    assert first["pop"] == 40.0 and first["pop_60plus"] == 4.0
    assert first["dist_m_mean"] == pytest.approx(100.0)  # finite distances only
    assert first["share_beyond"] == pytest.approx(0.75)  # 30 of 40 residents
    assert first["district"] == "B" and first["zone_type"] == "rural"
    assert (hexes.geom_type == "Polygon").all() and hexes.crs.to_epsg() == 4326
    assert hexes.geometry.iloc[0].contains(Point(*h3.cell_to_latlng(hexes["h3"].iloc[0])[::-1]))
