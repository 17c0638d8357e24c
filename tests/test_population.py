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

from geoapp.demand import (
    DEFAULT_LEVELS,
    DEFAULT_M2_PER_PERSON,
    NON_RESIDENTIAL,
    Demand,
    DemandOptions,
    estimate_population,
)
from geoapp.errors import EmptyResultError, InputError
from geoapp.hexes import aggregate_h3
from geoapp.region import OUTSIDE_DISTRICTS

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
    b = _buildings([(0, 0, 10, 10, "house", 3.0)])
    dem = estimate_population(b, _two_districts())
    assert isinstance(dem, Demand)
    d = dem.points
    assert d.attrs == {}
    assert d["floor_area_m2"].iloc[0] == pytest.approx(300.0, rel=1e-4)
    assert d["pop"].iloc[0] == pytest.approx(300.0 / 35.0, rel=1e-4)
    # a point in Beijing without a census: China's share aged 60+, UN WPP 2024 (1 July 2025):
    # 21.53 % (geoapp/data/ages/wpp2024_ages.csv)
    assert d["pop_60plus"].iloc[0] == pytest.approx(300.0 / 35.0 * 0.2153, rel=1e-4)
    assert dem.method == "buildings"
    # Beijing is inside China: the China profile, named with its source
    assert dem.profile["name"] == "china" and dem.profile["m2_per_person"] == 35.0
    assert "census" in dem.profile["source"].lower()
    assert d["pop_source"].tolist() == ["building"]
    row = d.iloc[0]
    assert (row["district"], row["zone_type"], row["demand_id"]) == ("东城区", "core", "way/0")
    assert h3.get_resolution(row["h3"]) == 9
    assert d.crs.to_epsg() == 4326 and (d.geom_type == "Point").all()


def test_levels_default_non_residential_and_parameters():
    b = _buildings(
        [
            (0, 0, 10, 10, "apartments", np.nan),  # default 2 levels -> 200 m²
            (50, 40, 10, 10, "retail", 5.0),  # no residents
            (100, 0, 10, 10, " Garage ", 1.0),  # tag normalised, no residents
            (35, 0, 20, 10, None, 0.0),  # untagged near a home, levels 0 -> default: 400 m²
        ]
    )
    d = estimate_population(
        b,
        _two_districts(),
        options=DemandOptions(m2_per_person=20.0, default_levels=2, share_60plus=0.5),
    ).points
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
    dem = estimate_population(b, bounds, census=c)
    d = dem.points
    by = d.groupby("district")[["pop", "pop_60plus"]].sum()
    assert by.loc["东城区", "pop"] == pytest.approx(1000.0)
    assert by.loc["西城区", "pop"] == pytest.approx(500.0)
    assert by.loc["东城区", "pop_60plus"] == pytest.approx(250.0)
    assert by.loc["西城区", "pop_60plus"] == pytest.approx(100.0)
    # dasymetric: within a district residents follow floor area (100 m² vs 300 m²)
    dc = d[d["district"] == "东城区"]["pop"].to_numpy()
    assert dc == pytest.approx([250.0, 750.0])
    assert dem.census_scaled is True and dem.control_totals == "census"


def test_census_unmatched_named_both_ways(caplog):
    b = _buildings([(0, 0, 10, 10, "yes", 1.0), (1500, 0, 10, 10, "yes", 1.0)])
    c = _census(["东城区", "Gotham"], ["", ""], [1000, 7], [100, 1])
    with pytest.raises(InputError) as exc:
        estimate_population(b, _two_districts(), census=c)
    msg = str(exc.value)
    assert "Gotham" in msg and "西城区" in msg
    with caplog.at_level(logging.WARNING, logger="geoapp.demand"):
        dem = estimate_population(
            b, _two_districts(), census=c, options=DemandOptions(strict=False)
        )
    assert "Gotham" in caplog.text
    by = dem.points.groupby("district")["pop"].sum()
    assert by["东城区"] == pytest.approx(1000.0)
    assert by["西城区"] == pytest.approx(10 * 10 / 35.0, rel=1e-4)  # unscaled
    assert any("Gotham" in w for w in dem.warnings)


def test_census_district_without_buildings_warns(caplog):
    b = _buildings([(0, 0, 10, 10, "yes", 1.0)])
    c = _census(["东城区", "西城区"], ["", ""], [1000, 500], [100, 50])
    with caplog.at_level(logging.WARNING, logger="geoapp.demand"):
        d = estimate_population(b, _two_districts(), census=c).points
    assert d["pop"].sum() == pytest.approx(1000.0)
    assert "西城区" in caplog.text


def test_points_outside_districts_kept_and_counted():
    b = _buildings([(0, 0, 10, 10, "house", 1.0), (5000, 5000, 10, 10, "house", 1.0)])
    dem = estimate_population(b, _two_districts())
    d = dem.points
    assert len(d) == 2
    out = d[d["district"] == OUTSIDE_DISTRICTS]
    assert len(out) == 1 and out["zone_type"].tolist() == ["unknown"]
    assert out["settlement"].iloc[0] in ("core", "new_town", "rural")
    assert dem.outside_pop == pytest.approx(100 / 35.0, rel=1e-4)
    assert d["pop"].sum() == pytest.approx(2 * 100 / 35.0, rel=1e-4)
    assert any(OUTSIDE_DISTRICTS in w and "3 residents" in w for w in dem.warnings)
    assert OUTSIDE_DISTRICTS in set(dem.quality["district"])


def test_no_boundaries_is_one_unknown_region():
    d = estimate_population(_buildings([(0, 0, 10, 10, "yes", 1.0)]), None).points
    assert d["zone_type"].tolist() == ["unknown"]


def test_landuse_fallback():
    b = _buildings([(0, 0, 10, 10, "retail", 1.0)])  # no residential building
    lu = gpd.GeoDataFrame(
        {"landuse": ["residential", "industrial", "residential"]},
        geometry=[
            box(X0, Y0, X0 + 1000, Y0 + 500),  # 0.5 km²
            box(X0, Y0 + 500, X0 + 900, Y0 + 900),
            box(X0 + 1500, Y0, X0 + 1580, Y0 + 80),  # 6,400 m², smaller than the grid
        ],
        crs=UTM,
    ).to_crs(4326)
    dem = estimate_population(
        b, _two_districts(), landuse=lu, options=DemandOptions(share_60plus=0.2)
    )
    d = dem.points
    assert dem.method == "landuse"
    assert any("landuse" in a for a in dem.assumptions)
    assert set(d["pop_source"]) == {"landuse"}
    by = d.groupby("district")["pop"].sum()
    # no homes and no place node around: the town density, 1 km² / 139 m² of residential
    # land per resident (Statistics Netherlands 2010) = 7,200 residents/km²
    assert by["东城区"] == pytest.approx(0.5 * 7_200, rel=1e-3)
    assert by["西城区"] == pytest.approx(6400e-6 * 7_200, rel=1e-3)
    assert (d["building_id"] == "").all() and d["demand_id"].is_unique
    assert d["pop_60plus"].sum() == pytest.approx(0.2 * d["pop"].sum())
    assert len(d) > 10  # the large polygon is spread over grid points


def test_landuse_fallback_scaled_to_census():
    lu = gpd.GeoDataFrame(
        {"landuse": ["residential"]}, geometry=[box(X0, Y0, X0 + 500, Y0 + 500)], crs=UTM
    ).to_crs(4326)
    c = _census(["东城区", "西城区"], ["", ""], [1234, 0], [100, 0])
    d = estimate_population(None, _two_districts(), landuse=lu, census=c).points
    assert d["pop"].sum() == pytest.approx(1234.0)


def test_neither_buildings_nor_landuse():
    with pytest.raises(EmptyResultError, match="no residential buildings"):
        estimate_population(_buildings([(0, 0, 10, 10, "church", 1.0)]), _two_districts())
    with pytest.raises(EmptyResultError):
        estimate_population(None, _two_districts(), landuse=gpd.GeoDataFrame(geometry=[], crs=4326))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.floats(6, 60), min_size=1, max_size=6),
    levels=st.lists(st.one_of(st.none(), st.integers(1, 30)), min_size=6, max_size=6),
    total=st.integers(1, 10_000_000),
    p60=st.floats(0, 1),
)
def test_census_scaling_property(sizes, levels, total, p60):
    specs = [(i * 80.0, 0.0, s, s, "house", levels[i]) for i, s in enumerate(sizes)]
    b = _buildings(specs)
    bounds = _two_districts().iloc[[0]]
    c = _census(["东城区"], [""], [total], [round(total * p60)])
    d = estimate_population(b, bounds, census=c).points
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


# --------------------------------------------------------------------------- housing evidence


def _landuse(rects, values=None) -> gpd.GeoDataFrame:
    values = values or ["residential"] * len(rects)
    return gpd.GeoDataFrame(
        {"landuse": values},
        geometry=[box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1) for x0, y0, x1, y1 in rects],
        crs=UTM,
    ).to_crs(4326)


def test_untagged_buildings_need_residential_evidence():
    b = _buildings(
        [
            (0, 0, 10, 10, "house", 1.0),  # 0 home by tag
            (30, 0, 10, 10, "yes", 1.0),  # 1 within 50 m of the house -> home
            (600, 0, 12, 12, "yes", 1.0),  # 2 inside residential landuse -> home
            (603, 30, 4, 4, "yes", 1.0),  # 3 shed-sized (16 m²) inside landuse -> none
            (40, 30, 10, 10, "garage", 1.0),  # 4 garage next to the house -> none
            (300, 400, 10, 10, "yes", 1.0),  # 5 alone, no evidence -> none
        ]
    )
    lu = _landuse([(550, -50, 700, 100)])
    d = estimate_population(
        b, _two_districts(), landuse=lu, options=DemandOptions(hybrid_landuse=False)
    ).points
    assert sorted(d["building_id"]) == ["way/0", "way/1", "way/2"]


def test_no_evidence_anywhere_counts_house_sized_untagged_with_warning():
    b = _buildings([(0, 0, 10, 10, "yes", 1.0), (500, 0, 4, 4, "yes", 1.0)])
    dem = estimate_population(b, _two_districts())
    assert dem.points["building_id"].tolist() == ["way/0"]
    assert any("no residential evidence" in w for w in dem.warnings)


# --------------------------------------------------------------------------- hybrid landuse


def test_hybrid_landuse_adds_the_unbuilt_part_polygon_by_polygon():
    # left half of a 1000 x 500 m polygon is filled with houses every 30 m; right half empty
    specs = [(x, y, 10, 10, "house", 1.0) for x in range(0, 500, 30) for y in range(0, 500, 30)]
    b = _buildings(specs)
    lu = _landuse([(0, 0, 1000, 500), (1200, 0, 1400, 200)])  # second: no buildings at all
    bounds = gpd.GeoDataFrame(
        {"district": ["A"], "district_code": "", "zone_type": "core", "zone_fine": ""},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 2000, Y0 + 1000)],
        crs=UTM,
    ).to_crs(4326)
    dem = estimate_population(
        b, bounds, landuse=lu, options=DemandOptions(landuse_density_per_km2=10_000.0)
    )
    d = dem.points
    assert dem.method == "buildings+landuse"
    lu_pop = d.loc[d["pop_source"] == "landuse"]
    # by hand: unbuilt part of polygon 1 is about x 515..1000 (the houses' 25 m plots
    # cover up to x = 505), 0.485 x 0.5 km² = 0.24 km²; polygon 2 is 0.04 km²
    first = lu_pop[
        ~lu_pop.within(
            box(
                *gpd.GeoSeries([box(X0 + 1150, Y0 - 50, X0 + 1450, Y0 + 250)], crs=UTM)
                .to_crs(4326)
                .total_bounds
            )
        )
    ]
    assert first["pop"].sum() == pytest.approx(0.2425 * 10_000, rel=0.06)
    assert lu_pop["pop"].sum() - first["pop"].sum() == pytest.approx(0.04 * 10_000, rel=1e-3)
    # the houses still carry building demand
    assert (d["pop_source"] == "building").sum() == len(specs)
    q = dem.quality.set_index("district").loc["A"]
    assert q["share_from_buildings"] + q["share_from_landuse"] == pytest.approx(1.0)
    assert q["residential_km2"] == pytest.approx(0.54, rel=1e-3)
    assert q["buildings_per_km2_residential"] == pytest.approx(len(specs) / 0.54, rel=1e-3)


def test_landuse_fully_built_adds_nothing():
    specs = [(x, y, 10, 10, "house", 1.0) for x in range(0, 300, 30) for y in range(0, 300, 30)]
    dem = estimate_population(
        _buildings(specs), _two_districts(), landuse=_landuse([(0, 0, 300, 300)])
    )
    assert set(dem.points["pop_source"]) == {"building"} and dem.method == "buildings"


# --------------------------------------------------------------------------- profiles


def test_profile_chosen_from_location_and_overridable():
    lisbon = gpd.GeoDataFrame(
        {"building_id": ["w1"], "building": ["house"], "levels": [1.0]},
        geometry=[box(-9.14, 38.71, -9.1399, 38.7101)],
        crs=4326,
    )
    dem = estimate_population(lisbon, None)
    assert dem.profile["name"] == "world"
    # Portugal's share aged 60+, UN WPP 2024 (1 July 2025): 31.98 %
    assert dem.profile["share_60plus"] == pytest.approx(0.3198)
    assert dem.points["pop_60plus"].iloc[0] == pytest.approx(0.3198 * dem.points["pop"].iloc[0])
    area = gpd.GeoSeries(lisbon.geometry).to_crs(lisbon.estimate_utm_crs()).area.iloc[0]
    assert dem.points["pop"].iloc[0] == pytest.approx(area / dem.profile["m2_per_person"])
    assert "World Population Prospects" in dem.profile["source"]
    dem2 = estimate_population(
        lisbon, None, options=DemandOptions(profile="china", m2_per_person=25.0)
    )
    assert dem2.profile["name"] == "china" and dem2.profile["m2_per_person"] == 25.0
    assert dem2.points["pop"].iloc[0] == pytest.approx(area / 25.0)


def test_unknown_profile_is_an_input_error():
    with pytest.raises(InputError, match="demand profile not found"):
        estimate_population(
            _buildings([(0, 0, 10, 10, "house", 1.0)]), None, options=DemandOptions(profile="mars")
        )


# --------------------------------------------------------------------------- data checks


def test_boundary_population_acts_as_control_total_and_warns_when_far():
    b = _buildings([(0, 0, 10, 10, "house", 1.0), (1500, 0, 10, 10, "house", 1.0)])
    bounds = _two_districts().assign(population=[20.0, np.nan])  # estimate 100/35 = 2.9
    dem = estimate_population(b, bounds)
    by = dem.points.groupby("district")["pop"].sum()
    assert by["东城区"] == pytest.approx(20.0)
    assert by["西城区"] == pytest.approx(100 / 35.0, rel=1e-4)
    assert dem.control_totals == "boundary population" and not dem.census_scaled
    assert any("东城区" in w and "20" in w and "3 from the data" in w for w in dem.warnings)


def test_place_population_five_times_the_estimate_is_named():
    # a village of 20 houses of 100 m² on 1 level: 20 x 100 / 35 = 57 residents
    specs = [(x, y, 10, 10, "house", 1.0) for x in range(0, 200, 40) for y in range(0, 160, 40)]
    b = _buildings(specs)
    est = len(specs) * 100 / 35.0
    feats = gpd.GeoDataFrame(
        {
            "osm_id": ["node/1", "node/2"],
            "name": ["Xiacun", "Shangcun"],
            "place": ["village", "village"],
            "population": [str(round(5 * est)), str(round(est))],
        },
        geometry=[Point(X0 + 100, Y0 + 80), Point(X0 + 1800, Y0 + 900)],
        crs=UTM,
    ).to_crs(4326)
    lu = _landuse([(-20, -20, 220, 180)])
    dem = estimate_population(b, _two_districts(), landuse=lu, features=feats)
    hits = [w for w in dem.warnings if "Xiacun" in w]
    assert len(hits) == 1
    w = hits[0]
    assert f"{round(5 * est):,}" in w and f"{est:,.0f}" in w
    assert "likely cause" in w
    # Shangcun has no residents around it: named too, as no residents
    assert any("Shangcun" in x and "no residents" in x for x in dem.warnings)


def test_place_matching_estimate_gives_no_warning():
    specs = [(x, 0, 10, 10, "house", 1.0) for x in range(0, 200, 40)]
    est = len(specs) * 100 / 35.0
    feats = gpd.GeoDataFrame(
        {
            "osm_id": ["node/1"],
            "name": ["Okcun"],
            "place": ["village"],
            "population": [f"{est * 1.2:.0f}"],
        },
        geometry=[Point(X0 + 100, Y0)],
        crs=UTM,
    ).to_crs(4326)
    dem = estimate_population(_buildings(specs), _two_districts(), features=feats)
    assert not any("Okcun" in w for w in dem.warnings)


# --------------------------------------------------------------------------- raster


def _write_raster(path, values, *, crs="EPSG:3857", nodata=-99999.0):
    import rasterio
    from rasterio.transform import from_origin

    # 100 m cells in web mercator around Beijing (X0, Y0 in UTM 50N)
    origin = gpd.GeoSeries([Point(X0, Y0 + 1000)], crs=UTM).to_crs(crs).iloc[0]
    arr = np.asarray(values, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=arr.shape[0],
        width=arr.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(origin.x, origin.y, 100.0, 100.0),
        nodata=nodata,
    ) as dst:
        dst.write(arr, 1)


def test_population_raster_with_and_without_buildings(tmp_path):
    from geoapp.sources.raster import read_population_raster

    vals = np.full((10, 30), 5.0)
    vals[0, 0] = -99999.0  # nodata
    vals[3, 3] = 250.0
    path = tmp_path / "pop.tif"
    _write_raster(path, vals)
    bounds = _two_districts()
    cells = read_population_raster(path, bounds)
    # independent reference: cell centres inside the districts, nodata excluded
    assert cells.pop.min() > 0 and len(cells) < vals.size
    expected = cells.total
    alone = estimate_population(None, bounds, raster=cells)
    assert alone.method == "raster"
    assert alone.points["pop"].sum() == pytest.approx(expected, rel=1e-9)
    assert set(alone.points["pop_source"]) == {"raster"}
    # with buildings: cells holding housing spread over it by floor area
    frame = cells.to_frame()
    cell = frame.loc[frame["pop"] == 250.0].geometry.iloc[0]
    c_utm = gpd.GeoSeries([cell], crs=4326).to_crs(UTM).iloc[0]
    b = _buildings(
        [
            (c_utm.x - X0 - 20, c_utm.y - Y0 - 5, 10, 10, "house", 1.0),
            (c_utm.x - X0 + 10, c_utm.y - Y0 - 5, 10, 10, "house", 3.0),
        ]
    )
    both = estimate_population(b, bounds, raster=cells)
    assert both.method == "raster+buildings"
    assert both.points["pop"].sum() == pytest.approx(expected, rel=1e-9)
    homes = both.points[both.points["building_id"] != ""].sort_values("building_id")
    assert homes["pop"].to_numpy() == pytest.approx([62.5, 187.5], rel=1e-3)
    # census scaling applies on top
    c = _census(["东城区", "西城区"], ["", ""], [1000, 2000], [100, 200])
    scaled = estimate_population(b, bounds, raster=cells, census=c)
    assert scaled.points["pop"].sum() == pytest.approx(3000.0)


def test_raster_outside_region_is_an_input_error(tmp_path):
    from geoapp.sources.raster import read_population_raster

    path = tmp_path / "far.tif"
    _write_raster(path, np.ones((2, 2)))
    far = gpd.GeoDataFrame(geometry=[box(10, 10, 11, 11)], crs=4326)
    with pytest.raises(InputError, match="does not overlap"):
        read_population_raster(path, far)
    with pytest.raises(InputError, match="not found"):
        read_population_raster(tmp_path / "missing.tif", far)


def test_streets_without_homes_are_named():
    b = _buildings([(0, 0, 10, 10, "house", 1.0)])
    edges = gpd.GeoDataFrame(
        {"u": [1], "v": [2], "length_m": [5000.0], "highway": ["residential"], "name": [None]},
        geometry=[box(X0, Y0, X0 + 1, Y0 + 1).boundary],
        crs=UTM,
    ).to_crs(4326)
    dem = estimate_population(b, _two_districts(), edges=edges)
    hits = [w for w in dem.warnings if "5 km of residential streets" in w]
    assert len(hits) == 1 and "--population" in hits[0]
    dense = _buildings([(x, 0, 10, 10, "house", 1.0) for x in range(0, 1000, 20)])
    assert not any(
        "residential streets" in w
        for w in estimate_population(dense, _two_districts(), edges=edges).warnings
    )


def test_untagged_village_far_from_any_evidence_still_houses_people():
    """Evidence elsewhere in the extract must not make an untagged village vanish."""
    from shapely.geometry import box

    from geoapp.demand import housing_mask

    deg = 1 / 111_320  # about one metre of latitude, in degrees

    def square(x_m, y_m, side_m=10.0):
        x0, y0 = 10.0 + x_m * deg / 0.64, 50.0 + y_m * deg  # cos(50°) ≈ 0.64
        return box(x0, y0, x0 + side_m * deg / 0.64, y0 + side_m * deg)

    town = [square(i * 20, 0) for i in range(3)]  # tagged houses: the extract has evidence
    village = [square(3000 + i * 20, 3000 + j * 20) for i in range(3) for j in range(3)]
    lone = [square(-3000, -3000)]  # one untagged house-sized building, nothing near
    sheds = [square(6000 + i * 15, 0, 5.0) for i in range(5)]  # 25 m²: sheds, never homes
    tags = ["house"] * 3 + ["yes"] * 9 + ["yes"] + ["yes"] * 5
    b = gpd.GeoDataFrame(
        {"building_id": [str(i) for i in range(len(tags))], "building": tags, "levels": np.nan},
        geometry=town + village + lone + sheds,
        crs="EPSG:4326",
    )
    housing, _, _ = housing_mask(b)
    assert housing[:3].all()  # tagged houses
    assert housing[3:12].all()  # the untagged village: a cluster of house-sized buildings
    assert not housing[12]  # a lone untagged building far from any home
    assert not housing[13:].any()  # below the smallest home footprint


def test_demand_options_are_checked_and_frozen():
    import dataclasses

    with pytest.raises(InputError, match="default_levels must be positive"):
        DemandOptions(default_levels=0)
    with pytest.raises(InputError, match="share_60plus must be between 0 and 1"):
        DemandOptions(share_60plus=1.5)
    opts = DemandOptions(m2_per_person=20.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.m2_per_person = 30.0  # type: ignore[misc]
    # a profile dict given with the options: its figures, the rest from ``world``
    b = _buildings([(0, 0, 10, 10, "house", 1.0)])  # 100 m² floor
    dem = estimate_population(b, None, options=DemandOptions(profile={"m2_per_person": 50}))
    assert dem.total == pytest.approx(2.0, rel=1e-3)
    assert dem.profile["chosen"] == "given" and dem.profile["name"] == "world"
